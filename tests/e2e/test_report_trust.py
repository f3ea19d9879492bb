"""Report figures a reader can trust: a speed-up is claimed only when its interval allows it, a cell measured
under contention is marked wherever it appears, a run without labels says so, and every figure of the page
keeps its own SVG ids. Each spec stores a real run of the example (changed where the spec says) and reads
what `edgebench report` prints, writes and draws from it."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from edgebench.cli import invoke
from edgebench.report import table
from edgebench.report.speedup import MIN_RUNS
from edgebench.store import Store, store_url
from edgebench_records import CellResult, StoredRun
from tests.conftest import save

Change = Callable[[CellResult], CellResult]
REASON = "other processes kept 1.93 of 2 cores busy (the cell's 1 thread leave 1 free)"


def quiet(cell: CellResult) -> CellResult:
    """The cell as measured on a quiet machine: the fixture's real run shares this machine with other work."""
    if cell.conditions is None:
        return cell
    return dataclasses.replace(cell, conditions=dataclasses.replace(cell.conditions, contended=False, reasons=[]))


def flagged(cell: CellResult) -> CellResult:
    assert cell.conditions is not None, "the runner records conditions"
    return dataclasses.replace(cell, conditions=dataclasses.replace(cell.conditions, contended=True, reasons=[REASON]))


def timed(cell: CellResult, samples: np.ndarray) -> CellResult:
    """The cell with these raw samples, its summary computed from them as the runner computes it, timed alone:
    samples made up per cell were not interleaved with another cell's, so no paired interval is read from them."""
    assert cell.timing is not None
    timing = dataclasses.replace(
        cell.timing,
        samples_ms=[float(s) for s in samples],
        p50_ms=float(np.median(samples)) if len(samples) else cell.timing.p50_ms,
        p90_ms=float(np.percentile(samples, 90)) if len(samples) else None,
        mean_ms=float(np.mean(samples)) if len(samples) else cell.timing.mean_ms,
        missing=[] if len(samples) else ["samples_ms", "p90_ms"],
    )
    return dataclasses.replace(cell, timing=timing, schedule=None)


def only(variant: str, delegate: str, change: Change) -> Change:
    return lambda c: change(c) if (c.variant, c.delegate) == (variant, delegate) else c


def stored(tmp_path: Path, measured: StoredRun, *changes: Change, devices: tuple[str, ...] = ("local",)) -> str:
    """A store holding the real run, quiet, with ``changes`` applied to its cells, once per device."""
    cells = [quiet(c) for c in measured.cells]
    for change in changes:
        cells = [change(c) for c in cells]
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        for i, device in enumerate(devices):
            save(
                store,
                dataclasses.replace(measured, cells=cells),
                f"run-{device}",
                device,
                f"2026-11-2{i}T10:00:00+00:00",
                {},
            )
    return url


def fp32_p50(measured: StoredRun) -> float:
    cell = next(c for c in measured.cells if (c.variant, c.delegate) == ("fp32", "xnnpack"))
    assert cell.timing and cell.timing.p50_ms
    return cell.timing.p50_ms


