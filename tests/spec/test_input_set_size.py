"""An input set sized by a flag is estimated before it is allocated: a huge --synthetic-samples or --input-shape is
refused with the figure, in one line, instead of taking the machine's memory (700,000 samples took 5 GB in 5 s)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from device_runner import inputs
from device_runner.inputs import synthetic_inputs
from edgebench.cli import invoke
from edgebench_records import TensorInfo
from tests.support.real_models import real_model

IMAGE = TensorInfo("image", [1, 224, 224, 3], "float32", 0.0, 0)


def test_the_estimate_names_the_samples_the_inputs_and_the_size() -> None:
    with pytest.raises(ValueError) as refused:
        synthetic_inputs([IMAGE], 10_000_000, 0, {})
    assert str(refused.value) == (
        "10000000 synthetic samples of 'image' 224x224x3 would take 11,215.2 GiB, over the 1 GiB an input set "
        "may hold: give fewer --synthetic-samples, a smaller --input-shape, or --data"
    )


def test_the_largest_set_within_the_bound_is_made_and_one_more_sample_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "SYNTHETIC_MAX_BYTES", 1 << 20)  # the rule, at a size a spec can allocate
    small = TensorInfo("x", [1, 1024], "float32", 0.0, 0)  # 8 KiB a sample as the estimate counts it
    (made,) = synthetic_inputs([small], 128, 0, {})
    assert made.shape == (128, 1024)
    with pytest.raises(ValueError, match="129 synthetic samples"):
        synthetic_inputs([small], 129, 0, {})


def test_convert_refuses_a_huge_synthetic_set_in_one_line_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = real_model("hand_landmark_lite")
    start = time.monotonic()
    argv = ["convert", "--model", str(model), "--variants", "fp32", "--workdir", str(tmp_path)]
    assert invoke([*argv, "--synthetic-samples", "700000"]) == 2
    assert time.monotonic() - start < 60
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("edgebench: model hand_landmark_lite: 700000 synthetic samples of 'input_1' 224x224x3 ")
    assert "GiB, over the 1 GiB an input set may hold" in line
