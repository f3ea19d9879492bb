"""`edgebench gate` given hostile input: one line naming the file, key or flag at fault, exit 2, nothing run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.example import EXAMPLE_DATA
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
