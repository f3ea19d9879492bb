"""Does the gate cry wolf, and does it catch a real 10 % slowdown? Measured on this machine, in one run.

Real repeated measurements of the bundled example (fp32, XNNPACK, 1 thread), each in a fresh process:
  paired A/A   - N paired measurements of the model against itself (ABBA blocks): false alarms
  paired +10 % - M paired measurements against a model with a deliberately heavier head, its width
                 calibrated first to be ~10 % slower: detections
  stored A/A   - a history of single-side runs of the model, each in its own process pinned to one core
                 while a second process keeps another core busy; each trial gates the next run against
                 the one before it, with the MIN_HISTORY runs up to the baseline as the stored gate's
                 history (their run-to-run spread widens the interval, as the gate does): false alarms
  stored +10 % - the same baselines and histories against runs of the heavier model, interleaved with
                 the base runs so drift hits both: detections
Goals: false alarms <= 1 % in both modes, detection >= 95 %. Prints a Markdown table and writes it into
docs/benchmarks.md (scripts/doc_tables.py). A small run to see it work (minutes, not a measurement):

    .venv/bin/python scripts/bench_gate.py --aa 6 --detect 6 --trials 4 --width 640
    .venv/bin/python scripts/bench_gate.py            # the full measurement: 100 + 40 paired, 200 stored trials
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from busy import spinning
from doc_tables import publish

import edgebench_records as schema
from device_runner.sweep import run_plan
from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.gate import stats
from edgebench.gate.policy import MIN_HISTORY, PAIRED_MAX_S, PAIRED_PRECISION, PAIRED_RUNS
from edgebench_records import CellResult, Measurement, Pair, Plan, PlanVariant, sha256_file

ROOT = Path(__file__).resolve().parent.parent
# The paired gate's fixed mode (--precision 0), at the runs it took by default before adaptive mode did
MEASURE = Measurement(delegates=["xnnpack"], runs=200, blocks=20, min_s=0.0, warmup_min_s=0.2)
ALPHA, FLOOR = 0.005, 0.05
PRECISION, MAX_S = PAIRED_PRECISION, PAIRED_MAX_S
# The paired gate's default, adaptive mode: stop once the ratio's interval is within +-PRECISION or wholly past
# or short of the floor, after at least 10 blocks a side (blocks of PAIRED_RUNS / 20 runs)
ADAPTIVE = dataclasses.replace(MEASURE, runs=PAIRED_RUNS, precision=PRECISION, max_s=MAX_S, stop_floor=FLOOR)
PAIRED_MODES = {"paired": MEASURE, f"paired, adaptive ±{PRECISION:.0%} or floor, blocks of 5 runs": ADAPTIVE}

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


def paired(a: Path, b: Path, inputs: Path, work: Path, measure: Measurement = MEASURE) -> tuple[CellResult, CellResult]:
    plan_dir = work / "plan"
    plan_dir.mkdir(parents=True)
    for name, path in (("a.tflite", a), ("b.tflite", b), ("inputs.npz", inputs)):
        (plan_dir / name).symlink_to(path)
    plan = Plan(
        run_id="bench",
        model_name="digits",
        input_set="inputs.npz",
        measure=measure,
        pairs=[Pair("a", "b")],
        variants=[PlanVariant("a", "a.tflite", sha256_file(a)), PlanVariant("b", "b.tflite", sha256_file(b))],
    )
    schema.write(plan_dir / "plan.json", plan)
    first, second = run_plan(plan_dir / "plan.json", work / "results")
    assert first.status == second.status == "ok", (first.message, second.message)
    return first, second


def single(model: Path, inputs: Path, work: Path, core: int) -> CellResult:
    """One run of ``model`` in a fresh cell process pinned to ``core``: one stored run's cell."""
    plan_dir = work / "plan"
    plan_dir.mkdir(parents=True)
    for name, path in (("m.tflite", model), ("inputs.npz", inputs)):
        (plan_dir / name).symlink_to(path)
    plan = Plan(
        run_id="bench",
        model_name="digits",
        input_set="inputs.npz",
        measure=dataclasses.replace(MEASURE, cpus=[core]),
        variants=[PlanVariant("m", "m.tflite", sha256_file(model))],
    )
    schema.write(plan_dir / "plan.json", plan)
    (cell,) = run_plan(plan_dir / "plan.json", work / "results")
    assert cell.status == "ok", cell.message
    return cell


