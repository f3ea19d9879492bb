"""How much does device_runner's measurement add? Runner median vs a bare invoke() loop, in one run.

For a MobileNet-class model (keras.applications MobileNetV2, weights=None, 224x224) and the bundled
example, each round measures, in a fresh process each, on 1 thread with XNNPACK:
  runner  - device_runner's reported p50 for the cell (python -m device_runner run)
  bare    - a plain loop of Interpreter.invoke() timed with perf_counter_ns, same run count
  litert  - python -m ai_edge_litert.tools.benchmark_litert_model (CompiledModel API), its median
Rounds rotate the order; the table gives the median over rounds and the ratio runner / bare
(goal <= 1.02 on the MobileNet-class model). Prints a Markdown table and writes it into
docs/benchmarks.md (scripts/doc_tables.py), as it does the second table, each into its own block.

A second table (``--explain``; ``--explain-only`` for it alone, no TensorFlow needed): what explaining a
number costs a cell (#18's goal: <= 2 % of its wall time). Per model, medians over the rounds:
  cell wall  - one device_runner cell, start to result, at the plan's default counts (python -m device_runner run)
  placement  - the Interpreter's node list walked into a placement and coverage (done in every cell)
  figures    - the flatbuffer read into parameters, MACs/FLOPs and op counts (done once per variant, when
               converting; counted here against one cell, the worst case)
  profile    - benchmark_model's extra call with --enable_op_profiling and reading the table it prints,
               against a benchmark_model cell (its timed call and one call per accuracy sample), all on the
               tests' stand-in (tests/data/benchmark_model_standin.py: it starts Python and LiteRT where the
               real binary starts in milliseconds, which weighs on every call alike)
ai_edge_litert has no per-op profiler on its Python API, so device_runner cells pay nothing for one.

    .venv/bin/python scripts/bench_runner.py [--rounds 5] [--runs 100] [--explain | --explain-only]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from doc_tables import publish

import edgebench_records as schema
from device_runner.coverage import coverage_of, placement_from_ops
from device_runner.flatbuffer import read_graph, read_model_file
from device_runner.inputs import InputSet, synthetic_inputs, write_input_set
from device_runner.model_figures import model_figures
from device_runner.sweep import run_plan
from edgebench.conversion import convert
from edgebench.devices.benchmark_model import PROFILED_RUNS
from edgebench.devices.benchmark_output import parse_op_profile
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records import CellResult, Measurement, Plan, PlanVariant, sha256_file

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".edgebench" / "bench"
PACKAGES = ["ai-edge-litert", "numpy"]  # what the figures depend on, named in each block's stamp

BARE_LOOP = """
import sys, time, numpy as np
from ai_edge_litert.interpreter import Interpreter
path, inputs, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
it = Interpreter(model_path=path, num_threads=1)
it.allocate_tensors()
d = it.get_input_details()[0]
it.set_tensor(d["index"], np.load(inputs)["x"][:1].astype(d["dtype"]))  # the sample the runner times
end = time.perf_counter() + 0.5
while time.perf_counter() < end:
    it.invoke()
clock, samples = time.perf_counter_ns, []
for _ in range(runs):
    t = clock(); it.invoke(); samples.append(clock() - t)
