"""The CLI's face: help that teaches, one-line errors naming the culprit, exit codes CI can rely on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = invoke(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


COMMANDS = [
    [], ["run"], ["push"], ["convert"], ["devices"], ["devices", "check"], ["history"], ["report"], ["gate"], ["tune"]
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "edgebench")
def test_every_help_page_teaches_with_an_example(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    code, out, _ = run_cli(capsys, *command, "--help")
    assert code == 0
    examples = re.search(r"Examples?:\n((?:[ \t]+\S.*\n?)+)", out)
    assert examples, out
    assert f"edgebench {command[0] if command else ''}" in examples.group(1)


HEAVY = ("tensorflow", "numpy", "scipy", "sqlalchemy", "alembic", "rich", "matplotlib", "paramiko")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "edgebench")
def test_help_loads_no_heavy_library(command: list[str]) -> None:
    probe = (
        f"import sys; from edgebench.cli import invoke; invoke({[*command, '--help']!r}); "
        f"print([m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert proc.stderr.strip() == "[]"  # scripts/bench_cli.py times it


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("edgebench:") or "Error" in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_a_missing_model_is_a_usage_error_naming_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(
        capsys, "run", "--model", "nope.keras", "--data", str(EXAMPLE_DATA), "--workdir", str(tmp_path)
    )
    assert code == 2
    assert one_line_error(err) == "edgebench: model file not found: nope.keras"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "--model", str(EXAMPLE_MODEL), "--data", "missing.npz"], "data file not found: missing.npz"),
        (["run", "--model", "mine.keras"], "model file not found: mine.keras"),  # no --data: not a refusal
        (["run", "--input-shape", "x:1xAx3"], "--input-shape 'x:1xAx3'"),
        (["run", "--input-shape", "x:1x3", "--input-shape", "x:1x4"], "input 'x' given twice"),
        (["run", "--task", "segmentation"], "--task"),
        (["run", "--lr", "nan"], "--lr"),
        (["run", "--threads", "one"], "--threads"),
        (["run", "--device", "pixel"], "unknown device 'pixel'"),
        (["run", "--runs", "0"], "--runs"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_with_one_line_naming_the_culprit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], expected: str
) -> None:
    code, _, err = run_cli(capsys, *argv, *(["--workdir", str(tmp_path)] if argv[0] == "run" else []))
    assert code == 2
    assert expected in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(
        capsys, "--debug", "run", "--model", "nope.keras", "--data", str(EXAMPLE_DATA), "--workdir", str(tmp_path)
    )
    assert code == 2
    assert "Traceback" in err and "model file not found: nope.keras" in err


def test_devices_check_local_reports_this_machines_runtime(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "devices", "check", "local", "--json")
    report = json.loads(out)
    assert code == 0 and report["name"] == "local"
    assert report["device"]["runtime"] == "ai_edge_litert" and report["device"]["cores"] >= 1
