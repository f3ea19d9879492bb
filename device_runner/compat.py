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


_UNRESOLVED = re.compile(r"unresolved custom op: (\w+)")
_FAILED_NODE = re.compile(r"Node number \d+ \((\w+)\) failed to (?:prepare|invoke)")


def custom_ops(info: ModelInfo) -> list[str]:
    """The names of the model's custom ops, sorted."""
    return sorted({op.name.removeprefix("CUSTOM:") for op in info.ops if op.name.startswith("CUSTOM:")})


def missing_custom_op(text: str, info: ModelInfo, delegate: str) -> str | None:
    """Why the runtime cannot run the model, when what it said (``text``: its exception and log) is that a custom
    op has no kernel: unresolved when the model is opened, or a stub that fails when run (LiteRT's CompiledModel
    on plain CPU kernels). Only the runtime can tell: XNNPACK provides some custom ops, plain kernels do not."""
    ops = custom_ops(info)
    unresolved = _UNRESOLVED.search(text)
    name = unresolved.group(1) if unresolved else next((n for n in _FAILED_NODE.findall(text) if n in ops), None)
    if not ops or name is None:
        return None
    where = " without a delegate (plain kernels)" if delegate == "cpu" else ""
    others = f"; the model's custom ops: {', '.join(ops)}" if len(ops) > 1 else ""
    return f"custom op {name} not in this runtime{where}{others}"