@contextmanager
def busy_neighbour() -> Iterator[int]:
    """A second process spinning on one core; yields another core for the measurements."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        sys.exit("bench_gate: the stored-mode rows need two cores (one measured, one kept busy)")
    with spinning(core=cores[-1]):
        yield cores[0]


def stored_runs(base: Path, heavy: Path, inputs: Path, trials: int) -> tuple[list[CellResult], list[CellResult]]:
    """MIN_HISTORY + trials runs of ``base`` and ``trials`` of ``heavy``, interleaved once the history is
    there, each in its own process, beside the busy neighbour."""
    base_runs: list[CellResult] = []
    heavy_runs: list[CellResult] = []
    with busy_neighbour() as core:
        for i in range(MIN_HISTORY + trials):
            for model, runs in ((base, base_runs), (heavy, heavy_runs)):
                if model is heavy and i < MIN_HISTORY:
                    continue
                with tempfile.TemporaryDirectory() as tmp:
                    runs.append(single(model, inputs, Path(tmp), core))
            print(f"  stored {i + 1}/{MIN_HISTORY + trials}", end="\r", file=sys.stderr)
    return base_runs, heavy_runs


def stored_verdicts(
    base_runs: list[CellResult], candidates: list[CellResult], offset: int, guard: bool = True
) -> list[stats.Outcome]:
    """Trial t: baseline = base run t + MIN_HISTORY - 1, history = the MIN_HISTORY base runs up to it (the store
    holds the baseline, not the candidate), candidate = ``candidates[t + offset]``. A run the noise guard
    flagged is inconclusive, as the gate makes it; without ``guard``, the interval alone decides (what the
    statistics do on a machine the guard calls busy)."""
    out = []
    for t in range(min(len(base_runs) - MIN_HISTORY + 1, len(candidates) - offset)):
        window = base_runs[t : t + MIN_HISTORY]
        baseline, candidate = window[-1], candidates[t + offset]
        if guard and any(flagged(c) for c in (baseline, candidate)):
            out.append(stats.Outcome.INCONCLUSIVE)
            continue
        history = [math.log(float(np.median(samples(r)))) for r in window if not (guard and flagged(r))]
        out.append(stats.stored_latency(samples(baseline), samples(candidate), FLOOR, history).verdict)
    return out


def flagged(cell: CellResult) -> bool:
    return cell.conditions is not None and cell.conditions.contended


def blocks(cell: CellResult) -> list[np.ndarray]:
    assert cell.timing is not None
    edges = np.cumsum([0, *cell.timing.block_lengths])
    return [np.asarray(cell.timing.samples_ms[s:e]) for s, e in itertools.pairwise(edges)]


def samples(cell: CellResult) -> np.ndarray:
    assert cell.timing is not None
    return np.asarray(cell.timing.samples_ms)


def measure_many(
    a: Path, b: Path, inputs: Path, count: int, modes: dict[str, Measurement] | None = None
) -> dict[str, list[tuple[CellResult, CellResult]]]:
    """``count`` paired measurements under each mode, the modes taking turns so a drift hits each alike."""
    modes = modes or {"paired": MEASURE}
    out: dict[str, list[tuple[CellResult, CellResult]]] = {name: [] for name in modes}
    for i in range(count):
        for name, measure in modes.items():
            with tempfile.TemporaryDirectory() as tmp:
                out[name].append(paired(a, b, inputs, Path(tmp), measure))
        print(f"  {i + 1}/{count}", end="\r", file=sys.stderr)
    return out


def judged(pairs: list[tuple[CellResult, CellResult]]) -> list[stats.Finding]:
    return [stats.paired_latency(blocks(a), blocks(b), ALPHA, FLOOR) for a, b in pairs]


def timed_s(cell: CellResult) -> float:
    """The seconds this side spent in its timed loop."""
    assert cell.schedule is not None
    return cell.schedule.timed_s


def rate(verdicts: list[stats.Outcome], wanted: stats.Outcome) -> tuple[int, int]:
    return sum(v == wanted for v in verdicts), len(verdicts)


def calibrated_width(base: Path, inputs: Path, given: int | None) -> tuple[int, dict[int, float]]:
    """The head width whose model is ~10 % slower than ``base`` in paired runs (or ``given``, uncalibrated)."""
    if given is not None:
        return given, {}
    calibration = {}
    for width in (512, 640, 768, 1024):
        ratios = [
            stats.paired_latency(blocks(a), blocks(b), ALPHA, FLOOR).estimate
            for a, b in measure_many(base, heavier_tflite(width), inputs, 3)["paired"]
        ]
        calibration[width] = float(np.median(ratios))
    return min(calibration, key=lambda w: abs(calibration[w] - 1.10)), calibration


def row(name: str, same: list[stats.Outcome], slower: list[stats.Outcome]) -> str:
    alarms, n = rate(same, stats.Outcome.REGRESSION)
    unsure, _ = rate(same, stats.Outcome.INCONCLUSIVE)
    caught, m = rate(slower, stats.Outcome.REGRESSION)
    missed_unsure, _ = rate(slower, stats.Outcome.INCONCLUSIVE)
    return (
        f"| {name} | {n} | {alarms} | {alarms / n:.1%} | {unsure} | {m} | {caught} | {caught / m:.1%} | "
        f"{missed_unsure} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aa", type=int, default=100, help="paired A/A measurements")
    parser.add_argument("--detect", type=int, default=40, help="paired measurements against the +10 %% model")
    parser.add_argument("--trials", type=int, default=200, help="stored-mode trials of each kind (A/A, +10 %%)")
    parser.add_argument("--width", type=int, help="the heavier head's width, uncalibrated (a quick run)")
    args = parser.parse_args()

    manifest, directory = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32"], ROOT / ".edgebench")
    base, inputs = directory / "fp32.tflite", directory / manifest.input_set
    width, calibration = calibrated_width(base, inputs, args.width)
    heavy = heavier_tflite(width)
    print(f"calibration (width: ratio): {calibration}; using {width}", file=sys.stderr)
    load_before = os.getloadavg()[0]

    aa = measure_many(base, base, inputs, args.aa, PAIRED_MODES)
    detect = measure_many(base, heavy, inputs, args.detect, PAIRED_MODES)
    paired_aa = {name: [found.verdict for found in judged(pairs)] for name, pairs in aa.items()}
    paired_det = {name: judged(pairs) for name, pairs in detect.items()}

    base_runs, heavy_runs = stored_runs(base, heavy, inputs, args.trials)
    stored_aa = stored_verdicts(base_runs, base_runs, offset=MIN_HISTORY)  # the next base run
    stored_det = stored_verdicts(base_runs, heavy_runs, offset=0)
    unguarded_aa = stored_verdicts(base_runs, base_runs, offset=MIN_HISTORY, guard=False)
    unguarded_det = stored_verdicts(base_runs, heavy_runs, offset=0, guard=False)
    p50s = [math.log(float(np.median(samples(r)))) for r in base_runs]
    contended = sum(flagged(r) for r in [*base_runs, *heavy_runs])

    true_ratio = float(np.median([f.estimate for f in paired_det["paired"]]))
    timed = {name: float(np.median([timed_s(a) + timed_s(b) for a, b in pairs])) for name, pairs in detect.items()}
    lines = [
        f"bundled example fp32, XNNPACK, 1 thread; paired: {MEASURE.blocks} ABBA blocks x "
        f"{MEASURE.runs // MEASURE.blocks} runs a side; slower model: +dense({width}), measured ratio "
        f"{true_ratio:.3f}; alpha {ALPHA}, floor {FLOOR:.0%}; paired, adaptive: the gate's --precision "
        f"{PRECISION:g} --max-secs {MAX_S:g} with --runs {ADAPTIVE.runs} (timed ms per +10 % verdict, both sides, "
        f"median: fixed {timed['paired'] * 1000:.0f}, adaptive {timed[list(timed)[1]] * 1000:.0f}); stored: one "
        "process per run pinned to one core "
        f"while another process keeps a second core busy, history of {MIN_HISTORY} runs (run-to-run SD of "
        f"ln p50 over all {len(base_runs)} base runs {float(np.std(p50s, ddof=1)):.1%}; {contended} of "
        f"{len(base_runs) + len(heavy_runs)} runs flagged by the noise guard{', so inconclusive' * bool(contended)})",
        "",
        "| mode | A/A comparisons | false alarms | rate | inconclusive | vs slower model | detected | rate | "
        "inconclusive |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(row(name, paired_aa[name], [f.verdict for f in paired_det[name]]) for name in PAIRED_MODES),
        row("stored, busy neighbour core", stored_aa, stored_det),
        row("  the same runs, the noise guard's flag set aside", unguarded_aa, unguarded_det),
        "",
        f"Counts: {args.aa} paired A/A and {args.detect} paired +10 % per paired mode, {args.trials} stored trials "
        "of each kind "
        f"(the defaults: 100, 40, 200); two cores, 1-minute load average {load_before:.2f} at the start and "
        f"{os.getloadavg()[0]:.2f} at the end (the bench's own processes and its busy neighbour count two).",
    ]
    publish("bench_gate", "\n".join(lines), packages=["ai-edge-litert", "numpy", "scipy", "tensorflow"])


if __name__ == "__main__":
    main()
