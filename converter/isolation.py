"""Native work run in a child process, so that its crash is one variant's failure and not the conversion's.

TensorFlow's converter and its int8 calibrator, TFMOT's fine-tuning, ai-edge-quantizer and the LiteRT kernels its
calibration runs can die of a signal on a model they do not expect: a segfault takes its process with it, and
everything else that process was making. Two boundaries, one mechanism:

- ``Worker``: one long-lived (spawned, so no TensorFlow state is copied) child that makes its state once (imports
  TensorFlow, loads the model and data) and then serves calls on it. A call whose child dies is ``Crashed``
  naming the signal; the next call starts a fresh child. So a conversion pays one TensorFlow import, not one per
  variant, and one more per crash.
- ``isolated``: one call in a child of its own (a worker with no state, closed after the call).

Where a warm TensorFlow process runs (``converter.warm``), a worker is forked from it instead of spawned: the same
fresh state and the same crash boundary, without the import.

The children's stderr is the converter's, which the host keeps as the conversion's log: a crash leaves its Python
stack there (``faulthandler``), an exception its traceback. Their stdout is the converter's too: the progress
events they emit reach the host as the parent's do.
"""

from __future__ import annotations

import contextlib
import faulthandler
import multiprocessing
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any, Generic, TypeVar

from converter import warm
from device_runner.lifecycle import PARENT_PID_VARIABLE, bind_to_parent

S = TypeVar("S")
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


class Worker(Generic[S]):
    """A child process holding ``setup(*args)``'s result (made there, on start) and serving ``call``s on it.

    ``setup``, the functions called and every argument must pickle (module-level functions and plain data); the
    state never leaves the child. Use it as a context manager (or ``close`` it): the child is told to exit."""

    def __init__(self, setup: Callable[..., S], *args: Any) -> None:
        self._setup, self._args = setup, args
        self._child: BaseProcess | warm.Forked | None = None
        self._conn: Connection | None = None

    def start(self) -> None:
        """Start the child (it makes its state while the caller goes on), unless one is running: forked from the
        warm TensorFlow process where one runs, else spawned."""
        if self._conn is not None:
            return
        forked = warm.forked_worker(self._setup, self._args)
        if forked is not None:
            self._conn, self._child = forked
            return
        context = multiprocessing.get_context("spawn")
        here, there = context.Pipe()
        # Not daemonic: a worker runs ai-edge-quantizer in children of its own (isolated), which a daemonic process
        # may not have. It still never outlives this process: ``close`` ends it, and ``bind_to_parent`` a crash.
        self._child = context.Process(target=_serve, args=(there, os.getpid(), self._setup, self._args))
        self._child.start()
        there.close()  # the child holds the only other end: its death is this end's EOF
        self._conn = here

    def call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(state, *args)`` in the child: its result, or its exception raised here (the setup's, if the
        state could not be made); ``Crashed`` if the child died without either, and the next call starts anew."""
        self.start()
        assert self._conn is not None
        try:
            self._conn.send((function, args))
            succeeded, value = self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            raise Crashed(self._reap()) from None
        if succeeded:
            return value  # type: ignore[no-any-return]
        raise value

    def close(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # already gone
            self._conn.send(None)  # done: the child returns
        self._reap()

    def _reap(self) -> str:
        """Wait for the child, forget it, and say how it ended."""
        assert self._conn is not None and self._child is not None
        self._conn.close()
        if isinstance(self._child, warm.Forked):
            code = self._child.exit_code()
        else:
            self._child.join()
            code = self._child.exitcode
        self._conn = self._child = None
        return exit_cause(code if code is not None else -signal.SIGKILL)

    def __enter__(self) -> Worker[S]:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def isolated(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a child process of its own: its result, or its exception raised here; ``Crashed`` if
    the child died without either. ``function`` and ``args`` must pickle (a module-level function and plain data)."""
    with Worker(_no_state) as worker:
        answer: T = worker.call(_stateless, function, *args)
        return answer


def _no_state() -> None:
    return None


def _stateless(state: None, function: Callable[..., T], *args: Any) -> T:
    return function(*args)


def _serve(conn: Connection, parent: int, setup: Callable[..., Any], args: tuple[Any, ...]) -> None:
    os.environ[PARENT_PID_VARIABLE] = str(parent)
    bind_to_parent()  # a killed converter must not leave its child converting
    serve_calls(conn, setup, args)


def serve_calls(conn: Connection, setup: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """A worker's life, spawned or forked: make the state, then answer each call until told to stop."""
    faulthandler.enable()  # a native crash writes the Python stack that led to it into the log
    state, failure = None, None
    try:
        state = setup(*args)
    except BaseException as exc:  # every call is answered with it: the parent decides what it means
        traceback.print_exc(file=sys.stderr)
        failure = _failure(exc)
    while True:
        try:
            asked = conn.recv()
        except EOFError:  # the parent is gone
            return
        if asked is None:
            return
        function, call_args = asked
        answer = failure or _called(function, state, call_args)
        try:
            conn.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # a result that does not pickle
            conn.send(_failure(RuntimeError(f"{type(answer[1]).__name__} cannot be handed back: {exc}")))


def _called(function: Callable[..., Any], state: Any, args: tuple[Any, ...]) -> tuple[bool, Any]:
    try:
        return True, function(state, *args)
    except BaseException as exc:  # handed to the parent, which decides what it means
        traceback.print_exc(file=sys.stderr)
        return _failure(exc)


def _failure(exc: BaseException) -> tuple[bool, BaseException]:
    """The exception as it crosses the pipe: one that does not pickle both ways (an error class with a
    constructor of its own) reaches the parent as its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # any error unpickling raises, whatever its class's constructor wants
        return False, RuntimeError(f"{type(exc).__name__}: {exc}")
    return False, exc
