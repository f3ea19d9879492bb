"""`edgebench report`: the comparison with fp32, the Pareto front, the variant to ship, as text, Markdown,
JSON and a self-contained HTML page rendered by a real headless Chromium."""

from __future__ import annotations

import dataclasses

from edgebench.report.analysis import ComparisonRow, Constraints, mark_pareto, recommend
from edgebench.report.speedup import Speedup, Verdict

BASE = ComparisonRow(
    run_id="r",
    created_at="2026-11-24T00:00:00+00:00",
    device="pi4",
    variant="fp32",
    delegate="xnnpack",
    api="interpreter",
    threads=1,
    status="ok",
    top1=0.99,
    top1_drop_points=0.0,
    fp32_agreement=1.0,
    p50_ms=10.0,
    p90_ms=11.0,
    speedup=Speedup(1.0, None, None, Verdict.BASELINE),
    peak_rss_mb=50.0,
    size_kb=4000.0,
    gzip_kb=3700.0,
    size_reduction=0.0,
    coverage=1.0,
    fully_accelerated=None,
    samples_ms=(10.0,),
    message="",
)


def row(**changes: object) -> ComparisonRow:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def faster(ratio: float) -> Speedup:
    """A speed-up over fp32 whose interval (±4 %) lies clear of 1."""
    return Speedup(ratio, 0.96 * ratio, 1.04 * ratio, Verdict.FASTER)


def test_pareto_marks_what_nothing_beats_on_latency_size_and_accuracy() -> None:
    rows = mark_pareto(
        [
            row(variant="fp32"),
            row(variant="int8", p50_ms=4.0, size_kb=1000.0, top1=0.98),  # faster, smaller, less accurate
            row(variant="fp16", p50_ms=10.0, size_kb=2000.0, top1=0.99),  # beats fp32: as fast and accurate, smaller
            row(variant="slow", p50_ms=12.0, size_kb=2000.0, top1=0.97),  # beaten by fp16 on all three
            row(variant="broken", status="crashed", p50_ms=None),
        ]
    )
    assert {r.variant: r.pareto for r in rows} == {
        "fp32": False,
        "int8": True,
        "fp16": True,
        "slow": False,
        "broken": False,
    }


def test_the_recommendation_is_the_fastest_cell_meeting_every_constraint() -> None:
    rows = [
        row(variant="fp32"),
        row(variant="int8", p50_ms=4.0, p90_ms=5.0, size_kb=1000.0, top1=0.975, top1_drop_points=1.5),
        row(variant="fp16", p50_ms=8.0, p90_ms=9.0, size_kb=2000.0, top1=0.99, top1_drop_points=0.0),
    ]
    rows = [r if r.variant == "fp32" else dataclasses.replace(r, speedup=faster(10.0 / (r.p50_ms or 1))) for r in rows]
    (rec,) = recommend(rows, Constraints(max_accuracy_drop=1.0, max_size_mb=4))
    assert rec.row is not None and rec.row.variant == "fp16"  # int8 is faster but drops 1.5 points
    assert rec.reason.startswith(
        "fp16 × xnnpack (interpreter, 1 thr) — fastest of 2 cells meeting top-1 drop ≤ 1 pts, size ≤ 4 MB. "
        "p50 8.000 ms (1.25× fp32, 95 % CI 1.20–1.30), 2000.0 KB"
    )
    (none,) = recommend(rows, Constraints(max_p90_ms=1.0))
    assert none.row is None and none.reason.startswith("nothing meets p90 ≤ 1 ms; nearest:")
