"""Measures one cell (variant x delegate x API x threads) in the current process.

Called by the sweep in a fresh process per cell, so RSS figures belong to this cell alone and a
delegate that crashes the process costs only this cell.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import edgebench_records as schema
from device_runner import accuracy, culprit, noise, timing
from device_runner.compat import incompatibility
from device_runner.engines import (
    DelegateFailed,
    DelegateUnavailable,
    Engine,
    Incompatible,
    fed_shapes,
    first_invoke,
    open_engine,
)
from device_runner.facts import device_facts, peak_rss_mb, reset_peak_rss, rss_mb, temperatures_c
from device_runner.flatbuffer import ModelFormatError, ModelInfo, read_model_info
from device_runner.inputs import InputSet, InputSetError, input_set_problem, read_input_set, read_variant_reference
from device_runner.precision import Precision, precision, stateful
from device_runner.runtime import Runtime
from device_runner.signature import output_names
from edgebench_records import (
    CellKey,
    CellResult,
    Conditions,
    Measurement,
    Memory,
    Numerics,
    Plan,
    Status,
    sha256_file,
)

FAILURES = {
    DelegateUnavailable: Status.DELEGATE_UNAVAILABLE,
    DelegateFailed: Status.DELEGATE_FAILED,
    Incompatible: Status.INCOMPATIBLE,
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def load_input_set(path: Path) -> InputSet:
    found = read_input_set(path)
    reset_peak_rss()  # unpacking the .npz is the runner's transient, not the model's peak
    return found


# How a model with state is compared (Numerics.state): its reference was made by the host's reference kernels on
# a fresh interpreter fed the input set in order, so the scored outputs come from one made the same way, never
# from the interpreter the warm-up and the timed runs advanced.
FRESH_STATE = "fresh interpreter, the input set in order from the initial state (as the reference was made)"


@dataclass(frozen=True)
class Model:
    """What the cell reads from the variant's file before loading it."""

    path: Path
    info: ModelInfo
    names: list[str]  # each output as the model names it (signature key, else tensor name)
    precision: Precision

    @classmethod
    def read(cls, path: Path) -> Model:
        try:
            data = path.read_bytes()
            info = read_model_info(data)
        except ModelFormatError as exc:
            raise ModelFormatError(f"{path}: {exc}") from exc
        return cls(path, info, output_names(data, info), precision(data, info))

    @property
    def stateful(self) -> bool:
        return stateful(self.info)


@dataclass(frozen=True)
class Expected:
    """What a cell's outputs are held to: the same variant run on the host's reference kernels."""

    outputs: list[np.ndarray]  # one per model output
    classes: list[int | None]  # per output: its class count when it is a class distribution


def _expected(plan: Plan, plan_dir: Path, key: CellKey, inputs: InputSet) -> Expected | None:
    reference = read_variant_reference(plan_dir / plan.input_set, key.variant)
    if reference is None:
        return None
    # Class distributions judged as the accuracy scores judge them: on the host fp32 outputs where there are some.
    return Expected(reference, accuracy.class_counts(inputs.reference or reference, inputs.labels, plan.task))


def _check_fits(info: ModelInfo, inputs: InputSet, input_set: Path, model_path: Path) -> None:
    """An input set that cannot feed the model stops the sweep with one line naming the input: every cell
    would fail alike, and a resume after fixing it measures them."""
    problem = input_set_problem(info.inputs, inputs)
    if problem:
        raise InputSetError(f"{input_set} does not fit {model_path.name}: {problem}")


