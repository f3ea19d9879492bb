"""One schedule for two runners: android_app's Java core forms device_runner's units, times them in serpentine
blocks, stops them by the same rule (intervals.StopRule, fed the same block medians) and writes the schedule
edgebench_records reads, so a phone's table has one time base as a board's does."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest

import edgebench_records as schema
from device_runner import timing
from device_runner.cell import Side, time_blocks
from device_runner.inputs import InputSet, write_input_set
from device_runner.intervals import MIN_BLOCKS, StopRule
from edgebench_records import CellKey, CellResult, Measurement, Plan, PlanVariant, Status, StopReason

RNG = np.random.default_rng(5)


def medians(scale: float, sigma: float, n: int) -> list[float]:
    return [float(v) for v in scale * RNG.lognormal(0, sigma, n)]


BASE = medians(1e6, 0.01, 14)
STEADY, NOISY = medians(1e6, 0.001, 12), medians(1e6, 0.3, 12)
# Each case: the rule, the round and timed seconds it is asked after, the block medians; all away from the
# boundaries (a ratio's bootstrap differs from numpy's by its resampling noise, never by a verdict here).
CASES: dict[str, tuple[StopRule, int, float, list[list[float]]]] = {
    "fixed, blocks to go": (StopRule(0.0, 1.0, 150.0, 20), 7, 100.0, [medians(1e6, 0.5, 7)] * 3),
    "fixed, done": (StopRule(0.0, 1.0, 150.0, 20), 20, 1.0, [medians(1e6, 0.5, 20), medians(2e6, 0.1, 20)]),
    "adaptive, too few blocks": (StopRule(0.02, 0.0, 10.0, 20), MIN_BLOCKS - 1, 5.0, [medians(1e6, 0.001, 9)]),
    "adaptive, before min_s": (StopRule(0.02, 1.0, 10.0, 20), 12, 0.5, [medians(1e6, 0.001, 12)]),
    "adaptive, precise": (StopRule(0.02, 1.0, 10.0, 20), 12, 1.0, [medians(1e6, 0.001, 12), medians(3e6, 0.002, 12)]),
    "adaptive, one side noisy": (StopRule(0.02, 0.0, 10.0, 20), 12, 5.0, [STEADY, NOISY]),
    "adaptive, bound": (StopRule(0.02, 0.0, 10.0, 20), 12, 10.0, [STEADY, NOISY]),
    "pair, clearly slower": (StopRule(0.001, 0.0, 100.0, 20, 0.05), 14, 1.0, [BASE, [1.3 * v for v in BASE]]),
    "pair, clearly the same": (
        StopRule(0.001, 0.0, 100.0, 20, 0.05),
        14,
        1.0,
        [BASE, [v * float(RNG.lognormal(0, 0.003)) for v in BASE]],
    ),
    "pair, past the floor, not significant": (
        StopRule(0.001, 0.0, 100.0, 20, 0.05),
        10,
        1.0,
        [[1.0] * 10, [1.3] * 7 + [0.99] * 3],
    ),
    "pair, not significant but precise enough": (
        StopRule(0.2, 0.0, 100.0, 20, 0.05),
        10,
        1.0,
        [[1.0] * 10, [1.3] * 7 + [0.99] * 3],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_app_stops_where_device_runner_stops_on_the_same_block_medians(
    jvm: list[str], tmp_path: Path, case: str
) -> None:
    rule, rounds, elapsed_s, sides = CASES[case]
    request = tmp_path / "stop-rule.json"
    request.write_text(
        json.dumps(dataclasses.asdict(rule) | {"round": rounds, "elapsed_s": elapsed_s, "medians": sides})
    )
    out = subprocess.run([*jvm, "stop-rule", str(request)], check=True, capture_output=True, text=True).stdout
    java = json.loads(out)
    python = rule.decide(rounds, elapsed_s, sides)
    assert java["stop"] == (None if python.stop is None else python.stop.value)
    paired = rule.floor is not None and len(sides) == 2
    for found, expected in zip(java["half_widths"], python.half_widths, strict=True):
        if expected is None or not paired:  # order statistics: exact
            assert found == expected or (expected is not None and math.isclose(found, expected, rel_tol=1e-12))
        else:  # the ratio's bootstrap: Java's generator, not numpy's
            assert found == pytest.approx(expected, rel=0.1, abs=1e-3)


# ---- a plan swept by the app on the fake phone, read back as device_runner's results are ----------------


def interleaved_plan(folder: Path) -> Path:
    """Three variants under two delegates, interleaved and adaptive: two units of three, each stopping once every
    side's p50 is known to ±50 %, which blocks of ~2 ms of INVOKE_US invokes reach at the first chance."""
    folder.mkdir()
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    write_input_set(folder / "inputs.npz", InputSet([x], np.arange(6) % 10, None), {})
    variants = []
    for name in ("fp32", "int8", "fp16"):
        data = f"not a model: {name}".encode()  # the fake phone never reads it; the app hashes what it loads
        (folder / f"{name}.tflite").write_bytes(data)
        variants.append(PlanVariant(name, f"{name}.tflite", hashlib.sha256(data).hexdigest()))
    measure = Measurement(
        delegates=["xnnpack", "cpu"],
        runs=10,
        min_s=0.02,
        max_s=5.0,
        warmup_min_s=0.0,
        blocks=MIN_BLOCKS,
        precision=0.5,
    )
    path = folder / "plan.json"
    schema.write(path, Plan("20261206T190000Z-sched1", "m", variants, "inputs.npz", measure=measure))
    return path


