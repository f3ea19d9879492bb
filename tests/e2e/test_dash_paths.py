"""Paths that start with "-" are file names, not flags: the converter's own command line passes every path as
FLAG=VALUE, so `--model -m.keras --workdir -wk` converts what it names."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.example import EXAMPLE_MODEL


@pytest.mark.slow
def test_a_model_and_workdir_named_with_a_leading_dash_convert(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLE_MODEL, "-dash.keras")
    assert invoke(["convert", "--model", "-dash.keras", "--workdir", "-wk", "--variants", "fp32", "--json"]) == 0
    (fp32,) = json.loads(capsys.readouterr().out)["variants"]
    assert (fp32["variant"], fp32["status"]) == ("fp32", "ok")
    assert list((tmp_path / "-wk" / "logs").glob("convert-*.log"))
