"""Functions that die the ways native code dies, run in ``converter.isolation``'s child processes by the specs
(module-level, so a spawned child can import them by name)."""

from __future__ import annotations

import os
import signal


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
