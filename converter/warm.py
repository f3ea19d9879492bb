"""TensorFlow kept warm across conversions: one process imports TensorFlow, tf_keras and TFMOT once, then forks a
fresh worker for every ``isolation.Worker`` that asks. A forked worker starts from the state the import left (no
model, no Keras session, no registered layer, no name counters), as a spawned one does, without paying the
import again (about 6 CPU-seconds each). Worth it where one process converts many times: a ``tune`` study, the
test suite. ``edgebench.conversion.warm_tensorflow`` starts it and names it in ``ADDRESS_VARIABLE``; every
converter and worker started under that environment finds it, and falls back to spawning where it cannot.

Protocol, on a Unix socket, one connection a request:
- ``("fork",)``: the server forks. The child receives the asker's stdout and stderr (SCM_RIGHTS, so its events and
  its log go where a spawned worker's would), then ``(environment, cwd, asker pid, setup, args)``, answers with its
  pid and serves the asker's calls on the connection as a spawned worker does. It dies with the asker.
- ``("status", pid)``: the exit code of a child, answered once the server has reaped it, so a crash still reads
  "killed by SIGSEGV".
Forking after ``import tensorflow`` is sound because the import runs no op: TensorFlow makes its thread pools and
eager context when the first op runs, which happens only in the children.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import select
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Client, Connection
from multiprocessing.reduction import recv_handle, send_handle
from pathlib import Path
from typing import Any

from device_runner.lifecycle import bind_to_parent, child_env

ADDRESS_VARIABLE = "EDGEBENCH_WARM_TENSORFLOW"
PRELOADED = ("numpy", "tensorflow", "tf_keras", "tensorflow_model_optimization", "ai_edge_litert.interpreter")
# What decides what the preloaded imports found and how they set up: a worker asked for under other values (a
# Keras 3 environment, a PYTHONPATH that hides TFMOT, another interpreter) must import for itself.
IMPORT_TIME = ("TF_USE_LEGACY_KERAS", "TF_CPP_MIN_LOG_LEVEL", "PYTHONPATH", "PYTHONHOME")


def import_settings() -> dict[str, str | None]:
    return {"python": sys.executable, **{name: os.environ.get(name) for name in IMPORT_TIME}}


class Forked:
    """A worker forked by the warm server: its pid, and how to learn how it ended."""

    def __init__(self, address: str, pid: int) -> None:
        self.address, self.pid = address, pid

    def exit_code(self) -> int | None:
        """The child's exit code once it has ended (None if the server is gone and cannot say)."""
        try:
            with Client(self.address, family="AF_UNIX") as server:
                server.send(("status", self.pid))
                code: int | None = server.recv()
                return code
        except (OSError, EOFError):
            return None


def forked_worker(setup: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Connection, Forked] | None:
    """A connection to a fresh worker forked by the warm server, serving ``setup(*args)``'s state; None when no
    server is named, it is gone, or it imported TensorFlow under other import-time settings than ours."""
    address = os.environ.get(ADDRESS_VARIABLE, "")
    if not address:
        return None
    try:
        conn = Client(address, family="AF_UNIX")
    except OSError:
        return None
    try:
        conn.send(("fork", import_settings()))
        if not conn.recv():  # imported under other settings
            conn.close()
            return None
        sys.stdout.flush()
        sys.stderr.flush()
        for fd in (1, 2):  # what a spawned worker would inherit
            send_handle(conn, fd, 0)
        conn.send((dict(os.environ), os.getcwd(), os.getpid(), setup, args))
        pid: int = conn.recv()
    except (OSError, EOFError):
        conn.close()
        return None
    return conn, Forked(address, pid)


