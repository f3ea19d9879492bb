"""Reading benchmark_model's output: three generations of the tool, nothing invented for what it did not print."""

from __future__ import annotations

import numpy as np
import pytest

from device_runner.delegates import parse_delegate
from edgebench.devices.benchmark_model import delegate_flags, split_outputs
from edgebench.devices.benchmark_output import parse
from edgebench.errors import EdgebenchError
from edgebench_records import TensorInfo

CURRENT = """\
INFO: STARTING!
INFO: Log parameter values verbosely: [0]
INFO: Graph: [/data/local/tmp/edgebench/runs/r/plan/fp32.tflite]
INFO: The input model file size (MB): 3.49
INFO: Initialized session in 21.877ms.
INFO: Replacing 64 out of 66 node(s) with delegate (TfLiteXNNPackDelegate) node, yielding 2 partitions for the whole graph.
INFO: Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
INFO: count=56 first=17890 curr=8512 min=8401 max=17890 avg=8934.5 std=1265 p5=8410 median=8620 p95=9702
INFO: Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
INFO: count=117 first=8600 curr=8499 min=8380 max=9921 avg=8544.21 std=212 p5=8399 median=8487 p95=8910
INFO: Inference timings in us: Init: 21877, First inference: 17890, Warmup (avg): 8934.5, Inference (avg): 8544.21
INFO: Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
INFO: Memory footprint delta from the start of the tool (MB): init=12.4531 overall=19.1289
INFO: Overall peak memory footprint (MB) via periodic monitoring: 31.2148
"""

OLDER = """\
INFO: Initialized session in 4.21ms.
INFO: Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
INFO: count=40 first=15012 curr=12001 min=11890 max=15012 avg=12503 std=620
INFO: Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
INFO: count=83 first=12100 curr=11950 min=11802 max=13004 avg=12050.3 std=201
INFO: Inference timings in us: Init: 4210, First inference: 15012, Warmup (avg): 12503, Inference (avg): 12050.3
INFO: Memory footprint delta from the start of the tool (MB): init=3.1 overall=8.7
"""

OLDEST = """\
Loaded model /data/local/tmp/mobilenet.tflite
resolved reporter
Initialized session in 6.2ms
count=50 first=30211 curr=28871 min=28640 max=30211 avg=29012 std=301
Average inference timings in us: Warmup: 30211, Init: 6203, no stats: 29012
"""


def test_the_current_output_gives_every_schema_field_it_prints() -> None:
    out = parse(CURRENT)
    timing, memory = out.timing(warmup_runs=1), out.memory()
    assert timing is not None and memory is not None
    assert (timing.init_ms, timing.first_ms, timing.warmup_runs) == (21.877, 17.89, 56)
    assert (timing.p50_ms, timing.mean_ms, timing.std_ms, timing.min_ms, timing.max_ms) == (
        8.487,
        8.54421,
        0.212,
        8.38,
        9.921,
    )
    assert (out.runs, timing.p5_ms, timing.p95_ms) == (117, 8.399, 8.91)
    # never printed by any build: raw samples, p90, p99, the timer's own cost
    assert timing.samples_ms == [] and timing.p90_ms is None and timing.p99_ms is None
    assert timing.missing == ["p90_ms", "p99_ms", "samples_ms", "timer_overhead_ms"]
    assert (memory.load_delta_mb, memory.peak_rss_mb, memory.rss_before_mb) == (12.4531, 31.2148, None)
    assert memory.missing == ["model_peak_mb", "rss_after_load_mb", "rss_before_mb"]
    assert out.coverage(total_nodes=66).delegated_nodes == 64 and out.delegate_name == "TfLiteXNNPackDelegate"
    assert out.model_size_mb == 3.49


def test_older_output_without_percentiles_leaves_p50_missing_rather_than_using_the_mean() -> None:
    timing = parse(OLDER).timing(warmup_runs=1)
    assert timing is not None
    assert timing.p50_ms is None and timing.mean_ms == 12.0503 and timing.first_ms == 15.012
    assert (timing.std_ms, timing.min_ms, timing.max_ms) == (0.201, 11.802, 13.004)
    assert "p50_ms" in timing.missing and "std_ms" not in timing.missing
    assert timing.p5_ms is timing.p95_ms is None and {"p5_ms", "p95_ms"} <= set(timing.missing)
    memory = parse(OLDER).memory()
    assert memory is not None and memory.load_delta_mb == 3.1 and memory.peak_rss_mb is None
    assert "peak_rss_mb" in memory.missing


def test_the_oldest_output_gives_init_and_mean_and_marks_the_rest_missing() -> None:
    out = parse(OLDEST)
    timing = out.timing(warmup_runs=1)
    assert timing is not None
    assert (timing.init_ms, timing.mean_ms) == (6.203, 29.012)
    # its one count= line is the timed runs: min/max/std come from it, p50 and first inference do not exist
    assert (timing.min_ms, timing.max_ms, timing.std_ms) == (28.64, 30.211, 0.301)
    assert timing.p50_ms is None and timing.first_ms is None
    assert {"p50_ms", "first_ms", "samples_ms"} <= set(timing.missing)
    assert out.memory() is None  # no memory lines at all
    assert out.coverage(total_nodes=30).delegated_nodes == 0


def test_an_output_cut_short_gives_no_timing() -> None:
    assert parse("INFO: Initialized session in 4.21ms.\nSegmentation fault\n").timing(1) is None


@pytest.mark.parametrize(
    ("delegate", "flags"),
    [
        ("xnnpack", ["--use_xnnpack=true"]),
        ("cpu", ["--use_xnnpack=false"]),
        ("nnapi", ["--use_nnapi=true"]),
        ("nnapi:qti-dsp", ["--use_nnapi=true", "--nnapi_accelerator_name=qti-dsp"]),
        ("gpu", ["--use_gpu=true"]),
        (
            "external:/vendor/lib64/libdelegate.so;backends=GpuAcc;level=2",
            [
                "--external_delegate_path=/vendor/lib64/libdelegate.so",
                "--external_delegate_options=backends:GpuAcc;level:2",
            ],
        ),
        ("npu", None),
    ],
)
def test_each_delegate_maps_to_the_tools_flags(delegate: str, flags: list[str] | None) -> None:
    assert delegate_flags(parse_delegate(delegate)) == flags


def test_the_output_file_is_split_into_every_output_and_each_dequantised_per_tensor() -> None:
    """The tool writes each sample's outputs one after another, in the model's output order."""
    scores = TensorInfo("scores", [1, 3], "int8", 0.5, -1)
    box = TensorInfo("box", [1, 2], "float32", 0.0, 0)
    samples = [(np.array([[-1, 1, 3]], np.int8), np.array([[0.25, 4.0]], np.float32)) for _ in range(2)]
    raw = b"".join(s.tobytes() + b.tobytes() for s, b in samples)
    got_scores, got_box = split_outputs(raw, 2, [scores, box])
    assert got_scores.tolist() == [[[0.0, 1.0, 2.0]]] * 2 and got_box.tolist() == [[[0.25, 4.0]]] * 2


def test_an_output_file_of_the_wrong_size_is_one_clear_error() -> None:
    with pytest.raises(EdgebenchError, match="wrote 5 output bytes for 2 samples, 8 expected"):
        split_outputs(b"12345", 2, [TensorInfo("y", [1, 4], "int8", 0.0, 0)])
