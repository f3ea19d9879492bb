"""Do report and gate stay as fast with 100,000 stored cells as with 1,000, on SQLite and on PostgreSQL?

Measures the bundled example once on `local` (so every cell has real raw samples and per-sample
correctness), then, for each backend, builds two stores of runs of 100 cells on 4 boards: 1,000 cells
(10 runs, each stored by ``Store.save_run`` in its own transaction, as `edgebench run` does: the insert
rate column) and 100,000 cells (1,000 runs, the same rows made once and inserted in bulk). On each it
times, in-process and as a user runs them (median of 3):

- ``report --json``: the latest run of each board, compared with fp32, Pareto, recommendation;
- ``report --html``: the same page with its plots, the one over time drawn from the history;
- ``gate --baseline A --candidate B``: stored mode, A and B the two newest runs of board0, its latency
  interval carrying the run-to-run spread of board0's history (each run stands for a build of its own:
  its cells' ``file_sha256`` is its run id, as two runs of the same files are refused);

and, for comparison, the history read as report and gate read it before revision 0003 (every run
listed with its cell counts, and the runs of the plot, resp. of the gate's history, loaded and parsed).
Prints a table with the ratio 100k / 1k per command (goal: at most 1.5), and writes it into
docs/benchmarks.md (scripts/doc_tables.py). PostgreSQL is Debian's server started on a free port.

    .venv/bin/python scripts/bench_store.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from doc_tables import publish

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' PostgreSQL helper

import edgebench_records as schema
from edgebench import __version__
from edgebench.cli import invoke
from edgebench.store import Store, _cell_row, cells_table, runs_table, store_url, tags_table
from edgebench_records import CellResult, StoredRun
from tests.support.postgres import postgres_bin, postgres_server

CELLS_PER_RUN = 100
BOARDS = 4
SIZES = (1_000, 100_000)
PLACEHOLDER = "bench-run-id-placeholder"  # in each row's JSON, replaced by the run's id
BATCH_RUNS = 50  # runs per executemany: bounded memory, few round trips
FIRST_RUN = datetime(2026, 1, 1, tzinfo=UTC)
HISTORY_RUNS = 50  # what the report plots and, since 0003, the gate's noise window


def measured_run(work: Path) -> StoredRun:
    store = work / "source.sqlite"
    with contextlib.redirect_stdout(io.StringIO()):  # the run's JSON: not part of the table
        code = run_example(store)
    assert code == 0
    with Store(store_url(str(store))) as source:
        (summary,) = source.list_runs()
        return source.load_run(summary.run_id)


def run_example(store: Path) -> int:
    return invoke(
        [
            "run",
            "--workdir",
            str(Path(".edgebench")),
            "--store",
            str(store),
            "--runs",
            "120",  # the stored gate wants 100 samples a cell
            "--min-secs",
            "0",
            "--warmup-secs",
            "0",
            "--json",
        ]
    )


def widened(run: StoredRun, cells: int) -> list[CellResult]:
    """``cells`` cells per run: the measured ones again under other thread counts (distinct cell ids)."""
    out = []
    for i in range(cells):
        template = run.cells[i % len(run.cells)]
        out.append(dataclasses.replace(template, threads=1 + i // len(run.cells)))
    return out


def run_id(i: int) -> str:
    return f"bench-{i:06d}"


def device(i: int) -> str:
    return f"board{i % BOARDS}"


def created_at(i: int) -> str:
    """Distinct, increasing with i: run i is newer than run i - 1."""
    return (FIRST_RUN + timedelta(minutes=i)).isoformat(timespec="seconds")


def fill_by_save_run(store: Store, run: StoredRun, cells: list[CellResult], runs: int) -> float:
    """The insert path of `edgebench run`, one transaction a run; cells per second."""
    start = time.perf_counter()
    for i in range(runs):
        store.save_run(
            device=device(i),
            plan=dataclasses.replace(run.plan, run_id=run_id(i)),
            manifest=run.manifest,
            created_at=created_at(i),
            git_commit=None,
            cells=[dataclasses.replace(c, run_id=run_id(i), file_sha256=run_id(i)) for c in cells],
            tags={"bench": "store"},
        )
    return runs * len(cells) / (time.perf_counter() - start)


def fill_in_bulk(store: Store, run: StoredRun, cells: list[CellResult], runs: int) -> None:
    """The same rows as ``save_run`` writes (its row function, JSON made once per cell), many runs a statement."""
    plan = dataclasses.replace(run.plan, run_id=PLACEHOLDER)
    plan_json, manifest_json = schema.dumps(plan), schema.dumps(run.manifest)
    cell_rows = [
        _cell_row(PLACEHOLDER, dataclasses.replace(c, run_id=PLACEHOLDER, file_sha256=PLACEHOLDER)) for c in cells
    ]
    with store.engine.begin() as conn:
        for first in range(0, runs, BATCH_RUNS):
            batch = range(first, min(runs, first + BATCH_RUNS))
            conn.execute(
                runs_table.insert(),
                [
                    {
                        "run_id": run_id(i),
                        "created_at": created_at(i),
                        "device": device(i),
                        "model_name": run.manifest.model_name,
                        "model_sha256": run.manifest.model_sha256,
                        "git_commit": None,
                        "edgebench_version": __version__,
                        "plan": plan_json.replace(PLACEHOLDER, run_id(i)),
                        "manifest": manifest_json,
                    }
                    for i in batch
                ],
            )
            conn.execute(tags_table.insert(), [{"run_id": run_id(i), "key": "bench", "value": "store"} for i in batch])
            conn.execute(cells_table.insert(), [_with_run(row, run_id(i)) for i in batch for row in cell_rows])


def _with_run(row: dict[str, Any], new_id: str) -> dict[str, Any]:
    return {**row, "run_id": new_id, "result": row["result"].replace(PLACEHOLDER, new_id)}


def timed(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cli(argv: list[str], allowed: tuple[int, ...] = (0,)) -> None:
    code = invoke(argv)
    assert code in allowed, f"edgebench {' '.join(argv)}: exit {code}"


def report_history_before(store: Store) -> None:
    """The report's plot history as read before 0003: every run listed, the plotted ones loaded."""
    latest = {run.device: run.run_id for run in store.list_runs()}
    for name in latest:
        ids = [r.run_id for r in store.list_runs(device=name)][-HISTORY_RUNS:]
        [store.load_run(i) for i in ids]


