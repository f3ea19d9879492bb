"""benchmark_model's per-op profile (--enable_op_profiling), every generation of its format, into the result.

The fixtures in tests/data/op_profiles/ are written from the format of TensorFlow's StatsCalculator tables
(one per generation, see edgebench/devices/benchmark_output.py) for one invented six-node model:
conv1 -> dw1 -> conv2 -> pool (MEAN) -> logits (FULLY_CONNECTED) -> SOFTMAX.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from device_runner.coverage import placement_from_ops
from device_runner.engines import open_engine
from device_runner.flatbuffer import read_graph, read_model_file
from device_runner.runtime import load_runtime
from edgebench.conversion import convert
from edgebench.devices.benchmark_output import parse
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records import Manifest, OpProfile
from tests.conftest import DATA

STANDIN = DATA / "benchmark_model_standin.py"


@pytest.mark.parametrize("api", ["interpreter", "compiled"])
def test_a_device_runner_engine_says_per_op_time_is_not_available_rather_than_estimating_it(
    converted: tuple[Manifest, Path], api: str
) -> None:
    _, directory = converted
    model = directory / "int8.tflite"
    engine = open_engine(load_runtime("ai_edge_litert"), api, model, read_model_file(model), "xnnpack", 1)
    assert engine.op_profile == OpProfile(
        source="ai_edge_litert Python API", note="per-op time is not available on ai_edge_litert's Python API"
    )


@pytest.fixture(scope="session")
def dynamic_int8(workdir: Path) -> Path:
    """The bundled example with dynamic-range int8 weights: XNNPACK leaves a DEPTHWISE_CONV_2D on plain kernels,
    which splits the rest into two partitions."""
    _, directory = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "dynamic_int8"], workdir)
    return directory / "dynamic_int8.tflite"


@pytest.mark.slow
@pytest.mark.parametrize("generation", ["current", "older", "oldest"])
def test_placement_read_from_the_tools_profile_is_the_interpreters_own(dynamic_int8: Path, generation: str) -> None:
    """The stand-in prints the table as benchmark_model lays it out, from the interpreter's node list; read back
    through the model's graph, it gives the placement device_runner reads from that list (two partitions)."""
    args = [f"--graph={dynamic_int8}", "--num_runs=3", "--min_secs=0", "--warmup_runs=1", "--warmup_min_secs=0"]
    env = {**os.environ, "BENCHMARK_OUTPUT_GENERATION": generation}
    command = [sys.executable, str(STANDIN), *args, "--enable_op_profiling=true"]
    printed = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(dynamic_int8), num_threads=1)
    interpreter.allocate_tensors()
    expected = placement_from_ops(interpreter._get_ops_details())
    assert expected.partitions == 2
    assert parse(printed.stdout).placement(read_graph(dynamic_int8.read_bytes())) == expected
