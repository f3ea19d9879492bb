"""What a model costs, read from its flatbuffer with the standard library: parameters by dtype,
multiply-accumulates and FLOPs per op type, op counts. The figures of the file that ships (after
BatchNorm folding and quantisation), so they explain a variant's latency, not the Keras source's.

MACs are counted for the ops whose cost is a product of dimensions (convolutions, fully connected,
matrix products); FLOPs are 2 × MACs for those, plus one per output element for element-wise ops.
Other ops (reshapes, pooling, softmax, quantise) count zero: said, not estimated.
"""

from __future__ import annotations

import math
from collections import Counter

from device_runner.flatbuffer import Graph, Node
from edgebench_records.model import ModelFigures, TensorInfo

ELEMENTWISE = frozenset(
    {
        "ADD",
        "SUB",
        "MUL",
        "DIV",
        "MAXIMUM",
        "MINIMUM",
        "RELU",
        "RELU6",
        "RELU_N1_TO_1",
        "LEAKY_RELU",
        "PRELU",
        "HARD_SWISH",
        "LOGISTIC",
        "TANH",
        "SQUARED_DIFFERENCE",
        "SQRT",
        "RSQRT",
        "EXP",
        "ABS",
        "NEG",
    }
)


def _elements(tensor: TensorInfo | None) -> int:
    return math.prod(max(d, 1) for d in tensor.shape) if tensor is not None else 0


def node_macs(node: Node) -> int:
    """Multiply-accumulates of one node, 0 for ops that are not products of dimensions."""
    name = node.op.name
    out = _elements(node.outputs[0]) if node.outputs else 0
    weights = node.inputs[1] if len(node.inputs) > 1 else None
    if weights is None or not weights.shape:
        return 0
    if name in ("CONV_2D", "CONV_3D"):
        return out * math.prod(weights.shape[1:])  # filter [out_c, kh, kw, in_c]: one output needs kh·kw·in_c
    if name == "DEPTHWISE_CONV_2D":
        return out * weights.shape[1] * weights.shape[2]  # filter [1, kh, kw, channels]
    if name == "FULLY_CONNECTED":
        return out * weights.shape[-1]  # weights [units, in]
    if name == "BATCH_MATMUL":
        a = node.inputs[0]
        return out * (a.shape[-1] if a is not None and a.shape else 0)  # [.., M, K] x [.., K, N]
    if name == "TRANSPOSE_CONV":  # inputs: output shape, filter [out_c, kh, kw, in_c], input
        source = node.inputs[2] if len(node.inputs) > 2 else None
        return _elements(source) * math.prod(weights.shape[:3])  # each input element meets kh·kw·out_c
    return 0


def model_figures(graph: Graph) -> ModelFigures:
    params: Counter[str] = Counter()
    for tensor, stored in zip(graph.tensors, graph.stored, strict=True):
        if stored:
            params[tensor.dtype] += _elements(tensor)
    macs_by_op: Counter[str] = Counter()
    elementwise = 0
    for node in graph.nodes:
        macs = node_macs(node)
        if macs:
            macs_by_op[node.op.name] += macs
        elif node.op.name in ELEMENTWISE and node.outputs:
            elementwise += _elements(node.outputs[0])
    macs = sum(macs_by_op.values())
    return ModelFigures(
        params=dict(params),
        macs=macs,
        flops=2 * macs + elementwise,
        macs_by_op=dict(macs_by_op),
        ops=dict(Counter(node.op.name for node in graph.nodes)),
    )
