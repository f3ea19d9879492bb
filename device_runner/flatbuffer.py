"""Reads what the runner needs from a .tflite file, with the standard library only.

Field numbers follow LiteRT's schema.fbs (Model, OperatorCode, SubGraph, Tensor,
QuantizationParameters, Metadata, Buffer). Reads, never trusting an offset past the end; the one edit,
``with_outputs``, appends to a copy and re-points one field.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from device_runner.builtin_ops import BUILTIN_OPS
from edgebench_records.model import TensorInfo

# TensorType enum of schema.fbs -> numpy dtype names.
TENSOR_TYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool",
                7: "int16", 8: "complex64", 9: "int8", 10: "float64", 11: "complex128", 12: "uint64",
                15: "uint32", 16: "uint16", 17: "int4"}  # fmt: skip
CUSTOM_CODE = 32  # BuiltinOperator_CUSTOM
PLACEHOLDER_FOR_GREATER_OP_CODES = 127  # deprecated_builtin_code when the real code needs int32


class ModelFormatError(ValueError):
    """The file is not a readable LiteRT flatbuffer."""


@dataclass(frozen=True)
class OpCode:
    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


@dataclass(frozen=True)
class ModelInfo:
    ops: list[OpCode]
    min_runtime_version: str | None  # written by the converter from LiteRT's op-version table
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def _unpack(self, fmt: str, pos: int) -> int | float:
        if pos < 0 or pos + struct.calcsize(fmt) > len(self.data):
            size = len(self.data)
            raise ModelFormatError(f"truncated or corrupt flatbuffer (offset {pos} lies outside its {size} bytes)")
        value: int | float = struct.unpack_from(fmt, self.data, pos)[0]
        return value

    def u32(self, pos: int) -> int:
        return int(self._unpack("<I", pos))

    def field(self, table: int, index: int) -> int | None:
        """Absolute position of field ``index`` of the table at ``table``, or None if absent."""
        vtable = table - int(self._unpack("<i", table))
        vtable_size = int(self._unpack("<H", vtable))
        slot = 4 + 2 * index
        if slot >= vtable_size:
            return None
        offset = int(self._unpack("<H", vtable + slot))
        return table + offset if offset else None

    def scalar(self, table: int, index: int, fmt: str, default: int | float) -> int | float:
        pos = self.field(table, index)
        return default if pos is None else self._unpack(fmt, pos)

    def ref(self, table: int, index: int) -> int | None:
        pos = self.field(table, index)
        return None if pos is None else pos + self.u32(pos)

    def tables(self, table: int, index: int) -> list[int]:
        vector = self.ref(table, index)
        if vector is None:
            return []
        return [p + self.u32(p) for p in (vector + 4 + 4 * i for i in range(self.u32(vector)))]

    def numbers(self, table: int, index: int, fmt: str) -> list[int | float]:
        vector = self.ref(table, index)
        if vector is None:
            return []
        size = struct.calcsize(fmt)
        return [self._unpack(fmt, vector + 4 + size * i) for i in range(self.u32(vector))]

    def string(self, table: int, index: int) -> str | None:
        pos = self.ref(table, index)
        if pos is None:
            return None
        length = self.u32(pos)
        return self.data[pos + 4 : pos + 4 + length].decode("utf-8", errors="replace")

    def blob(self, table: int, index: int) -> bytes:
        pos = self.ref(table, index)
        if pos is None:
            return b""
        return self.data[pos + 4 : pos + 4 + self.u32(pos)]

    def buffer(self, buffers: list[int], index: int) -> bytes:
        """Buffer ``index``'s bytes, stored inline (``data``) or, in a model past 2 GB or as ai-edge-quantizer
        writes its output, after the flatbuffer at ``offset`` for ``size`` bytes; b"" for buffer 0 (by
        convention empty) or an index out of range."""
        if not 0 < index < len(buffers):
            return b""
        table = buffers[index]
        inline = self.blob(table, 0)
        offset, size = int(self.scalar(table, 1, "<Q", 0)), int(self.scalar(table, 2, "<Q", 0))
        if inline or offset <= 1:  # 1 is the writer's placeholder for "no offset"
            return inline
        if offset + size > len(self.data):
            raise ModelFormatError(f"buffer {index} lies past the file's end ({offset} + {size} > {len(self.data)})")
        return self.data[offset : offset + size]


def _op_code(reader: _Reader, table: int) -> OpCode:
    code = max(int(reader.scalar(table, 0, "<b", 0)), int(reader.scalar(table, 3, "<i", 0)))
    version = int(reader.scalar(table, 2, "<i", 1))
    if code == CUSTOM_CODE:
        return OpCode(f"CUSTOM:{reader.string(table, 1)}", version)
    return OpCode(BUILTIN_OPS[code] if 0 <= code < len(BUILTIN_OPS) else f"BUILTIN_{code}", version)


def _tensor(reader: _Reader, table: int) -> TensorInfo:
    quantization = reader.ref(table, 4)
    scales = reader.numbers(quantization, 2, "<f") if quantization is not None else []
    zero_points = reader.numbers(quantization, 3, "<q") if quantization is not None else []
    return TensorInfo(
        name=reader.string(table, 3) or "",
        shape=[int(d) for d in reader.numbers(table, 0, "<i")],
        dtype=TENSOR_TYPES.get(int(reader.scalar(table, 1, "<b", 0)), "unknown"),
        scale=float(scales[0]) if len(scales) == 1 else 0.0,
        zero_point=int(zero_points[0]) if len(zero_points) == 1 else 0,
        shape_signature=[int(d) for d in reader.numbers(table, 7, "<i")],
    )


def read_model_info(data: bytes) -> ModelInfo:
    if len(data) < 8 or data[4:8] not in (b"TFL3", b"\x00\x00\x00\x00"):
        raise ModelFormatError("not a LiteRT model (no TFL3 identifier)")
    reader = _Reader(data)
    try:
        model = reader.u32(0)
        ops = [_op_code(reader, t) for t in reader.tables(model, 1)]
        subgraphs = reader.tables(model, 2)
        if not subgraphs:
            raise ModelFormatError("model has no subgraph")
        tensors = reader.tables(subgraphs[0], 0)
        inputs = [_tensor(reader, tensors[int(i)]) for i in reader.numbers(subgraphs[0], 1, "<i")]
        outputs = [_tensor(reader, tensors[int(i)]) for i in reader.numbers(subgraphs[0], 2, "<i")]
        buffers = reader.tables(model, 4)
        min_version = None
        for entry in reader.tables(model, 6):
            if reader.string(entry, 0) == "min_runtime_version":
                index = int(reader.scalar(entry, 1, "<I", 0))
                raw = reader.buffer(buffers, index)
                min_version = raw.split(b"\x00", 1)[0].decode("ascii", errors="replace") or None
    except (IndexError, struct.error) as exc:
        raise ModelFormatError(f"corrupt flatbuffer: {exc}") from exc
    return ModelInfo(ops=ops, min_runtime_version=min_version, inputs=inputs, outputs=outputs)


@dataclass(frozen=True)
class ConstantTensor:
    """A tensor whose values are stored in the file (weights, biases)."""

    name: str
    shape: list[int]
    dtype: str
    data: bytes  # as stored: only the kept values when ``sparse``
    sparse: bool  # stored with TFLite sparsity metadata (EXPERIMENTAL_SPARSITY)


def constant_tensors(data: bytes) -> list[ConstantTensor]:
    """Every tensor of the main subgraph that carries its own data in the file."""
    reader = _Reader(data)
    out = []
    try:
        model = reader.u32(0)
        buffers = reader.tables(model, 4)
        subgraphs = reader.tables(model, 2)
        if not subgraphs:
            raise ModelFormatError("model has no subgraph")
        for table in reader.tables(subgraphs[0], 0):
            index = int(reader.scalar(table, 2, "<I", 0))
            blob = reader.buffer(buffers, index)
            if blob:
                info = _tensor(reader, table)
                out.append(ConstantTensor(info.name, info.shape, info.dtype, blob, reader.field(table, 6) is not None))
    except (IndexError, struct.error) as exc:
        raise ModelFormatError(f"corrupt flatbuffer: {exc}") from exc
    return out


@dataclass(frozen=True)
class Node:
    """One operator of the main subgraph, with its tensors (``None`` for an omitted optional input)."""

    op: OpCode
    inputs: list[TensorInfo | None]
    outputs: list[TensorInfo]
    constant: list[bool]  # per input: its values are stored in the file (weights, biases)
    output_ids: list[int] = field(default_factory=list)  # its outputs' indices in the subgraph's tensor list
    input_ids: list[int] = field(default_factory=list)  # its inputs' (-1: an omitted optional input)


@dataclass(frozen=True)
class Graph:
    nodes: list[Node]
    tensors: list[TensorInfo]
    stored: list[bool]  # per tensor: carries its own data in the file


def read_graph(data: bytes) -> Graph:
    """The main subgraph's operators in execution order, each with its input and output tensors."""
    reader = _Reader(data)
    try:
        model = reader.u32(0)
        codes = [_op_code(reader, t) for t in reader.tables(model, 1)]
        buffers = reader.tables(model, 4)
        subgraphs = reader.tables(model, 2)
        if not subgraphs:
            raise ModelFormatError("model has no subgraph")
        tables = reader.tables(subgraphs[0], 0)
        tensors = [_tensor(reader, t) for t in tables]
        stored = []
        for table in tables:
            index = int(reader.scalar(table, 2, "<I", 0))
            stored.append(bool(reader.buffer(buffers, index)))
        nodes = []
        for op in reader.tables(subgraphs[0], 3):
            ins = [int(i) for i in reader.numbers(op, 1, "<i")]
            outs = [int(i) for i in reader.numbers(op, 2, "<i")]
            nodes.append(
                Node(
                    op=codes[int(reader.scalar(op, 0, "<I", 0))],
                    inputs=[tensors[i] if i >= 0 else None for i in ins],
                    outputs=[tensors[i] for i in outs],
                    constant=[i >= 0 and stored[i] for i in ins],
                    output_ids=outs,
                    input_ids=ins,
                )
            )
    except (IndexError, struct.error) as exc:
        raise ModelFormatError(f"corrupt flatbuffer: {exc}") from exc
    return Graph(nodes, tensors, stored)


