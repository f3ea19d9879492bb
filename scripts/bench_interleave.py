"""One table, one time base: is the ordering of fp32 and int8 the same from one fresh run to the next, and how
much does their ratio move? Sets of N fresh `edgebench run` processes of the bundled example (what
scripts/run.sh runs: fp32 and int8 under the default delegates), each a new run whose variants are timed
interleaved; the conversion is made once and reused (its cache), so each run measures and nothing else.

Each run and delegate prints fp32's and int8's p50 and int8's speed-up over fp32 with its 95 % interval (read
block pair by block pair: the two were timed in alternating blocks of one process). The table, per set and
delegate: whether every run ordered them the same way, the median speed-up, the spread of the speed-up
(max/min - 1 over the runs; the goal: within 10 %), the spread the two p50s' ratio would have had in the same
runs, and the median width of the interval. Writes its table into docs/measuring.md.

    .venv/bin/python scripts/bench_interleave.py                 # one set of 10 runs (minutes)
    .venv/bin/python scripts/bench_interleave.py --sets 3        # three sets, one after the other
    .venv/bin/python scripts/bench_interleave.py --runs 3        # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from doc_tables import DOCS, write_block

ROOT = Path(__file__).resolve().parent.parent
RUN = "from edgebench.cli import main; main()"


def fresh_run(work: Path) -> list[dict[str, Any]]:
    """One `edgebench run --json` in a new process; its rows."""
    command = [sys.executable, "-c", RUN, "run", "--json", "-q", "--workdir", str(work)]
    command += ["--store", str(work / "history.sqlite")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800, check=False)
    if out.returncode not in (0, 1):
        raise SystemExit(f"edgebench run failed ({out.returncode}): {out.stderr.strip().splitlines()[-1:]}")
    (run,) = json.loads(out.stdout)["runs"]
    rows: list[dict[str, Any]] = run["rows"]
    return rows


def ratio_of(rows: list[dict[str, Any]], delegate: str) -> tuple[float, float, dict[str, Any]]:
    """fp32's and int8's p50 under ``delegate``, and int8's speed-up over fp32 as the table gives it."""
    found = {r["variant"]: r for r in rows if r["delegate"] == delegate and r["status"] == "ok"}
    return found["fp32"]["p50_ms"], found["int8"]["p50_ms"], found["int8"]["speedup"]


def interval(speedup: dict[str, Any]) -> str:
    low, high = speedup["low"], speedup["high"]
    return f"{speedup['ratio']:.2f}× ({low:.2f}–{high:.2f})" if low is not None else f"{speedup['ratio']:.2f}×"


def spread(values: list[float]) -> float:
    return max(values) / min(values) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="fresh runs of the bundled example in a set")
    parser.add_argument("--sets", type=int, default=1, help="sets of --runs runs, one after the other")
    args = parser.parse_args()
    delegates = ("xnnpack", "cpu")
    load_before = os.getloadavg()[0]
    lines = [
        "| set | delegate | int8 faster in | speed-up, median | spread | p50s' ratio: spread | CI width, median |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for set_number in range(1, args.sets + 1):
            found: dict[str, list[dict[str, Any]]] = {d: [] for d in delegates}
            for i in range(args.runs):
                rows = fresh_run(work)
                for delegate in delegates:
                    fp32, int8, speedup = ratio_of(rows, delegate)
                    found[delegate].append({"p50s": fp32 / int8, **speedup})
                    print(
                        f"set {set_number} run {i + 1} {delegate}: fp32 {fp32:.4f} ms, int8 {int8:.4f} ms, "
                        f"speed-up {interval(speedup)}",
                        file=sys.stderr,
                    )
            for delegate, speedups in found.items():
                ratios = [s["ratio"] for s in speedups]
                widths = [s["high"] / s["low"] - 1 for s in speedups if s["low"]]
                lines.append(
                    f"| {set_number} | {delegate} | {sum(r > 1 for r in ratios)} of {len(ratios)} | "
                    f"{float(np.median(ratios)):.2f}× | **{spread(ratios):.1%}** | "
                    f"{spread([s['p50s'] for s in speedups]):.1%} | {float(np.median(widths)):.1%} |"
                )
    intro = (
        f"{args.sets} set(s) of {args.runs} fresh `edgebench run` processes of the bundled example (fp32 and int8, "
        "delegates xnnpack and cpu, one thread, the default timing: each cell at least 50 runs and 1 s, in 20 blocks "
        f"alternating with the other variant's), on two cores with a 1-minute load average of {load_before:.2f} at "
        f"the start and {os.getloadavg()[0]:.2f} at the end (this run's own process counts one). *speed-up*: "
        "fp32's time over int8's read block pair by block pair (above 1: int8 faster); *spread*: max/min − 1 of "
        "it over the set's runs; *p50s' ratio: spread*: the same for fp32's p50 over int8's, what the table "
        "showed before it read pairs; *CI width*: high/low − 1 of a run's 95 % interval."
    )
    table = "\n".join([intro, "", *lines])
    print(table)
    write_block(DOCS / "measuring.md", "bench_interleave", table, packages=["ai-edge-litert", "numpy"])


if __name__ == "__main__":
    main()