print(float(np.median(samples)) / 1e6)
"""

MAKE_MOBILENET = """
import sys, numpy as np, tf_keras
model = tf_keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3), classes=1000)
model.save(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.integers(0, 256, size=(24, 224, 224, 3), dtype=np.uint8)
y = rng.integers(0, 1000, size=24)
np.savez(sys.argv[2], x_train=x[:16], y_train=y[:16], x_val=x[16:], y_val=y[16:])
"""


def mobilenet_sources() -> tuple[Path, Path]:
    model, data = WORK / "mobilenet_v2.keras", WORK / "mobilenet_v2_data.npz"
    if not model.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
        subprocess.run([sys.executable, "-c", MAKE_MOBILENET, str(model), str(data)], env=env, check=True)
    return model, data


def runner_cell(tflite: Path, inputs: Path, runs: int, workdir: Path, measure: Measurement | None = None) -> CellResult:
    plan_dir = workdir / "plan"
    plan_dir.mkdir(parents=True)
    (plan_dir / "m.tflite").symlink_to(tflite)
    (plan_dir / "inputs.npz").symlink_to(inputs)
    plan = Plan(
        run_id="bench",
        model_name=tflite.stem,
        variants=[PlanVariant("m", "m.tflite", sha256_file(tflite))],
        input_set="inputs.npz",
        measure=measure or Measurement(delegates=["xnnpack"], threads=[1], runs=runs, min_s=0.0),
    )
    schema.write(plan_dir / "plan.json", plan)
    (result,) = run_plan(plan_dir / "plan.json", workdir / "results")
    assert result.status == "ok" and result.timing, result.message
    return result


def bare_ms(tflite: Path, inputs: Path, runs: int) -> float:
    command = [sys.executable, "-c", BARE_LOOP, str(tflite), str(inputs), str(runs)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def litert_ms(tflite: Path, runs: int, workdir: Path) -> float:
    result = workdir / "litert.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ai_edge_litert.tools.benchmark_litert_model",
            "--model",
            str(tflite),
            "--num_runs",
            str(runs),
            "--warmup_runs",
            "10",
            "--num_threads",
            "1",
            "--result_json",
            str(result),
        ],
        capture_output=True,
        check=True,
    )
    return float(json.loads(result.read_text())["latency"]["median_ms"])


def bench(name: str, tflite: Path, inputs: Path, rounds: int, runs: int) -> dict[str, float | str]:
    medians: dict[str, list[float]] = {"runner": [], "bare": [], "litert": []}
    overhead: list[float] = []
    for round_ in range(rounds):
        order = ["runner", "bare", "litert"][round_ % 3 :] + ["runner", "bare", "litert"][: round_ % 3]
        with tempfile.TemporaryDirectory() as tmp:
            for method in order:
                if method == "runner":
                    cell = runner_cell(tflite, inputs, runs, Path(tmp))
                    timing = cell.timing
                    assert timing is not None and timing.p50_ms is not None and timing.timer_overhead_ms is not None
                    medians["runner"].append(timing.p50_ms)
                    overhead.append(timing.timer_overhead_ms)
                elif method == "bare":
                    medians["bare"].append(bare_ms(tflite, inputs, runs))
                else:
                    medians["litert"].append(litert_ms(tflite, runs, Path(tmp)))
    print(f"{name}: per-round medians {medians}", file=sys.stderr)
    runner, bare, litert = (statistics.median(medians[m]) for m in ("runner", "bare", "litert"))
    return {
        "model": name,
        "runner": runner,
        "bare": bare,
        "ratio": runner / bare,
        "litert": litert,
        "overhead_us": statistics.median(overhead) * 1000,
    }


STANDIN = ROOT / "tests" / "data" / "benchmark_model_standin.py"
ACCURACY_SAMPLES = 100  # the inventory's default for a benchmark_model phone: one call per sample scored


def _median_s(step: Callable[[], object], repeats: int = 20) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _wall_s(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    return time.perf_counter() - start, out.stdout + out.stderr


def synthetic_input_set(tflite: Path, folder: Path) -> Path:
    info = read_model_file(tflite)
    path = folder / f"{tflite.stem}-inputs.npz"
    write_input_set(path, InputSet(synthetic_inputs(info.inputs, 8, 0, {}), None, None, synthetic=True), {})
    return path


def explain_cost(name: str, tflite: Path, inputs: Path, rounds: int) -> dict[str, float | str]:
    """Placement + figures against one default device_runner cell's wall time; benchmark_model's profiled call
    against a benchmark_model cell on the stand-in: its timed call and ACCURACY_SAMPLES accuracy calls (one
    timed per round, counted that many times: the runner makes one call per sample)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(tflite), num_threads=1)
    interpreter.allocate_tensors()
    data = tflite.read_bytes()
    m = Measurement(delegates=["xnnpack"], threads=[1])  # the counts a user's cell runs with
    common = [f"--graph={tflite}", "--num_threads=1", "--use_xnnpack=true"]
    timed = [*common, f"--num_runs={m.runs}", f"--min_secs={m.min_s}", f"--warmup_runs={m.warmup_runs}"]
    timed.append(f"--warmup_min_secs={m.warmup_min_s}")
    accuracy = [*common, "--num_runs=1", "--warmup_runs=0", "--min_secs=0", "--warmup_min_secs=0"]
    profiled = [*common, f"--num_runs={PROFILED_RUNS}", "--min_secs=0", "--warmup_runs=1", "--warmup_min_secs=0"]
    profiled.append("--enable_op_profiling=true")
    got: dict[str, list[float]] = {k: [] for k in ("wall", "placement", "figures", "phone", "profile", "read")}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            runner_cell(tflite, inputs, m.runs, Path(tmp), m)
            got["wall"].append(time.perf_counter() - start)
        got["placement"].append(_median_s(lambda: coverage_of(placement_from_ops(interpreter._get_ops_details()))))
        got["figures"].append(_median_s(lambda: model_figures(read_graph(data))))
        one_sample = _wall_s([sys.executable, str(STANDIN), *accuracy])[0]
        got["phone"].append(_wall_s([sys.executable, str(STANDIN), *timed])[0] + ACCURACY_SAMPLES * one_sample)
        wall, text = _wall_s([sys.executable, str(STANDIN), *profiled])
        got["profile"].append(wall)
        got["read"].append(_median_s(functools.partial(parse_op_profile, text)))
    med = {k: statistics.median(v) for k, v in got.items()}
    return {
        "model": name,
        "nodes": len(read_graph(data).nodes),
        "wall_s": med["wall"],
        "placement_ms": med["placement"] * 1000,
        "figures_ms": med["figures"] * 1000,
        "share": (med["placement"] + med["figures"]) / med["wall"],
        "phone_s": med["phone"],
        "profile_s": med["profile"],
        "profile_share": (med["profile"] + med["read"]) / med["phone"],
        "read_ms": med["read"] * 1000,
    }


