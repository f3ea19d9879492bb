"""How much does device_runner's measurement add? Runner median vs a bare invoke() loop, in one run.

For a MobileNet-class model (keras.applications MobileNetV2, weights=None, 224x224) and the bundled
example, each round measures, in a fresh process each, on 1 thread with XNNPACK:
  runner  - device_runner's reported p50 for the cell (python -m device_runner run)
  bare    - a plain loop of Interpreter.invoke() timed with perf_counter_ns, same run count
  litert  - python -m ai_edge_litert.tools.benchmark_litert_model (CompiledModel API), its median
Rounds rotate the order; the table gives the median over rounds and the ratio runner / bare
(goal <= 1.02 on the MobileNet-class model). Prints a Markdown table for the README.

    .venv/bin/python scripts/bench_runner.py [--rounds 5] [--runs 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from device_runner import schema
from device_runner.schema import CellResult, Measurement, Plan, PlanVariant
from device_runner.sweep import run_plan
from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.hashing import sha256_file

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".edgebench" / "bench"

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


def runner_cell(tflite: Path, inputs: Path, runs: int, workdir: Path) -> CellResult:
    plan_dir = workdir / "plan"
    plan_dir.mkdir(parents=True)
    (plan_dir / "m.tflite").symlink_to(tflite)
    (plan_dir / "inputs.npz").symlink_to(inputs)
    plan = Plan(
        run_id="bench",
        model_name=tflite.stem,
        variants=[PlanVariant("m", "m.tflite", sha256_file(tflite))],
        input_set="inputs.npz",
        measure=Measurement(delegates=["xnnpack"], threads=[1], runs=runs, min_s=0.0),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()

    mobilenet_model, mobilenet_data = mobilenet_sources()
    rows = []
    for name, model, data in [
        ("MobileNetV2-224 fp32", mobilenet_model, mobilenet_data),
        ("bundled digits fp32", EXAMPLE_MODEL, EXAMPLE_DATA),
    ]:
        manifest, directory = convert(model, data, ["fp32"], ROOT / ".edgebench")
        rows.append(bench(name, directory / "fp32.tflite", directory / manifest.input_set, args.rounds, args.runs))
        print(f"measured {name}", file=sys.stderr)

    print(f"\n{args.rounds} rounds x {args.runs} runs, 1 thread, XNNPACK; medians over rounds\n")
    print(
        "| model | runner p50 ms | bare invoke() p50 ms | runner / bare | benchmark_litert_model median ms "
        "| timer overhead µs |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['model']} | {row['runner']:.4f} | {row['bare']:.4f} | {row['ratio']:.3f} "
            f"| {row['litert']:.2f} | {row['overhead_us']:.3f} |"
        )


if __name__ == "__main__":
    main()
