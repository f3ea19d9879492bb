"""What ``edgebench history`` shows: the runs of the store as a table, CSV or JSON records, and their cells
one row each (report/cells.py) as CSV."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from edgebench.output_files import csv_text, write_output
from edgebench.report.cells import COLUMNS
from edgebench.store import RunSummary

CAPTION = "contended: cells measured under contention (timing not trusted)"


def records(runs: list[RunSummary]) -> list[dict[str, Any]]:
    """The runs as ``--json`` writes them."""
    return [asdict(run) for run in runs]


def write_csv(path: Path, runs: list[RunSummary]) -> None:
    """The runs one row each; tags as ``k=v;k=v``."""
    fields = [*asdict(runs[0]).keys()] if runs else ["run_id"]
    rows = [{**r, "tags": ";".join(f"{k}={v}" for k, v in r["tags"].items())} for r in records(runs)]
    write_output(path, csv_text(fields, rows))


def render(runs: list[RunSummary], console: Console) -> None:
    table = Table(title=f"{len(runs)} runs", caption=CAPTION)
    for column in ("run", "when (UTC)", "device", "model", "cells", "failed", "contended", "tags", "commit"):
        table.add_column(column, no_wrap=True)
    for run in runs:
        table.add_row(
            run.run_id,
            run.created_at,
            run.device,
            run.model_name,
            str(run.cells),
            str(run.failed_cells),
            str(run.contended_cells),
            " ".join(f"{k}={v}" for k, v in run.tags.items()),
            (run.git_commit or "")[:10],
        )
    console.print(table)


def write_cells_csv(path: Path, rows: list[dict[str, object]]) -> None:
    write_output(path, csv_text(COLUMNS, rows))
