"""Every stored cell as one flat row: what `edgebench history --cells` writes for a notebook or a
spreadsheet (every metric beside the run id, tags, device, variant, delegate, API and threads)."""

from __future__ import annotations

from collections.abc import Iterator

from edgebench.report.metrics import METRICS, measured
from edgebench_records import StoredRun

# The metrics of a row, in column order (report/metrics.py). The runner's own labels note, "no labels"
# included, is what this file has always written as labels_note (the report's labels_note leaves that out).
CELL_METRICS = (
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
    "runner_labels_note",
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
)


COLUMNS = tuple(METRICS[name].json_key for name in CELL_METRICS)


def cell_rows(run: StoredRun) -> Iterator[dict[str, object]]:
    """One row per cell of ``run``, keyed by COLUMNS; what the runner did not measure is None."""
    for m in measured(run.cells, run.manifest, run):
        yield {METRICS[name].json_key: METRICS[name].get(m) for name in CELL_METRICS}
