"""The conversion options: declared once, accepted alike by convert, run, push and gate, carried to the
converter, kept with a run so a resume cannot contradict them; and a user's model measured with no data."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench_records import read_manifest
from edgebench_records.catalogue import Options
from tests.support.real_models import FLOAT_WEIGHTS, real_model


@pytest.mark.slow
def test_convert_records_the_options_the_converter_was_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The real converter process, on a real .tflite, with no data: the manifest says what it used."""
    flags = ["--seed", "3", "--synthetic-samples", "4", "--task", "other", "--input-shape", "input_1:1x64x64x3"]
    model = real_model(FLOAT_WEIGHTS)
    code = invoke(
        ["convert", "--model", str(model), "--variants", "fp16", "--json", "-q", "--workdir", str(tmp_path), *flags]
    )
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    manifest = read_manifest(Path(json.loads(captured.out)["directory"]))
    options = Options(seed=3, synthetic_samples=4, task="other", input_shapes=("input_1:1x64x64x3",))
    assert manifest.options == {**dataclasses.asdict(options), "input_shapes": ["input_1:1x64x64x3"]}
    assert "no --data: sizes and output fidelity on 4 synthetic inputs" in captured.err
