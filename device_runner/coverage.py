"""Delegate coverage and op placement: which of the model's original nodes each delegate partition took.

The Python interpreter prints no "Replacing k out of n nodes" line, but its node list holds the
original nodes plus one DELEGATE node per partition. A partition covers the original nodes that lie
between its input and output tensors, found by walking producers back from its outputs.

benchmark_model (phones) gives less: its log says how many nodes the delegate took in how many
partitions; its per-op profile names the nodes left on plain kernels (by index) and each partition's
output tensors. ``placement_from_partitions`` walks the model's own graph back from those outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from device_runner.flatbuffer import Graph
from edgebench_records import Coverage, Placement


def placement_from_ops(ops: Iterable[Mapping[str, Any]]) -> Placement:
    ops = list(ops)
    original = [op for op in ops if op["op_name"] != "DELEGATE"]
    producer = {int(t): op["index"] for op in original for t in op["outputs"]}
    by_index = {op["index"]: op for op in original}
    partition_of: dict[int, int] = {}
    for number, partition in enumerate(op for op in ops if op["op_name"] == "DELEGATE"):
        boundary = {int(t) for t in partition["inputs"]}
        stack = [int(t) for t in partition["outputs"]]
        while stack:
            tensor = stack.pop()
            node = producer.get(tensor)
            if tensor in boundary or node is None or node in partition_of:
                continue
            partition_of[node] = number
            stack.extend(int(t) for t in by_index[node]["inputs"] if int(t) >= 0)
    return Placement(
        node_ops=[str(op["op_name"]) for op in original],
        node_partition=[partition_of.get(op["index"], -1) for op in original],
    )


def coverage_of(placement: Placement) -> Coverage:
    return Coverage(delegated_nodes=sum(p >= 0 for p in placement.node_partition), total_nodes=len(placement.node_ops))


def coverage_from_ops(ops: Iterable[Mapping[str, Any]]) -> Coverage:
    return coverage_of(placement_from_ops(ops))


def placement_from_partitions(graph: Graph, plain: set[int], partition_outputs: list[list[str]]) -> Placement | None:
    """Each node of ``graph`` on plain kernels (its index in ``plain``) or in the partition whose output tensors
    (by name, one list per partition in run order) it feeds through delegated nodes only. None when a
    delegated node belongs to no partition found and there are several: which one is not known."""
    producer = {t.name: index for index, node in enumerate(graph.nodes) for t in node.outputs}
    partition_of: dict[int, int] = {}
    for number, outputs in enumerate(partition_outputs):
        stack = [producer[name] for name in outputs if name in producer]
        while stack:
            node = stack.pop()
            if node in plain or node in partition_of:
                continue
            partition_of[node] = number
            stack.extend(producer[t.name] for t in graph.nodes[node].inputs if t is not None and t.name in producer)
    delegated = [i for i in range(len(graph.nodes)) if i not in plain]
    if any(i not in partition_of for i in delegated):
        if len(partition_outputs) != 1:
            return None
        partition_of = dict.fromkeys(delegated, 0)  # one partition: every delegated node is in it
    return Placement(
        node_ops=[node.op.name for node in graph.nodes],
        node_partition=[-1 if i in plain else partition_of[i] for i in range(len(graph.nodes))],
    )


def placement_from_counts(graph: Graph, delegated: int, total: int, partitions: int | None) -> Placement | None:
    """From "Replacing 16 out of 16 node(s) … yielding 1 partitions" alone: every node in one partition, or none
    delegated; anything between names no nodes, so it is unknown (None)."""
    if total != len(graph.nodes):
        return None  # counted over another graph (several subgraphs): the numbers do not map onto these nodes
    ops = [node.op.name for node in graph.nodes]
    if delegated == 0:
        return Placement(ops, [-1] * total)
    if delegated == total and partitions in (1, None):
        return Placement(ops, [0] * total)
    return None


def placement_unknown(runtime: str, api: str) -> str:
    """Why a cell has no placement, in one sentence naming the runtime that gives none."""
    if runtime == "benchmark_model":
        return "placement unknown: benchmark_model's log named no nodes (no per-op profile, part delegated)"
    if api == "compiled":
        return f"placement unknown: {runtime}'s CompiledModel API lists no nodes"
    return f"placement unknown: {runtime} ({api}) lists no nodes"
