"""One writer per run folder: a sweep or a resume holds an exclusive lock on ``RUN/.lock`` while it measures
and stores, so a second ``run --resume RUN`` started meanwhile is refused, naming the process that holds it,
instead of measuring the same cells at the same time. The lock is the kernel's (flock): it goes with the
process however that process ends, so a killed run never leaves a folder locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from edgebench.errors import EdgebenchError

LOCK_NAME = ".lock"


class RunLock:
    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle

    @classmethod
    def take(cls, folder: Path, run_id: str) -> RunLock:
        handle = (folder / LOCK_NAME).open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise EdgebenchError(
                f"run {run_id} is being measured by {holder}; wait for it to finish, or stop it and resume then"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
        return cls(handle)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            self._handle.close()  # closing the file releases the lock