@dataclass
class Side:
    """One model loaded and warmed up in this process, ready to be timed."""

    key: CellKey
    header: dict[str, Any]
    engine: Engine
    model: Model
    runtime: Runtime
    init_ns: int
    first_ns: int
    warmup_runs: int
    rss_before: float
    rss_after: float
    samples: timing.Samples = field(default_factory=timing.Samples)  # preallocated from the warm-up's speed
    block_lengths: list[int] = field(default_factory=list)
    peak_mb: float | None = None  # the process's peak less the sample buffers, read before any summary
    memory: Memory | None = None  # a paired side's, measured in a process of its own
    conditions: Conditions | None = None
    expected: Expected | None = None

    def read_peak(self) -> None:
        """VmHWM less the runner's sample buffers (touched before the timed loop, so resident all along):
        the same model reports the same peak however long it is timed."""
        self.peak_mb = peak_rss_mb() - self.samples.nbytes / 2**20

    def own_memory(self) -> Memory:
        return Memory(
            rss_before_mb=self.rss_before,
            rss_after_load_mb=self.rss_after,
            load_delta_mb=self.rss_after - self.rss_before,
            peak_rss_mb=self.peak_mb if self.peak_mb is not None else peak_rss_mb(),
        )


def _pin(plan: Plan) -> None:
    if plan.measure.cpus:
        os.sched_setaffinity(0, plan.measure.cpus)  # before the runtime starts its threads


def _load(plan: Plan, plan_dir: Path, key: CellKey, runtime: Runtime, inputs: InputSet) -> Side | CellResult:
    """Preflight, construct (timed), first inference, warm-up; a CellResult when the cell cannot run."""
    model_path = plan_dir / plan.variant(key.variant).file
    model = Model.read(model_path)
    info = model.info
    _check_fits(info, inputs, plan_dir / plan.input_set, model_path)
    header: dict[str, Any] = {
        "run_id": plan.run_id,
        "variant": key.variant,
        "delegate": key.delegate,
        "threads": key.threads,
        "api": key.api,
        "file_sha256": sha256_file(model_path),  # the bytes measured, for the gate to tell two files apart
        "model_ops": [str(op) for op in info.ops],
        "pinned_cpus": sorted(os.sched_getaffinity(0)) if plan.measure.cpus else [],
        "device": device_facts(runtime),
        "started_at": now_iso(),
        "temperature_before_c": temperatures_c(),
    }
    problem = incompatibility(info, runtime)
    if problem:
        return _finish(header, Status.INCOMPATIBLE, message=problem)
    shapes = fed_shapes(info, inputs.sample(0))  # a dynamic input's size, set before the first allocation
    rss_before = rss_mb()
    start = time.perf_counter_ns()
    try:
        engine = open_engine(runtime, key.api, model_path, info, key.delegate, key.threads, shapes)
    except tuple(FAILURES) as exc:
        return _finish(header, FAILURES[type(exc)], message=str(exc))
    init_ns = time.perf_counter_ns() - start
    rss_after = rss_mb()
    engine.set_inputs(inputs.sample(0))
    try:
        first_ns = first_invoke(engine, info, key.delegate)
    except tuple(FAILURES) as exc:
        return _finish(header, FAILURES[type(exc)], message=str(exc))
    m = plan.measure
    warmup_runs, per_run_ns = timing.count_loop(engine.invoke, m.warmup_runs, m.warmup_min_s, m.max_s)
    samples = timing.Samples(timing.capacity_for(per_run_ns, m.runs, m.min_s, m.max_s))
    expected = _expected(plan, plan_dir, key, inputs)
    return Side(
        key,
        header,
        engine,
        model,
        runtime,
        init_ns,
        first_ns,
        warmup_runs,
        rss_before,
        rss_after,
        samples,
        expected=expected,
    )


def _scored_outputs(side: Side, inputs: InputSet) -> list[np.ndarray]:
    """Every output over the input set. A model with state gets a fresh engine fed the set in order, as its
    reference was made: the warm-up and the timed runs advanced the state of the one timed."""
    engine = side.engine
    if side.model.stateful:
        key, model = side.key, side.model
        engine = open_engine(side.runtime, key.api, model.path, model.info, key.delegate, key.threads)
    return accuracy.predict(engine, inputs.inputs)


