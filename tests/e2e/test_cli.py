"""The CLI's face: help that teaches, one-line errors naming the culprit, exit codes CI can rely on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from tests.spec.test_cli import one_line_error, run_cli


@pytest.mark.slow
def test_a_corrupt_model_is_a_usage_error_naming_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"this is not a zip archive")
    code, _, err = run_cli(
        capsys, "run", "--model", str(corrupt), "--data", str(EXAMPLE_DATA), "--workdir", str(tmp_path)
    )
    assert code == 2
    assert one_line_error(err).startswith(f"edgebench: cannot load model {corrupt}:")


@pytest.mark.slow
def test_data_without_the_expected_arrays_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "partial.npz"
    np.savez(data, x_train=np.zeros((2, 32, 32, 1)), y_train=np.zeros(2))
    code, _, err = run_cli(
        capsys, "run", "--model", str(EXAMPLE_MODEL), "--data", str(data), "--workdir", str(tmp_path)
    )
    assert code == 2
    assert one_line_error(err).startswith(f"edgebench: data file {data} lacks x_val ")  # and says what it needs
