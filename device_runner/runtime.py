"""Finds the LiteRT Python runtime installed on this device."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType

# (runtime name, distribution, interpreter module), in order of preference.
RUNTIMES = (
    ("ai_edge_litert", "ai-edge-litert", "ai_edge_litert.interpreter"),
    ("tflite_runtime", "tflite-runtime", "tflite_runtime.interpreter"),
)


class RuntimeMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Runtime:
    name: str
    version: str
    interpreter: ModuleType  # exposes Interpreter, OpResolverType, load_delegate


def load_runtime(prefer: str | None = None) -> Runtime:
    """The first importable runtime, or exactly ``prefer`` when given."""
    candidates = [r for r in RUNTIMES if prefer in (None, r[0])]
    if not candidates:
        names = ", ".join(r[0] for r in RUNTIMES)
        raise RuntimeMissing(f"unknown runtime {prefer!r}; choose one of {names}")
    errors = []
    for name, dist, module in candidates:
        try:
            interpreter = importlib.import_module(module)
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
            continue
        return Runtime(name, metadata.version(dist), interpreter)
    raise RuntimeMissing("no LiteRT runtime importable (" + "; ".join(errors) + "); pip install ai-edge-litert")
