"""benchmark_model's per-op profile (--enable_op_profiling), every generation of its format, into the result.

The fixtures in tests/data/op_profiles/ are written from the format of TensorFlow's StatsCalculator tables
(one per generation, see edgebench/devices/benchmark_output.py) for one invented six-node model:
conv1 -> dw1 -> conv2 -> pool (MEAN) -> logits (FULLY_CONNECTED) -> SOFTMAX.
"""

from __future__ import annotations

import pytest

from device_runner.flatbuffer import Graph, Node, OpCode
from edgebench.devices.benchmark_output import parse, parse_op_profile
from edgebench_records import OpProfile, OpTime, Placement, RanOn, TensorInfo
from tests.conftest import DATA

PROFILES = DATA / "op_profiles"
OPS = ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX"]
OUTPUTS = ["net/conv1/Relu", "net/dw1/Relu", "net/conv2/Relu", "net/pool/Mean", "net/logits/BiasAdd", "Identity"]


def six_nodes() -> Graph:
    def tensor(name: str) -> TensorInfo:
        return TensorInfo(name, [1, 8], "float32", 0.0, 0)

    names = ["input", *OUTPUTS]
    nodes = [
        Node(OpCode(op, 1), [tensor(names[k]), tensor(f"w{k}")], [tensor(names[k + 1])], [False, True])
        for k, op in enumerate(OPS)
    ]
    tensors = [tensor(n) for n in names] + [tensor(f"w{k}") for k in range(len(OPS))]
    return Graph(nodes, tensors, [False] * len(names) + [True] * len(OPS))


def text(name: str) -> str:
    return (PROFILES / name).read_text()


def test_no_profile_printed_is_none_not_an_empty_profile() -> None:
    assert parse_op_profile("INFO: count=50 first=10 curr=9 min=9 max=10 avg=9.4 std=0\n") is None


def test_tf2_rows_carry_node_index_op_time_share_and_where_each_ran() -> None:
    table = parse_op_profile(text("gen2_tf2.txt"))
    assert table is not None
    assert table.op_profile() == OpProfile(
        source="benchmark_model --enable_op_profiling",
        ops=[
            OpTime(6, "TfLiteXNNPackDelegate", 0.998, 70.282, RanOn.DELEGATE, "TfLiteXNNPackDelegate"),
            OpTime(3, "MEAN", 0.201, 14.155, RanOn.CPU, ""),
            OpTime(7, "TfLiteXNNPackDelegate", 0.221, 15.563, RanOn.DELEGATE, "TfLiteXNNPackDelegate"),
        ],
    )


def test_the_profiles_own_timing_summaries_are_not_read_as_the_benchmarks_runs() -> None:
    """Its tables end in "Timings (microseconds): count=1 …" and "Memory (bytes): count=0": not the timed runs."""
    out = parse(text("gen2_tf2.txt"))
    assert (out.runs, out.warmup_runs) == (70, None) and out.mean_ms == pytest.approx(1.4302)


def test_the_initialisation_profile_is_not_taken_for_op_time() -> None:
    table = parse_op_profile(text("gen2_tf2.txt"))
    assert table is not None and all(r.op not in ("ModifyGraphWithDelegate", "AllocateTensors") for r in table.rows)


def test_tf1_rows_without_node_indices_say_so_rather_than_guess_them() -> None:
    table = parse_op_profile(text("gen1_tf1.txt"))
    assert table is not None and not table.indexed
    profile = table.op_profile()
    assert [(t.node, t.op, t.ran_on) for t in profile.ops] == [
        (None, "DELEGATE", RanOn.DELEGATE),
        (None, "MEAN", RanOn.CPU),
        (None, "DELEGATE", RanOn.DELEGATE),
    ]
    assert "no node indices" in profile.note


def test_only_the_run_order_table_is_read_not_its_repeats_sorted_by_time_or_type() -> None:
    table = parse_op_profile(text("gen1_tf1.txt"))
    assert table is not None and len(table.rows) == 3


def test_litert_rows_inside_a_partition_are_kept_apart_from_the_partition_and_other_subgraphs_left_out() -> None:
    table = parse_op_profile(text("gen3_litert.txt"))
    assert table is not None
    profile = table.op_profile()
    inside = [t for t in profile.ops if t.ran_on is RanOn.INSIDE_DELEGATE]
    assert [t.op for t in inside] == [
        "Convolution (NHWC, F32) IGEMM",
        "Convolution (NHWC, F32) DWConv",
        "Fully Connected (NC, F32) GEMM",  # from the "Delegate internal:" section
    ]
    assert {t.delegate for t in inside} == {"TfLiteXNNPackDelegate"} and {t.node for t in inside} == {None}
    assert [(t.node, t.op) for t in profile.ops if t.ran_on is not RanOn.INSIDE_DELEGATE] == [
        (6, "TfLiteXNNPackDelegate"),
        (5, "SOFTMAX"),
    ]
    assert "ADD" not in {t.op for t in profile.ops} and profile.note == "1 rows of other subgraphs left out"