def _accuracy(outputs: list[np.ndarray], inputs: InputSet, plan: Plan, model: Model) -> schema.Accuracy:
    """The outputs scored; the labels against the output ``--labels-output`` names, when it names one."""
    wanted = plan.measure.labels_output
    tensors = [t.name for t in model.info.outputs]
    chosen = accuracy.resolve_output(wanted, model.names, tensors) if wanted else None
    if wanted and chosen is None:
        scored = accuracy.score(outputs, None, inputs.reference, plan.task, model.names)
        named = ", ".join(model.names)
        return dataclasses.replace(scored, labels_note=f"--labels-output {wanted} names no output (outputs: {named})")
    return accuracy.score(outputs, inputs.labels, inputs.reference, plan.task, model.names, chosen)


def _result(side: Side, inputs: InputSet, plan: Plan, overhead_ns: float) -> CellResult:
    summary = timing.summarize(
        side.samples,
        init_ns=side.init_ns,
        first_ns=side.first_ns,
        warmup_runs=side.warmup_runs,
        overhead_ns=overhead_ns,
    )
    outputs = _scored_outputs(side, inputs)
    numerics = _numerics(side, outputs, plan.measure)
    wrong = numerics is not None and not numerics.passed
    return _finish(
        side.header,
        Status.WRONG_OUTPUT if wrong else Status.OK,
        message=accuracy.numerics_message(numerics, side.key.delegate) if numerics and wrong else side.engine.note,
        numerics=numerics,
        timing=dataclasses.replace(summary, block_lengths=side.block_lengths),
        memory=side.memory or side.own_memory(),
        conditions=side.conditions,
        accuracy=_accuracy(outputs, inputs, plan, side.model),
        coverage=side.engine.coverage,
        placement=side.engine.placement,
        op_profile=side.engine.op_profile,
        fully_accelerated=side.engine.fully_accelerated,
    )


def _numerics(side: Side, outputs: list[np.ndarray], m: Measurement) -> Numerics | None:
    """None without a reference, or with one made for other inputs (no output of the same size)."""
    if side.expected is None:
        return None
    e, model = side.expected, side.model
    state = FRESH_STATE if model.stateful else ""
    return accuracy.compare(
        outputs,
        e.outputs,
        model.names,
        e.classes,
        m.numerics_min_agreement,
        m.numerics_min_cosine,
        model.precision,
        m,
        state,
    )


def run_cell(plan: Plan, plan_dir: Path, key: CellKey, runtime: Runtime) -> CellResult:
    _pin(plan)
    inputs = load_input_set(plan_dir / plan.input_set)
    side = _load(plan, plan_dir, key, runtime, inputs)
    if isinstance(side, CellResult):
        return side
    overhead_ns = timing.timer_overhead_ns()
    m = plan.measure
    guard = noise.Guard(key.threads)
    timing.bounded_loop(side.engine.invoke, m.runs, m.min_s, m.max_s, into=side.samples)
    side.conditions = guard.finish()
    side.read_peak()  # before the summary's lists and the accuracy pass
    return _with_culprit(_result(side, inputs, plan, overhead_ns), plan, plan_dir, side, runtime, inputs)


def _with_culprit(
    result: CellResult, plan: Plan, plan_dir: Path, side: Side, runtime: Runtime, inputs: InputSet
) -> CellResult:
    """A wrong_output cell with the op that broke it, when ``--find-culprits`` asks (after the cell's own
    figures are taken, so the probes cost them nothing)."""
    if result.status is not Status.WRONG_OUTPUT or not plan.measure.find_culprits:
        return result
    limit = culprit.tolerance(side.model.precision, plan.measure)
    model_path = plan_dir / plan.variant(side.key.variant).file
    found = culprit.search(runtime, model_path, side.key, inputs, limit, side.engine.coverage)
    return dataclasses.replace(result, culprit=found, message=f"{result.message}; {found.line}")


def abba(blocks: int) -> list[int]:
    """Which side times each block: 0 1 1 0 0 1 1 0 …, ``blocks`` blocks a side, so drift hits both alike."""
    return [0 if k % 4 in (0, 3) else 1 for k in range(2 * blocks)]