def gate_history_before(store: Store, name: str, exclude: str) -> None:
    """The gate's run-to-run history as read before 0003: every past run of the board loaded and parsed."""
    for summary in store.list_runs(device=name):
        if summary.run_id != exclude:
            store.load_run(summary.run_id)


def bench(url: str, run: StoredRun, cells: int, repeat: int, tmp: Path) -> dict[str, float]:
    runs = cells // CELLS_PER_RUN
    template = widened(run, CELLS_PER_RUN)
    out: dict[str, float] = {}
    with Store(url) as store:
        start = time.perf_counter()
        if cells <= 10_000:
            out["save_run cells/s"] = fill_by_save_run(store, run, template, runs)
        else:
            fill_in_bulk(store, run, template, runs)
        out["build s"] = time.perf_counter() - start
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(cells_table)).scalar() == cells
        board0 = [i for i in range(runs) if device(i) == "board0"]
        baseline, candidate = run_id(board0[-2]), run_id(board0[-1])
        page = tmp / "report.html"
        out["report"] = timed(repeat, lambda: cli(["report", "--store", url, "--json"]))
        out["report --html"] = timed(repeat, lambda: cli(["report", "--store", url, "--html", str(page), "--json"]))
        gate = ["gate", "--store", url, "--baseline", baseline, "--candidate", candidate, "--json"]
        out["gate"] = timed(repeat, lambda: cli(gate, allowed=(0, 1)))
        out["old report history read"] = timed(1, lambda: report_history_before(store))
        out["old gate history read"] = timed(1, lambda: gate_history_before(store, "board0", candidate))
    return out


def postgres_database(server: str, name: str) -> str:
    admin = sa.create_engine(store_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return store_url(server.rsplit("/", 1)[0] + f"/{name}")


COLUMNS = ("report", "report --html", "gate", "old report history read", "old gate history read")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bin_dir = postgres_bin()
    if bin_dir is None:
        sys.exit("bench_store: PostgreSQL not found: apt-get install postgresql")
    results: dict[tuple[str, int], dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, postgres_server(bin_dir) as postgres:
        run = measured_run(Path(tmp))
        for cells in SIZES:
            results["SQLite", cells] = bench(
                store_url(str(Path(tmp) / f"bench{cells}.sqlite")), run, cells, args.repeat, Path(tmp)
            )
            results["PostgreSQL", cells] = bench(
                postgres_database(postgres, f"bench{cells}"), run, cells, args.repeat, Path(tmp)
            )
    samples = len(run.cells[0].timing.samples_ms) if run.cells[0].timing else 0
    lines = [
        f"runs of {CELLS_PER_RUN} cells on {BOARDS} boards, {samples} raw samples and 360 per-sample results "
        f"a cell; seconds, median of {args.repeat} (the 'old' columns: once)",
        "",
        "| backend | stored cells | build s | " + " | ".join(f"{c} s" for c in COLUMNS) + " |",
        "|---|---:|---:|" + "---:|" * len(COLUMNS),
    ]
    for backend in ("SQLite", "PostgreSQL"):
        for cells in SIZES:
            row = results[backend, cells]
            build = f"{row['build s']:.1f}"
            if "save_run cells/s" in row:
                build += f" ({row['save_run cells/s']:,.0f} cells/s by save_run)"
            lines.append(f"| {backend} | {cells:,} | {build} | " + " | ".join(f"{row[c]:.2f}" for c in COLUMNS) + " |")
        small, large = results[backend, SIZES[0]], results[backend, SIZES[-1]]
        ratios = " | ".join(f"**{large[c] / small[c]:.2f}**" for c in COLUMNS)
        lines.append(f"| {backend} | ratio 100k/1k | | {ratios} |")
    publish("bench_store", "\n".join(lines), packages=["sqlalchemy", "alembic", "psycopg", "matplotlib"])


if __name__ == "__main__":
    main()
