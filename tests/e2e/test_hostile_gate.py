"""`edgebench gate` given hostile input: one line naming the file, key or flag at fault, exit 2, nothing run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.example import EXAMPLE_DATA
from edgebench.store import Store, store_url
from edgebench_records import Manifest


@pytest.mark.slow
def test_two_tflite_files_are_paired_as_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, converted: tuple[Manifest, Path]
) -> None:
    manifest, directory = converted
    record = manifest.variant("int8")
    assert record is not None and record.file
    argv = ["gate", "--baseline-model", str(directory / record.file), "--candidate-model", str(directory / record.file)]
    argv += ["--data", str(EXAMPLE_DATA), "--delegates", "xnnpack", "--runs", "60", "--blocks", "6", "--json"]
    assert invoke([*argv, "--workdir", str(tmp_path), "--store", str(tmp_path / "h.sqlite")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {v["cell"] for v in report["verdicts"]} == {"local · given · xnnpack · interpreter · 1t"}


@pytest.mark.slow
def test_a_delegate_that_corrupts_the_outputs_fails_the_paired_gate_on_both_sides(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, converted: tuple[Manifest, Path], corrupting_delegate: Path
) -> None:
    """The same file on both sides is a legitimate A/A check, and each side is held to its own host reference:
    wrong outputs on both sides are not "nothing changed" but a candidate the gate cannot vouch for."""
    manifest, directory = converted
    record = manifest.variant("fp32")
    assert record is not None and record.file
    model = str(directory / record.file)
    argv = [
        "gate",
        "--baseline-model",
        model,
        "--candidate-model",
        model,
        "--delegates",
        f"external:{corrupting_delegate}",
    ]
    # --precision 0: the 12 runs in 6 blocks as asked; what is checked is the outputs, not how long an A/A pair
    # takes to settle (adaptive, it ran to 65 s on a noisy machine)
    argv += ["--runs", "12", "--blocks", "6", "--precision", "0"]
    argv += ["--workdir", str(tmp_path), "--store", str(tmp_path / "h.sqlite")]
    assert invoke([*argv, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    cell = f"local · given · external:{corrupting_delegate} · interpreter · 1t"
    (status,) = [v for v in report["verdicts"] if v["metric"] == "status"]
    assert (status["cell"], status["verdict"]) == (cell, "regression")
    assert status["detail"].startswith("candidate wrong_output (baseline wrong_output): the gate cannot vouch for it")
    with Store(store_url(str(tmp_path / "h.sqlite"))) as store:
        sides = [store.load_run(run.run_id) for run in store.list_runs()]
    assert sorted(c.status for run in sides for c in run.cells) == ["wrong_output", "wrong_output"]
