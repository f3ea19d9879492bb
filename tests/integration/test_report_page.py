"""The HTML report as a reader sees it: rendered by a real headless Chromium, measured in the page.

The test's copy of the page gets a script that measures every SVG text box, legend and key after
layout; the page written for users stays script-free.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from edgebench.cli import invoke
from edgebench.report import plots
from edgebench.store import Store, store_url
from edgebench_records import Status, StoredRun
from tests.conftest import require, save
from tests.e2e.test_report_trust import flagged, quiet
from tests.spec.test_report import BASE
from tests.support.chromium import chromium_command

WINDOW = (1400, 1000)


MEASURE = """
<script>
const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
const texts = (root, selector) => [...root.querySelectorAll(selector)].map((t) => t.textContent.trim());
const out = {
  window: window.innerWidth,
  body: document.body.clientWidth,
  tables: [...document.querySelectorAll("table:not(.ops)")].map((t) =>
    [...t.querySelectorAll("tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent))),
  svgs: [...document.querySelectorAll("figure svg")].map((svg) => ({
    width: svg.getBoundingClientRect().width,
    labels: [...svg.querySelectorAll("text")]
      .filter((t) => t.textContent.trim() && t.getBoundingClientRect().width > 0)
      .map((t) => ({ text: t.textContent.trim(), box: box(t) })),
    keys: [...svg.querySelectorAll("g[id*='key-']")].map((g) => g.id.replace(/^.*key-/, "")),
    legend: texts(svg, "g[id*='legend'] text"),
    caption: texts(svg.parentElement, "figcaption").join(" "),
  })),
};
const pre = document.createElement("pre");
pre.id = "measured";
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>
"""


def _slower(run: StoredRun, variant: str, delegate: str, factor: float) -> list[Any]:
    """The run's cells with one cell ``factor`` times slower: an outlier in the history."""
    out = []
    for cell in run.cells:
        if (cell.variant, cell.delegate) == (variant, delegate) and cell.timing is not None:
            t = cell.timing
            timing = dataclasses.replace(
                t,
                samples_ms=[s * factor for s in t.samples_ms],
                p50_ms=t.p50_ms and t.p50_ms * factor,
                p90_ms=t.p90_ms and t.p90_ms * factor,
                p99_ms=t.p99_ms and t.p99_ms * factor,
                mean_ms=t.mean_ms * factor,
            )
            cell = dataclasses.replace(cell, timing=timing)
        out.append(cell)
    return out


@pytest.fixture
def troubled(tmp_path: Path, measured: StoredRun) -> str:
    """Three runs of `local`; in the latest int8 × cpu crashed, int8 × xnnpack was measured under contention
    and a GPU is unavailable to every variant; an older run had one cell 300× slower."""
    latest = []
    for cell in map(quiet, measured.cells):
        if (cell.variant, cell.delegate) == ("int8", "xnnpack"):
            cell = flagged(cell)
        if (cell.variant, cell.delegate) == ("int8", "cpu"):
            cell = dataclasses.replace(
                cell, status=Status.CRASHED, message="signal 11", timing=None, accuracy=None, coverage=None
            )
        latest.append(cell)
    for variant in dict.fromkeys(c.variant for c in measured.cells):
        gpu = next(c for c in measured.cells if c.variant == variant)
        latest.append(
            dataclasses.replace(
                gpu,
                delegate="gpu",
                status=Status.DELEGATE_UNAVAILABLE,
                message="no GPU delegate on this device",
                conditions=None,  # never timed: nothing observed
                timing=None,
                accuracy=None,
                coverage=None,
                memory=None,
            )
        )
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        save(store, measured, "first", "local", "2026-11-18T10:00:00+00:00", {})
        slow = dataclasses.replace(measured, cells=_slower(measured, "fp32", "cpu", 300.0))
        save(store, slow, "outlier", "local", "2026-11-20T10:00:00+00:00", {})
        save(store, dataclasses.replace(measured, cells=latest), "latest", "local", "2026-11-24T10:00:00+00:00", {})
    return url


def chromium_args(chromium: str, profile: Path) -> list[str]:
    return chromium_command(chromium, profile, proxy_port=9, window=WINDOW)  # port 9: nothing may be fetched


def _overlapping(labels: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of text boxes that intersect by more than half a pixel either way (anti-aliasing)."""

    def meet(a: list[float], b: list[float]) -> bool:
        return a[0] + 0.5 < b[2] and b[0] + 0.5 < a[2] and a[1] + 0.5 < b[3] and b[1] + 0.5 < a[3]

    return [(a["text"], b["text"]) for a, b in combinations(labels, 2) if meet(a["box"], b["box"])]


@pytest.mark.slow
def test_the_rendered_report_has_readable_keyed_plots_with_every_cell_and_status(tmp_path: Path, troubled: str) -> None:
    chromium = require("chromium", "chromium")
    page = tmp_path / "report.html"
    assert invoke(["report", "--store", troubled, "--html", str(page)]) == 0
    assert "<script" not in page.read_text()  # the user's page: no script
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    browser = chromium_args(chromium, tmp_path / "profile")
    dom = subprocess.run(
        [*browser, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    found = re.search(r"<pre id=\"measured\">(.*?)</pre>", dom, re.S)
    assert found, "the measuring script did not run"
    measured = json.loads(found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    accuracy, distribution, speedup, coverage, over_time = measured["svgs"]

    # Tables: a "#" key, fp32 first wherever it was measured.
    rows = [r for table in measured["tables"] for r in table]
    key = {r[0]: r for r in rows}  # "#" → (#, variant, status, …)
    assert sorted(key, key=int) == [str(i) for i in range(1, len(rows) + 1)]
    for table in measured["tables"]:
        variants = [r[1] for r in table]
        assert "fp32" not in variants or variants[0] == "fp32", variants

    # No text box meets another, in any plot; every plot spans most of the window.
    for svg in measured["svgs"]:
        assert _overlapping(svg["labels"]) == []
        assert svg["width"] >= 0.9 * measured["body"] and measured["body"] >= 0.9 * measured["window"]

    # Accuracy vs latency: one number per cell that ran, keyed to the tables; a legend for every colour
    # and shape; the cells that did not run are named under it with their status.
    ran = {n for n, r in key.items() if r[2].split()[0] == Status.OK}  # "ok ⚠" too: contended, but it ran
    assert sorted(accuracy["keys"], key=int) == sorted(ran, key=int)
    assert {key[n][1] for n in ran} <= set(accuracy["legend"])  # variants
    assert {"cpu", "xnnpack"} <= set(accuracy["legend"])  # delegates
    assert "gpu" not in accuracy["legend"]  # nothing plotted on it
    (contended,) = [n for n, r in key.items() if r[2] == "ok ⚠"]
    assert key[contended][1] == "int8"
    for svg in (accuracy, distribution, speedup, over_time):
        assert any("measured under contention" in entry for entry in svg["legend"])
    for n in set(key) - ran:
        assert f"#{n} {key[n][1]}" in accuracy["caption"] and key[n][2] in accuracy["caption"]
    assert max(float(t["text"]) for t in accuracy["labels"] if re.fullmatch(r"\d+(\.\d+)?", t["text"])) <= 100

    # Per-cell plots: every cell has its row, and one that did not run shows its status there.
    for svg in (distribution, coverage):
        texts = [t["text"] for t in svg["labels"]]
        for n, r in key.items():
            assert any(t.startswith(f"#{n}  {r[1]} · ") for t in texts), (n, r[1])
        assert any(t.startswith("crashed: signal 11") for t in texts)
        assert sum(t.startswith("delegate_unavailable") for t in texts) == sum(
            r[2] == "delegate_unavailable" for r in rows
        )
    names = {t["text"] for t in coverage["labels"]}
    plain = [n for n in ran if any(t.startswith(f"#{n}  {key[n][1]} · cpu · interpreter · 1t") for t in names)]
    assert plain and sum("plain CPU kernels" in t for t in names) == len(plain)  # said, not an empty bar
    assert any("95% interval (bootstrap over blocks of runs)" in t["text"] for t in speedup["labels"])

    # Over time: a legend entry per variant of the report, the failed runs marked, nothing beyond.
    title, *entries = over_time["legend"]
    assert title.startswith("Latency and accuracy over time") and set(entries) == {r[1] for r in rows} | {
        "run failed",
        "measured under contention",
    }

    shot = tmp_path / "report.png"
    subprocess.run([*browser, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_numbers_of_cells_on_the_same_spot_do_not_overlap_in_chromium(tmp_path: Path) -> None:
    chromium = require("chromium", "chromium")
    variants = ("fp32", "fp16", "int8", "clustered_int8", "pruned", "dynamic_int8", "qat")
    crowd = [
        dataclasses.replace(BASE, variant=v, delegate=d, p50_ms=10.0 + 0.01 * i, samples_ms=(9.0, 10.0, 12.0))
        for i, (v, d) in enumerate((v, d) for v in variants for d in ("xnnpack", "cpu", "gpu"))
    ]  # 21 cells within 0.2 ms and at the same top-1: every marker on top of the others
    keyed = list(enumerate(crowd, 1))
    svg = plots.accuracy_vs_latency(keyed, plots.palette(crowd))
    probe = tmp_path / "crowd.html"
    probe.write_text(f"<!doctype html><html><body><figure>{svg}</figure>{MEASURE}</body></html>")
    dom = subprocess.run(
        [*chromium_args(chromium, tmp_path / "profile"), "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    found = re.search(r"<pre id=\"measured\">(.*?)</pre>", dom, re.S)
    assert found
    (plot,) = json.loads(found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))["svgs"]
    assert sorted(plot["keys"], key=int) == [str(n) for n, _ in keyed]
    assert _overlapping(plot["labels"]) == []
