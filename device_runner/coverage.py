"""Delegate coverage and op placement: which of the model's original nodes each delegate partition took.

The Python interpreter prints no "Replacing k out of n nodes" line, but its node list holds the
original nodes plus one DELEGATE node per partition. A partition covers the original nodes that lie
between its input and output tensors, found by walking producers back from its outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from device_runner.schema import Coverage, Placement


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
