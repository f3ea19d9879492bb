"""The bundled example's variants timed as a table needs them: interleaved in one process, one time base, and
stopped as soon as the figures are known well enough (adaptive mode)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import edgebench_records as schema
from device_runner.intervals import MIN_BLOCKS
from device_runner.sweep import run_plan
from edgebench.report.speedup import of_cells
from edgebench_records import CellResult, Manifest, Pair, StopReason
from tests.conftest import QUICK, make_plan

pytestmark = pytest.mark.slow
Converted = tuple[Manifest, Path]


def blocks_of(result: CellResult) -> list[int]:
    assert result.status == "ok", result.message
    assert result.timing is not None and result.schedule is not None
    assert sum(result.timing.block_lengths) == len(result.timing.samples_ms)
    return result.timing.block_lengths


def test_the_variants_of_a_configuration_are_timed_in_alternating_blocks_of_one_process(
    tmp_path: Path, converted: Converted, quiet_cores: None
) -> None:
    settings = dataclasses.replace(QUICK, delegates=["xnnpack"], runs=40, blocks=8)
    _, plan_path = make_plan(tmp_path, converted, settings)
    fp32, int8 = run_plan(plan_path, tmp_path / "results")
    assert (fp32.variant, int8.variant) == ("fp32", "int8") and fp32.timed_with(int8)
    for result in (fp32, int8):
        assert blocks_of(result) == [5] * 8  # ceil(40 runs / 8 blocks) each
        assert result.schedule is not None and result.schedule.stop is StopReason.FIXED
        assert (result.schedule.group_size, result.schedule.rounds) == (2, 8)
        assert result.memory is not None and result.memory.load_delta_mb is not None  # its own process's
        assert result.accuracy is not None and result.accuracy.n == 360
    found = of_cells(int8, fp32)  # paired: block k of int8 beside block k of fp32
    assert found.low is not None and found.high is not None and found.low <= found.ratio <= found.high


def test_an_adaptive_sweep_stops_each_cell_once_its_p50_is_known_to_the_precision(
    tmp_path: Path, converted: Converted
) -> None:
    settings = dataclasses.replace(QUICK, delegates=["xnnpack"], runs=200, blocks=20, precision=0.2, max_s=30.0)
    _, plan_path = make_plan(tmp_path, converted, settings)
    for result in run_plan(plan_path, tmp_path / "results"):
        blocks = blocks_of(result)
        schedule = result.schedule
        assert schedule is not None and schedule.stop is StopReason.PRECISION, schedule
        assert schedule.half_width is not None and schedule.half_width <= 0.2
        assert len(blocks) == schedule.rounds >= MIN_BLOCKS  # how many more depends on the machine's load


def test_an_adaptive_pair_stops_once_its_ratio_clears_the_floor(tmp_path: Path, converted: Converted) -> None:
    """int8 of the bundled example runs at a ratio far from fp32's on x86 (slower here, faster elsewhere):
    either way its interval clears a 5 % floor within the minimum of blocks."""
    settings = dataclasses.replace(
        QUICK, delegates=["xnnpack"], runs=200, blocks=20, precision=0.001, max_s=30.0, stop_floor=0.05
    )
    plan, plan_path = make_plan(tmp_path, converted, settings)
    schema.write(plan_path, dataclasses.replace(plan, pairs=[Pair("fp32", "int8")]))
    baseline, candidate = run_plan(plan_path, tmp_path / "results")
    assert len(blocks_of(baseline)) == len(blocks_of(candidate))
    for result in (baseline, candidate):
        assert result.schedule is not None and result.schedule.stop is StopReason.DECIDED, result.schedule
        assert result.schedule.rounds >= MIN_BLOCKS
