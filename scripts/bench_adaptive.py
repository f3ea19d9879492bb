"""Decisions in the least device time: the paired gate timed for today's fixed duration against its adaptive
mode, which stops once the ratio's 95 % interval is within ±--precision or clears the latency floor.

Real paired measurements of the bundled example (fp32, XNNPACK, 1 thread), each in a fresh process, as
scripts/bench_gate.py makes them: A/A (the model against itself: false alarms) and +10 % (against a model with a
deliberately heavier head: detections), each under every mode, the modes taking turns so drift hits all alike.
Device time per verdict: the seconds both sides spent in their timed loops, and the wall seconds of the whole
measuring process (load, first runs, warm-up and each side's memory measured in a process of its own: what
adaptive mode cannot shorten). Prints a Markdown table and writes it into docs/measuring.md. A quick look:

    .venv/bin/python scripts/bench_adaptive.py --trials 3 --width 320
    .venv/bin/python scripts/bench_adaptive.py --width 320   # 10 A/A and 10 slower-model trials a mode

The bundled example runs in hundredths of a millisecond, so its timed loops are a small part of a verdict's
device time. ``--base-width W`` times a model whose timed loop weighs more instead: the example with a wide
dense(W) head (16384: about 0.4 ms a run on a 2-core Xeon) against the same with dense(1.1 W), about 10 % slower.
It writes a table of its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench_gate import (
    ADAPTIVE,
    ALPHA,
    FLOOR,
    MAX_S,
    MEASURE,
    PRECISION,
    blocks,
    calibrated_width,
    heavier_tflite,
    paired,
    timed_s,
)
from doc_tables import DOCS, write_block

from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.gate import stats
from edgebench_records import CellResult, Measurement

ROOT = Path(__file__).resolve().parent.parent
MODES = {
    "fixed (the gate's --precision 0 --runs 200: 20 ABBA blocks a side)": MEASURE,
    f"adaptive ±{PRECISION:.0%} or floor, blocks of 10 runs": dataclasses.replace(
        MEASURE, precision=PRECISION, max_s=MAX_S, stop_floor=FLOOR
    ),
    f"adaptive ±{PRECISION:.0%} or floor, blocks of 5 runs": ADAPTIVE,
}


@dataclass(frozen=True)
class Trial:
    verdict: stats.Outcome
    ratio: float
    timed_s: float  # both sides' timed loops
    wall_s: float  # the measuring process, start to results
    stop: str
    p50_ms: float  # the first side's


def trial(a: Path, b: Path, inputs: Path, measure: Measurement) -> Trial:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        first, second = paired(a, b, inputs, Path(tmp), measure)
        wall = time.perf_counter() - start
    found = stats.paired_latency(blocks(first), blocks(second), ALPHA, FLOOR)
    assert first.timing is not None and first.timing.p50_ms is not None
    timed = timed_s(first) + timed_s(second)
    return Trial(found.verdict, found.estimate, timed, wall, stop(first), first.timing.p50_ms)


def stop(cell: CellResult) -> str:
    assert cell.schedule is not None
    return str(cell.schedule.stop)


def row(name: str, same: list[Trial], slower: list[Trial], fixed_s: float) -> str:
    alarms = sum(t.verdict == stats.Outcome.REGRESSION for t in same)
    caught = sum(t.verdict == stats.Outcome.REGRESSION for t in slower)
    unsure = sum(t.verdict == stats.Outcome.INCONCLUSIVE for t in [*same, *slower])
    everything = [*same, *slower]
    timed_s = float(np.median([t.timed_s for t in everything]))
    wall_s = float(np.median([t.wall_s for t in everything]))
    stops = sorted({t.stop for t in everything})
    return (
        f"| {name} | {alarms}/{len(same)} | {caught}/{len(slower)} | {unsure} | {1000 * timed_s:.0f} | "
        f"{fixed_s / timed_s:.1f}× | {wall_s:.1f} | {', '.join(stops)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10, help="A/A and +10 %% trials, each, per mode")
    parser.add_argument("--width", type=int, help="the heavier head's width, uncalibrated (a quick run)")
    parser.add_argument("--base-width", type=int, help="time the example with a dense(W) head instead (module doc)")
    args = parser.parse_args()

    manifest, directory = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32"], ROOT / ".edgebench")
    base, inputs = directory / "fp32.tflite", directory / manifest.input_set
    if args.base_width:
        subject, block = f"the bundled example with a dense({args.base_width}) head", "bench_adaptive_wide"
        base, width = heavier_tflite(args.base_width), round(1.1 * args.base_width)
    else:
        subject, block = "bundled example", "bench_adaptive"
        width, _ = calibrated_width(base, inputs, args.width)
    heavy = heavier_tflite(width)
    load_before = os.getloadavg()[0]
    results: dict[str, tuple[list[Trial], list[Trial]]] = {name: ([], []) for name in MODES}
    for i in range(args.trials):
        for name, measure in MODES.items():  # modes take turns: a drift over the run hits each alike
            results[name][0].append(trial(base, base, inputs, measure))
            results[name][1].append(trial(base, heavy, inputs, measure))
        print(f"  {i + 1}/{args.trials}", end="\r", file=sys.stderr)
    fixed = results[next(iter(MODES))]
    fixed_s = float(np.median([t.timed_s for t in [*fixed[0], *fixed[1]]]))
    true_ratio = float(np.median([t.ratio for t in fixed[1]]))
    p50_ms = float(np.median([t.p50_ms for t in fixed[0]]))
    lines = [
        f"{subject} fp32 (p50 {p50_ms:.3g} ms), XNNPACK, 1 thread, against itself (A/A) and against a "
        f"dense({width}) head (measured ratio {true_ratio:.3f} in fixed mode); alpha {ALPHA}, floor "
        f"{FLOOR:.0%}; adaptive: at least 10 blocks a side, at most {MAX_S:g} s; {args.trials} trials of each "
        f"kind per mode, the modes taking turns; two cores, 1-minute load average {load_before:.2f} at the start "
        f"and {os.getloadavg()[0]:.2f} at the end (this run's own processes count one): medians of trials in "
        "this one run. Device time is the median over all trials of the mode; its wall seconds include the "
        "process start, loading both models and measuring each side's memory in a process of its own, which no "
        "stopping rule shortens.",
        "",
        "| mode | A/A false alarms | slower model detected | inconclusive | timed ms per verdict (both sides) | "
        "less than fixed | wall s per verdict | stopped on |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        *(row(name, same, slower, fixed_s) for name, (same, slower) in results.items()),
    ]
    table = "\n".join(lines)
    print(table)
    packages = ["ai-edge-litert", "numpy", "scipy"]
    write_block(DOCS / "measuring.md", block, table, packages=packages, script="bench_adaptive")


if __name__ == "__main__":
    main()