@contextlib.contextmanager
def kept_warm(env: dict[str, str], preload: Sequence[str] = PRELOADED) -> Iterator[None]:
    """A warm process that imported ``preload`` under ``env``, named in this process's environment (so every
    converter and worker started inside the block finds it) until the block ends; it dies with this process."""
    if os.environ.get(ADDRESS_VARIABLE):  # already inside one
        yield
        return
    with tempfile.TemporaryDirectory(prefix="edgebench-warm-") as folder:
        address = Path(folder) / "warm.sock"
        command = [sys.executable, "-m", "converter.warm", str(address), *preload]
        # Its own output is only the import's noise: each worker writes to the streams of the converter it serves.
        server = subprocess.Popen(command, env=child_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(address, server)
        os.environ[ADDRESS_VARIABLE] = str(address)
        try:
            yield
        finally:
            del os.environ[ADDRESS_VARIABLE]
            server.terminate()
            server.wait()


def _wait_for(address: Path, server: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    """Until the server listens (it binds before importing, so this is Python's start-up alone); one that never
    does is named all the same, and every worker asked for spawns as if none ran."""
    deadline = time.monotonic() + seconds
    while not address.exists() and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)


def serve(address: str, preload: Sequence[str]) -> None:
    """Import ``preload``, then fork a worker per ``fork`` request until the process that started this ends."""
    bind_to_parent()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)  # first: a worker asked for while the import runs waits for it, not spawns its own
    listener.listen(16)
    for module in preload:
        with contextlib.suppress(ImportError):  # a lighter install: what is there is still worth keeping warm
            importlib.import_module(module)
    Server(listener, import_settings()).run()


class Server:
    """The warm process's loop: one thread, a selector over the listening socket and one pidfd per child."""

    def __init__(self, listener: socket.socket, imported_with: dict[str, str | None]) -> None:
        self.listener, self.imported_with = listener, imported_with
        self.selector = selectors.DefaultSelector()
        self.ended: dict[int, int] = {}  # child pid -> exit code, until someone asks
        self.asking: dict[int, list[Connection]] = {}  # child pid -> status requests waiting for it to end

    def run(self) -> None:
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        while True:
            for key, _ in self.selector.select():
                if key.data is None:
                    self._accept()
                else:
                    self._reap(key.fd, key.data)

    def _accept(self) -> None:
        sock, _ = self.listener.accept()
        conn = Connection(sock.detach())
        try:
            request = conn.recv()
            if request[0] == "fork":
                self._fork(conn, request[1])
            else:
                self._status(conn, int(request[1]))
        except (OSError, EOFError):
            conn.close()

    def _fork(self, conn: Connection, settings: dict[str, str | None]) -> None:
        if settings != self.imported_with:
            conn.send(False)
            conn.close()
            return
        conn.send(True)
        pid = os.fork()
        if pid == 0:
            self.listener.close()
            _child(conn)  # never returns
        conn.close()  # the child holds the only other copy: its death is the asker's EOF
        pidfd = os.pidfd_open(pid)
        self.selector.register(pidfd, selectors.EVENT_READ, pid)

    def _status(self, conn: Connection, pid: int) -> None:
        if pid in self.ended:
            _answer(conn, self.ended.pop(pid))
        elif pid in {key.data for key in self.selector.get_map().values()}:
            self.asking.setdefault(pid, []).append(conn)
        else:
            _answer(conn, None)

    def _reap(self, pidfd: int, pid: int) -> None:
        self.selector.unregister(pidfd)
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        waiting = self.asking.pop(pid, [])
        for conn in waiting:
            _answer(conn, code)
        if not waiting:
            self.ended[pid] = code


def _answer(conn: Connection, code: int | None) -> None:
    with contextlib.suppress(OSError):
        conn.send(code)
    conn.close()


def _child(conn: Connection) -> None:
    """A forked worker: take the asker's streams, environment and folder, then serve its calls; exit when done."""
    from converter.isolation import serve_calls  # here, not at the top: isolation imports this module

    code = 0
    try:
        for fd in (1, 2):
            received = recv_handle(conn)
            os.dup2(received, fd)
            os.close(received)
        environment, cwd, asker, setup, args = conn.recv()
        os.environ.clear()
        os.environ.update(environment)
        os.chdir(cwd)
        _die_with(asker)
        conn.send(os.getpid())
        serve_calls(conn, setup, args)
    except BaseException:  # the asker sees EOF and asks the server how this ended
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _die_with(pid: int) -> None:
    """End this worker when ``pid`` (the converter that asked for it) ends, as a spawned worker's parent-death
    signal would: a killed converter must not leave its worker fine-tuning."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:  # already gone
        os._exit(3)

    def watch() -> None:
        select.select([pidfd], [], [])  # a pidfd turns readable when its process ends
        os._exit(3)

    threading.Thread(target=watch, daemon=True, name="edgebench-asker-watch").start()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