def test_the_csv_output_mode_reads_as_the_tab_table() -> None:
    table = parse_op_profile(text("gen4_csv.txt"))
    assert table is not None
    assert [(t.node, t.op, t.avg_ms, t.percent, t.ran_on) for t in table.op_profile().ops] == [
        (6, "TfLiteXNNPackDelegate", 0.951, 79.25, RanOn.DELEGATE),
        (5, "SOFTMAX", 0.249, 20.75, RanOn.CPU),
    ]


def test_a_log_whose_tabs_became_spaces_reads_the_same() -> None:
    """Logs pasted through a terminal or an issue lose their tabs; types and names hold single spaces only."""
    spaced = text("gen3_litert.txt").replace("\t", "    ")
    assert parse_op_profile(spaced) == parse_op_profile(text("gen3_litert.txt"))


def test_a_logcat_capture_reads_the_same() -> None:
    prefix = "05-30 15:16:46.366  3380  3380 I tflite  : "
    captured = "".join(prefix + line for line in text("gen2_tf2.txt").splitlines(keepends=True))
    assert parse_op_profile(captured) == parse_op_profile(text("gen2_tf2.txt"))


@pytest.mark.parametrize(
    ("fixture", "partitions"),
    [
        ("gen2_tf2.txt", [0, 0, 0, -1, 1, 1]),  # MEAN fell off: the partitions on either side of it
        ("gen3_litert.txt", [0, 0, 0, 0, 0, -1]),  # SOFTMAX on plain kernels
        ("gen4_csv.txt", [0, 0, 0, 0, 0, -1]),
    ],
)
def test_placement_per_node_from_the_profiles_rows_and_the_models_graph(fixture: str, partitions: list[int]) -> None:
    assert parse(text(fixture)).placement(six_nodes()) == Placement(OPS, partitions)


def test_without_node_indices_the_rows_output_tensors_name_the_nodes() -> None:
    assert parse(text("gen1_tf1.txt")).placement(six_nodes()) == Placement(OPS, [0, 0, 0, -1, 1, 1])


def test_rows_that_name_no_node_of_the_model_give_no_placement_rather_than_a_guess() -> None:
    out = parse(text("gen1_tf1.txt").replace("[net/pool/Mean]", "[renamed/pool]"))
    assert out.profile is not None and out.placement(six_nodes()) is None


def test_the_partition_count_is_read_from_the_delegates_line() -> None:
    assert parse(text("gen2_tf2.txt")).partitions == 2
    line = (
        "INFO: Explicitly applied GPU delegate, and the model graph will be partially executed by the delegate"
        " w/ 3 delegate kernels."
    )
    assert parse(line).partitions == 3


def test_counts_alone_place_every_node_when_all_or_none_were_delegated() -> None:
    everything = "INFO: Replacing 6 out of 6 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 1 partitions."
    assert parse(everything).placement(six_nodes()) == Placement(OPS, [0] * 6)
    assert parse("INFO: Initialized session in 4.2ms.\n").placement(six_nodes()) == Placement(OPS, [-1] * 6)
    part = "INFO: Replacing 5 out of 6 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions."
    assert parse(part).placement(six_nodes()) is None


def test_ai_edge_litert_exposes_no_op_profiler_to_python() -> None:
    """What the runner's note rests on: neither the Interpreter's wrapper nor CompiledModel has a profiler."""
    from ai_edge_litert import _pywrap_litert_compiled_model_wrapper as compiled_wrapper
    from ai_edge_litert import _pywrap_litert_interpreter_wrapper as interpreter_wrapper
    from ai_edge_litert.compiled_model import CompiledModel
    from ai_edge_litert.interpreter import Interpreter

    wrappers = [interpreter_wrapper.InterpreterWrapper, compiled_wrapper.CompiledModelWrapper]
    surfaces = [Interpreter, CompiledModel, *wrappers]
    found = [f"{s.__name__}.{name}" for s in surfaces for name in dir(s) if "profil" in name.lower()]
    assert found == []


def test_a_delegate_said_to_run_the_whole_graph_places_every_node_without_a_replacing_line() -> None:
    """Older GPU builds print only the tool's sentence, no "Replacing k out of n node(s)"."""
    line = "Explicitly applied GPU delegate, and the model graph will be completely executed by the delegate."
    out = parse(f"INFO: Created 1 GPU delegate kernels.\n{line}\n")
    assert out.applied_delegate and out.coverage(6).fraction == 1.0
    assert out.placement(six_nodes()) == Placement(OPS, [0] * 6)


def test_no_line_of_a_delegate_means_none_applied_and_every_node_on_plain_kernels() -> None:
    out = parse("INFO: Initialized session in 4.2ms.\n")
    assert not out.applied_delegate and out.coverage(6).delegated_nodes == 0
