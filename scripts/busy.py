"""Busy loops for the benchmarks that measure under load: processes spinning on the CPU, as other work on a
shared machine would, each killed when the block ends (whatever ends it)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

SPIN = "while True: pass"


@contextlib.contextmanager
def spinning(count: int = 1, core: int | None = None) -> Iterator[None]:
    """``count`` processes each keeping a core at 100 % (all pinned to ``core`` when given) while the block runs."""
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(count)]
    try:
        if core is not None:
            for spinner in spinners:
                os.sched_setaffinity(spinner.pid, {core})
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
