"""What a variant's outputs can be held to: the precision it computes in, each output's quantisation step, and
whether it carries state. Read from the flatbuffer (device_runner/flatbuffer.py), standard library only.

- **Integer arithmetic**: some op reads integers as they are (int8 activations, or int8 weights a convolution
  takes without a DEQUANTIZE first: dynamic-range int8). Two kernels then round differently at every layer, and
  their outputs drift apart by far more than float kernels do (docs/trust.md has the figures).
- **An output's step**: its own scale when the output tensor is quantised; else, when a DEQUANTIZE writes it,
  the scale of the integer tensor it reads: the output is that integer in float clothes. None for a float output.
- **State**: resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, CALL_ONCE) keep values from one
  invoke to the next, so an output depends on every input fed before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from device_runner.flatbuffer import Graph, ModelInfo, read_graph
from edgebench_records import TensorInfo

INTEGER_TYPES = ("int8", "uint8", "int16", "int4")
STATE_OPS = frozenset({"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE"})
_DEQUANTIZE = "DEQUANTIZE"
_CONVERSIONS = frozenset({_DEQUANTIZE, "CAST"})  # ops that only turn integers into floats


@dataclass(frozen=True)
class OutputPrecision:
    """One output's quantisation, after dequantisation: its step and the range its integers can reach."""

    step: float | None  # None: a float output
    low: float | None = None  # the integer type's ends, dequantised: where a saturated output sticks
    high: float | None = None


FLOAT = OutputPrecision(None)


@dataclass(frozen=True)
class Precision:
    integer_arithmetic: bool
    outputs: list[OutputPrecision]


def stateful(info: ModelInfo) -> bool:
    """The model keeps resource variables between invokes."""
    return any(op.name in STATE_OPS for op in info.ops)


def _range(tensor: TensorInfo, step: float, zero_point: int) -> OutputPrecision:
    bits = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int4": (-8, 7)}
    low, high = bits.get(tensor.dtype, (None, None))
    if low is None or high is None:
        return OutputPrecision(step)
    return OutputPrecision(step, (low - zero_point) * step, (high - zero_point) * step)


def _output(graph: Graph, tensor: TensorInfo) -> OutputPrecision:
    if tensor.dtype in INTEGER_TYPES and tensor.scale:
        return _range(tensor, tensor.scale, tensor.zero_point)
    for node in graph.nodes:
        read = node.inputs[0] if node.inputs else None
        writes = any(t.name == tensor.name for t in node.outputs)
        if writes and node.op.name == _DEQUANTIZE and read is not None and read.dtype in INTEGER_TYPES and read.scale:
            return _range(read, read.scale, read.zero_point)
    return FLOAT


def _integer_arithmetic(graph: Graph) -> bool:
    """Some op other than a conversion to float reads an integer tensor (an activation or a weight)."""
    return any(
        node.op.name not in _CONVERSIONS and any(t is not None and t.dtype in INTEGER_TYPES for t in node.inputs)
        for node in graph.nodes
    )


def precision(data: bytes, info: ModelInfo) -> Precision:
    graph = read_graph(data)
    return Precision(_integer_arithmetic(graph), [_output(graph, t) for t in info.outputs])