def run_pair(plan: Plan, plan_dir: Path, keys: tuple[CellKey, CellKey], runtime: Runtime) -> list[CellResult]:
    """Baseline and candidate loaded side by side and timed in interleaved blocks (the gate's paired mode).
    A side that cannot run gets its status; the other is then measured on its own."""
    _pin(plan)
    inputs = load_input_set(plan_dir / plan.input_set)
    sides = [_load(plan, plan_dir, key, runtime, inputs) for key in keys]
    if any(isinstance(side, CellResult) for side in sides):
        return [side if isinstance(side, CellResult) else run_cell(plan, plan_dir, side.key, runtime) for side in sides]
    loaded = [side for side in sides if isinstance(side, Side)]
    for side in loaded:  # loaded second, a side would find the runtime's own start-up paid by the first
        side.memory = isolated_memory(plan, plan_dir, side.key, runtime) or Memory(
            side.rss_before, side.rss_after, None, None, missing=["load_delta_mb", "peak_rss_mb"]
        )
    overhead_ns = timing.timer_overhead_ns()
    m = plan.measure
    per_block = max(1, m.runs // m.blocks)
    guard = noise.Guard(keys[0].threads)
    for index in abba(m.blocks):
        before = len(loaded[index].samples)
        timing.bounded_loop(
            loaded[index].engine.invoke, per_block, m.min_s / m.blocks, m.max_s, into=loaded[index].samples
        )
        loaded[index].block_lengths.append(len(loaded[index].samples) - before)
    conditions = guard.finish()
    for side in loaded:
        side.conditions = conditions
    return [
        _with_culprit(_result(side, inputs, plan, overhead_ns), plan, plan_dir, side, runtime, inputs)
        for side in loaded
    ]


def measure_memory(plan: Plan, plan_dir: Path, key: CellKey, runtime: Runtime) -> Memory | None:
    """One side's memory as a cell of its own measures it: load, first run and warm-up in a fresh process."""
    side = _load(plan, plan_dir, key, runtime, load_input_set(plan_dir / plan.input_set))
    return None if isinstance(side, CellResult) else side.own_memory()


def isolated_memory(plan: Plan, plan_dir: Path, key: CellKey, runtime: Runtime) -> Memory | None:
    """``measure_memory`` in a child process (same interpreter, same runtime choice); None if it fails
    there, and the paired side then says which memory fields it lacks rather than report the shared ones."""
    request = json.dumps(
        {"plan": schema.to_dict(plan), "plan_dir": str(plan_dir), "cell": key.id, "runtime": runtime.name}
    )
    code = "from device_runner.cell import memory_child; memory_child()"
    parent = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [parent, os.environ.get("PYTHONPATH")]))}
    try:
        out = subprocess.run(
            [sys.executable, "-c", code],
            input=request,
            capture_output=True,
            text=True,
            env=env,
            timeout=plan.measure.cell_timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    lines = out.stdout.strip().splitlines()
    found = json.loads(lines[-1]) if out.returncode == 0 and lines else None
    return schema.from_dict(Memory, found) if isinstance(found, dict) else None


def memory_child() -> None:
    """The child's side of ``isolated_memory``: a request on stdin, the Memory as the last line of stdout."""
    from device_runner.runtime import load_runtime

    request = json.loads(sys.stdin.read())
    plan = schema.from_dict(Plan, request["plan"])
    key = {k.id: k for k in plan.cells()}[request["cell"]]
    _pin(plan)
    memory = measure_memory(plan, Path(request["plan_dir"]), key, load_runtime(request["runtime"]))
    print(json.dumps(schema.to_dict(memory) if memory else None))


def _finish(header: dict[str, Any], status: Status, **fields: Any) -> CellResult:
    return CellResult(status=status, temperature_after_c=temperatures_c(), finished_at=now_iso(), **header, **fields)
