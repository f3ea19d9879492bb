"""``edgebench report``: the comparison per device × delegate, the Pareto front and the variant to ship."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgebench.commands.groups import grouped
from edgebench.commands.options import (
    json_option,
    markdown_option,
    model_explorer_option,
    output_file,
    store_option,
    unique_list,
    write_markdown,
)
from edgebench.errors import ExitCode
from edgebench.output_files import write_output

if TYPE_CHECKING:
    from edgebench.report.build import Report

EPILOG = """\b
Examples:
  edgebench report                                   # the latest run of every device
  edgebench report 20261124T081500Z-1a2b3c --html report.html
  edgebench report --max-accuracy-drop 1.0 --max-size-mb 4 --max-p90-ms 20
  edgebench report --markdown - >> "$GITHUB_STEP_SUMMARY"
  edgebench report --device pi4,pixel --latest           # each variant on each device, side by side
  edgebench report --model-explorer overlays/            # per-op figures to open in Model Explorer
"""


@dataclass(frozen=True)
class Selection:
    """Which runs: RUN ids, or the latest of each device (of --device, when given)."""

    run_ids: tuple[str, ...]
    device_list: str | None
    latest: bool


@dataclass(frozen=True)
class Pages:
    """The files the report is also written to: the HTML page, Markdown ('-': stdout, and nothing else), and
    the folder of Model Explorer node-data files."""

    html_path: Path | None
    markdown_path: str | None
    explorer_dir: Path | None


@click.command(epilog=EPILOG)
@click.argument("run_ids", nargs=-1, metavar="[RUN]...")
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path),
    callback=output_file,
    help="Write a self-contained HTML report (tables and plots, opens offline).",
)
@markdown_option
@model_explorer_option("Write Model Explorer node-data files per cell: per-op time, placement, drift")
@click.option(
    "--max-accuracy-drop", type=float, metavar="POINTS", help="Constraint: top-1 at most this far below fp32."
)
@click.option("--max-size-mb", type=float, metavar="MB", help="Constraint: model file at most this large.")
@click.option("--max-p90-ms", type=float, metavar="MS", help="Constraint: p90 latency at most this.")
@click.option(
    "--device", "device_list", metavar="LIST", help="Only these devices, comma-separated: side by side when several."
)
@click.option("--latest", is_flag=True, help="The latest run of each device (what no RUN means); not with RUN.")
@store_option
@json_option
@grouped(Selection, "selection")
@grouped(Pages, "pages")
def report(
    selection: Selection,
    max_accuracy_drop: float | None,
    max_size_mb: float | None,
    max_p90_ms: float | None,
    store: str | None,
    as_json: bool,
    pages: Pages,
) -> int:
    """Compare the variants of stored runs and recommend the one to ship on each device.

    Each variant is compared with fp32 measured in the same run, delegate, API and thread count:
    accuracy change, p50/p90, speed-up with its 95 % interval ("≈ same" when the interval spans 1),
    the model's memory (load delta, peak above the runner's baseline), size, gzip size, size reduction,
    delegate coverage. Cells measured under contention are marked ⚠ with the reason; runs without labels say
    "no labels" where top-1 would be. Below, per run:
    op types per variant (from each flatbuffer), the share of op time per type where a runner profiled ops
    (benchmark_model), and per cell the nodes delegated, on plain kernels (by type) and the partitions.
    """
    from edgebench.report.analysis import Constraints
    from edgebench.report.build import ReportRequest, build_report
    from edgebench.store import store_url

    if selection.latest and selection.run_ids:
        raise click.UsageError("give RUN ids or --latest, not both")
    devices = unique_list(selection.device_list, "--device") if selection.device_list is not None else []
    constraints = Constraints(max_accuracy_drop, max_size_mb, max_p90_ms)
    request = ReportRequest(store_url(store), list(selection.run_ids), constraints, bool(pages.html_path), devices)
    _write(build_report(request), pages, as_json)
    return int(ExitCode.OK)


def _write(built: Report, pages: Pages, as_json: bool) -> None:
    """The page and Markdown asked for, and stdout: JSON, or the tables (unless Markdown is there)."""
    from edgebench.report import comparison, ops, tune_view
    from edgebench.report.table import console_for_stdout

    if pages.explorer_dir:  # first: without Model Explorer it stops before writing anything
        _write_overlays(built, pages.explorer_dir)
    if pages.html_path:
        from edgebench.report import html  # matplotlib: only when a page is asked for

        page = html.render(built.rows, built.history, built.recommendations, built.ops, built.cpu_notes, built.tunes)
        write_output(pages.html_path, page)
    if pages.markdown_path:
        tunes = "".join(tune_view.markdown(front) for front in built.tunes)
        write_markdown(
            pages.markdown_path,
            tunes + comparison.markdown(built.rows, built.recommendations, built.cpu_notes) + ops.markdown(built.ops),
        )
    if as_json:
        tunes_json = {"tunes": [tune_view.as_json(front) for front in built.tunes]} if built.tunes else {}
        click.echo(json.dumps(comparison.as_json(built) | tunes_json, indent=1))
    elif pages.markdown_path != "-":
        console = console_for_stdout()
        for front in built.tunes:
            tune_view.render(front, console)
        comparison.render(built.rows, built.recommendations, console, built.cpu_notes)
        ops.render(built.ops, console)


def _write_overlays(built: Report, folder: Path) -> None:
    """The node-data files, then on stderr how many and how to open them, and what could not be drawn."""
    from edgebench.report import model_explorer

    written = model_explorer.write_runs(built.runs, folder)
    for note in written.notes:
        click.echo(note, err=True)
    click.echo(
        f"wrote {len(written.files)} Model Explorer node-data files under {folder}: open one with "
        f"`model-explorer VARIANT.tflite --node_data_paths=FILE`",
        err=True,
    )