def with_outputs(data: bytes, tensors: list[int]) -> tuple[bytes, list[int]]:
    """A copy of the model whose main subgraph also outputs ``tensors`` (indices into its tensor list), after
    its own outputs, and the tensor index of each of the copy's outputs in order. Flatbuffer offsets only point
    forward, so the new vectors are appended at the end and the fields re-pointed at them; nothing else moves
    (buffers stored after the flatbuffer keep their absolute offsets). The copy's signatures are emptied: each
    names its own outputs only, and without one LiteRT's CompiledModel makes its default signature from the
    main subgraph, added outputs included."""
    reader = _Reader(data)
    try:
        model = reader.u32(0)
        subgraphs = reader.tables(model, 2)
        if not subgraphs:
            raise ModelFormatError("model has no subgraph")
        slot = reader.field(subgraphs[0], 2)
        own = [int(i) for i in reader.numbers(subgraphs[0], 2, "<i")]
        signatures = reader.field(model, 7)
    except (IndexError, struct.error) as exc:
        raise ModelFormatError(f"corrupt flatbuffer: {exc}") from exc
    if slot is None:
        raise ModelFormatError("the main subgraph declares no outputs field to extend")
    outputs = own + [t for t in dict.fromkeys(tensors) if t not in own]
    edited = bytearray(data)
    _repoint(edited, slot, outputs)
    if signatures is not None:
        _repoint(edited, signatures, [])
    return bytes(edited), outputs


def _repoint(data: bytearray, slot: int, values: list[int]) -> None:
    """Append ``values`` as a vector of int32 (or an empty vector of anything) and point ``slot`` at it."""
    data += bytes(-len(data) % 4)  # a vector starts 4-aligned
    vector = len(data)
    data += struct.pack(f"<I{len(values)}i", len(values), *values)
    struct.pack_into("<I", data, slot, vector - slot)


def read_model_file(path: Path) -> ModelInfo:
    try:
        return read_model_info(path.read_bytes())
    except ModelFormatError as exc:
        raise ModelFormatError(f"{path}: {exc}") from exc
