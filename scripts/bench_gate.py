"""Does the gate cry wolf, and does it catch a real 10 % slowdown? Measured on this machine, in one run.

Real repeated measurements of the bundled example (fp32, XNNPACK, 1 thread), each in a fresh process:
  paired A/A   - N paired measurements of the model against itself (ABBA blocks): false alarms
  paired +10 % - M paired measurements against a model with a deliberately heavier head, its width
                 calibrated first to be ~10 % slower: detections
  stored A/A   - pairs of independent single-side runs of the same model, floor raised by the
                 run-to-run noise of those runs (as the gate does from the history)
  stored +10 % - baseline runs against heavier-model runs
Goals: paired false alarms <= 1 %, detection >= 95 %. Prints a Markdown table and writes it into
docs/benchmarks.md (scripts/doc_tables.py).

    .venv/bin/python scripts/bench_gate.py [--aa 100] [--detect 40]
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from doc_tables import publish

import edgebench_records as schema
from device_runner.sweep import run_plan
from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.gate import stats
from edgebench.gate.compare import NOISE_MULTIPLE
from edgebench_records import CellResult, Measurement, Pair, Plan, PlanVariant, sha256_file

ROOT = Path(__file__).resolve().parent.parent
MEASURE = Measurement(delegates=["xnnpack"], runs=200, blocks=20, min_s=0.0, warmup_min_s=0.2)
ALPHA, FLOOR = 0.005, 0.05

HEAVIER = """
import sys, tf_keras
from edgebench.example import EXAMPLE_MODEL
base = tf_keras.models.load_model(EXAMPLE_MODEL, compile=False)
x = tf_keras.layers.Dense(int(sys.argv[2]), activation="relu")(base.get_layer(index=-3).output)
tf_keras.Model(base.input, tf_keras.layers.Dense(10, activation="softmax")(x)).save(sys.argv[1])
"""


def heavier_tflite(width: int) -> Path:
    keras = ROOT / ".edgebench" / "bench" / f"heavier_{width}.keras"
    if not keras.exists():
        keras.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
        subprocess.run([sys.executable, "-c", HEAVIER, str(keras), str(width)], env=env, cwd=ROOT, check=True)
    _, directory = convert(keras, EXAMPLE_DATA, ["fp32"], ROOT / ".edgebench")
    return directory / "fp32.tflite"


def paired(a: Path, b: Path, inputs: Path, work: Path) -> tuple[CellResult, CellResult]:
    plan_dir = work / "plan"
    plan_dir.mkdir(parents=True)
    for name, path in (("a.tflite", a), ("b.tflite", b), ("inputs.npz", inputs)):
        (plan_dir / name).symlink_to(path)
    plan = Plan(
        run_id="bench",
        model_name="digits",
        input_set="inputs.npz",
        measure=MEASURE,
        pairs=[Pair("a", "b")],
        variants=[PlanVariant("a", "a.tflite", sha256_file(a)), PlanVariant("b", "b.tflite", sha256_file(b))],
    )
    schema.write(plan_dir / "plan.json", plan)
    first, second = run_plan(plan_dir / "plan.json", work / "results")
    assert first.status == second.status == "ok", (first.message, second.message)
    return first, second


def blocks(cell: CellResult) -> list[np.ndarray]:
    assert cell.timing is not None
    edges = np.cumsum([0, *cell.timing.block_lengths])
    return [np.asarray(cell.timing.samples_ms[s:e]) for s, e in itertools.pairwise(edges)]


def samples(cell: CellResult) -> np.ndarray:
    assert cell.timing is not None
    return np.asarray(cell.timing.samples_ms)


def measure_many(a: Path, b: Path, inputs: Path, count: int) -> list[tuple[CellResult, CellResult]]:
    out = []
    for i in range(count):
        with tempfile.TemporaryDirectory() as tmp:
            out.append(paired(a, b, inputs, Path(tmp)))
        print(f"  {i + 1}/{count}", end="\r", file=sys.stderr)
    return out


def rate(verdicts: list[stats.Outcome], wanted: stats.Outcome) -> tuple[int, int]:
    return sum(v == wanted for v in verdicts), len(verdicts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aa", type=int, default=100, help="paired A/A measurements")
    parser.add_argument("--detect", type=int, default=40, help="paired measurements against the +10 %% model")
    parser.add_argument("--stored-runs", type=int, default=15, help="runs per side for stored-mode pairs")
    args = parser.parse_args()

    manifest, directory = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32"], ROOT / ".edgebench")
    base, inputs = directory / "fp32.tflite", directory / manifest.input_set
    calibration = {}
    for width in (512, 640, 768, 1024):
        ratios = [
            stats.paired_latency(blocks(a), blocks(b), ALPHA, FLOOR).estimate
            for a, b in measure_many(base, heavier_tflite(width), inputs, 3)
        ]
        calibration[width] = float(np.median(ratios))
    width = min(calibration, key=lambda w: abs(calibration[w] - 1.10))
    heavy = heavier_tflite(width)
    print(f"calibration (width: ratio): {calibration}; using {width}", file=sys.stderr)

    aa = measure_many(base, base, inputs, args.aa)
    detect = measure_many(base, heavy, inputs, args.detect)
    paired_aa = [stats.paired_latency(blocks(a), blocks(b), ALPHA, FLOOR).verdict for a, b in aa]
    paired_det = [stats.paired_latency(blocks(a), blocks(b), ALPHA, FLOOR) for a, b in detect]

    # Stored mode: independent runs (one side of different measurements), floor from their noise.
    runs = [a for a, _ in aa[: args.stored_runs]]
    heavy_runs = [b for _, b in detect[: args.stored_runs]]
    p50s = [math.log(float(np.median(samples(r)))) for r in runs]
    floor = max(FLOOR, NOISE_MULTIPLE * float(np.std(p50s, ddof=1)))
    stored_aa = [
        stats.stored_latency(samples(x), samples(y), floor).verdict for x, y in itertools.combinations(runs, 2)
    ]
    stored_det = [
        stats.stored_latency(samples(x), samples(y), floor).verdict for x, y in itertools.product(runs, heavy_runs)
    ]

    true_ratio = float(np.median([f.estimate for f in paired_det]))
    lines = [
        f"bundled example fp32, XNNPACK, 1 thread; paired: {MEASURE.blocks} ABBA blocks x "
        f"{MEASURE.runs // MEASURE.blocks} runs a side; slower model: +dense({width}), measured ratio "
        f"{true_ratio:.3f}; alpha {ALPHA}, floor {FLOOR:.0%} (stored floor {floor:.1%})",
        "",
        "| mode | A/A comparisons | false alarms | rate | inconclusive | vs slower model | detected | rate |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, same, slower in (
        ("paired", paired_aa, [f.verdict for f in paired_det]),
        ("stored", stored_aa, stored_det),
    ):
        alarms, n = rate(same, stats.Outcome.REGRESSION)
        unsure, _ = rate(same, stats.Outcome.INCONCLUSIVE)
        caught, m = rate(slower, stats.Outcome.REGRESSION)
        lines.append(f"| {name} | {n} | {alarms} | {alarms / n:.1%} | {unsure} | {m} | {caught} | {caught / m:.1%} |")
    publish("bench_gate", "\n".join(lines), packages=["ai-edge-litert", "numpy", "scipy", "tensorflow"])


if __name__ == "__main__":
    main()
