"""The metric table (edgebench/report/metrics.py) is the one place a cell's figures are read and printed:
every metric has a unit and a print, and the run table's columns, the rows' fields and every JSON key come
from it, under the names users already read."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from rich.console import Console

from edgebench.report import cells, table
from edgebench.report.analysis import ComparisonRow, comparison_rows
from edgebench.report.comparison import row_json
from edgebench.report.metrics import METRICS, MISSING, Unit, measured
from edgebench_records import OutputFidelity, StoredRun, read_bundle

BUNDLE = Path(__file__).parents[1] / "data" / "records" / "bundle-1.1.json"

# What `run --json`, `report --json` and `history --cells` have always written, key for key: a consumer reads
# these names, so a metric renamed or dropped must fail here first.
RUN_KEYS = [
    "variant",
    "delegate",
    "api",
    "threads",
    "status",
    "p50_ms",
    "p90_ms",
    "init_ms",
    "peak_rss_mb",
    "top1",
    "fp32_agreement",
    "coverage",
    "fully_accelerated",
    "size_kb",
    "gzip_kb",
    "message",
    "contended",
    "noise",
    "why",
    "top1_note",
    "worst_output_cosine",
    "emulated",
    "worst_head",
    "worst_head_error",
    "head_warning",
    "culprit",
    "speedup",
    "load_delta_mb",
    "model_peak_mb",
]
REPORT_KEYS = [
    "run_id",
    "created_at",
    "device",
    "variant",
    "delegate",
    "api",
    "threads",
    "status",
    "top1",
    "top1_drop_points",
    "fp32_agreement",
    "p50_ms",
    "p90_ms",
    "speedup",
    "peak_rss_mb",
    "size_kb",
    "gzip_kb",
    "size_reduction",
    "coverage",
    "fully_accelerated",
    "message",
    "pareto",
    "why",
    "contended",
    "noise",
    "top1_note",
    "labels_note",
    "worst_output_cosine",
    "emulated",
    "warning",
    "baseline",
    "worst_head",
    "worst_head_error",
    "head_warning",
    "culprit",
    "worst_layers",
    "load_delta_mb",
    "model_peak_mb",
]
CELL_KEYS = [
    "run_id",
    "created_at",
    "device",
    "model",
    "git_commit",
    "tags",
    "variant",
    "delegate",
    "api",
    "threads",
    "status",
    "message",
    "culprit",
    "contended",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "p5_ms",
    "p95_ms",
    "mean_ms",
    "std_ms",
    "min_ms",
    "max_ms",
    "init_ms",
    "first_ms",
    "timed_runs",
    "peak_rss_mb",
    "load_delta_mb",
    "model_peak_mb",
    "top1",
    "top5",
    "mae",
    "labels_note",
    "fp32_agreement",
    "worst_output_cosine",
    "worst_head",
    "worst_head_error",
    "max_abs_diff",
    "mean_abs_diff",
    "scored_inputs",
    "delegated_nodes",
    "total_nodes",
    "fully_accelerated",
    "size_bytes",
    "gzip_bytes",
    "runtime",
    "runtime_version",
    "machine",
    "cpu_model",
    "started_at",
    "finished_at",
]
RUN_TABLE = ["variant", "delegate", "api", "thr", "status", "p50 ms", "speed-up", "p90 ms", "init ms", "load MB"]
RUN_TABLE += ["peak MB", "top-1"]
RUN_TABLE += ["agree", "worst head", "deleg", "KB", "gzip KB"]


@pytest.fixture(scope="module")
def run() -> StoredRun:
    (stored,) = read_bundle(BUNDLE)
    return stored


def test_every_metric_has_a_unit_and_prints_what_a_cell_holds_or_says_it_is_missing(run: StoredRun) -> None:
    for name, metric in METRICS.items():
        assert metric.name == name and isinstance(metric.unit, Unit)
        assert metric.format(None) == MISSING
        if metric.instead:
            assert metric.instead in METRICS, name
    for m in measured(run.cells, run.manifest, run):
        for metric in METRICS.values():
            shown = metric.format(metric.get(m))
            assert isinstance(shown, str) and shown and "\n" not in shown, metric.name


def test_the_run_table_columns_are_metrics_under_the_headers_users_read(run: StoredRun) -> None:
    assert [METRICS[name].header for name in table.COLUMNS] == RUN_TABLE
    out = io.StringIO()
    table.render(table.rows(run.cells, run.manifest), "run", Console(file=out, width=250))
    header = next(line for line in out.getvalue().splitlines() if "variant" in line)
    assert [cell.strip() for cell in header.strip("┃ ").split("┃")] == RUN_TABLE


def test_every_row_field_is_a_metric_read_under_its_own_name() -> None:
    for row_type, computed in ((table.Row, set()), (ComparisonRow, {"pareto"})):
        for field in dataclasses.fields(row_type):
            if field.name not in computed:
                assert METRICS[field.name].json_key == field.name, (row_type.__name__, field.name)


def test_the_json_keys_users_read_are_the_metrics_keys(run: StoredRun) -> None:
    (run_row,) = table.as_json(table.rows(run.cells[:1], run.manifest))
    assert list(run_row) == RUN_KEYS
    report_row = row_json(comparison_rows([run])[0])
    assert list(report_row) == REPORT_KEYS
    assert list(cells.COLUMNS) == CELL_KEYS
    assert [list(row) for row in cells.cell_rows(run)] == [CELL_KEYS] * len(run.cells)
    assert tuple(METRICS[name].json_key for name in cells.CELL_METRICS) == cells.COLUMNS


def head(name: str, index: int, rel_error: float) -> OutputFidelity:
    return OutputFidelity(index, name, 0.99, 0.9, 20.0, 1.0, 0.1, None, None, rms_diff=rel_error, rel_error=rel_error)


def test_the_worst_head_stands_beside_agreement_and_a_far_one_is_warned_about_everywhere(run: StoredRun) -> None:
    """A two-head detector whose score head agrees while its box head is far from fp32 (issue 29 item 5)."""
    cell = run.cells[0]
    assert cell.accuracy is not None
    far = [head("classificators", 1, 0.02), head("regressors", 0, 0.6)]
    changed = dataclasses.replace(cell, accuracy=dataclasses.replace(cell.accuracy, outputs=far))
    (row,) = table.rows([changed], run.manifest)
    assert row.worst_head == "regressors" and row.worst_head_error == 0.6
    assert row.head_warning.startswith("output regressors: RMS error 60% of its spread")
    out = io.StringIO()
    table.render([row], "t", Console(file=out, width=250))
    assert "regressors 60.0% ⚑" in out.getvalue() and "output regressors: RMS error 60%" in out.getvalue()
    report = comparison_rows([dataclasses.replace(run, cells=[changed])])
    assert row_json(report[0])["head_warning"] == row.head_warning
    close = [head("classificators", 1, 0.02), head("regressors", 0, 0.1)]
    (fine,) = table.rows(
        [dataclasses.replace(cell, accuracy=dataclasses.replace(cell.accuracy, outputs=close))], run.manifest
    )
    assert fine.worst_head == "regressors" and fine.head_warning == ""
