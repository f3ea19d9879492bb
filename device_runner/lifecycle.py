"""Child processes that die with their parent, so a killed parent never leaves a cell measuring.

The parent names itself in ``EDGEBENCH_PARENT_PID`` when it starts a child; the child asks the
kernel (Linux ``prctl(PR_SET_PDEATHSIG)``) to be killed when that parent goes, whatever killed it,
even ``kill -9``. A child started without the variable (a sweep launched detached on a board, which
must outlive the SSH session) is left alone. Standard library only: this runs on boards.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PARENT_PID_VARIABLE = "EDGEBENCH_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: ours) with this process named as the parent the child must not outlive."""
    return {**(os.environ if env is None else env), PARENT_PID_VARIABLE: str(os.getpid())}


def bind_to_parent() -> None:
    """Called first thing in a child: die with the parent named in the environment."""
    expected = os.environ.get(PARENT_PID_VARIABLE, "")
    if not expected.isdigit():
        return
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(expected):  # the parent died before the request took effect
        os._exit(3)
