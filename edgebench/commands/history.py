"""``edgebench history``: the runs in the store, filtered, as a table, JSON or CSV."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgebench.commands.groups import grouped
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


@dataclass(frozen=True)
class Filters:
    """Which runs: each filter given must hold."""

    device: str | None
    model: str | None
    tags: tuple[str, ...]  # KEY=VALUE
    since: datetime | None


@dataclass(frozen=True)
class Export:
    export_ref: str | None  # REF: a run id, `latest`, KEY=VALUE
    export_path: Path | None


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
@grouped(Filters, "filters")
@grouped(Export, "export")
def history(
    filters: Filters,
    csv_path: Path | None,
    cells: bool,
    export: Export,
    store: str | None,
    as_json: bool,
) -> int:
    """List the runs kept in the history store, or export some as a bundle `edgebench gate` can read."""
    from edgebench.report import history_view
    from edgebench.report.table import console_for_stdout
    from edgebench.store import Store, store_url

    if (export.export_ref is None) != (export.export_path is None):
        raise click.UsageError("--export REF and --to FILE go together")
    if export.export_ref is not None and export.export_path is not None:
        return _export(store_url(store), export.export_ref, filters.device, export.export_path, as_json)
    with Store(store_url(store), must_exist=True) as history_store:
        runs = history_store.list_runs(
            device=filters.device, model=filters.model, tags=parse_tags(filters.tags), since=filters.since
        )
        if cells:
            return _cells([history_store.load_run(run.run_id) for run in runs], csv_path, as_json)
    if csv_path:
        history_view.write_csv(csv_path, runs)
    if as_json:
        click.echo(json.dumps({"runs": history_view.records(runs)}, indent=1))
    else:
        history_view.render(runs, console_for_stdout())
    return int(ExitCode.OK)


def _export(url: str, ref: str, device: str | None, path: Path, as_json: bool) -> int:
    """``--export REF --to FILE``: the runs REF names (on ``device``, when given) as one bundle."""
    from edgebench.gate.compare import resolve
    from edgebench.store import Store
    from edgebench_records import write_bundle

    with Store(url, must_exist=True) as history_store:
        runs = resolve(history_store, ref, device)
    write_bundle(path, runs)
    summary = {"bundle": str(path), "runs": [r.run_id for r in runs]}
    click.echo(json.dumps(summary) if as_json else f"wrote {len(runs)} run(s) to {path}")
    return int(ExitCode.OK)


def _cells(runs: list[StoredRun], csv_path: Path | None, as_json: bool) -> int:
    from edgebench.report.cells import cell_rows
    from edgebench.report.history_view import write_cells_csv

    rows = [row for run in runs for row in cell_rows(run)]
    if csv_path:
        write_cells_csv(csv_path, rows)
    if as_json:
        click.echo(json.dumps({"cells": rows}, indent=1))
    else:
        where = f" to {csv_path}" if csv_path else "; write them with --csv FILE or --json"
        click.echo(f"{len(rows)} cells of {len(runs)} runs{where}")
    return int(ExitCode.OK)
