"""Report views for the people who read them: fp32 first, devices side by side, cells to a table file,
recommendations that read as sentences."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.records import StoredRun
from edgebench.report.analysis import Constraints, comparison_rows, device_matrix, recommend
from edgebench.report.cells import COLUMNS
from edgebench.store import Store, store_url
from tests.conftest import save
from tests.integration.test_report import faster, row


def test_without_constraints_the_recommendation_says_so_in_a_sentence() -> None:
    rows = [
        row(variant="fp32"),
        row(variant="int8", p50_ms=4.0, size_kb=1000.0, top1=0.975, top1_drop_points=1.5, speedup=faster(2.5)),
        row(variant="fp16", p50_ms=8.0, size_kb=2000.0, speedup=faster(1.25)),
    ]
    (rec,) = recommend(rows, Constraints())
    assert rec.reason == (
        "int8 × xnnpack (interpreter, 1 thr) — fastest of 3 cells; no constraints given. "
        "p50 4.000 ms (2.50× fp32, 95 % CI 2.40–2.60), 1000.0 KB, top-1 97.5 % (-1.5 pts)."
    )


def test_fp32_comes_first_in_every_configuration(measured: StoredRun) -> None:
    reordered = dataclasses.replace(measured, cells=sorted(measured.cells, key=lambda c: c.variant, reverse=True))
    rows = comparison_rows([reordered])
    for delegate in {r.delegate for r in rows}:
        assert next(r.variant for r in rows if r.delegate == delegate) == "fp32"


def test_the_matrix_takes_each_variants_fastest_configuration_and_marks_each_devices_best() -> None:
    rows = [
        row(device="pi4", variant="fp32", delegate="xnnpack", p50_ms=10.0),
        row(device="pi4", variant="fp32", delegate="cpu", p50_ms=30.0),
        row(device="pi4", variant="int8", delegate="xnnpack", p50_ms=4.0),
        row(device="pixel", variant="fp32", delegate="gpu", p50_ms=2.0),
        row(device="pixel", variant="int8", delegate="xnnpack", p50_ms=3.0),
        row(device="pixel", variant="int8", delegate="nnapi", status="delegate_failed", p50_ms=None),
    ]
    matrix = device_matrix(rows)
    assert matrix is not None and matrix.devices == ["pi4", "pixel"] and matrix.variants == ["fp32", "int8"]
    picked = {key: (e.row.delegate, e.best_on_device) for key, e in matrix.entries.items()}
    assert picked == {
        ("fp32", "pi4"): ("xnnpack", False),
        ("int8", "pi4"): ("xnnpack", True),
        ("fp32", "pixel"): ("gpu", True),
        ("int8", "pixel"): ("xnnpack", False),
    }
    assert device_matrix([r for r in rows if r.device == "pi4"]) is None  # one device: nothing to set side by side


@pytest.fixture
def two_devices(tmp_path: Path, measured: StoredRun) -> str:
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        save(store, measured, "old-pi", "pi4", "2026-11-20T10:00:00+00:00", {})
        save(store, measured, "pi", "pi4", "2026-11-24T10:00:00+00:00", {"release": "4.2"})
        save(store, measured, "phone", "pixel", "2026-11-24T11:00:00+00:00", {})
    return url


def test_a_report_across_devices_sets_them_side_by_side_in_every_format(
    capsys: pytest.CaptureFixture[str], two_devices: str
) -> None:
    assert invoke(["report", "--device", "pi4,pixel", "--latest", "--store", two_devices, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["runs"] == ["pi", "phone"]
    entries = report["devices_side_by_side"]
    assert {(e["variant"], e["device"]) for e in entries} == {
        (v, d) for v in ("fp32", "int8") for d in ("pi4", "pixel")
    }
    assert sum(e["best_on_device"] for e in entries) == 2
    assert invoke(["report", "--store", two_devices]) == 0
    assert "devices side by side" in capsys.readouterr().out
    assert invoke(["report", "--store", two_devices, "--markdown", "-"]) == 0
    assert "## Devices side by side" in capsys.readouterr().out
    page = Path(two_devices.removeprefix("sqlite:///")).with_name("page.html")
    assert invoke(["report", "--store", two_devices, "--html", str(page)]) == 0
    capsys.readouterr()
    assert "<h2>Devices side by side</h2>" in page.read_text(encoding="utf-8")
    assert invoke(["report", "--device", "pi4", "--store", two_devices, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["devices_side_by_side"] is None


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--device", "pi5"], "edgebench: --device pi5: no run of that device in store"),
        (["pi", "--device", "pixel"], "edgebench: --device pixel: run pi (pi4) is on another device"),
        (["pi", "--latest"], "Error: give RUN ids or --latest, not both"),
    ],
)
def test_a_device_selection_that_cannot_hold_is_one_line(
    capsys: pytest.CaptureFixture[str], two_devices: str, argv: list[str], line: str
) -> None:
    assert invoke(["report", *argv, "--store", two_devices]) == 2
    assert line in capsys.readouterr().err


def test_history_writes_one_row_per_cell_with_every_metric(
    capsys: pytest.CaptureFixture[str], two_devices: str, measured: StoredRun, tmp_path: Path
) -> None:
    out = tmp_path / "cells.csv"
    assert invoke(["history", "--cells", "--device", "pi4", "--store", two_devices, "--csv", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"{2 * len(measured.cells)} cells of 2 runs to {out}"
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert {r["run_id"] for r in rows} == {"old-pi", "pi"}
    stored = {(c.variant, c.delegate): c for c in measured.cells}
    for r in rows:
        cell = stored[(r["variant"], r["delegate"])]
        assert cell.timing is not None and float(r["p50_ms"]) == cell.timing.p50_ms
        assert int(r["timed_runs"]) == len(cell.timing.samples_ms) and r["status"] == "ok"
    assert rows[0]["tags"] in ("", "release=4.2") and rows[0]["device"] == "pi4"
