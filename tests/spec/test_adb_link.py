"""The pieces of the ADB path that need no phone: exit statuses over shell v1, the checksum, the inventory."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from adb_shell.adb_message import checksum as adb_shell_checksum

from edgebench.devices.adb import fast_checksum, unwrap, wrap
from edgebench.errors import EdgebenchError, LinkLost
from edgebench.inventory import AdbTarget, load_inventory


@pytest.mark.parametrize("size", [0, 1, 255, 65_536, 300_001])
def test_the_fast_checksum_equals_adb_shells_own(size: int) -> None:
    data = os.urandom(size)
    assert fast_checksum(data) == adb_shell_checksum(data) == fast_checksum(bytearray(data))


def test_a_wrapped_command_reports_its_exit_status_even_when_it_exits_early() -> None:
    import subprocess

    out = subprocess.run(["/bin/sh", "-c", wrap("echo hi; exit 3")], capture_output=True, text=True, check=True)
    assert unwrap(out.stdout, "x") == (3, "hi\n")


def test_output_cut_before_the_status_is_a_lost_link() -> None:
    with pytest.raises(LinkLost, match="ended without its exit status"):
        unwrap("partial output\n", "ls")


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('transport = "usb3"', "device pixel: transport = 'usb3' (choose adb-server or direct)"),
        ('runner = "python"', "device pixel: runner = 'python' (choose app or benchmark_model)"),
        ('runner = "benchmark_model"', 'runner = "benchmark_model" needs benchmark_model = "<path on this host>"'),
        ('host = "10.0.0.2"', "device pixel: unknown setting host"),
    ],
)
def test_an_adb_inventory_entry_is_checked_when_read(tmp_path: Path, entry: str, expected: str) -> None:
    path = tmp_path / "edgebench.toml"
    path.write_text(f'[devices.pixel]\nkind = "adb"\nserial = "R5CT1234ABC"\n{entry}\n')
    with pytest.raises(EdgebenchError, match=re.escape(f"inventory {path}: ") + ".*" + re.escape(expected)):
        load_inventory(str(path))


def test_a_good_adb_entry_gets_the_documented_defaults(tmp_path: Path) -> None:
    path = tmp_path / "edgebench.toml"
    path.write_text('[devices.pixel]\nkind = "adb"\nserial = "192.168.1.50:5555"\n')
    target = load_inventory(str(path)).devices["pixel"]
    assert target == AdbTarget(name="pixel", serial="192.168.1.50:5555")
    assert (target.transport, target.runner, target.workdir) == ("adb-server", "app", "/data/local/tmp/edgebench")
    assert target.over_tcp
