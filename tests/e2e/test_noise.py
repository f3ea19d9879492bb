"""The noise guard: a cell measured while other work occupies the CPUs is stored flagged, with the reasons,
and the gate reads a flagged side as inconclusive."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import pytest

import edgebench_records as schema
from edgebench.gate import stats
from edgebench.gate.compare import cell_key, compare
from edgebench.gate.policy import Policy
from edgebench_records import Activity, CellKey, CellResult, Conditions, Manifest, StoredRun
from tests.conftest import QUICK, ROOT, make_plan
from tests.e2e.test_gate import QUIET_RUNS
from tests.spec.test_noise import busy_loops, saturated

Converted = tuple[Manifest, Path]


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

    # earlier quiet runs of each cell, as many as stored mode needs to judge latency at all
    history = {
        cell_key(measured, c): [math.log(c.timing.p50_ms * f) for f in QUIET_RUNS]
        for c in measured.cells
        if c.timing and c.timing.p50_ms
    }

    def latency(candidate: StoredRun) -> set[stats.Outcome]:
        result = compare([measured], [candidate], Policy(), history)
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
    result = compare(
        [measured], [dataclasses.replace(slower, cells=[flagged(c) for c in slower.cells])], Policy(), history
    )
    p50 = next(v for v in result.verdicts if v.metric == "latency_p50")
    assert p50.detail.startswith("candidate measured under contention: other processes kept")
