"""Functions that die the ways native code dies, run in ``converter.isolation``'s child processes by the specs
(module-level, so a spawned child can import them by name)."""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any


def answer(value: int) -> int:
    return value * 2


def raise_error(message: str) -> None:
    raise ValueError(f"first line\nthe line that names it: {message}")


def die_of(signum: int) -> None:
    os.kill(os.getpid(), signum)


def abort() -> None:
    os.abort()


def segfault_some(scheme: str, crashing: str, flatbuffer: bytes, *rest: object) -> bytes:
    """ai-edge-quantizer's ``_quantize`` for every scheme but ``crashing``, whose child dies of SIGSEGV."""
    from converter.tflite_quantize import _quantize

    if scheme == crashing:
        die_of(signal.SIGSEGV)
    return _quantize(flatbuffer, scheme, *rest)  # type: ignore[arg-type]


def tally(start: int) -> list[int]:
    """A worker's state: a list that its calls grow, so a spec sees the state kept (or made anew)."""
    if start < 0:
        raise ValueError(f"cannot start at {start}")
    return [start]


def add(state: list[int], value: int) -> int:
    state.append(value)
    return sum(state)


def die_holding(state: list[int], signum: int) -> None:
    die_of(signum)


def raise_error_holding(state: list[int], message: str) -> None:
    raise_error(message)


def segfault_building(crashing: str, shop: Any, name: str) -> Any:
    """``converter.pipeline.made_there`` for every variant but ``crashing``, whose worker dies of SIGSEGV."""
    from converter.pipeline import made_there

    if name == crashing:
        die_of(signal.SIGSEGV)
    return made_there(shop, name)


def speak(text: str) -> None:
    """Writes ``text`` to stdout and stderr: a worker's progress events and log lines."""
    print(text, flush=True)
    print(text, file=sys.stderr, flush=True)


def parent(state: object = None) -> int:
    return os.getppid()


def report_then_wait(state: None, path: str) -> None:
    """Writes this worker's pid to ``path``, then waits as a long fine-tuning would."""
    with open(path, "w") as out:
        out.write(str(os.getpid()))
    time.sleep(600)
