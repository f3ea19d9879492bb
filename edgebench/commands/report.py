"""``edgebench report``: the comparison per device × delegate, the Pareto front and the variant to ship."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgebench.commands.options import (
    json_option,
    markdown_option,
    output_file,
    store_option,
    unique_list,
    write_markdown,
)
from edgebench.errors import ExitCode

if TYPE_CHECKING:
    from edgebench.report.analysis import ComparisonRow, DeviceMatrix

EPILOG = """\b
Examples:
  edgebench report                                   # the latest run of every device
  edgebench report 20261124T081500Z-1a2b3c --html report.html
  edgebench report --max-accuracy-drop 1.0 --max-size-mb 4 --max-p90-ms 20
  edgebench report --markdown - >> "$GITHUB_STEP_SUMMARY"
  edgebench report --device pi4,pixel --latest           # each variant on each device, side by side
"""


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
def report(
    run_ids: tuple[str, ...],
    html_path: Path | None,
    markdown_path: str | None,
    max_accuracy_drop: float | None,
    max_size_mb: float | None,
    max_p90_ms: float | None,
    device_list: str | None,
    latest: bool,
    store: str | None,
    as_json: bool,
) -> int:
    """Compare the variants of stored runs and recommend the one to ship on each device.

    Each variant is compared with fp32 measured in the same run, delegate, API and thread count:
    accuracy change, p50/p90, speed-up with its 95 % interval ("≈ same" when the interval spans 1),
    peak RSS, size, gzip size, size reduction, delegate coverage. Cells measured under contention are
    marked ⚠ with the reason; runs without labels say "no labels" where top-1 would be. Below, per run:
    op types per variant (from each flatbuffer), the share of op time per type where a runner profiled ops
    (benchmark_model), and per cell the nodes delegated, on plain kernels (by type) and the partitions.
    """
    from edgebench.report import comparison, ops
    from edgebench.report.analysis import Constraints, device_matrix
    from edgebench.report.build import ReportRequest, build_report
    from edgebench.report.table import console_for_stdout
    from edgebench.store import store_url

    if latest and run_ids:
        raise click.UsageError("give RUN ids or --latest, not both")
    devices = unique_list(device_list, "--device") if device_list is not None else []
    constraints = Constraints(max_accuracy_drop, max_size_mb, max_p90_ms)
    request = ReportRequest(store_url(store), list(run_ids), constraints, bool(html_path), devices)
    built = build_report(request)
    ids, rows, recommendations = built.run_ids, built.rows, built.recommendations
    if html_path:
        from edgebench.report import html  # matplotlib: only when a page is asked for

        html_path.write_text(html.render(rows, built.history, recommendations, built.ops), encoding="utf-8")
    if markdown_path:
        write_markdown(markdown_path, comparison.markdown(rows, recommendations) + ops.markdown(built.ops))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "runs": ids,
                    "rows": [row_json(r) for r in rows],
                    "devices_side_by_side": matrix_json(device_matrix(rows)),
                    "ops": ops.as_json(built.ops),
                    "recommendations": [
                        {
                            "device": r.device,
                            "variant": r.row.variant if r.row else None,
                            "delegate": r.row.delegate if r.row else None,
                            "reason": r.reason,
                        }
                        for r in recommendations
                    ],
                },
                indent=1,
            )
        )
    elif markdown_path != "-":
        console = console_for_stdout()
        comparison.render(rows, recommendations, console)
        ops.render(built.ops, console)
    return int(ExitCode.OK)


def row_json(row: ComparisonRow) -> dict[str, object]:
    """A row without its raw samples; the speed-up as its ratio, interval, verdict and the words the tables
    print (``"≈ same (0.90–2.80×)"``)."""
    out = {k: v for k, v in asdict(row).items() if k != "samples_ms"}
    if row.speedup is not None:
        out["speedup"] = asdict(row.speedup) | {"text": row.speedup.text()}
    return out


def matrix_json(matrix: DeviceMatrix | None) -> list[dict[str, object]] | None:
    """One object per variant × device: the fastest ok configuration there, and whether it is the device's best."""
    if matrix is None:
        return None
    return [
        {
            "variant": variant,
            "device": device,
            "delegate": entry.row.delegate,
            "api": entry.row.api,
            "threads": entry.row.threads,
            "p50_ms": entry.row.p50_ms,
            "top1": entry.row.top1,
            "best_on_device": entry.best_on_device,
        }
        for (variant, device), entry in matrix.entries.items()
    ]
