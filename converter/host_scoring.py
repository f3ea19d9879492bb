"""Each variant run on the host and scored: its outputs against the labels and the source model's, under
XNNPACK as a phone's CPU runs it, and on the reference kernels a device's cell is compared with."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converter.checks import first_line
from converter.ports import Layout
from converter.source import Data, SourceModel
from device_runner import accuracy
from device_runner.engines import InterpreterEngine, fed_shapes
from device_runner.flatbuffer import ModelInfo
from device_runner.runtime import load_runtime
from edgebench_records import HOST_REFERENCE_AVAILABLE, Accuracy


@dataclass(frozen=True)
class HostRun:
    """A variant run on the host: its outputs on XNNPACK (scored) and on the reference kernels, or why not."""

    outputs: list[np.ndarray] | None
    reference_kernels: list[np.ndarray] | None
    problem: str = ""
    note: str = ""  # how it was scored when XNNPACK or the plain kernels could not run it


def run_on_host(path: Path, info: ModelInfo, inputs: list[np.ndarray]) -> HostRun:
    """The host's runtime only informs: a variant it cannot load or run (a custom op, ops newer than it) is
    still a variant, measured on the device. Scored under XNNPACK, as a phone's CPU runs it; on the plain
    kernels when XNNPACK refuses the model (a sparse int8 one), and the other way round for an op only XNNPACK
    has."""
    try:
        runtime = load_runtime()
    except RuntimeError as exc:
        return HostRun(None, None, first_line(exc))
    runs: dict[str, list[np.ndarray]] = {}
    problems: dict[str, str] = {}
    for delegate in ("xnnpack", "cpu"):
        try:
            engine = InterpreterEngine(runtime, path, info, delegate, 1, fed_shapes(info, [x[0] for x in inputs]))
            runs[delegate] = accuracy.predict(engine, inputs)
        except (ValueError, RuntimeError) as exc:
            problems[delegate] = first_line(exc)
    # plain CPU kernels: what a device's cell is compared with, so a delegate's or driver's error stands apart
    # from the variant's own quantisation loss
    kernels = runs.get("cpu")
    if "xnnpack" in runs:
        return HostRun(runs["xnnpack"], kernels)
    if kernels is not None:
        return HostRun(kernels, kernels, note=f"scored on the host's plain kernels: {problems['xnnpack']}")
    return HostRun(None, None, problems["xnnpack"])


@dataclass(frozen=True)
class HostScore:
    """What a variant record says of the host's run: scored, or why the host could not run it."""

    reference: str  # HOST_REFERENCE_AVAILABLE, or "unavailable (why)"
    top1: float | None = None
    fp32_agreement: float | None = None
    accuracy: Accuracy | None = None  # every output head, without the per-sample lists (those stay in the cells)


def score_on_host(
    host: HostRun,
    layout: Layout,
    info: ModelInfo,
    names: list[str],
    data: Data,
    task: str,
    reference: list[np.ndarray] | None,
) -> HostScore:
    """``host``'s outputs scored, each under ``names``: the names the model gives its outputs, as the cells
    name them (device_runner/signature.py)."""
    if host.outputs is None:
        return HostScore(f"unavailable ({host.problem})")
    wanted = None if reference is None else layout.arrange(reference, info.outputs)
    scores = accuracy.score(host.outputs, data.y_val, wanted, task, names)
    trimmed = dataclasses.replace(scores, correct=[], agree=[])
    return HostScore(HOST_REFERENCE_AVAILABLE, scores.top1, scores.fp32_agreement, trimmed)


def source_reference(source: SourceModel, data: Data) -> tuple[list[np.ndarray] | None, str]:
    """The source model's float outputs on the validation inputs, or why the host cannot give them."""
    if source.predict is None:
        return None, source.host_problem
    try:
        return source.predict(data.val), ""
    except (ValueError, RuntimeError) as exc:  # a .tflite that loads but fails to run here
        return None, first_line(exc)
