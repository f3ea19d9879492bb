"""The pieces of the ADB links that need no phone: exit statuses over shell v1, and the checksum."""

from __future__ import annotations

import os

import pytest
from adb_shell.adb_message import checksum as adb_shell_checksum

from edgebench.devices.adb import fast_checksum, unwrap, wrap
from edgebench.devices.remote import LinkLost


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