def report_json(capsys: pytest.CaptureFixture[str], url: str) -> dict[str, Any]:
    assert invoke(["report", "--store", url, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def report_text(capsys: pytest.CaptureFixture[str], url: str, *extra: str) -> str:
    assert invoke(["report", "--store", url, *extra]) == 0
    return capsys.readouterr().out


def json_row(report: dict[str, Any], variant: str, delegate: str) -> dict[str, Any]:
    return next(r for r in report["rows"] if (r["variant"], r["delegate"]) == (variant, delegate))


def table_line(text: str, variant: str, delegate: str) -> str:
    """The line of ``variant`` in the terminal table of ``delegate`` (each table is titled "local · xnnpack · …")."""
    chunk = text[text.index(f"· {delegate} · interpreter · 1 thr — run") :]
    return next(line for line in chunk.splitlines() if re.match(rf"│ {variant} +│", line))


# --- speed-up and its interval -------------------------------------------------------------------------


def wandering(rng: np.random.Generator, scale: float) -> np.ndarray:
    """200 runs in 20 blocks at levels spread over 10×: a machine whose speed wandered while it measured."""
    return np.repeat(rng.permutation(np.geomspace(0.3, 3.0, 20)), 10) * scale


def test_a_1_6x_ratio_whose_interval_spans_one_reads_same_with_its_interval(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    rng, base = np.random.default_rng(3), fp32_p50(measured)
    url = stored(
        tmp_path,
        measured,
        only("fp32", "xnnpack", lambda c: timed(c, wandering(rng, base))),
        only("int8", "xnnpack", lambda c: timed(c, wandering(rng, base / 1.6))),
    )
    found = json_row(report_json(capsys, url), "int8", "xnnpack")["speedup"]
    assert found["ratio"] == pytest.approx(1.6)  # the medians' ratio: what the table used to print as 1.60×
    assert found["verdict"] == "same" and found["low"] < 1 < found["high"]
    assert found["text"] == f"≈ same ({found['low']:.2f}–{found['high']:.2f}×)"
    text = report_text(capsys, url)
    assert found["text"] in table_line(text, "int8", "xnnpack")
    assert "1.60×" not in text


def test_a_clear_2x_speed_up_prints_its_interval(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    rng, base = np.random.default_rng(4), fp32_p50(measured)
    url = stored(
        tmp_path,
        measured,
        only("fp32", "xnnpack", lambda c: timed(c, base * rng.lognormal(0, 0.03, 200))),
        only("int8", "xnnpack", lambda c: timed(c, base / 2 * rng.lognormal(0, 0.03, 200))),
    )
    found = json_row(report_json(capsys, url), "int8", "xnnpack")["speedup"]
    assert found["verdict"] == "faster" and 1 < found["low"] < found["ratio"] < found["high"]
    assert found["ratio"] == pytest.approx(2.0, rel=0.02)
    assert found["text"] == f"{found['ratio']:.2f}× ({found['low']:.2f}–{found['high']:.2f})"
    text = report_text(capsys, url)
    assert found["text"] in table_line(text, "int8", "xnnpack")
    assert f"({found['ratio']:.2f}× fp32, 95 % CI {found['low']:.2f}–{found['high']:.2f})" in text  # Ship on …


def test_a_cell_with_summaries_only_has_no_interval_rather_than_an_invented_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    """benchmark_model prints a median but no raw samples."""
    url = stored(tmp_path, measured, only("int8", "xnnpack", lambda c: timed(c, np.array([]))))
    found = json_row(report_json(capsys, url), "int8", "xnnpack")["speedup"]
    assert (found["low"], found["high"], found["verdict"]) == (None, None, "no interval")
    assert found["text"] == f"{found['ratio']:.2f}×, no interval (summaries only)"
    assert found["text"] in table_line(report_text(capsys, url), "int8", "xnnpack")


def test_a_cell_of_too_few_runs_has_no_interval_and_says_how_many(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    few = MIN_RUNS - 1
    url = stored(tmp_path, measured, only("int8", "xnnpack", lambda c: timed(c, np.linspace(0.9, 1.1, few))))
    found = json_row(report_json(capsys, url), "int8", "xnnpack")["speedup"]
    assert (found["verdict"], found["note"]) == ("no interval", f"{few} runs")


def test_the_same_stored_runs_give_the_same_intervals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    url = stored(tmp_path, measured)
    first, again = report_json(capsys, url), report_json(capsys, url)
    intervals = [(r["speedup"]["low"], r["speedup"]["high"]) for r in first["rows"] if r["variant"] != "fp32"]
    assert intervals and all(low is not None for low, _ in intervals)
    assert first == again


# --- contention ------------------------------------------------------------------------------------------


def test_a_contended_cell_is_marked_in_the_terminal_markdown_and_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    url = stored(tmp_path, measured, only("int8", "xnnpack", flagged))
    text = report_text(capsys, url)
    assert "│ ok ⚠ " in table_line(text, "int8", "xnnpack")
    assert "│ ok ⚠ " not in table_line(text, "int8", "cpu") + table_line(text, "fp32", "xnnpack")
    assert f"⚠ local × int8 × xnnpack × interpreter × 1t measured under contention: {REASON}" in text
    markdown = report_text(capsys, url, "--markdown", "-")
    assert markdown.count("| int8 | ok ⚠ |") == 1 and markdown.count("| ok ⚠ |") == 1
    assert f"- ⚠ local × int8 × xnnpack × interpreter × 1t measured under contention: {REASON}" in markdown
    report = report_json(capsys, url)
    assert [(r["variant"], r["delegate"], r["noise"]) for r in report["rows"] if r["contended"]] == [
        ("int8", "xnnpack", REASON)
    ]


def test_a_contended_fp32_is_named_as_the_divisor_of_its_configurations_speed_ups(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    url = stored(tmp_path, measured, only("fp32", "cpu", flagged))
    text = report_text(capsys, url)
    assert "│ ok ⚠ " in table_line(text, "fp32", "cpu")
    assert (
        f"⚠ local × fp32 × cpu × interpreter × 1t measured under contention: {REASON}; every speed-up in this "
        "configuration is against its p50" in text.replace("\n", " ")
    )


def figures(page: str) -> dict[str, ET.Element]:
    """Each <figure>'s SVG, parsed, by the root id the page gives it (``d1-speedup``)."""
    roots = [ET.fromstring(svg) for svg in re.findall(r"<figure>(<svg.*?</svg>)", page, re.S)]
    return {str(root.get("id")): root for root in roots}


def ids(svg: ET.Element, pattern: str) -> list[str]:
    return [str(e.get("id")) for e in svg.iter() if re.fullmatch(pattern, e.get("id") or "")]


def element(svg: ET.Element, gid: str) -> str:
    """The element with this id, as SVG text (its styles and its texts)."""
    (found,) = [e for e in svg.iter() if e.get("id") == gid]
    return ET.tostring(found, encoding="unicode")


def test_a_contended_cell_is_marked_in_the_html_tables_and_drawn_hollow_in_every_plot(
    tmp_path: Path, measured: StoredRun
) -> None:
    url = stored(tmp_path, measured, only("int8", "xnnpack", flagged))
    page_file = tmp_path / "report.html"
    assert invoke(["report", "--store", url, "--html", str(page_file)]) == 0
    page = page_file.read_text()
    rows = re.findall(r"<tr class='([^']+)'><td class='key'>(\d+)</td><td>(\w+)</td><td>([^<]+)</td>", page)
    (number,) = [n for classes, n, variant, status in rows if "contended" in classes.split()]
    assert [(v, s) for c, n, v, s in rows if n == number] == [("int8", "ok ⚠")]
    note = f"⚠ local × int8 × xnnpack × interpreter × 1t measured under contention: {REASON}"
    assert f"<li>{html.escape(note)}</li>" in page
    svgs = figures(page)
    for plot in ("d1-accuracy", "d1-distribution", "d1-speedup"):
        assert "measured under contention" in element(svgs[plot], f"{plot}-legend-contention"), plot
        assert ids(svgs[plot], r".*-contended-\d+") == [f"{plot}-contended-{number}"], plot  # that cell only
        assert "fill: #ffffff" in element(svgs[plot], f"{plot}-contended-{number}"), plot  # hollow
    over_time = svgs["d1-over-time"]
    (latency,) = ids(over_time, r"d1-over-time-contended-\d+-p50-int8")
    assert "fill: #ffffff" in element(over_time, latency)
    assert "measured under contention" in element(over_time, "d1-over-time-legend")


# --- no labels -------------------------------------------------------------------------------------------


def unlabelled(cell: CellResult) -> CellResult:
    """As scored against an input set without labels (synthetic inputs): no top-1, fidelity still measured."""
    if cell.accuracy is None:
        return cell
    return dataclasses.replace(cell, accuracy=dataclasses.replace(cell.accuracy, top1=None, correct=[]))


def test_a_run_without_labels_says_no_labels_where_top1_would_be(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    url = stored(tmp_path, measured, unlabelled)
    text = report_text(capsys, url)
    for variant in ("fp32", "int8"):
        for delegate in ("xnnpack", "cpu"):
            line = table_line(text, variant, delegate)
            assert re.search(r"│ ok +│ no labels │ +— │", line), line
    assert "top-1: no labels." in text  # Ship on local: …
    markdown = report_text(capsys, url, "--markdown", "-")
    assert markdown.count("| ok | no labels | — |") == len(measured.cells)
    report = report_json(capsys, url)
    assert {(r["top1"], r["top1_note"]) for r in report["rows"]} == {(None, "no labels")}


def test_the_html_page_says_no_labels_under_the_accuracy_plot_and_over_time(
    tmp_path: Path, measured: StoredRun
) -> None:
    url = stored(tmp_path, measured, unlabelled)
    page_file = tmp_path / "report.html"
    assert invoke(["report", "--store", url, "--html", str(page_file)]) == 0
    page = page_file.read_text()
    assert "<td>no labels</td>" in page and "<td>0.0</td>" not in page
    caption = re.search(r"<figcaption>Not in this plot[^<]*</figcaption>", page)
    assert caption and caption.group(0).count(": no labels") == len(measured.cells)
    assert "no top-1 to plot: no labels" in ET.tostring(figures(page)["d1-over-time"], encoding="unicode")


def test_the_run_table_says_no_labels_too(measured: StoredRun) -> None:
    console = Console(record=True, width=200)
    table.render(table.rows([unlabelled(c) for c in measured.cells], measured.manifest), "run", console)
    lines = [line for line in console.export_text().splitlines() if re.match(r"│ (fp32|int8) ", line)]
    assert len(lines) == len(measured.cells) and all("│ no labels │" in line for line in lines)


def as_regression(cell: CellResult) -> CellResult:
    """As a runner scores a model whose outputs are no class distribution: no top-1 agreement, each output's
    cosine to the host fp32 outputs, MAE against float labels."""
    if cell.accuracy is None:
        return cell
    accuracy = dataclasses.replace(
        cell.accuracy, top1=None, fp32_agreement=None, correct=[], agree=[], task="regression", mae=0.0123
    )
    return dataclasses.replace(cell, accuracy=accuracy)


def test_where_top1_agreement_does_not_apply_the_worst_outputs_cosine_is_the_fidelity_figure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    url = stored(tmp_path, measured, as_regression)
    text = report_text(capsys, url)
    for cell in measured.cells:
        assert cell.accuracy and cell.accuracy.outputs, "the runner scores every output"
        worst = min(o.cosine for o in cell.accuracy.outputs if o.cosine is not None)
        line = table_line(text, cell.variant, cell.delegate)
        assert f"│ MAE 0.0123 │     — │ cos {worst:.4f} │" in line, line
    report = report_json(capsys, url)
    assert all(r["fp32_agreement"] is None and r["worst_output_cosine"] for r in report["rows"])


def test_labels_that_score_no_output_read_not_scored_with_the_runners_reason_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    reason = "labels of 3 values a sample match no output's size"

    def mismatched(cell: CellResult) -> CellResult:
        accuracy = unlabelled(cell).accuracy
        return dataclasses.replace(cell, accuracy=accuracy and dataclasses.replace(accuracy, labels_note=reason))

    url = stored(tmp_path, measured, mismatched)
    text = report_text(capsys, url)
    assert all("│ not scored │" in table_line(text, c.variant, c.delegate) for c in measured.cells)
    assert text.count(f"top-1 not scored on local: {reason}") == 1
    assert report_text(capsys, url, "--markdown", "-").count(f"- top-1 not scored on local: {reason}") == 1


def far_head(cell: CellResult) -> CellResult:
    """int8's output 0 as a box head would read if its variant moved the boxes by 60 % of their spread."""
    if cell.variant != "int8" or cell.accuracy is None or not cell.accuracy.outputs:
        return cell
    far = dataclasses.replace(cell.accuracy.outputs[0], name="regressors", rel_error=0.6)
    return dataclasses.replace(cell, accuracy=dataclasses.replace(cell.accuracy, outputs=[far]))


def test_the_worst_head_stands_beside_agreement_and_a_far_one_is_warned_about_in_every_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    url = stored(tmp_path, measured, far_head)
    text = report_text(capsys, url)
    assert "│ regressors 60.0% ⚑ │" in table_line(text, "int8", "xnnpack")
    fp32 = table_line(text, "fp32", "xnnpack")
    assert "⚑" not in fp32 and re.search(r"│ +probs \d+\.\d% │", fp32), fp32  # the example names its output probs
    warning = "output regressors: RMS error 60% of its spread against the host fp32 model (warned past 30%)"
    assert text.count(f"⚑ int8: {warning}") == 1
    assert f"- ⚑ int8: {warning}" in report_text(capsys, url, "--markdown", "-")
    row = json_row(report_json(capsys, url), "int8", "xnnpack")
    assert (row["worst_head"], row["worst_head_error"], row["head_warning"]) == ("regressors", 0.6, warning)


# --- the page's SVG ids ----------------------------------------------------------------------------------


def test_every_svg_id_on_a_page_of_two_devices_is_unique_and_every_reference_stays_in_its_figure(
    tmp_path: Path, measured: StoredRun
) -> None:
    url = stored(tmp_path, measured, only("int8", "xnnpack", flagged), devices=("pi4", "pixel"))
    page_file = tmp_path / "report.html"
    assert invoke(["report", "--store", url, "--html", str(page_file)]) == 0
    page = page_file.read_text()
    ids = re.findall(r"\bid=\"([^\"]+)\"", page)
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    svgs = re.findall(r"<figure>(<svg.*?</svg>)", page, re.S)
    assert len(svgs) == 10  # five per device
    for svg in svgs:
        own = set(re.findall(r"\bid=\"([^\"]+)\"", svg))
        references = set(re.findall(r"url\(#([^)]+)\)", svg)) | set(re.findall(r"href=\"#([^\"]+)\"", svg))
        assert references and references <= own, svg[:60]
