"""How long do 10,000 cells take to store and to report, on SQLite and on PostgreSQL?

Measures the bundled example once on `local` (so every cell has real raw samples and per-sample
correctness), then, for each backend, in one run: stores 100 runs x 100 cells (each run in its own
transaction, as `edgebench run` does) and reports them (load every run, compare with fp32, Pareto,
recommendation, Markdown). PostgreSQL is Debian's server started on a free port. Prints a table.

    .venv/bin/python scripts/bench_store.py [--runs 100] [--cells 100]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' PostgreSQL helper

from device_runner.schema import CellResult
from edgebench.cli import invoke
from edgebench.report import comparison
from edgebench.report.analysis import Constraints, comparison_rows, recommend
from edgebench.store import Store, StoredRun, store_url
from tests.postgres import postgres_bin, postgres_server


def measured_run(work: Path) -> StoredRun:
    store = work / "source.sqlite"
    code = invoke(
        [
            "run",
            "--workdir",
            str(Path(".edgebench")),
            "--store",
            str(store),
            "--runs",
            "50",
            "--min-secs",
            "0",
            "--warmup-secs",
            "0",
            "--json",
        ]
    )
    assert code == 0
    with Store(store_url(str(store))) as source:
        (summary,) = source.list_runs()
        return source.load_run(summary.run_id)


def widened(run: StoredRun, cells: int) -> list[CellResult]:
    """``cells`` cells per run: the measured ones again under other thread counts (distinct cell ids)."""
    out = []
    for i in range(cells):
        template = run.cells[i % len(run.cells)]
        out.append(dataclasses.replace(template, threads=1 + i // len(run.cells)))
    return out


def bench(url: str, run: StoredRun, runs: int, cells: int) -> tuple[float, float]:
    widened_cells = widened(run, cells)
    with Store(url) as store:
        start = time.perf_counter()
        for i in range(runs):
            run_id = f"bench-{i:04d}"
            store.save_run(
                device=f"board{i % 4}",
                plan=dataclasses.replace(run.plan, run_id=run_id),
                manifest=run.manifest,
                created_at=f"2026-11-{1 + i % 28:02d}T00:00:{i % 60:02d}+00:00",
                git_commit=None,
                cells=[dataclasses.replace(c, run_id=run_id) for c in widened_cells],
                tags={"bench": "store"},
            )
        insert_s = time.perf_counter() - start
        start = time.perf_counter()
        loaded = [store.load_run(summary.run_id) for summary in store.list_runs(tags={"bench": "store"})]
        rows = comparison_rows(loaded)
        comparison.markdown(rows, recommend(rows, Constraints(max_accuracy_drop=1.0)))
        report_s = time.perf_counter() - start
    assert sum(len(r.cells) for r in loaded) == runs * cells
    return insert_s, report_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--cells", type=int, default=100)
    args = parser.parse_args()
    bin_dir = postgres_bin()
    if bin_dir is None:
        sys.exit("bench_store: PostgreSQL not found: apt-get install postgresql")
    with tempfile.TemporaryDirectory() as tmp, postgres_server(bin_dir) as postgres:
        run = measured_run(Path(tmp))
        samples = len(run.cells[0].timing.samples_ms) if run.cells[0].timing else 0
        results = {
            name: bench(url, run, args.runs, args.cells)
            for name, url in [
                ("SQLite", store_url(str(Path(tmp) / "bench.sqlite"))),
                ("PostgreSQL", store_url(postgres)),
            ]
        }
    total = args.runs * args.cells
    print(
        f"\n{total:,} cells ({args.runs} runs x {args.cells}), {samples} raw samples and 360 per-sample "
        "results each, one run\n"
    )
    print("| backend | insert s | cells/s | report s |")
    print("|---|---:|---:|---:|")
    for name, (insert_s, report_s) in results.items():
        print(f"| {name} | {insert_s:.2f} | {total / insert_s:,.0f} | {report_s:.2f} |")


if __name__ == "__main__":
    main()
