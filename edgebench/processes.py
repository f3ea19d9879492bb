"""Child processes that talk in JSON lines on stdout (the converter, the local runner).

Each child is told to die with edgebench (``device_runner.lifecycle``), and the ones still running
can be stopped at once when the user interrupts edgebench.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from device_runner.lifecycle import child_env

JsonObject = dict[str, Any]

_running: set[subprocess.Popen[str]] = set()
_lock = threading.Lock()
_stopping = threading.Event()


def stream_json_lines(
    command: list[str],
    log: Path,
    on_object: Callable[[JsonObject], None],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Run ``command`` with stderr appended to ``log``; call ``on_object`` for each JSON object it prints.

    Lines that are not JSON objects (a library printing to stdout) are ignored. Returns the exit code.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with (
        log.open("a") as stderr,
        subprocess.Popen(
            command, env=child_env(env), cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True
        ) as proc,
    ):
        with _lock:
            _running.add(proc)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(value, dict):
                    on_object(value)
        finally:
            with _lock:
                _running.discard(proc)
    return proc.returncode


def stop_children() -> None:
    """Ctrl-C / SIGTERM: stop every child still running (a local sweep takes its cell with it), and tell
    the threads following remote devices to let go (see ``stopping``)."""
    _stopping.set()
    with _lock:
        for proc in _running:
            proc.terminate()


def stopping() -> bool:
    """True once edgebench is being stopped: loops that wait on a device return instead of waiting on."""
    return _stopping.is_set()
