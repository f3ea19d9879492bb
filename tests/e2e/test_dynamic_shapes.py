"""Real models whose inputs are dynamic, measured end to end on this machine: an audio front-end whose [-1, -1]
placeholder (1x1) runs nowhere, given its size by --input-shape under either of its names, and a free-batch
embedding model that needs none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from device_runner.flatbuffer import read_model_file
from edgebench.cli import invoke
from edgebench_records import read_manifest
from tests.support.real_models import DYNAMIC_AUDIO, FREE_BATCH, real_model

pytestmark = pytest.mark.slow
QUICK = ["--runs", "3", "--min-secs", "0", "--warmup-secs", "0", "--synthetic-samples", "4", "--json", "-q"]


def statuses(capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, *flags: str) -> dict[str, str]:
    work = ["--workdir", str(tmp_path / "work"), "--store", str(tmp_path / "h.sqlite")]
    code = invoke(["run", "--model", str(model), "--device", "local", *work, *QUICK, *flags])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (run,) = json.loads(captured.out)["runs"]
    return {f"{row['variant']}/{row['delegate']}": row["status"] for row in run["rows"]}


def test_an_audio_front_end_runs_at_the_size_given_by_its_signature_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    flags = ["--variants", "fp16", "--delegates", "xnnpack,cpu", "--input-shape", "input:1x1280"]
    found = statuses(capsys, tmp_path, real_model(DYNAMIC_AUDIO), *flags)
    assert found == {f"{v}/{d}": "ok" for v in ("given", "fp16") for d in ("xnnpack", "cpu")}


def test_int8_of_an_audio_front_end_calibrates_at_the_size_given_by_its_tensor_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = real_model(DYNAMIC_AUDIO)
    flags = ["--variants", "int8", "--input-shape", "serving_default_input:0:1x1280", "--synthetic-samples", "4"]
    code = invoke(["convert", "--model", str(model), "--workdir", str(tmp_path), "--json", "-q", *flags])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    folder = Path(json.loads(captured.out)["directory"])
    (int8,) = [v for v in read_manifest(folder).variants if v.name == "int8"]
    assert int8.status == "ok", int8.message
    (made,) = read_model_file(folder / (int8.file or "")).inputs
    assert made.shape == [1, 1280] and made.declared_shape == [-1, -1]  # calibrated at 1x1280, still dynamic


def test_a_free_batch_axis_needs_no_size(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    found = statuses(capsys, tmp_path, real_model(FREE_BATCH), "--variants", "fp16", "--delegates", "xnnpack")
    assert found == {"given/xnnpack": "ok", "fp16/xnnpack": "ok"}
