"""Measures one cell (variant x delegate x API x threads) in the current process.

Called by the sweep in a fresh process per cell, so RSS figures belong to this cell alone and a
delegate that crashes the process costs only this cell.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
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
from device_runner.coverage import keyed
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
from device_runner.flatbuffer import Graph, ModelFormatError, ModelInfo, read_graph, read_model_info
from device_runner.inputs import InputSet, InputSetError, input_set_problem, read_input_set, read_variant_reference
from device_runner.intervals import StopRule
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
    Schedule,
    Status,
    StopReason,
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
    graph: Graph  # its main subgraph: each placed node's key (coverage.keyed)

    @classmethod
    def read(cls, path: Path) -> Model:
        try:
            data = path.read_bytes()
            info = read_model_info(data)
            graph = read_graph(data)
        except ModelFormatError as exc:
            raise ModelFormatError(f"{path}: {exc}") from exc
        return cls(path, info, output_names(data, info), precision(data, info), graph)

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
    block_medians: list[float] = field(default_factory=list)  # ns, one per block: what the stop rule reads
    timed_ns: int = 0
    schedule: Schedule | None = None
    peak_mb: float | None = None  # the process's peak less the sample buffers, read before any summary
    memory: Memory | None = None  # a paired side's, measured in a process of its own
    conditions: Conditions | None = None
    expected: Expected | None = None

    def read_peak(self) -> None:
        """VmHWM less the runner's sample buffers (touched before the timed loop, so resident all along), kept
        if higher than the last reading: the same model reports the same peak however long it is timed."""
        peak = peak_rss_mb() - self.samples.nbytes / 2**20
        self.peak_mb = peak if self.peak_mb is None else max(self.peak_mb, peak)

    def own_memory(self) -> Memory:
        """The process's figures, and the model's own: its load delta and its peak above the RSS the runner had
        before loading it (the input set, the runtime and Python are the runner's, whatever the model)."""
        peak = self.peak_mb if self.peak_mb is not None else peak_rss_mb()
        return Memory(
            rss_before_mb=self.rss_before,
            rss_after_load_mb=self.rss_after,
            load_delta_mb=self.rss_after - self.rss_before,
            peak_rss_mb=peak,
            model_peak_mb=peak - self.rss_before,
        )


# What a side loaded second in a process lacks: the first side's load already marked its RSS and peak.
SHARED_PROCESS_MISSING = ("load_delta_mb", "peak_rss_mb", "model_peak_mb")


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
        timing=dataclasses.replace(summary, block_lengths=side.block_lengths if len(side.block_lengths) > 1 else []),
        memory=side.memory or side.own_memory(),
        conditions=side.conditions,
        accuracy=_accuracy(outputs, inputs, plan, side.model),
        coverage=side.engine.coverage,
        placement=keyed(side.engine.placement, side.model.graph),
        op_profile=side.engine.op_profile,
        fully_accelerated=side.engine.fully_accelerated,
        schedule=side.schedule,
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
    (result,) = run_group(plan, plan_dir, (key,), runtime)
    return result


def _with_culprit(
    result: CellResult, plan: Plan, plan_dir: Path, side: Side, runtime: Runtime, inputs: InputSet
) -> CellResult:
    """A wrong_output cell with the op that broke it, when ``--find-culprits`` asks (after the cell's own
    figures are taken, so the probes cost them nothing)."""
    if result.status is not Status.WRONG_OUTPUT or not plan.measure.find_culprits:
        return result
    limit = culprit.tolerance(side.model.precision, plan.measure)
    model_path = plan_dir / plan.variant(side.key.variant).file
    return culprit.attach(result, culprit.search(runtime, model_path, side.key, inputs, limit, side.engine.coverage))


def serpentine(sides: int, round_index: int) -> list[int]:
    """Which side times each block of a round: forward on even rounds, backward on odd ones (two sides:
    A B, B A, A B, … the ABBA order), so a drift over the rounds hits every side alike."""
    order = list(range(sides))
    return order if round_index % 2 == 0 else order[::-1]


@dataclass(frozen=True)
class Stopped:
    rounds: int
    stop: StopReason
    half_widths: list[float | None]  # each side's, at the stop


def time_blocks(sides: list[Side], m: Measurement) -> Stopped:
    """Every side timed in rounds of one block each, in serpentine order, until the stop rule says so
    (intervals.StopRule: fixed rounds, or adaptive). A block is at least ceil(runs / rounds) runs and
    min_s / rounds seconds, so a fixed cell still gets its --runs and --min-secs."""
    rule = StopRule.of(m, len(sides))
    per_block = -(-m.runs // rule.rounds)
    block_s = m.min_s / rule.rounds
    rounds, started = 0, time.perf_counter()
    while True:
        for index in serpentine(len(sides), rounds):
            side = sides[index]
            before, start = len(side.samples), time.perf_counter_ns()
            timing.bounded_loop(side.engine.invoke, per_block, block_s, m.max_s, into=side.samples)
            side.timed_ns += time.perf_counter_ns() - start
            side.block_lengths.append(len(side.samples) - before)
            # the peak as the block left it, before its median copies the block (a whole run when there is one
            # block) and before the summaries' lists and the accuracy passes
            side.read_peak()
            side.block_medians.append(float(np.median(side.samples.since(before))))
        reset_peak_rss()  # so that copy, the runner's, is not the next block's peak
        rounds += 1
        elapsed_s = sum(side.timed_ns for side in sides) / len(sides) / 1e9
        verdict = rule.decide(rounds, elapsed_s, [side.block_medians for side in sides])
        if verdict.stop is not None:
            return Stopped(rounds, verdict.stop, verdict.half_widths)
        # An adaptive run's --max-secs is the clock's too: where blocks take microseconds, the timed seconds would
        # reach it only after many thousands of rounds, each deciding on every block so far.
        if m.precision and (time.perf_counter() - started) / len(sides) >= m.max_s:
            return Stopped(rounds, StopReason.BOUND, verdict.half_widths)


def run_group(plan: Plan, plan_dir: Path, keys: tuple[CellKey, ...], runtime: Runtime) -> list[CellResult]:
    """One cell, or the cells of one unit (a gate's pair, the variants of one configuration) loaded side by
    side and timed in alternating blocks, so block k of each ran beside block k of the others: one time base
    (docs/measuring.md). A cell that cannot run gets its status and the others go on. Timed together, a cell's
    memory is measured in a process of its own (load, first run and warm-up), as a cell alone measures it."""
    _pin(plan)
    inputs = load_input_set(plan_dir / plan.input_set)
    loaded = [_load(plan, plan_dir, key, runtime, inputs) for key in keys]
    sides = [side for side in loaded if isinstance(side, Side)]
    if not sides:
        return [side for side in loaded if isinstance(side, CellResult)]
    if len(keys) > 1:  # loaded beside others, a cell would find the runtime's start-up paid, or their heap in its
        for side in sides:
            side.memory = isolated_memory(plan, plan_dir, side.key, runtime) or Memory(
                side.rss_before, side.rss_after, None, None, missing=list(SHARED_PROCESS_MISSING)
            )
    overhead_ns = timing.timer_overhead_ns()
    guard = noise.Guard(keys[0].threads)
    stopped = time_blocks(sides, plan.measure)
    conditions = guard.finish()
    group = secrets.token_hex(6) if len(sides) > 1 else ""
    for side, width in zip(sides, stopped.half_widths, strict=True):
        side.conditions = conditions
        precision = plan.measure.precision
        side.schedule = Schedule(group, len(sides), stopped.rounds, stopped.stop, precision, width, side.timed_ns / 1e9)
    done = {
        side.key: _with_culprit(_result(side, inputs, plan, overhead_ns), plan, plan_dir, side, runtime, inputs)
        for side in sides
    }
    return [side if isinstance(side, CellResult) else done[side.key] for side in loaded]


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
