"""``edgebench report``: the comparison per device × delegate, the Pareto front and the variant to ship."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from edgebench.commands.options import json_option, markdown_option, output_file, store_option, write_markdown
from edgebench.errors import EdgebenchError, ExitCode
from edgebench.records import StoredRun
from edgebench.report import comparison
from edgebench.report.analysis import ComparisonRow, Constraints, comparison_rows, history_rows, recommend
from edgebench.report.table import console_for_stdout
from edgebench.store import Store, store_url

HISTORY_RUNS = 50  # per device and model, for the plots over time

EPILOG = """\b
Examples:
  edgebench report                                   # the latest run of every device
  edgebench report 20261124T081500Z-1a2b3c --html report.html
  edgebench report --max-accuracy-drop 1.0 --max-size-mb 4 --max-p90-ms 20
  edgebench report --markdown - >> "$GITHUB_STEP_SUMMARY"
"""


def latest_runs(store: Store) -> list[str]:
    return store.latest_run_ids()


def history_of(store: Store, runs: list[StoredRun]) -> list[ComparisonRow]:
    """The plot over time: the cells of the newest HISTORY_RUNS runs per device and model, read from the
    store's columns (p50, top-1, status); only the runs shown are loaded whole."""
    wanted = {(run.device, run.manifest.model_name) for run in runs}
    return history_rows(
        point for device, model in sorted(wanted) for point in store.cell_points(device, [model], limit=HISTORY_RUNS)
    )


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
@store_option
@json_option
def report(
    run_ids: tuple[str, ...],
    html_path: Path | None,
    markdown_path: str | None,
    max_accuracy_drop: float | None,
    max_size_mb: float | None,
    max_p90_ms: float | None,
    store: str | None,
    as_json: bool,
) -> int:
    """Compare the variants of stored runs and recommend the one to ship on each device.

    Each variant is compared with fp32 measured in the same run, delegate, API and thread count:
    accuracy change, p50/p90, speed-up, peak RSS, size, gzip size, size reduction, delegate coverage.
    """
    constraints = Constraints(max_accuracy_drop, max_size_mb, max_p90_ms)
    with Store(store_url(store), must_exist=True) as history_store:
        ids = list(run_ids) or latest_runs(history_store)
        if not ids:
            raise EdgebenchError(f"store {history_store.safe_url()} holds no runs yet: measure with `edgebench run`")
        runs = [history_store.load_run(run_id) for run_id in ids]
        history = history_of(history_store, runs) if html_path else []
    rows = comparison_rows(runs)
    recommendations = recommend(rows, constraints)
    if html_path:
        from edgebench.report import html  # matplotlib: only when a page is asked for

        html_path.write_text(html.render(rows, history, recommendations), encoding="utf-8")
    if markdown_path:
        write_markdown(markdown_path, comparison.markdown(rows, recommendations))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "runs": ids,
                    "rows": [{k: v for k, v in asdict(r).items() if k != "samples_ms"} for r in rows],
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
        comparison.render(rows, recommendations, console_for_stdout())
    return int(ExitCode.OK)
