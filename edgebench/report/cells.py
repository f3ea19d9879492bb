"""Every stored cell as one flat row: what `edgebench history --cells` writes for a notebook or a
spreadsheet (every metric beside the run id, tags, device, variant, delegate, API and threads)."""

from __future__ import annotations

from collections.abc import Iterator

from edgebench.report.marks import worst_output_cosine
from edgebench_records import StoredRun

COLUMNS = (
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
    "top1",
    "top5",
    "mae",
    "labels_note",
    "fp32_agreement",
    "worst_output_cosine",
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


def cell_rows(run: StoredRun) -> Iterator[dict[str, object]]:
    """One row per cell of ``run``, keyed by COLUMNS; what the runner did not measure is None."""
    variants = {v.name: v for v in run.manifest.variants}
    for cell in run.cells:
        t, m, a, c, d = cell.timing, cell.memory, cell.accuracy, cell.coverage, cell.device
        record = variants.get(cell.variant)
        row: dict[str, object] = {
            "run_id": run.run_id,
            "created_at": run.created_at,
            "device": run.device,
            "model": run.manifest.model_name,
            "git_commit": run.git_commit,
            "tags": ";".join(f"{k}={v}" for k, v in run.tags.items()),
            "variant": cell.variant,
            "delegate": cell.delegate,
            "api": cell.api,
            "threads": cell.threads,
            "status": str(cell.status),
            "message": cell.message,
            "contended": cell.conditions and cell.conditions.contended,
            "p50_ms": t and t.p50_ms,
            "p90_ms": t and t.p90_ms,
            "p99_ms": t and t.p99_ms,
            "p5_ms": t and t.p5_ms,
            "p95_ms": t and t.p95_ms,
            "mean_ms": t and t.mean_ms,
            "std_ms": t and t.std_ms,
            "min_ms": t and t.min_ms,
            "max_ms": t and t.max_ms,
            "init_ms": t and t.init_ms,
            "first_ms": t and t.first_ms,
            "timed_runs": len(t.samples_ms) if t else None,
            "peak_rss_mb": m and m.peak_rss_mb,
            "load_delta_mb": m and m.load_delta_mb,
            "top1": a and a.top1,
            "top5": a and a.top5,
            "mae": a and a.mae,
            "labels_note": a.labels_note if a else "",
            "fp32_agreement": a and a.fp32_agreement,
            "worst_output_cosine": worst_output_cosine(a),
            "max_abs_diff": a and a.max_abs_diff,
            "mean_abs_diff": a and a.mean_abs_diff,
            "scored_inputs": a and a.n,
            "delegated_nodes": c and c.delegated_nodes,
            "total_nodes": c and c.total_nodes,
            "fully_accelerated": cell.fully_accelerated,
            "size_bytes": record and record.size_bytes,
            "gzip_bytes": record and record.gzip_bytes,
            "runtime": d and d.runtime,
            "runtime_version": d and d.runtime_version,
            "machine": d and d.machine,
            "cpu_model": d and d.cpu_model,
            "started_at": cell.started_at,
            "finished_at": cell.finished_at,
        }
        yield row
