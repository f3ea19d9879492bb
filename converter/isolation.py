"""Native work run in a child process, so that its crash is one variant's failure and not the conversion's.

ai-edge-quantizer (and the LiteRT kernels its calibration runs) can die of a signal on a model it does not
expect: a segfault in calibration takes its process with it, and everything else that process was making.
``isolated`` runs one call in a fresh (spawned, so no TensorFlow state is copied) child, hands back its result or
re-raises its exception, and turns a death into ``Crashed`` naming the signal. The child's stderr is the
converter's, which the host keeps as the conversion's log: a crash leaves its Python stack there
(``faulthandler``), an exception its traceback.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from device_runner.lifecycle import PARENT_PID_VARIABLE, bind_to_parent

T = TypeVar("T")


class Crashed(Exception):
    """The child died without an answer: killed by a signal or exited; the message says which, in one line."""


def exit_cause(returncode: int) -> str:
    """A child's exit code as a person reads it: the signal by name (SIGKILL is most often the kernel's
    out-of-memory killer), or the code."""
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    return f"killed by {name}" + (" (out of memory?)" if -returncode == signal.SIGKILL else "")


def isolated(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a child process: its result, or its exception raised here; ``Crashed`` if the child
    died without either. ``function`` and ``args`` must pickle (a module-level function and plain data)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender, os.getpid(), function, args), daemon=True)
    child.start()
    sender.close()  # the child holds the only writing end: its death is this end's EOF
    try:
        succeeded, value = receiver.recv()
    except EOFError:
        child.join()
        raise Crashed(exit_cause(child.exitcode if child.exitcode is not None else -signal.SIGKILL)) from None
    finally:
        receiver.close()
    child.join()
    if succeeded:
        return value  # type: ignore[no-any-return]
    raise value


def _child(sender: Connection, parent: int, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    os.environ[PARENT_PID_VARIABLE] = str(parent)
    bind_to_parent()  # a killed converter must not leave its child quantising
    faulthandler.enable()  # a native crash writes the Python stack that led to it into the log
    try:
        answer: tuple[bool, Any] = (True, function(*args))
    except BaseException as exc:  # handed to the parent, which decides what it means
        traceback.print_exc(file=sys.stderr)
        answer = (False, exc)
    try:
        sender.send(answer)
    except Exception as exc:  # an exception (or result) that does not pickle still reaches the parent as a line
        sender.send((False, RuntimeError(f"{type(answer[1]).__name__}: {answer[1]} ({exc})")))
    sender.close()
