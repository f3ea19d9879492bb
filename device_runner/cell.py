"""Measures one cell (variant x delegate x API x threads) in the current process.

Called by the sweep in a fresh process per cell, so RSS figures belong to this cell alone and a
delegate that crashes the process costs only this cell.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from device_runner import accuracy, timing
from device_runner.compat import incompatibility
from device_runner.engines import DelegateFailed, DelegateUnavailable, Incompatible, open_engine
from device_runner.facts import device_facts, peak_rss_mb, rss_mb, temperatures_c
from device_runner.flatbuffer import read_model_file
from device_runner.runtime import Runtime
from device_runner.schema import (
    STATUS_DELEGATE_FAILED,
    STATUS_DELEGATE_UNAVAILABLE,
    STATUS_INCOMPATIBLE,
    STATUS_OK,
    CellKey,
    CellResult,
    Memory,
    Plan,
)

FAILURES = {
    DelegateUnavailable: STATUS_DELEGATE_UNAVAILABLE,
    DelegateFailed: STATUS_DELEGATE_FAILED,
    Incompatible: STATUS_INCOMPATIBLE,
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def load_input_set(path: Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    with np.load(path) as data:
        return data["x"], data.get("y"), data.get("ref")


def run_cell(plan: Plan, plan_dir: Path, key: CellKey, runtime: Runtime) -> CellResult:
    if plan.measure.cpus:
        os.sched_setaffinity(0, plan.measure.cpus)  # before the runtime starts its threads
    model_path = plan_dir / plan.variant(key.variant).file
    info = read_model_file(model_path)
    header: dict[str, Any] = {
        "run_id": plan.run_id,
        "variant": key.variant,
        "delegate": key.delegate,
        "threads": key.threads,
        "api": key.api,
        "model_ops": [str(op) for op in info.ops],
        "pinned_cpus": sorted(os.sched_getaffinity(0)) if plan.measure.cpus else [],
        "device": device_facts(runtime),
        "started_at": now_iso(),
        "temperature_before_c": temperatures_c(),
    }
    problem = incompatibility(info, runtime)
    if problem:
        return _finish(header, STATUS_INCOMPATIBLE, message=problem)
    x, labels, reference = load_input_set(plan_dir / plan.input_set)

    rss_before = rss_mb()
    start = time.perf_counter_ns()
    try:
        engine = open_engine(runtime, key.api, model_path, info, key.delegate, key.threads)
    except tuple(FAILURES) as exc:
        return _finish(header, FAILURES[type(exc)], message=str(exc))
    init_ns = time.perf_counter_ns() - start
    rss_after = rss_mb()

    engine.set_input(x[0])
    start = time.perf_counter_ns()
    engine.invoke()
    first_ns = time.perf_counter_ns() - start
    warmup = timing.bounded_loop(engine.invoke, plan.measure.warmup_runs, plan.measure.warmup_min_s, plan.measure.max_s)
    overhead_ns = timing.timer_overhead_ns()
    samples = timing.bounded_loop(engine.invoke, plan.measure.runs, plan.measure.min_s, plan.measure.max_s)

    scores = accuracy.score(accuracy.predict(engine, x), labels, reference)
    return _finish(
        header,
        STATUS_OK,
        timing=timing.summarize(
            samples, init_ns=init_ns, first_ns=first_ns, warmup_runs=len(warmup), overhead_ns=overhead_ns
        ),
        memory=Memory(
            rss_before_mb=rss_before,
            rss_after_load_mb=rss_after,
            load_delta_mb=rss_after - rss_before,
            peak_rss_mb=peak_rss_mb(),
        ),
        accuracy=scores,
        coverage=engine.coverage,
        fully_accelerated=engine.fully_accelerated,
    )


def _finish(header: dict[str, Any], status: str, **fields: Any) -> CellResult:
    return CellResult(status=status, temperature_after_c=temperatures_c(), finished_at=now_iso(), **header, **fields)
