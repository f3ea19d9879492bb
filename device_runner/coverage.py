"""Delegate coverage: how many of the model's original nodes a delegate took over.

The Python interpreter prints no "Replacing k out of n nodes" line, but its node list holds the
original nodes plus one DELEGATE node per partition. A partition covers the original nodes that lie
between its input and output tensors, found by walking producers back from its outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from device_runner.schema import Coverage


def coverage_from_ops(ops: Iterable[Mapping[str, Any]]) -> Coverage:
    ops = list(ops)
    original = [op for op in ops if op["op_name"] != "DELEGATE"]
    producer = {int(t): op["index"] for op in original for t in op["outputs"]}
    by_index = {op["index"]: op for op in original}
    covered: set[int] = set()
    for partition in (op for op in ops if op["op_name"] == "DELEGATE"):
        boundary = {int(t) for t in partition["inputs"]}
        stack = [int(t) for t in partition["outputs"]]
        while stack:
            tensor = stack.pop()
            node = producer.get(tensor)
            if tensor in boundary or node is None or node in covered:
                continue
            covered.add(node)
            stack.extend(int(t) for t in by_index[node]["inputs"] if int(t) >= 0)
    return Coverage(delegated_nodes=len(covered), total_nodes=len(original))
