"""Measures one cell (variant x delegate x threads) in the current process.

Called by the sweep in a fresh process per cell, so RSS figures belong to this cell alone and a
delegate that crashes the process costs only this cell.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from device_runner import accuracy, timing
from device_runner.coverage import coverage_from_ops
from device_runner.delegates import DelegateFailed, DelegateUnavailable, make_interpreter
from device_runner.facts import device_facts, peak_rss_mb, rss_mb, temperatures_c
from device_runner.runtime import Runtime
from device_runner.schema import (
    STATUS_DELEGATE_FAILED,
    STATUS_DELEGATE_UNAVAILABLE,
    STATUS_OK,
    CellKey,
    CellResult,
    Coverage,
    Memory,
    Plan,
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def load_input_set(path: Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    with np.load(path) as data:
        return data["x"], data.get("y"), data.get("ref")


def _coverage(interpreter: Any) -> Coverage | None:
    ops_details = getattr(interpreter, "_get_ops_details", None)  # private in both runtimes
    return coverage_from_ops(ops_details()) if ops_details else None


def run_cell(plan: Plan, plan_dir: Path, key: CellKey, runtime: Runtime) -> CellResult:
    header: dict[str, Any] = {
        "run_id": plan.run_id,
        "variant": key.variant,
        "delegate": key.delegate,
        "threads": key.threads,
        "device": device_facts(runtime),
        "started_at": now_iso(),
        "temperature_before_c": temperatures_c(),
    }
    x, labels, reference = load_input_set(plan_dir / plan.input_set)
    model_path = plan_dir / plan.variant(key.variant).file

    rss_before = rss_mb()
    start = time.perf_counter_ns()
    try:
        interpreter = make_interpreter(runtime, str(model_path), key.delegate, key.threads)
    except DelegateUnavailable as exc:
        return _finish(header, STATUS_DELEGATE_UNAVAILABLE, message=str(exc))
    except DelegateFailed as exc:
        return _finish(header, STATUS_DELEGATE_FAILED, message=str(exc))
    init_ns = time.perf_counter_ns() - start
    rss_after = rss_mb()

    accuracy.feed(interpreter, x[0])
    start = time.perf_counter_ns()
    interpreter.invoke()
    first_ns = time.perf_counter_ns() - start
    warmup = timing.bounded_loop(interpreter.invoke, plan.warmup_runs, plan.warmup_min_s, plan.max_s)
    overhead_ns = timing.timer_overhead_ns()
    samples = timing.bounded_loop(interpreter.invoke, plan.runs, plan.min_s, plan.max_s)

    scores = accuracy.score(accuracy.predict(interpreter, x), labels, reference)
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
        coverage=_coverage(interpreter),
    )


def _finish(header: dict[str, Any], status: str, **fields: Any) -> CellResult:
    return CellResult(status=status, temperature_after_c=temperatures_c(), finished_at=now_iso(), **header, **fields)
