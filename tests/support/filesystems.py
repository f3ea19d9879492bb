"""Real file-system faults for the specs: a full disk and a read-only folder, as small tmpfs mounts.

Permissions alone cannot make a folder read-only for root (the tests run as root), a mount can.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import missing_part


def _mount(target: Path, options: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        missing_part(f"cannot mount a tmpfs (needs root): {proc.stderr.strip()}")


@contextmanager
def mounted(target: Path, size_kb: int = 4096) -> Iterator[Path]:
    """A folder of its own on a ``size_kb`` tmpfs, unmounted afterwards."""
    _mount(target, f"size={size_kb}k")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def fill(folder: Path) -> Path:
    """Write until the disk under ``folder`` is full; the returned file gives the space back when deleted."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:  # unbuffered: nothing left to fail on close
        try:
            while handle.write(b"\0" * 4096):
                pass
        except OSError:
            pass
    return filler


def make_read_only(folder: Path) -> None:
    """Remount ``folder`` (a ``mounted`` tmpfs) read-only: even root gets EROFS."""
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    assert not os.access(folder, os.W_OK)


def copy_into(source: Path, folder: Path) -> Path:
    target = folder / source.name
    shutil.copy2(source, target)
    return target
