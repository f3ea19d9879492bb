"""Compatibility preflight: can this runtime run this model? Answered before loading it."""

from __future__ import annotations

import re

from device_runner.flatbuffer import ModelInfo
from device_runner.runtime import Runtime

# Runtimes numbered like TensorFlow, so the converter's min_runtime_version compares directly.
# ai_edge_litert restarted at 1.0 (its 2.3 is newer than TF 2.21): for it, the load error decides.
TF_NUMBERED = ("tflite_runtime",)


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def incompatibility(info: ModelInfo, runtime: Runtime) -> str | None:
    """Why ``runtime`` cannot run the model, or None when nothing says it cannot."""
    needed = info.min_runtime_version
    if runtime.name not in TF_NUMBERED or not needed:
        return None
    if version_tuple(runtime.version) >= version_tuple(needed):
        return None
    newest = sorted(info.ops, key=lambda op: -op.version)[:3]
    return (
        f"model needs LiteRT runtime >= {needed} (min_runtime_version); {runtime.name} {runtime.version} "
        f"is installed; highest op versions: {', '.join(str(op) for op in newest)}"
    )
