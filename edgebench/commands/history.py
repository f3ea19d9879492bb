"""``edgebench history``: the runs in the store, filtered, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgebench.commands.options import json_option, output_file, parse_tags, store_option
from edgebench.errors import ExitCode

if TYPE_CHECKING:
    from edgebench_records import StoredRun

EPILOG = """\b
Examples:
  edgebench history                                   # every run, oldest first
  edgebench history --device pi4 --since 2026-11-01   # one device, this month
  edgebench history --tag release=4.2 --json
  edgebench history --model digits_mobilenet --csv runs.csv
  edgebench history --export release=4.1 --to baseline.json   # runs as one file, for a gate elsewhere
  edgebench history --cells --device pi4 --csv cells.csv      # one row per cell, every metric: for a notebook
"""


@click.command(epilog=EPILOG)
@click.option("--device", help="Only runs on this device.")
@click.option("--model", help="Only runs of this model (its name).")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Only runs with this tag; repeatable.")
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="Only runs from this date (UTC) on."
)
@click.option(
    "--csv", "csv_path", type=click.Path(path_type=Path), callback=output_file, help="Also write the list as CSV."
)
@click.option(
    "--cells", is_flag=True, help="List the runs' cells instead, one row each with every metric (--csv, --json)."
)
@click.option(
    "--export",
    "export_ref",
    metavar="REF",
    help="Write these runs (a run id, `latest` or KEY=VALUE: the latest per device) to --to as one JSON bundle.",
)
@click.option(
    "--to", "export_path", type=click.Path(path_type=Path), callback=output_file, help="The bundle file to write."
)
@store_option
@json_option
def history(
    device: str | None,
    model: str | None,
    tags: tuple[str, ...],
    since: datetime | None,
    csv_path: Path | None,
    cells: bool,
    export_ref: str | None,
    export_path: Path | None,
    store: str | None,
    as_json: bool,
) -> int:
    """List the runs kept in the history store, or export some as a bundle `edgebench gate` can read."""
    from rich.table import Table

    from edgebench.gate.compare import resolve
    from edgebench.report.table import console_for_stdout
    from edgebench.store import Store, store_url
    from edgebench_records import write_bundle

    if (export_ref is None) != (export_path is None):
        raise click.UsageError("--export REF and --to FILE go together")
    if export_ref is not None and export_path is not None:
        with Store(store_url(store), must_exist=True) as history_store:
            runs_out = resolve(history_store, export_ref, device)
        write_bundle(export_path, runs_out)
        summary = {"bundle": str(export_path), "runs": [r.run_id for r in runs_out]}
        click.echo(json.dumps(summary) if as_json else f"wrote {len(runs_out)} run(s) to {export_path}")
        return int(ExitCode.OK)
    with Store(store_url(store), must_exist=True) as history_store:
        runs = history_store.list_runs(device=device, model=model, tags=parse_tags(tags), since=since)
        if cells:
            return _cells([history_store.load_run(run.run_id) for run in runs], csv_path, as_json)
    records = [asdict(run) for run in runs]
    if csv_path:
        with csv_path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=[*asdict(runs[0]).keys()] if runs else ["run_id"])
            writer.writeheader()
            for record in records:
                writer.writerow({**record, "tags": ";".join(f"{k}={v}" for k, v in record["tags"].items())})
    if as_json:
        click.echo(json.dumps({"runs": records}, indent=1))
        return int(ExitCode.OK)
    table = Table(title=f"{len(runs)} runs", caption="contended: cells measured under contention (timing not trusted)")
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
    console_for_stdout().print(table)
    return int(ExitCode.OK)


def _cells(runs: list[StoredRun], csv_path: Path | None, as_json: bool) -> int:
    from edgebench.report.cells import COLUMNS, cell_rows

    rows = [row for run in runs for row in cell_rows(run)]
    if csv_path:
        with csv_path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    if as_json:
        click.echo(json.dumps({"cells": rows}, indent=1))
    else:
        where = f" to {csv_path}" if csv_path else "; write them with --csv FILE or --json"
        click.echo(f"{len(rows)} cells of {len(runs)} runs{where}")
    return int(ExitCode.OK)
