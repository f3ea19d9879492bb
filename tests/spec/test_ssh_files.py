"""An SSH device's key and known_hosts must be plain files: a FIFO would block the command until its timeout
and a device file would feed paramiko garbage. Both are refused before connecting, in one line naming them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from edgebench.cli import invoke


def inventory(tmp_path: Path, key: Path, known_hosts: Path) -> Path:
    path = tmp_path / "edgebench.toml"
    path.write_text(
        '[devices.pi]\nkind = "ssh"\nhost = "127.0.0.1"\nport = 9\nuser = "pi"\n'
        f'key = "{key}"\nknown_hosts = "{known_hosts}"\nconnect_timeout_s = 30\n'
    )
    return path


def check(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, float]:
    start = time.monotonic()
    code = invoke(["devices", "--inventory", str(path), "check", "pi", "--accept-new-host-key"])
    return code, capsys.readouterr().err.strip(), time.monotonic() - start


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_a_key_that_is_not_a_regular_file_is_named_not_called_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str
) -> None:
    key = {"fifo": tmp_path / "key.fifo", "device": Path("/dev/zero"), "folder": tmp_path / "keys"}[kind]
    if kind == "fifo":
        os.mkfifo(key)
    elif kind == "folder":
        key.mkdir()
    code, err, seconds = check(capsys, inventory(tmp_path, key, tmp_path / "known_hosts"))
    what = "a folder" if kind == "folder" else "not a regular file (a pipe, socket or device)"
    assert (code, err) == (2, f"edgebench: device pi: key {key} is {what}")
    assert seconds < 10  # refused up front, not after a blocked read or the connect timeout


def test_a_known_hosts_fifo_is_refused_before_anything_blocks_on_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    key, known_hosts = tmp_path / "id", tmp_path / "known_hosts"
    key.write_text("not used: refused first\n")
    os.mkfifo(known_hosts)
    code, err, seconds = check(capsys, inventory(tmp_path, key, known_hosts))
    assert (code, err) == (
        2,
        f"edgebench: device pi: known_hosts {known_hosts} is not a regular file (a pipe, socket or device)",
    )
    assert seconds < 10