def explain_table(rows: list[dict[str, float | str]], rounds: int) -> str:
    lines = [
        f"What explaining a number costs a cell; {rounds} rounds, medians; default counts, 1 thread, XNNPACK",
        "",
        "| model | nodes | device_runner cell s | placement ms | figures ms | their share of the cell "
        f"| benchmark_model cell s (stand-in: timed + {ACCURACY_SAMPLES} accuracy calls) | profiled call s "
        "| reading its table ms | their share of the cell |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['nodes']} | {r['wall_s']:.2f} | {r['placement_ms']:.3f} | {r['figures_ms']:.3f} "
            f"| {100 * float(r['share']):.2f} % | {r['phone_s']:.1f} | {r['profile_s']:.2f} | {r['read_ms']:.3f} "
            f"| {100 * float(r['profile_share']):.2f} % |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--explain", action="store_true", help="also measure what placement and figures cost")
    parser.add_argument("--explain-only", action="store_true", help="only that (no TensorFlow needed)")
    args = parser.parse_args()
    if args.explain or args.explain_only:
        explained = []
        with tempfile.TemporaryDirectory() as tmp:
            for name, tflite in explain_models():
                inputs = synthetic_input_set(tflite, Path(tmp))
                explained.append(explain_cost(name, tflite, inputs, args.rounds))
                print(f"measured {name}", file=sys.stderr)
        publish("bench_runner_explain", explain_table(explained, args.rounds), PACKAGES, script="bench_runner")
        if args.explain_only:
            return

    mobilenet_model, mobilenet_data = mobilenet_sources()
    rows = []
    for name, model, data in [
        ("MobileNetV2-224 fp32", mobilenet_model, mobilenet_data),
        ("bundled digits fp32", EXAMPLE_MODEL, EXAMPLE_DATA),
    ]:
        manifest, directory = convert(model, data, ["fp32"], ROOT / ".edgebench")
        rows.append(bench(name, directory / "fp32.tflite", directory / manifest.input_set, args.rounds, args.runs))
        print(f"measured {name}", file=sys.stderr)

    lines = [
        f"{args.rounds} rounds x {args.runs} runs, 1 thread, XNNPACK; medians over rounds",
        "",
        "| model | runner p50 ms | bare invoke() p50 ms | runner / bare | benchmark_litert_model median ms "
        "| timer overhead µs |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['model']} | {row['runner']:.4f} | {row['bare']:.4f} | {row['ratio']:.3f} "
            f"| {row['litert']:.2f} | {row['overhead_us']:.3f} |"
        )
    publish("bench_runner", "\n".join(lines), [*PACKAGES, "tensorflow"])


def explain_models() -> list[tuple[str, Path]]:
    """The bundled example's fp32 and int8 as converted (the cache, else converted now), and a real
    MobileNet-class model when scripts/fetch_test_models.py has fetched it."""
    manifest, directory = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "int8"], ROOT / ".edgebench")
    models = [(f"bundled digits {v.name}", directory / v.file) for v in manifest.variants if v.file]
    hand = ROOT / "tests" / ".models" / "hand_landmark_lite.tflite"
    return models + ([("hand_landmark_lite (real, fp32)", hand)] if hand.is_file() else [])


if __name__ == "__main__":
    main()
