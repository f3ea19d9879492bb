"""Tiny .tflite models written with LiteRT's own flatbuffer schema (no TensorFlow): shapes the bundled example
does not have (two inputs, integer inputs, dynamic dimensions, a signature in another order)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flatbuffers  # type: ignore[import-untyped]  # no stubs; only tests build models
import numpy as np
from ai_edge_litert import schema_py_generated as fb

TYPES = {"float32": fb.TensorType.FLOAT32, "int8": fb.TensorType.INT8, "int32": fb.TensorType.INT32}
OPTIONS = ("ADD", "MUL", "GATHER", "CAST")  # ops written with their (default) builtin options


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: list[int]  # -1 for a dynamic dimension
    dtype: str = "float32"
    scale: float = 0.0  # quantised when non-zero
    zero_point: int = 0
    data: bytes = b""  # a constant's values (a weight table), stored in a buffer of its own


@dataclass(frozen=True)
class Op:
    """``builtin`` (e.g. "ADD") or ``custom`` (a custom op's name) from input tensor names to one output."""

    inputs: list[str]
    output: str
    builtin: str = ""
    custom: str = ""


@dataclass
class TinyModel:
    inputs: list[Tensor]
    outputs: list[Tensor]
    ops: list[Op]
    signature: list[str] | None = None  # the signature's input order by name; None: no signature
    intermediates: list[Tensor] = field(default_factory=list)

    def write(self, path: Path) -> Path:
        tensors = [*self.inputs, *self.intermediates, *self.outputs]
        index = {t.name: i for i, t in enumerate(tensors)}
        codes: list[tuple[str, str]] = []
        operators = []
        for op in self.ops:
            code = (op.builtin, op.custom)
            if code not in codes:
                codes.append(code)
            operator = fb.OperatorT()
            operator.opcodeIndex = codes.index(code)
            operator.inputs = [index[name] for name in op.inputs]
            operator.outputs = [index[op.output]]
            if op.builtin in OPTIONS:
                operator.builtinOptionsType = getattr(fb.BuiltinOptions, f"{op.builtin.title()}Options")
                operator.builtinOptions = getattr(fb, f"{op.builtin.title()}OptionsT")()
            operators.append(operator)
        subgraph = fb.SubGraphT()
        subgraph.tensors = [_tensor(t) for t in tensors]
        buffers = [fb.BufferT()]  # buffer 0: the empty one every tensor without data points at
        for tensor, spec in zip(subgraph.tensors, tensors, strict=True):
            if spec.data:
                tensor.buffer = len(buffers)
                buffers.append(fb.BufferT())
                buffers[-1].data = list(spec.data)
        subgraph.inputs = [index[t.name] for t in self.inputs]
        subgraph.outputs = [index[t.name] for t in self.outputs]
        subgraph.operators = operators
        model = fb.ModelT()
        model.version = 3
        model.operatorCodes = [_code(builtin, custom) for builtin, custom in codes]
        model.subgraphs = [subgraph]
        model.buffers = buffers
        if self.signature is not None:
            model.signatureDefs = [_signature(self.signature, [t.name for t in self.outputs], index)]
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        path.write_bytes(bytes(builder.Output()))
        return path


def _tensor(spec: Tensor) -> Any:
    tensor = fb.TensorT()
    tensor.name = spec.name
    tensor.type = TYPES[spec.dtype]
    tensor.buffer = 0
    tensor.shape = [max(d, 1) for d in spec.shape]
    if any(d < 0 for d in spec.shape):
        tensor.shapeSignature = list(spec.shape)
    if spec.scale:
        tensor.quantization = fb.QuantizationParametersT()
        tensor.quantization.scale = [spec.scale]
        tensor.quantization.zeroPoint = [spec.zero_point]
    return tensor


def _code(builtin: str, custom: str) -> Any:
    code = fb.OperatorCodeT()
    number = getattr(fb.BuiltinOperator, builtin or "CUSTOM")
    code.builtinCode = number
    code.deprecatedBuiltinCode = min(number, 127)
    code.customCode = custom or None
    code.version = 1
    return code


def _signature(inputs: list[str], outputs: list[str], index: dict[str, int]) -> Any:
    signature = fb.SignatureDefT()
    signature.signatureKey = "serving_default"
    signature.subgraphIndex = 0
    signature.inputs = [_map(name, index) for name in inputs]
    signature.outputs = [_map(name, index) for name in outputs]
    return signature


def _map(name: str, index: dict[str, int]) -> Any:
    entry = fb.TensorMapT()
    entry.name = name
    entry.tensorIndex = index[name]
    return entry


def two_inputs(path: Path, *, batch: int = 1, signature: list[str] | None = None) -> Path:
    """``x`` [b, 4] and ``mask`` [b, 16] in; ``doubled`` = x + x [b, 4] and ``squared`` = mask * mask [b, 16]
    out. ``batch=-1`` makes the batch dimension dynamic."""
    x, mask = Tensor("x", [batch, 4]), Tensor("mask", [batch, 16])
    return TinyModel(
        inputs=[x, mask],
        outputs=[Tensor("doubled", [batch, 4]), Tensor("squared", [batch, 16])],
        ops=[Op(["x", "x"], "doubled", builtin="ADD"), Op(["mask", "mask"], "squared", builtin="MUL")],
        signature=signature,
    ).write(path)


def quantised_add(path: Path) -> Path:
    """int8 ``a`` and ``b`` [1, 8] (scale 0.1, zero point 0) in, int8 ``sum`` (scale 0.2) out."""
    a, b = Tensor("a", [1, 8], "int8", 0.1, 0), Tensor("b", [1, 8], "int8", 0.1, 0)
    return TinyModel(
        inputs=[a, b], outputs=[Tensor("sum", [1, 8], "int8", 0.2, 0)], ops=[Op(["a", "b"], "sum", builtin="ADD")]
    ).write(path)


def token_input(path: Path) -> Path:
    """An int32 ``tokens`` [1, 6] input (ids, not quantised) added to itself."""
    tokens = Tensor("tokens", [1, 6], "int32")
    return TinyModel(
        inputs=[tokens], outputs=[Tensor("twice", [1, 6], "int32")], ops=[Op(["tokens", "tokens"], "twice", "ADD")]
    ).write(path)


def custom_op(path: Path, name: str) -> Path:
    """One custom op ``name`` that no runtime registers."""
    return TinyModel(
        inputs=[Tensor("x", [1, 4])], outputs=[Tensor("y", [1, 4])], ops=[Op(["x"], "y", custom=name)]
    ).write(path)


def doubling(path: Path) -> Path:
    """One input ``x`` [1, 4], one output ``y`` = x + x: the shape the previous input set layout was made for."""
    return TinyModel(
        inputs=[Tensor("x", [1, 4])], outputs=[Tensor("y", [1, 4])], ops=[Op(["x", "x"], "y", builtin="ADD")]
    ).write(path)


def dynamic_length(path: Path) -> Path:
    """``x`` [1, -1]: a length fixed only when fed (a sequence), doubled into ``y`` [1, -1]."""
    return TinyModel(
        inputs=[Tensor("x", [1, -1])], outputs=[Tensor("y", [1, -1])], ops=[Op(["x", "x"], "y", builtin="ADD")]
    ).write(path)


def looked_up(path: Path, rows: int, op: str = "GATHER", cast: bool = False) -> Path:
    """``ids`` (int32, or float32 cast to int32 first with ``cast``) looking up rows of a constant float table
    [rows, 3] into ``vectors``, the shape of a token embedding: [1, 5] ids under GATHER, [5] under
    EMBEDDING_LOOKUP (which takes a vector of ids)."""
    shape = [5] if op == "EMBEDDING_LOOKUP" else [1, 5]
    table = Tensor("table", [rows, 3], data=np.arange(rows * 3, dtype=np.float32).tobytes())
    ids = Tensor("ids", shape, "float32" if cast else "int32")
    indices = [Tensor("indices", shape, "int32")] if cast else []
    index = "indices" if cast else "ids"
    lookup = [index, "table"] if op == "EMBEDDING_LOOKUP" else ["table", index]
    return TinyModel(
        inputs=[ids],
        outputs=[Tensor("vectors", [*shape, 3])],
        ops=[*([Op(["ids"], "indices", builtin="CAST")] if cast else []), Op(lookup, "vectors", builtin=op)],
        intermediates=[table, *indices],
    ).write(path)


def chain(path: Path, signature: list[str] | None = None) -> Path:
    """``x`` [1, 8] through three ops, each output feeding the next: ``a`` = x + x, ``b`` = a * a, ``y`` = b + x.
    Only ``y`` is an output; ``a`` and ``b`` live inside the graph (what a culprit search exposes)."""
    x, a, b = Tensor("x", [1, 8]), Tensor("a", [1, 8]), Tensor("b", [1, 8])
    return TinyModel(
        inputs=[x],
        outputs=[Tensor("y", [1, 8])],
        ops=[Op(["x", "x"], "a", builtin="ADD"), Op(["a", "a"], "b", builtin="MUL"), Op(["b", "x"], "y", "ADD")],
        intermediates=[a, b],
        signature=signature,
    ).write(path)
