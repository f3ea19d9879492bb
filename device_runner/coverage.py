"""Delegate coverage and op placement: which of the model's original nodes each delegate partition took.

The Python interpreter prints no "Replacing k out of n nodes" line, but its node list holds the
original nodes plus one DELEGATE node per partition. A partition covers the original nodes that lie
between its input and output tensors, found by walking producers back from its outputs.

benchmark_model (phones) gives less: its log says how many nodes the delegate took in how many
partitions; its per-op profile names the nodes left on plain kernels (by index) and each partition's
output tensors. ``placement_from_partitions`` walks the model's own graph back from those outputs.

Each placed node is stored with its key (``node_key``): what besides its op decides whether a delegate takes
it, which a placement forecast (edgebench/forecast.py) matches the nodes of a model not yet measured against.
"""

from __future__ import annotations

import dataclasses
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


def node_key(graph: Graph, index: int) -> str:
    """Node ``index``'s key beside its op, the one text of it (stored with each placement, read back by the
    forecast, computed alike by the Android app's ModelOps.nodeKeys): its op's version, the dtypes of its inputs
    (omitted optional ones left out) and of its outputs, and its shapes' class, the ranks of its data tensors
    (stored constants left out) with " dynamic" when one has a dimension fixed only when fed. "v9
    int8,int8,int32->int8 2->2": space-separated, as neither a dtype nor a rank list holds a space."""
    node = graph.nodes[index]
    inputs = [t for t in node.inputs if t is not None]
    data = [t for t, constant in zip(node.inputs, node.constant, strict=True) if t is not None and not constant]
    dtypes = f"{','.join(t.dtype for t in inputs)}->{','.join(t.dtype for t in node.outputs)}"
    ranks = f"{','.join(str(len(t.shape)) for t in data)}->{','.join(str(len(t.shape)) for t in node.outputs)}"
    dynamic = any(-1 in t.shape_signature for t in [*data, *node.outputs])
    return f"v{node.op.version} {dtypes} {ranks}{' dynamic' if dynamic else ''}"


def node_keys(graph: Graph) -> list[str]:
    return [node_key(graph, index) for index in range(len(graph.nodes))]


def runtime_op(name: str) -> str:
    """An op as the runtime's node list names it: a custom op by its own name, where the flatbuffer (and the
    graph read from it) says "CUSTOM:name"."""
    return name.removeprefix("CUSTOM:")


def keyed(placement: Placement | None, graph: Graph) -> Placement | None:
    """``placement`` with each node's key read from ``graph``, when its nodes are the graph's (the same ops in
    the same order); else as it is, keyless (a key on the wrong node would mislead every forecast made from it)."""
    if placement is None or [runtime_op(op) for op in placement.node_ops] != [
        runtime_op(node.op.name) for node in graph.nodes
    ]:
        return placement
    return dataclasses.replace(placement, node_keys=node_keys(graph))


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
