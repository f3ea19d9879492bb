"""The HTML report as a reader sees it: rendered by a real headless Chromium, measured in the page.

The test's copy of the page gets a script that measures every SVG text box, legend and key after
layout; the page written for users stays script-free.
"""

from __future__ import annotations

import dataclasses
import re

from edgebench.report import plots
from edgebench.report.analysis import ComparisonRow
from tests.spec.test_report import BASE


def _history(variant: str, delegate: str, when: str, p50: float) -> ComparisonRow:
    return dataclasses.replace(BASE, variant=variant, delegate=delegate, created_at=when, p50_ms=p50, run_id=when)


def test_the_plot_over_time_shows_only_the_configurations_of_the_report() -> None:
    history = [
        _history(variant, delegate, f"2026-11-{day:02d}T10:00:00+00:00", 10.0)
        for variant in ("fp32", "fp16", "int8", "pruned", "clustered_int8", "dynamic_int8", "qat")
        for delegate in ("xnnpack", "cpu", "gpu", "nnapi")
        for day in (1, 2)
    ]  # 28 series in the store
    shown = [(1, BASE), (2, dataclasses.replace(BASE, variant="int8"))]
    svg = plots.over_time(history, shown, plots.palette(r for _, r in shown))
    legend = svg[svg.index('id="legend"') :]
    assert re.findall(r"<text[^>]*>([^<]+)</text>", legend)[1:] == ["fp32", "int8"]  # after its title
    assert svg.count("xnnpack · interpreter · 1t: p50 latency") == 1 and "cpu · interpreter" not in svg


def test_a_log_scale_only_where_the_range_needs_it() -> None:
    tight = [dataclasses.replace(BASE, samples_ms=(10.0, 11.0, 12.0))]
    wide = [*tight, dataclasses.replace(BASE, variant="int8", samples_ms=(0.5, 0.6, 40.0))]
    for rows, log in ((tight, False), (wide, True)):
        svg = plots.latency_distribution(list(enumerate(rows, 1)), plots.palette(rows))
        assert ("(log scale)" in svg) is log


def test_a_configuration_that_never_ran_gets_no_empty_panels_over_time() -> None:
    ran = dataclasses.replace(BASE, run_id="a")
    unavailable = dataclasses.replace(BASE, delegate="gpu", status="delegate_unavailable", p50_ms=None, top1=None)
    shown = [(1, ran), (2, unavailable)]
    svg = plots.over_time([ran, unavailable], shown, plots.palette([ran]))
    assert "xnnpack · interpreter · 1t: p50 latency" in svg and "gpu · interpreter" not in svg
    assert "run failed" not in svg  # its panels are left out, and with them its marks
