"""The noise guard: a cell measured while other work occupies the CPUs is stored flagged, with the reasons,
and the gate reads a flagged side as inconclusive."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from device_runner import noise, schema
from device_runner.schema import Activity, CellKey, CellResult, Conditions
from edgebench.gate import stats
from edgebench.gate.compare import compare
from edgebench.gate.policy import Policy
from edgebench.records import Manifest, StoredRun
from tests.conftest import QUICK, ROOT, make_plan

Converted = tuple[Manifest, Path]
SPIN = "while True: pass"


@contextmanager
def busy_loops(count: int | None = None) -> Iterator[None]:
    """A spinning process per usable core (other work on the machine), ended by pid when done."""
    procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(count or len(noise.usable_cpus()))]
    try:
        time.sleep(0.3)  # let them start spinning
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def window(others: float | None, *, throttled: str | None = None, seconds: float = 1.0) -> Activity:
    return Activity(seconds, 0.5, others, others, throttled=throttled)


def test_others_using_the_cores_the_cell_needs_is_contention() -> None:
    quiet, busy = window(0.1, seconds=0.1), window(2.0)  # 0.1 s windows around a 1 s timed loop
    assert noise.reasons(1, 2, quiet, window(0.1), quiet) == []
    assert noise.reasons(1, 2, quiet, window(1.0), quiet) == []  # a spare core is left for it
    (why,) = noise.reasons(1, 2, quiet, busy, quiet)
    assert why.startswith("other processes kept 1.68 of 2 cores busy"), why  # the windows weighted by length
    assert noise.reasons(2, 2, window(0.5), window(0.5), window(0.5))  # 2 threads on 2 cores: no room at all


def test_more_threads_than_usable_cores_and_throttling_are_reasons_too() -> None:
    quiet = window(0.0)
    assert "4 threads on 2 usable cores" in noise.reasons(4, 2, quiet, quiet, quiet)[0]
    (why,) = noise.reasons(1, 4, window(0.0, throttled="0x4"), quiet, quiet)
    assert why == "before: vcgencmd get_throttled=0x4 (throttled)"
    assert noise.reasons(1, 4, window(0.0, throttled="0x50000"), quiet, quiet) == []  # since boot, not now


def test_the_cells_own_cpu_time_is_not_counted_as_competition() -> None:
    start, end = noise.Snapshot(0.0, 10.0, 5.0), noise.Snapshot(2.0, 13.0, 6.0)  # 3 CPU-s in 2 s, 1 of them ours
    seen = noise.activity(start, end, [0, 1], slow_probes=False)
    assert (seen.busy_cores, seen.others_busy_cores) == (1.5, 1.0)


def saturated(conditions: Conditions) -> bool:
    """Busy loops on every core: the whole machine busy, whatever else (the cell too) is running on it."""
    busy = conditions.during.busy_cores
    return busy is not None and busy >= 0.9 * conditions.available_cores


def test_the_guard_flags_busy_loops_on_every_core() -> None:
    guard = noise.Guard(threads=1)
    time.sleep(0.5)
    quiet = guard.finish()
    with busy_loops():
        guard = noise.Guard(threads=1)
        time.sleep(0.5)
        loaded = guard.finish()
    assert loaded.contended and any(r.startswith("other processes kept") for r in loaded.reasons), loaded
    assert saturated(loaded), loaded
    # this machine is shared: "quiet" may be busy too, so only ask that the loops show as more
    assert quiet.during.others_busy_cores is not None and loaded.during.others_busy_cores is not None
    assert loaded.during.others_busy_cores >= quiet.during.others_busy_cores - 0.1
    assert quiet.available_cores == len(os.sched_getaffinity(0)) and quiet.threads == 1


def run_cell(tmp_path: Path, converted: Converted, name: str) -> CellResult:
    settings = dataclasses.replace(QUICK, delegates=["xnnpack"], runs=50, min_s=0.5)
    _, plan_path = make_plan(tmp_path / name, converted, settings)
    out, key = tmp_path / f"{name}.json", CellKey("int8", "xnnpack", 1)
    command = [sys.executable, "-m", "device_runner", "cell", str(plan_path), key.id, "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=300)
    return schema.read(CellResult, out)


@pytest.mark.slow
def test_a_cell_timed_under_busy_loops_is_stored_flagged_with_the_reason(tmp_path: Path, converted: Converted) -> None:
    quiet = run_cell(tmp_path, converted, "quiet")
    with busy_loops():
        loaded = run_cell(tmp_path, converted, "loaded")
    assert loaded.status == quiet.status == "ok" and loaded.timing  # still measured, still stored
    assert loaded.conditions and quiet.conditions
    assert loaded.conditions.contended, loaded.conditions
    assert any(r.startswith("other processes kept") for r in loaded.conditions.reasons)
    assert saturated(loaded.conditions), loaded.conditions
    loaded_busy, quiet_busy = loaded.conditions.during.others_busy_cores, quiet.conditions.during.others_busy_cores
    assert loaded_busy is not None and quiet_busy is not None and loaded_busy >= quiet_busy - 0.1
    again = schema.loads(CellResult, schema.dumps(loaded), "loaded.json")  # the flag survives the record
    assert again.conditions == loaded.conditions


def flagged(cell: CellResult) -> CellResult:
    quiet = Activity(0.1, 2.0, 2.0, 2.0)
    conditions = Conditions(2, 1, None, quiet, quiet, quiet, True, ["other processes kept 2.00 of 2 cores busy"])
    return dataclasses.replace(cell, conditions=conditions)


def test_the_gate_calls_a_flagged_side_inconclusive_never_regression_or_pass(measured: StoredRun) -> None:
    # the fixture was measured on this shared machine: take its own flags off to start from clean sides
    measured = dataclasses.replace(measured, cells=[dataclasses.replace(c, conditions=None) for c in measured.cells])

    def latency(candidate: StoredRun) -> set[stats.Outcome]:
        result = compare([measured], [candidate], Policy(), {})
        return {v.verdict for v in result.verdicts if v.metric.startswith("latency")}

    # unflagged: the same run passes, or at worst asks for more runs (its own spread can be wide here)
    assert stats.Outcome.REGRESSION not in latency(measured) and stats.Outcome.PASS in latency(measured)
    slow_cells = []
    for cell in measured.cells:
        if cell.timing is None:
            slow_cells.append(cell)
            continue
        samples = [10 * s for s in cell.timing.samples_ms]
        timing = dataclasses.replace(cell.timing, samples_ms=samples, p50_ms=10 * (cell.timing.p50_ms or 0))
        slow_cells.append(dataclasses.replace(cell, timing=timing))
    slower = dataclasses.replace(measured, cells=slow_cells)
    assert stats.Outcome.REGRESSION in latency(slower)
    for candidate in (measured, slower):  # flagged: neither the pass nor the 10x regression stands
        assert latency(dataclasses.replace(candidate, cells=[flagged(c) for c in candidate.cells])) == {
            stats.Outcome.INCONCLUSIVE
        }
    result = compare([measured], [dataclasses.replace(slower, cells=[flagged(c) for c in slower.cells])], Policy(), {})
    p50 = next(v for v in result.verdicts if v.metric == "latency_p50")
    assert p50.detail.startswith("candidate measured under contention: other processes kept")
