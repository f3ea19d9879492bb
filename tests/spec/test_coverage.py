"""Delegate coverage from the interpreter's node list."""

from __future__ import annotations

from device_runner.coverage import (
    coverage_from_ops,
    coverage_of,
    keyed,
    node_key,
    placement_from_counts,
    placement_from_ops,
    placement_from_partitions,
    placement_unknown,
)
from device_runner.flatbuffer import Graph, Node, OpCode
from edgebench_records import Coverage, Placement, TensorInfo


def op(index: int, name: str, inputs: list[int], outputs: list[int]) -> dict[str, object]:
    return {"index": index, "op_name": name, "inputs": inputs, "outputs": outputs}


def test_a_partition_covers_the_nodes_between_its_input_and_output_tensors() -> None:
    # 0: t0 -> CONV -> t2 -> RELU -> t3 -> SOFTMAX -> t4; the delegate took CONV and RELU (t0 -> t3).
    ops = [
        op(0, "CONV_2D", [0, 1], [2]),
        op(1, "RELU", [2], [3]),
        op(2, "SOFTMAX", [3], [4]),
        op(3, "DELEGATE", [0, 1], [3]),
    ]
    assert coverage_from_ops(ops) == Coverage(delegated_nodes=2, total_nodes=3)


def test_no_delegate_node_means_nothing_delegated() -> None:
    ops = [op(0, "CONV_2D", [0, 1], [2]), op(1, "RELU", [2], [3])]
    assert coverage_from_ops(ops) == Coverage(delegated_nodes=0, total_nodes=2)


def test_optional_inputs_marked_minus_one_are_ignored() -> None:
    ops = [op(0, "FULLY_CONNECTED", [0, 1, -1], [2]), op(1, "DELEGATE", [0, 1], [2])]
    assert coverage_from_ops(ops).fraction == 1.0


def test_placement_names_the_partition_of_each_node_and_what_stayed_on_plain_kernels() -> None:
    # CONV -> RELU | SOFTMAX | CONV -> ADD: two partitions around a SOFTMAX the delegate left alone.
    ops = [
        op(0, "CONV_2D", [0, 1], [2]),
        op(1, "RELU", [2], [3]),
        op(2, "SOFTMAX", [3], [4]),
        op(3, "CONV_2D", [4, 5], [6]),
        op(4, "ADD", [6, 6], [7]),
        op(5, "DELEGATE", [0, 1], [3]),
        op(6, "DELEGATE", [4, 5], [7]),
    ]
    placement = placement_from_ops(ops)
    assert placement == Placement(["CONV_2D", "RELU", "SOFTMAX", "CONV_2D", "ADD"], [0, 0, -1, 1, 1])
    assert placement.partitions == 2 and placement.on_plain_kernels() == ["SOFTMAX"]
    assert coverage_of(placement) == Coverage(delegated_nodes=4, total_nodes=5)


def test_a_cell_without_placement_names_the_runtime_that_gives_none() -> None:
    assert placement_unknown("ai_edge_litert", "compiled") == (
        "placement unknown: ai_edge_litert's CompiledModel API lists no nodes"
    )
    assert placement_unknown("benchmark_model", "interpreter").startswith("placement unknown: benchmark_model's log")


def chain(*ops: str) -> Graph:
    """t0 -> ops[0] -> t1 -> ops[1] -> … : one tensor between each pair of nodes."""
    tensors = [TensorInfo(f"t{k}", [1], "float32", 0.0, 0) for k in range(len(ops) + 1)]
    nodes = [Node(OpCode(op, 1), [tensors[k]], [tensors[k + 1]], [False]) for k, op in enumerate(ops)]
    return Graph(nodes, tensors, [False] * len(tensors))


def test_partitions_named_by_their_output_tensors_take_the_delegated_nodes_feeding_them() -> None:
    graph = chain("CONV_2D", "RELU", "SOFTMAX", "CONV_2D", "ADD")
    assert placement_from_partitions(graph, {2}, [["t2"], ["t5"]]) == Placement(
        ["CONV_2D", "RELU", "SOFTMAX", "CONV_2D", "ADD"], [0, 0, -1, 1, 1]
    )


def test_a_delegated_node_no_partition_reaches_is_unknown_when_there_are_several() -> None:
    graph = chain("CONV_2D", "RELU", "SOFTMAX", "CONV_2D", "ADD")
    assert placement_from_partitions(graph, {2}, [["t2"], ["elsewhere"]]) is None
    assert placement_from_partitions(graph, {2}, [["elsewhere"]]) == Placement(  # one partition: it holds them all
        ["CONV_2D", "RELU", "SOFTMAX", "CONV_2D", "ADD"], [0, 0, -1, 0, 0]
    )


def test_counts_over_another_graph_do_not_place_these_nodes() -> None:
    assert placement_from_counts(chain("CONV_2D", "RELU"), delegated=3, total=3, partitions=1) is None


def test_a_nodes_key_is_its_version_dtypes_and_the_ranks_of_its_data_tensors_in_one_text() -> None:
    weights, bias = TensorInfo("w", [10, 64], "int8", 0.0, 0), TensorInfo("b", [10], "int32", 0.0, 0)
    x, y = TensorInfo("x", [1, 64], "int8", 0.0, 0, [-1, 64]), TensorInfo("y", [1, 10], "int8", 0.0, 0)
    fc = Node(OpCode("FULLY_CONNECTED", 9), [x, weights, bias, None], [y], [False, True, True, False])
    graph = Graph([fc], [x, weights, bias, y], [False, True, True, False])
    # the omitted optional input left out of the dtypes; the stored weights and bias out of the ranks
    assert node_key(graph, 0) == "v9 int8,int8,int32->int8 2->2 dynamic"


def test_a_placement_is_keyed_only_by_the_graph_whose_nodes_it_placed() -> None:
    graph = chain("CONV_2D", "CUSTOM:Convolution2DTransposeBias")
    runtime = Placement(["CONV_2D", "Convolution2DTransposeBias"], [0, -1])  # the runtime's name of a custom op
    assert keyed(runtime, graph) == Placement(runtime.node_ops, [0, -1], ["v1 float32->float32 1->1"] * 2)
    other = Placement(["CONV_2D", "RELU"], [0, 0])
    assert keyed(other, graph) == other  # another graph's keys on these nodes would mislead: none
    assert keyed(None, graph) is None
