"""tests/data/one_op_delegate.c, built, and which node of a model it corrupts first: the op a culprit search
must name. Shared by the culprit specs, scripts/bench_culprit.py and scripts/bench_trust.py (its subtle
corruptions: one op type replaced, one op's output a few percent off, one channel's sign flipped)."""

from __future__ import annotations

import subprocess
from enum import StrEnum
from pathlib import Path

from device_runner.flatbuffer import Node, read_graph

SOURCE = Path(__file__).resolve().parent.parent / "data" / "one_op_delegate.c"
OPS = ("ADD", "MUL", "SUB")  # what its op= option takes
AMOUNT_ENV = "EDGEBENCH_ONE_OP_AMOUNT"  # the scale mode's fraction, read by the library in the cell's process


class Mode(StrEnum):
    """What the library does to a claimed node's right result (its mode= option)."""

    FLIP = "flip"  # the sign of every value
    REPLACE = "replace"  # the op's first input instead (the op skipped)
    SCALE = "scale"  # every value times (1 + the AMOUNT_ENV fraction)
    CHANNEL = "channel"  # the sign of channel 0 of the last axis


def build(gcc: str, folder: Path) -> Path:
    out = folder / "libone_op_delegate.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-o", str(out), str(SOURCE)], check=True)
    return out


def delegate(library: Path, op: str, mode: Mode = Mode.FLIP, count: int | None = None) -> str:
    """The --delegates entry that corrupts, as ``mode`` says, every node of ``op`` the library can take (the
    first ``count`` of them, when given)."""
    options = f";mode={mode}" if mode is not Mode.FLIP else ""
    return f"external:{library};op={op}{options}" + (f";count={count}" if count is not None else "")


def _takes(node: Node, op: str) -> bool:
    """The library's rule for its first claim: two float32 inputs and one output, all of one shape (its
    other conditions, a fused activation it knows and no input from a claimed node, hold for the first
    claim of the models used)."""
    tensors = [*node.inputs, *node.outputs]
    return (
        node.op.name == op
        and len(node.inputs) == 2
        and len(node.outputs) == 1
        and all(t is not None and t.dtype == "float32" and t.shape == node.outputs[0].shape for t in tensors)
    )


def first_corrupted(model: Path, op: str) -> int | None:
    """The index (execution order) of the first node the library corrupts under ``op``, or None."""
    nodes = read_graph(model.read_bytes()).nodes
    return next((k for k, node in enumerate(nodes) if _takes(node, op)), None)