INVOKE_US = 20  # each fake invoke busy this long, on both runners: block medians steady to a few %


def busy() -> None:
    end = time.perf_counter_ns() + INVOKE_US * 1000
    while time.perf_counter_ns() < end:
        pass


def device_runner_schedules(plan: Plan) -> list[tuple[int, int, StopReason]]:
    """What device_runner's time_blocks gives each unit of ``plan``, timing as many sides that invoke as the fake
    phone does: (group size, rounds, stop). run_group writes exactly these into each cell's Schedule, with a
    token when size > 1."""
    found = []
    for unit in plan.units():
        engine = cast(Any, SimpleNamespace(invoke=busy))
        sides = [
            Side(key, {}, engine, cast(Any, None), cast(Any, None), 0, 0, 0, 0.0, 0.0, timing.Samples(1 << 16))
            for key in unit
        ]
        stopped = time_blocks(sides, plan.measure)
        found.append((len(sides), stopped.rounds, stopped.stop))
    return found


def test_an_interleaved_adaptive_plan_swept_by_the_app_reads_back_with_device_runners_schedules(
    jvm: list[str], tmp_path: Path
) -> None:
    path = interleaved_plan(tmp_path / "plan")
    plan = schema.read(Plan, path)
    results = tmp_path / "results"
    env = os.environ | {"FAKE_PHONE_INVOKE_US": str(INVOKE_US)}
    subprocess.run([*jvm, "sweep", str(path), str(results)], check=True, capture_output=True, env=env)
    read = {key: schema.read(CellResult, results / f"{key.id}.json") for key in plan.cells()}
    expected = device_runner_schedules(plan)
    groups: list[str] = []
    for unit, (size, rounds, stop) in zip(plan.units(), expected, strict=True):
        cells = [read[key] for key in unit]
        first = cells[0].schedule
        assert first is not None and len(first.group) == 12  # secrets.token_hex(6)'s shape
        groups.append(first.group)
        for cell in cells:
            assert cell.status is Status.OK, cell.message
            s, t = cell.schedule, cell.timing
            assert s is not None and t is not None
            assert (s.group_size, s.rounds, s.stop) == (size, rounds, stop) == (3, MIN_BLOCKS, StopReason.PRECISION)
            assert s.group == first.group and cell.timed_with(cells[0])  # block k of each beside block k of the others
            assert s.precision == 0.5 and s.half_width is not None and s.half_width <= 0.5
            assert s.timed_s >= plan.measure.min_s  # each block at least min_s / blocks
            assert len(t.block_lengths) == s.rounds and sum(t.block_lengths) == len(t.samples_ms)
            assert min(t.block_lengths) >= math.ceil(plan.measure.runs / plan.measure.blocks)
            # timed beside the others, in one process: what another load paid for is said to be missing
            assert cell.memory is not None and cell.memory.missing == ["load_delta_mb", "peak_rss_mb", "model_peak_mb"]
    assert len(set(groups)) == len(groups)  # units apart: their cells do not pair
    assert not read[CellKey("fp32", "xnnpack", 1)].timed_with(read[CellKey("fp32", "cpu", 1)])
