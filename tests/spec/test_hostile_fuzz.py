"""Random flag values and junk files fed to every command: the exit code is always 0, 1 or 2 and nothing
prints a traceback or an internal error (the conftest turns one into a failure with its exception).

Every example gets a model that cannot load, so no example converts or measures for real: what is
explored is the parsing and checking in front of the work, quickly. Derandomised, so CI is repeatable.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgebench.cli import cli, invoke
from tests.support.real_models import real_model

JUNK_FILES = {
    "empty.keras": b"",
    "text.keras": b"not a model\n",
    "binary.tflite": bytes(range(256)) * 4,
    "half.tflite": b"\x1c\x00\x00\x00TFL3" + b"\xff" * 40,
    "bad.npz": b"PK\x03\x04 truncated zip",
    "bad.toml": b"[devices.pi\nport = ",
    "binary.json": b"\x89PNG\r\n\x1a\n\x00\x00",
    "store.sqlite": b"SQLite format 3\x00" + b"\x00" * 84,
}
VALUES = [
    "",
    " ",
    ",",
    "-",
    "0",
    "-1",
    "1-",
    "3-1",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "2,2",
    "latest",
    "local",
    "xnnpack",
    "external:",
    "a=b",
    "=",
    "ünïcödé ✓",
    "x" * 300,
    "$(touch pwned)",
    "../../etc/passwd",
    "postgresql://nobody@127.0.0.1:1/none",
    "mysql://nobody@127.0.0.1:1/none",
    "input_1:1x64x64x3",  # --input-shape: well formed, malformed, for a tensor name with a colon
    "x:1xAx3",
    "x:0",
    ":1x2",
    "serving_default_x:0:1x224x224x3",
    "1" * 5000,  # more digits than int() reads
    "-dash.keras",  # a path that reads as a flag
    "-wk",
    "--",
    "1-100000",  # ranges and sizes far past any machine
    "0-100000",
    "10000000",
    "x:100000x100000",
    os.fsdecode(b"m-\xff.keras"),  # a path that is not UTF-8, as Python hands it over (surrogateescape)
]
# Kept out of the draw: --help and --version end before any work, --debug prints tracebacks on purpose.
SKIPPED = {"--help", "-h", "--version", "--debug", "--accept-new-host-key"}
COMMANDS = [
    ["run"],
    ["push"],
    ["convert"],
    ["gate"],
    ["report"],
    ["history"],
    ["forecast"],
    ["devices"],
    ["devices", "check"],
]


def command_of(path: list[str]) -> click.Command:
    command: click.Command | None = cli
    with click.Context(cli) as ctx:
        for name in path:
            assert isinstance(command, click.Group)
            command = command.get_command(ctx, name)
    assert command is not None
    return command


def options_of(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option) and not set(p.opts) & SKIPPED]


@pytest.fixture(scope="module")
def junk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("junk")
    for name, content in JUNK_FILES.items():
        (folder / name).write_bytes(content)
    return {name: folder / name for name in JUNK_FILES}


@st.composite
def argvs(draw: st.DrawFn, path: list[str], junk: dict[str, Path]) -> list[str]:
    # exec cannot pass NUL; undecodable bytes arrive as surrogates, which the real process prints (below)
    text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\0"), max_size=12)
    values = st.sampled_from([*VALUES, *(str(p) for p in junk.values())]) | text
    argv = [*path]
    if path == ["devices", "check"]:
        argv.append(draw(values))
    # Models that cannot load first; a drawn value for the same flag comes later and wins. --data is
    # optional (synthetic inputs without it), so it is sometimes left out.
    data = ["--data", str(junk["bad.npz"])] if draw(st.booleans()) else []
    if path[0] in ("run", "push", "convert", "forecast"):
        model = draw(st.sampled_from(["empty.keras", "text.keras", "binary.tflite", "half.tflite"]))
        argv += ["--model", str(junk[model]), *(data if path[0] != "forecast" else [])]  # forecast reads no data
    if path[0] == "gate":
        argv += ["--baseline-model", str(junk["text.keras"]), "--candidate-model", str(junk["empty.keras"]), *data]
    options = options_of(command_of(path))
    for option in draw(st.lists(st.sampled_from(options), max_size=6, unique_by=lambda o: o.name)):
        argv.append(option.opts[0])
        if not option.is_flag:
            argv.append(draw(values))
    return argv


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_flags_and_junk_files_end_in_a_known_exit_code_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    junk: dict[str, Path],
    path: list[str],
    data: st.DataObject,
) -> None:
    monkeypatch.chdir(tmp_path)  # a drawn --workdir or output file lands in the test's own folder
    monkeypatch.setenv("EDGEBENCH_STORE", str(tmp_path / "h.sqlite"))
    monkeypatch.delenv("EDGEBENCH_INVENTORY", raising=False)
    argv = data.draw(argvs(path, junk))
    code = invoke(argv)
    err = capsys.readouterr().err
    assert code in (0, 1, 2), (argv, err)
    assert "Traceback" not in err, (argv, err)


def test_an_argument_that_is_not_utf8_is_echoed_back_without_a_crash(tmp_path: Path) -> None:
    edgebench = Path(sys.executable).with_name("edgebench")
    proc = subprocess.run(
        [os.fsencode(edgebench), b"devices", b"--inventory", b"lab-\xff.toml"],
        capture_output=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == "edgebench: inventory file not found: lab-?.toml"


def hostile_argvs(junk: dict[str, Path]) -> dict[str, list[str]]:
    """One command per new argument shape; each must be refused before any conversion or measurement."""
    model = str(real_model("hand_landmark_lite"))  # a real .tflite: refusals come from the size checks, not its load
    return {
        "model path with a leading dash": ["run", "--model", "-dash.tflite"],
        "data path with a leading dash": ["convert", "--model", model, "--data", "-d.npz"],
        "workdir with a leading dash": ["convert", "--model", str(junk["half.tflite"]), "--workdir", "-wk"],
        "huge thread range": ["run", "--model", model, "--threads", "1-100000"],
        "huge cpu range": ["run", "--model", model, "--cpus", "0-100000"],
        "huge synthetic set": ["convert", "--model", model, "--synthetic-samples", "10000000"],
        "huge input shape": ["convert", "--model", model, "--input-shape", "input_1:1x100000x100000x3"],
        "input shape of an unknown input": ["convert", "--model", model, "--input-shape", "x:100000x100000"],
    }


@pytest.mark.parametrize(
    "shape",
    [
        "model path with a leading dash",
        "data path with a leading dash",
        "workdir with a leading dash",
        "huge thread range",
        "huge cpu range",
        "huge synthetic set",
        "huge input shape",
        "input shape of an unknown input",
    ],
)
def test_each_hostile_argument_shape_is_refused_in_one_line_at_once(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    junk: dict[str, Path],
    shape: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EDGEBENCH_STORE", str(tmp_path / "h.sqlite"))
    argv = hostile_argvs(junk)[shape]
    start = time.monotonic()
    code = invoke(argv)
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(("edgebench:", "Error:"))]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (argv, err)
    assert elapsed < 10, f"{shape}: {elapsed:.1f} s"  # bounds checked before anything is expanded or allocated


@pytest.mark.parametrize(
    "argv",
    [
        [b"run", b"--model", b"m-\xff.tflite"],
        [b"convert", b"--model", b"half-\xff.tflite"],
        [b"convert", b"--model", b"half.tflite", b"--data", b"d-\xff.npz"],
        [b"run", b"--model", b"half.tflite", b"--workdir", b"-wk-\xff"],
    ],
    ids=["missing model", "junk model", "missing data", "workdir"],
)
def test_a_path_that_is_not_utf8_is_refused_in_one_line(
    tmp_path: Path, junk: dict[str, Path], argv: list[bytes]
) -> None:
    (tmp_path / os.fsdecode(b"half-\xff.tflite")).write_bytes(junk["half.tflite"].read_bytes())
    (tmp_path / "half.tflite").write_bytes(junk["half.tflite"].read_bytes())
    edgebench = Path(sys.executable).with_name("edgebench")
    env = {**os.environ, "EDGEBENCH_STORE": str(tmp_path / "h.sqlite")}
    proc = subprocess.run([os.fsencode(edgebench), *argv], capture_output=True, cwd=tmp_path, env=env, check=False)
    err = proc.stderr.decode(errors="replace")
    lines = [line for line in err.splitlines() if line.startswith(("edgebench:", "Error:"))]
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in err, (argv, err)
