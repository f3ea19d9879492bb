"""Quantisation culprits without a conversion: how per-layer errors are attributed to ops and ranked, how
mixed_int8 picks its count of float layers, and how manifests from before per-layer errors read."""

from __future__ import annotations

import pytest

import edgebench_records as schema
from converter.layer_error import per_op
from converter.mixed import MIXED_CAP, Judged, smallest_meeting, standing_out
from device_runner.flatbuffer import Graph, Node, OpCode
from edgebench_records import LayerError, Manifest, VariantRecord, VariantState, worst_layers
from edgebench_records.catalogue import VARIANT_SPECS, Options, unused_notes
from tests.conftest import DATA

FROZEN = DATA / "records"


def _tensor(name: str) -> schema.TensorInfo:
    return schema.TensorInfo(name, [1, 4], "float32", 0.0, 0)


def _graph(*ops: tuple[str, list[int], int]) -> Graph:
    """Ops as (type, input tensor ids, output tensor id) over tensors t0…; t9 is a stored weight."""
    tensors = [_tensor(f"t{k}") for k in range(10)]
    stored = [k == 9 for k in range(10)]
    nodes = [
        Node(OpCode(op, 1), [tensors[i] for i in ins], [tensors[out]], [stored[i] for i in ins], [out], ins)
        for op, ins, out in ops
    ]
    return Graph(nodes, tensors, stored)


def test_each_op_is_charged_only_the_error_it_adds_and_inserted_casts_pass_it_on() -> None:
    graph = _graph(
        ("QUANTIZE", [0], 1),  # inserted: no fp32 namesake
        ("FULLY_CONNECTED", [1, 9], 2),
        ("FULLY_CONNECTED", [2, 9], 3),
        ("DEQUANTIZE", [3], 4),
        ("SOFTMAX", [4], 5),
    )
    layers = per_op(graph, {2: 0.1, 3: 0.5, 5: 0.45})
    assert [(layer.index, layer.op, layer.tensor) for layer in layers] == [
        (1, "FULLY_CONNECTED", "t2"),
        (2, "FULLY_CONNECTED", "t3"),
        (4, "SOFTMAX", "t5"),
    ]
    assert [layer.error for layer in layers] == [0.1, 0.5, 0.45]
    assert [layer.added for layer in layers] == [0.1, 0.4, 0.0]  # the softmax shrank what reached it
    assert [layer.index for layer in worst_layers(layers, 2)] == [2, 1]  # by what each adds, not what it shows


def test_an_op_reading_two_branches_is_charged_past_the_worse_one() -> None:
    graph = _graph(("RELU", [0], 1), ("TANH", [0], 2), ("ADD", [1, 2], 3))
    (_, _, add) = per_op(graph, {1: 0.2, 2: 0.05, 3: 0.3})
    assert add.added == pytest.approx(0.1)


def test_ties_rank_the_earlier_op_first() -> None:
    layers = [LayerError(5, "ADD", "b", 0.3, 0.1), LayerError(2, "ADD", "a", 0.2, 0.1)]
    assert [layer.tensor for layer in worst_layers(layers, 1)] == ["a"]


def _judge(figures: dict[int, float], limit: float) -> tuple[list[int], object]:
    asked: list[int] = []

    def judge(count: int) -> Judged:
        asked.append(count)
        return Judged(count, figures[count], figures[count] <= limit)

    return asked, judge


def test_mixed_keeps_the_fewest_layers_that_meet_the_target_and_tries_no_more() -> None:
    asked, judge = _judge({1: 3.0, 2: 0.8, 3: 0.1}, 1.0)
    chosen, tried = smallest_meeting(range(1, 4), judge)  # type: ignore[arg-type]
    assert (chosen.count, chosen.meets, asked) == (2, True, [1, 2])
    assert [j.count for j in tried] == [1, 2]


def test_when_no_count_up_to_the_cap_meets_it_the_best_tried_is_kept_and_said_not_to() -> None:
    _, judge = _judge({1: 3.0, 2: 2.0, 3: 2.0}, 1.0)
    chosen, tried = smallest_meeting(range(1, 4), judge)  # type: ignore[arg-type]
    assert (chosen.count, chosen.meets, len(tried)) == (2, False, 3)  # of equal figures, the fewer layers


def test_without_a_drop_to_meet_mixed_keeps_the_layers_that_stand_out() -> None:
    layers = [LayerError(k, "CONV_2D", f"c{k}", 0.5, added) for k, added in enumerate([0.02, 0.4, 0.25, 0.19, 0.0])]
    assert [layer.tensor for layer in standing_out(layers)] == ["c1", "c2"]  # at least half of the worst's 0.4
    assert standing_out([LayerError(0, "ADD", "a", 0.0, 0.0)]) == []  # nothing adds error: nothing kept float
    many = [LayerError(k, "ADD", f"a{k}", 0.1, 0.1) for k in range(MIXED_CAP + 3)]
    assert len(standing_out(many)) == MIXED_CAP


def test_a_manifest_from_before_1_4_reads_with_no_per_layer_figures_and_no_refusal() -> None:
    manifest = schema.read(Manifest, FROZEN / "manifest-1.3.json")
    (int8,) = manifest.ok_variants()
    assert int8.name == "int8" and int8.layer_errors == [] and int8.layer_error_note == ""
    assert int8.float_layers == [] and int8.layer_error_line() == ""
    assert manifest.schema_version == schema.MANIFEST_RECORD.version == "1.4"


def test_the_worst_layers_line_names_three_and_a_refusal_says_why() -> None:
    layers = [LayerError(k, "CONV_2D", f"model/conv{k}/Conv2D;model/conv{k}/Relu", 0.1 * k, 0.1) for k in range(5)]
    record = VariantRecord("int8", VariantState.OK, "", layer_errors=layers)
    line = record.layer_error_line()
    assert line.count("op ") == 3 and "'model/conv0/Conv2D…'" in line and "relu" not in line.lower()
    refused = VariantRecord("qat_int8", VariantState.OK, "", layer_error_note="per-layer error unavailable: why")
    assert refused.layer_error_line() == "per-layer error unavailable: why"


def test_mixed_int8_s_options_are_its_own_and_said_unused_without_it() -> None:
    assert {"mixed_float_layers", "max_accuracy_drop", "float_io"} <= VARIANT_SPECS["mixed_int8"].reads
    (note,) = unused_notes(Options(mixed_float_layers=2), ["fp32", "int8"])
    assert note.startswith("--mixed-float-layers 2 is not used") and "mixed_int8" in note
