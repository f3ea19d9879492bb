"""`edgebench run --device local`: the whole flow on the bundled example, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import edgebench_records as schema
from edgebench.cli import invoke
from edgebench.resume import RUN_RECORD_NAME
from edgebench_records import CellResult, Manifest, RunRecord
from tests.conftest import stored_run
from tests.support.real_models import FLOAT_WEIGHTS, real_model

pytestmark = pytest.mark.slow
QUICK_ARGS = ["--runs", "5", "--min-secs", "0", "--warmup-secs", "0"]


def run_json(capsys: pytest.CaptureFixture[str], workdir: Path, store: Path, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = invoke(["run", "--workdir", str(workdir), "--store", str(store), "--json", *QUICK_ARGS, *extra])
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == code and len(report["runs"]) == 1
    return code, report["runs"][0]


def test_run_measures_every_variant_and_delegate_and_stores_the_run(
    capsys: pytest.CaptureFixture[str], workdir: Path, converted: tuple[Manifest, Path], tmp_path: Path
) -> None:
    store = tmp_path / "history.sqlite"
    code, report = run_json(capsys, workdir, store)

    assert code == 0
    cells = {(row["variant"], row["delegate"]): row for row in report["rows"]}
    assert set(cells) == {("fp32", "xnnpack"), ("fp32", "cpu"), ("int8", "xnnpack"), ("int8", "cpu")}
    for row in cells.values():
        assert row["status"] == "ok"
        assert 0 < row["p50_ms"] <= row["p90_ms"]
        assert row["init_ms"] > 0 and row["peak_rss_mb"] > 0
        assert row["top1"] > 0.95
    assert cells[("int8", "cpu")]["size_kb"] < cells[("fp32", "cpu")]["size_kb"]

    stored = stored_run(store, report["run_id"])
    results_dir = workdir / "runs" / report["run_id"] / "results"
    assert sorted(stored.cells, key=lambda c: c.key.id) == sorted(
        (schema.read(CellResult, p) for p in results_dir.glob("*.json")), key=lambda c: c.key.id
    )
    assert stored.device == "local" and stored.manifest.model_name == "digits_mobilenet"


def test_the_table_shows_each_cell_with_its_figures(
    capsys: pytest.CaptureFixture[str], workdir: Path, converted: tuple[Manifest, Path], tmp_path: Path
) -> None:
    code = invoke(
        ["run", "--workdir", str(workdir), "--store", str(tmp_path / "h.sqlite"), "--delegates", "cpu", *QUICK_ARGS]
    )
    out = capsys.readouterr().out
    assert code == 0
    for header in ("variant", "delegate", "p50 ms", "p90 ms", "init ms", "load MB", "peak MB", "top-1", "KB"):
        assert header in out
    rows = [line for line in out.splitlines() if line.startswith("│")]  # not the notes under the table
    assert [[cell.strip() for cell in row.split("│")[1:3]] for row in rows] == [["fp32", "cpu"], ["int8", "cpu"]]


def test_resume_measures_only_the_cells_without_a_result(
    capsys: pytest.CaptureFixture[str], workdir: Path, converted: tuple[Manifest, Path], tmp_path: Path
) -> None:
    _, first = run_json(capsys, workdir, tmp_path / "elsewhere.sqlite")
    results_dir = workdir / "runs" / first["run_id"] / "results"
    lost = results_dir / "int8.cpu.interpreter.t1.json"
    lost.unlink()  # as if the run had died before this cell, and so before it was stored
    kept = {p.name: p.read_bytes() for p in results_dir.glob("*.json")}
    store = tmp_path / "h.sqlite"

    code, resumed = run_json(capsys, workdir, store, "--resume", first["run_id"])

    assert code == 0 and resumed["run_id"] == first["run_id"]
    assert lost.exists()
    assert {p.name: p.read_bytes() for p in results_dir.glob("*.json") if p.name in kept} == kept
    assert len(stored_run(store, first["run_id"]).cells) == 4


def test_a_failed_cell_makes_the_exit_code_1_and_is_reported(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    converted: tuple[Manifest, Path],
    tmp_path: Path,
    faulty_delegate: Path,
) -> None:
    code, report = run_json(
        capsys, workdir, tmp_path / "h.sqlite", "--delegates", f"xnnpack,external:{faulty_delegate};mode=fail"
    )
    assert code == 1 and report["exit_code"] == 1
    statuses = {(row["variant"], row["delegate"].split(";")[-1]): row["status"] for row in report["rows"]}
    assert statuses[("fp32", "xnnpack")] == "ok"
    assert statuses[("fp32", "mode=fail")] == "delegate_failed"


def test_a_tflite_with_no_data_is_measured_for_latency_memory_and_fidelity_but_not_accuracy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """What a colleague's .tflite gets with nothing else: every cell measured, accuracy said to be absent."""
    model = real_model(FLOAT_WEIGHTS)
    argv = ["run", "--model", str(model), "--workdir", str(tmp_path / "work"), "--store", str(tmp_path / "h.sqlite")]
    code = invoke([*argv, "--json", "--synthetic-samples", "8", *QUICK_ARGS])
    captured = capsys.readouterr()

    assert code == 0, captured.err
    (run,) = json.loads(captured.out)["runs"]
    # the file as given, and run's default int8 made from it by ai-edge-quantizer (calibrated on the same inputs)
    assert {(row["variant"], row["delegate"], row["status"]) for row in run["rows"]} == {
        (variant, delegate, "ok") for variant in ("given", "int8") for delegate in ("xnnpack", "cpu")
    }
    for row in run["rows"]:
        assert row["p50_ms"] > 0 and row["peak_rss_mb"] > 0
        assert row["top1"] is None  # no labels: never a 0 %
    assert (
        "edgebench: note: no --data: latency, memory and output fidelity on 8 synthetic inputs; "
        "accuracy needs labelled data"
    ) in captured.err
    record = schema.read(RunRecord, tmp_path / "work" / "runs" / run["run_id"] / RUN_RECORD_NAME)
    assert record.data is None and record.options.synthetic_samples == 8


def test_a_sparse_int8_variant_xnnpack_refuses_is_delegate_failed_there_and_measured_on_plain_kernels(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--keep-sparsity stores pruned_int8 sparse, which XNNPACK cannot prepare: the conversion still makes it
    (and fp32), scores it on the host's plain kernels, and only the device's XNNPACK cell fails."""
    workdir = tmp_path / "work"
    extra = ["--variants", "fp32,pruned_int8", "--keep-sparsity", "--epochs", "1"]
    code, report = run_json(capsys, workdir, tmp_path / "h.sqlite", *extra)

    assert code == 1  # a failed cell
    statuses = {(row["variant"], row["delegate"]): row["status"] for row in report["rows"]}
    assert statuses == {
        ("fp32", "xnnpack"): "ok",
        ("fp32", "cpu"): "ok",
        ("pruned_int8", "xnnpack"): "delegate_failed",
        ("pruned_int8", "cpu"): "ok",
    }
    sparse = next(row for row in report["rows"] if (row["variant"], row["delegate"]) == ("pruned_int8", "cpu"))
    assert sparse["top1"] > 0.8  # one epoch of pruning: chance is 0.1
    (manifest_path,) = (workdir / "variants").glob("*/variants.json")
    record = schema.read(Manifest, manifest_path).variant("pruned_int8")
    assert record is not None and record.host_top1 == pytest.approx(sparse["top1"])
    assert any(note.startswith("scored on the host's plain kernels: xnnpack failed") for note in record.notes)
