"""`edgebench devices setup` on a board it cannot set up: each is one line naming the board and what it lacks.

The board is Debian's real OpenSSH on 127.0.0.1 (this machine playing the board) and pip is the real pip;
the emulated arm64 board's specs (tests/test_board.py) cover setting up from scratch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.devices import provision
from edgebench.errors import EdgebenchError
from tests.conftest import require
from tests.support.filesystems import mounted
from tests.support.sshd import SshServer, ssh_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with ssh_server(require("sshd", "openssh-server"), tmp_path_factory.mktemp("sshd")) as server:
        yield server


def inventory(path: Path, server: SshServer, workdir: Path) -> Path:
    settings = {
        "host": "127.0.0.1",
        "port": server.port,
        "user": server.user,
        "key": str(server.user_key),
        "host_key": server.host_key_line,
        "known_hosts": str(path.parent / "known_hosts"),
        "workdir": str(workdir),
    }
    path.write_text("[devices.pi]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in settings.items()) + "\n")
    return path


def one_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    code = invoke(argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return code, lines[0]


def test_a_board_without_space_for_the_runtime_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sshd: SshServer
) -> None:
    with mounted(tmp_path / "small", size_kb=2048) as small:  # far less than numpy and LiteRT need
        lab = inventory(tmp_path / "lab.toml", sshd, small / "edgebench")
        code, line = one_error(capsys, ["devices", "setup", "pi", "--offline", "--inventory", str(lab)])
    assert code == 2
    assert line.startswith("edgebench: device pi: no space left on the board for ai-edge-litert: ")
    assert "MB needed in" in line and "MB free" in line


class Board:
    """A board's shell as far as setup sees it: the probe's answer, everything else refused."""

    def __init__(self, probe: tuple[int, str]) -> None:
        self.probe = probe

    def run(self, command: str) -> tuple[int, str, str]:
        if command.startswith("python3 -c"):
            return self.probe[0], self.probe[1], "sh: 1: python3: not found" if self.probe[0] else ""
        return 1, "", ""

    def put(self, local: Path, remote: str) -> None:
        raise AssertionError("nothing may be sent to a board that cannot take it")


def test_a_board_without_python3_is_one_line_saying_what_to_install() -> None:
    with pytest.raises(EdgebenchError) as refused:
        provision.setup(Board((127, "")), "pi", "/home/pi/edgebench", offline=True)
    assert str(refused.value) == "device pi: no python3 on the board (install python3 and python3-venv there)"


def test_a_platform_with_no_wheel_is_one_line_with_pips_reason() -> None:
    riscv = json.dumps({"machine": "riscv64", "python": "3.11", "glibc": "2.36"})
    with pytest.raises(EdgebenchError) as refused:  # the real pip, asked for wheels nobody builds
        provision.setup(Board((0, riscv)), "pi", "/home/pi/edgebench", offline=True)
    assert str(refused.value).startswith("device pi: no tflite-runtime wheel for manylinux_2_36_riscv64, Python 3.11")


def test_the_runtime_follows_the_board() -> None:
    arm64, armv7 = provision.Platform("aarch64", "3.11", "2.36"), provision.Platform("armv7l", "3.11", "2.36")
    assert provision.choose_runtime(arm64, None) is provision.Runtime.LITERT
    assert provision.choose_runtime(armv7, None) is provision.Runtime.TFLITE  # no ai-edge-litert wheel there
    assert provision.choose_runtime(armv7, provision.Runtime.LITERT) is provision.Runtime.LITERT
    assert arm64.pip_platforms()[:2] == ["manylinux_2_36_aarch64", "manylinux_2_35_aarch64"]
    assert arm64.pip_platforms()[-1] == "manylinux2014_aarch64"


class Offline(Board):
    """A board with python3 whose pip reaches no package index; every other command succeeds."""

    def run(self, command: str) -> tuple[int, str, str]:
        if "pip install" in command:
            return 1, "", "ERROR: Could not find a version that satisfies the requirement numpy\n" + NO_INDEX_LINE
        return super().run(command) if command.startswith("python3 -c") else (0, "", "")


NO_INDEX_LINE = "ERROR: No matching distribution found for numpy"  # pip's last line there (the emulated board's)


def test_a_board_that_reaches_no_package_index_is_pointed_to_offline_setup() -> None:
    arm64 = json.dumps({"machine": "aarch64", "python": "3.11", "glibc": "2.36"})
    with pytest.raises(EdgebenchError) as refused:
        provision.setup(Offline((0, arm64)), "pi", "/home/pi/edgebench")
    assert str(refused.value) == (
        f"device pi: installing ai-edge-litert with pip failed: {NO_INDEX_LINE} "
        "(no package index from the board? --offline sends the wheels from here)"
    )
