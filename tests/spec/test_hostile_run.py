"""`edgebench run` against hostile input and faults: bad flags are refused before anything runs, nothing
measured is lost (a kill, a full disk, a read-only store), and stored history is never rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_hostile_run import edgebench, error_line, sweep

BAD_FLAGS = [
    (["--threads", "4-2"], "--threads"),
    (["--threads", ""], "--threads"),
    (["--threads", "0"], "--threads"),
    (["--threads", "1,1"], "--threads"),
    (["--threads", "two"], "--threads"),
    (["--delegates", "xnnpack,xnnpack"], "--delegates"),
    (["--delegates", ","], "--delegates"),
    (["--delegates", "external:"], "--delegates"),
    (["--delegates", "external:/lib/x.so;novalue"], "--delegates"),
    (["--delegates", "warp-drive"], "--delegates"),
    (["--delegates", "xnnpack:fast"], "--delegates"),
    (["--variants", "fp32,fp32"], "--variants"),
    (["--variants", ""], "--variants"),
    (["--api", ""], "--api"),
    (["--api", "interpreter,interpreter"], "--api"),
    (["--cpus", "3-1"], "--cpus"),
    (["--cpus", "0,0-1"], "--cpus"),
    (["--cpus", "-1"], "--cpus"),
    (["--min-secs", "nan"], "--min-secs"),
    (["--warmup-secs", "nan"], "--warmup-secs"),
    (["--cell-timeout", "inf"], "--cell-timeout"),
    (["--cooldown-s", "-inf"], "--cooldown-s"),
    (["--device", ""], "--device"),
    (["--device", "local,local"], "--device"),
    (["--tag", "no-equals-sign"], "--tag"),
]


@pytest.mark.parametrize(("argv", "flag"), BAD_FLAGS, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_a_bad_sweep_flag_is_refused_naming_it_before_anything_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], flag: str
) -> None:
    work, store = tmp_path / "work", tmp_path / "h.sqlite"
    code, _, err = edgebench(capsys, "run", "--workdir", str(work), "--store", str(store), *argv)
    assert code == 2
    assert flag in error_line(err)
    assert not work.exists() and not store.exists()  # no empty run can become `latest`


OUTPUT_FLAGS = [
    ["report", "--html"],
    ["report", "--markdown"],
    ["history", "--csv"],
    ["history", "--export", "latest", "--to"],
]


@pytest.mark.parametrize("argv", OUTPUT_FLAGS, ids=" ".join)
@pytest.mark.parametrize("where", ["missing-folder", "a-folder"])
def test_an_output_file_that_cannot_be_written_is_refused_before_the_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], where: str
) -> None:
    target = tmp_path / "nowhere" / "out.txt" if where == "missing-folder" else tmp_path
    code, _, err = edgebench(capsys, *argv, str(target), "--store", str(tmp_path / "h.sqlite"))
    assert code == 2
    line = error_line(err)
    assert argv[-1] in line and ("does not exist" in line if where == "missing-folder" else "is a folder" in line)


@pytest.mark.parametrize("argv", [["report"], ["history"], ["gate", "--baseline", "latest", "--candidate", "latest"]])
def test_a_read_only_command_never_creates_a_store_for_a_mistyped_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    typo = tmp_path / "histroy.sqlite"
    code, _, err = edgebench(capsys, *argv, "--store", str(typo))
    assert code == 2
    assert error_line(err) == f"edgebench: store {typo} does not exist (measure with `edgebench run`, or check --store)"
    assert not typo.exists()


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"\x89PNG\r\n\x1a\n not a plan", "not a JSON file (byte 0 is not UTF-8 text)"), (b"{plan", "not valid JSON")],
)
def test_a_plan_that_is_not_json_is_one_line_from_the_runner(tmp_path: Path, content: bytes, why: str) -> None:
    plan = tmp_path / "plan.json"
    plan.write_bytes(content)
    proc = sweep(plan, tmp_path / "results")
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"device_runner: {plan}: {why}")
