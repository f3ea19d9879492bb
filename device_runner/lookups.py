"""Which model inputs are ids into a table, and how many rows that table has, read from the flatbuffer.

Synthetic ids drawn from a handful of small values would calibrate and check an embedding on a handful of its
rows; an input that feeds ``EMBEDDING_LOOKUP`` or ``GATHER`` (directly, or through ops that only recast or
reshape it) gets ids over every row instead. Standard library only: it runs on boards beside the runner.
"""

from __future__ import annotations

import struct

from device_runner.builtin_ops import BUILTIN_OPS
from device_runner.flatbuffer import ModelFormatError, _Reader

# Ops that hand their first input on unchanged in value (its dtype or shape aside): ids stay ids through them.
_CARRIERS = frozenset({"CAST", "RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
# table-indexing op -> (which input holds the ids, which the table)
_LOOKUPS = {"EMBEDDING_LOOKUP": (0, 1), "GATHER": (1, 0)}


def id_limits(flatbuffer: bytes) -> dict[str, int]:
    """Per input tensor name of subgraph 0 that indexes a table: the rows of the smallest table it indexes (so
    every id is valid everywhere it goes). Inputs that index nothing are absent; so is everything when the
    file cannot be read (the caller then keeps its plain synthetic values)."""
    reader = _Reader(flatbuffer)
    try:
        return _limits(reader)
    except (ModelFormatError, IndexError, struct.error):
        return {}


def _limits(reader: _Reader) -> dict[str, int]:
    model = reader.u32(0)
    codes = [_op_name(reader, t) for t in reader.tables(model, 1)]
    subgraphs = reader.tables(model, 2)
    if not subgraphs:
        return {}
    tensors = reader.tables(subgraphs[0], 0)
    carries = {int(i): int(i) for i in reader.numbers(subgraphs[0], 1, "<i")}  # tensor -> the input it carries
    limits: dict[int, int] = {}
    for op in reader.tables(subgraphs[0], 3):  # in execution order: a carrier's input comes before it
        name = codes[int(reader.scalar(op, 0, "<I", 0))]
        ins = [int(i) for i in reader.numbers(op, 1, "<i")]
        outs = [int(i) for i in reader.numbers(op, 2, "<i")]
        if name in _CARRIERS and ins and ins[0] in carries and outs:
            carries[outs[0]] = carries[ins[0]]
        elif name in _LOOKUPS and len(ins) >= 2:
            ids, table = (ins[k] for k in _LOOKUPS[name])
            shape = [int(d) for d in reader.numbers(tensors[table], 0, "<i")]
            axis = _gather_axis(reader, op) if name == "GATHER" else 0
            rows = shape[axis] if -len(shape) <= axis < len(shape) else 0
            if ids in carries and rows > 0:
                source = carries[ids]
                limits[source] = min(rows, limits.get(source, rows))
    return {reader.string(tensors[i], 3) or "": rows for i, rows in limits.items()}


def _op_name(reader: _Reader, table: int) -> str:
    code = max(int(reader.scalar(table, 0, "<b", 0)), int(reader.scalar(table, 3, "<i", 0)))
    return BUILTIN_OPS[code] if 0 <= code < len(BUILTIN_OPS) else ""


def _gather_axis(reader: _Reader, op: int) -> int:
    """GatherOptions.axis (the operator's builtin options, field 4; axis is its field 0, default 0)."""
    options = reader.ref(op, 4)
    return 0 if options is None else int(reader.scalar(options, 0, "<i", 0))
