"""Report views for the people who read them: fp32 first, devices side by side, cells to a table file,
recommendations that read as sentences."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.report.analysis import comparison_rows
from edgebench.report.cells import COLUMNS
from edgebench.store import Store, store_url
from edgebench_records import StoredRun
from tests.conftest import save


def test_fp32_comes_first_in_every_configuration(measured: StoredRun) -> None:
    reordered = dataclasses.replace(measured, cells=sorted(measured.cells, key=lambda c: c.variant, reverse=True))
    rows = comparison_rows([reordered])
    for delegate in {r.delegate for r in rows}:
        assert next(r.variant for r in rows if r.delegate == delegate) == "fp32"


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
