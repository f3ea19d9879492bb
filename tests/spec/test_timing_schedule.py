"""One table, one time base, and decisions in the least device time: the interleaved units of a plan, the
intervals blocks give, the adaptive stopping rule (fed samples, no clock), resume with units, and the
speed-up interval of cells timed together."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest

import edgebench_records as schema
from device_runner import sweep
from device_runner.cell import Side, time_blocks
from device_runner.intervals import (
    MIN_BLOCKS,
    StopRule,
    log_ratios,
    median_interval,
    median_order_ranks,
    paired_ratio_interval,
    wilcoxon_greater,
)
from edgebench.gate import stats
from edgebench.report.speedup import Verdict, of_cells
from edgebench_records import (
    CellKey,
    CellResult,
    Measurement,
    Pair,
    Plan,
    PlanVariant,
    Schedule,
    Status,
    StopReason,
    Timing,
)
from tests.conftest import DATA

RNG = np.random.default_rng(11)
PLAN = Plan(
    "r",
    "m",
    [PlanVariant("fp32", "fp32.tflite", "0"), PlanVariant("int8", "int8.tflite", "1")],
    "inputs.npz",
    measure=Measurement(delegates=["xnnpack", "cpu"], threads=[1, 2]),
)


def test_the_variants_of_each_configuration_are_one_unit_and_a_pair_stays_a_pair() -> None:
    units = PLAN.units()
    assert len(units) == 4 and all(len(unit) == 2 for unit in units)  # 2 delegates x 2 thread counts
    for unit in units:
        assert [key.variant for key in unit] == ["fp32", "int8"]
        assert len({(key.delegate, key.api, key.threads) for key in unit}) == 1
    assert sorted(key.id for unit in units for key in unit) == sorted(key.id for key in PLAN.cells())
    alone = dataclasses.replace(PLAN, measure=dataclasses.replace(PLAN.measure, interleave=False))
    assert alone.units() == [(key,) for key in PLAN.cells()]
    paired = dataclasses.replace(PLAN, pairs=[Pair("fp32", "int8")])
    assert paired.units() == paired.paired_cells()


def test_a_plan_written_before_interleaving_resumes_timing_each_cell_alone() -> None:
    data = schema.to_dict(PLAN) | {"schema_version": "1.4"}
    del data["measure"]["interleave"], data["measure"]["precision"]
    plan = schema.from_dict(Plan, data)  # upgraded on read, one step a version
    assert plan.measure.interleave is False and plan.measure.precision == 0
    assert all(len(unit) == 1 for unit in plan.units())
    frozen = schema.read(Plan, DATA / "records" / "plan-1.1.json")
    assert not frozen.measure.interleave and len(frozen.units()) == len(frozen.cells())


def test_a_result_from_before_schedules_reads_as_timed_alone_for_a_fixed_duration() -> None:
    result = schema.read(CellResult, DATA / "records" / "result-1.1.json")
    assert result.schedule is None and result.schema_version == schema.RESULT_RECORD.version
    assert not result.timed_with(result)


def test_the_median_interval_takes_order_statistics_and_needs_six_blocks() -> None:
    assert [median_order_ranks(n) for n in (5, 6, 10, 20)] == [0, 1, 2, 6]
    assert median_interval([1.0] * 5) is None
    assert median_interval([float(v) for v in range(10, 0, -1)]) == (2.0, 9.0)


def test_the_gate_reads_the_paired_interval_the_runner_stops_on() -> None:
    a = [RNG.lognormal(0, 0.02, 20) for _ in range(12)]
    b = [1.2 * RNG.lognormal(0, 0.02, 20) for _ in range(12)]
    found = stats.paired_latency(a, b, alpha=0.005, floor=0.05)
    d = log_ratios([float(np.median(x)) for x in a], [float(np.median(x)) for x in b])
    assert (found.low, found.high) == paired_ratio_interval(d)
    assert found.low is not None and found.high is not None and found.low <= found.estimate <= found.high
    assert found.low > 1.1 and found.high < 1.3


def medians(scale: float, sigma: float, n: int) -> list[float]:
    return [float(v) for v in scale * RNG.lognormal(0, sigma, n)]


def test_fixed_timing_stops_after_its_blocks_and_one_cell_alone_needs_one() -> None:
    m = Measurement(blocks=8)
    rule = StopRule.of(m, 3)
    assert rule.rounds == 8 and StopRule.of(m, 1).rounds == 1
    noisy = [medians(1, 0.5, 7)] * 3
    assert rule.decide(7, 100.0, noisy).stop is None  # not even max_s cuts a fixed run short of its blocks
    assert rule.decide(8, 0.0, [medians(1, 0.5, 8)] * 3).stop is StopReason.FIXED


def test_an_adaptive_cell_stops_on_precision_only_past_its_minimums() -> None:
    rule = StopRule(precision=0.02, min_s=1.0, max_s=10.0, rounds=20)
    tight = [medians(1, 0.002, MIN_BLOCKS)]
    assert rule.decide(MIN_BLOCKS - 1, 5.0, [tight[0][:-1]]).stop is None  # too few blocks
    assert rule.decide(MIN_BLOCKS, 0.5, tight).stop is None  # before --min-secs
    verdict = rule.decide(MIN_BLOCKS, 1.0, tight)
    assert verdict.stop is StopReason.PRECISION
    assert verdict.half_widths[0] is not None and verdict.half_widths[0] <= 0.02


def test_an_adaptive_group_waits_for_its_noisiest_cell_and_max_s_ends_it() -> None:
    rule = StopRule(precision=0.02, min_s=0.0, max_s=10.0, rounds=20)
    group = [medians(1, 0.002, 12), medians(2, 0.3, 12)]
    assert rule.decide(12, 9.9, group).stop is None
    bound = rule.decide(12, 10.0, group)
    assert bound.stop is StopReason.BOUND
    widths = bound.half_widths
    assert widths[0] is not None and widths[1] is not None and widths[0] <= 0.02 < widths[1]


def test_a_paired_run_stops_once_its_ratio_clears_the_floor_either_way() -> None:
    rule = StopRule(precision=0.001, min_s=0.0, max_s=100.0, rounds=20, floor=0.05)
    base = medians(1, 0.01, MIN_BLOCKS)
    slower = [1.2 * v for v in base]
    same = [v * float(RNG.lognormal(0, 0.005)) for v in base]
    assert rule.decide(MIN_BLOCKS, 1.0, [base, slower]).stop is StopReason.DECIDED  # wholly past 1.05
    assert rule.decide(MIN_BLOCKS, 1.0, [base, same]).stop is StopReason.DECIDED  # wholly short of it
    at_floor = [1.05 * v * float(RNG.lognormal(0, 0.05)) for v in base]
    assert rule.decide(MIN_BLOCKS, 1.0, [base, at_floor]).stop is None  # straddles it: measure on
    widths = rule.decide(MIN_BLOCKS, 1.0, [base, slower]).half_widths
    assert widths[0] == widths[1]  # a pair's precision is its ratio's


def test_a_pair_past_the_floor_but_not_yet_significant_measures_on() -> None:
    """The gate would call 7 slower blocks and 3 faster ones inconclusive (Wilcoxon p 0.008 > alpha 0.005),
    however far past the floor the interval lies: the pair is not decided yet."""
    rule = StopRule(precision=0.001, min_s=0.0, max_s=100.0, rounds=20, floor=0.05, alpha=0.005)
    base = [1.0] * MIN_BLOCKS
    mixed = [1.3] * 7 + [0.99] * 3
    assert paired_ratio_interval(log_ratios(base, mixed))[0] > 1.05
    assert rule.decide(MIN_BLOCKS, 1.0, [base, mixed]).stop is None
    assert rule.decide(MIN_BLOCKS, 1.0, [base, [1.3] * 8 + [0.99] * 2]).stop is StopReason.DECIDED  # p 0.004


@pytest.mark.parametrize("n", [6, 10, 25])
def test_the_runners_wilcoxon_is_the_gates(n: int) -> None:
    from scipy import stats as scipy_stats

    for _ in range(5):
        d = RNG.normal(0.05, 0.1, n)
        assert wilcoxon_greater(d) == pytest.approx(scipy_stats.wilcoxon(d, alternative="greater").pvalue)
    tied = np.array([0.1, 0.1, -0.1, 0.2, 0.3, 0.3, 0.0, 0.5])
    assert wilcoxon_greater(tied) == pytest.approx(scipy_stats.wilcoxon(tied, alternative="greater").pvalue)


def cell(variant: str, samples: list[float], lengths: list[int], group: str) -> CellResult:
    p50 = float(np.median(samples))
    timing = Timing(1.0, 1.0, 1, samples, p50, p50, p50, p50, 0.0, min(samples), max(samples), 0.0, lengths)
    schedule = Schedule(group, 2, len(lengths), StopReason.FIXED, 0.0, None, 1.0)
    return CellResult("r", variant, "xnnpack", 1, Status.OK, timing=timing, schedule=schedule)


def test_speedups_of_cells_timed_together_pair_their_blocks() -> None:
    """A drift over the minutes moves both cells' blocks alike: paired, it cancels; apart, it widens the
    interval until it spans 1."""
    drift = np.linspace(1.0, 3.0, 20)
    fp32 = [float(v) for d in drift for v in d * RNG.lognormal(0, 0.01, 10)]
    int8 = [float(v) for d in drift for v in 0.9 * d * RNG.lognormal(0, 0.01, 10)]
    together = of_cells(cell("int8", int8, [10] * 20, "g1"), cell("fp32", fp32, [10] * 20, "g1"))
    apart = of_cells(cell("int8", int8, [10] * 20, "g1"), cell("fp32", fp32, [10] * 20, "g2"))
    assert together.verdict is Verdict.FASTER and together.low is not None and together.low > 1.05
    assert apart.verdict is Verdict.SAME
    assert together.paired and not apart.paired  # what --json says of how each was read


def test_a_paired_speedup_is_read_block_by_block_when_the_machine_switches_speed_under_both() -> None:
    """This machine's vCPU runs at one of two speeds 58 % apart, switching several times a second. Ten block
    pairs ran fast, ten slow, and in one the switch fell between fp32's block and int8's: fp32's overall p50
    lands in the fast mode, int8's between the modes, and their ratio reads 0.66x. Every block pair says 0.84x,
    and so must the speed-up, with a narrow interval."""
    speeds = [1.0] * 10 + [1.58] * 10
    fp32 = [[s * 0.025 * v for v in RNG.lognormal(0, 0.01, 10)] for s in speeds]
    int8 = [[s * 0.025 / 0.84 * v for v in RNG.lognormal(0, 0.01, 10)] for s in speeds]
    fp32[10] = [v / 1.58 for v in fp32[10]]  # fp32's half of the straddling pair ran before the switch
    flat = [[float(v) for block in side for v in block] for side in (fp32, int8)]
    assert np.median(flat[0]) / np.median(flat[1]) < 0.7  # what dividing the p50s reports
    together = of_cells(cell("int8", flat[1], [10] * 20, "g1"), cell("fp32", flat[0], [10] * 20, "g1"))
    assert together.ratio == pytest.approx(0.84, rel=0.01)
    assert together.low is not None and together.high is not None and together.high / together.low < 1.03
    assert together.verdict is Verdict.SLOWER


def fake_spawn(calls: list[tuple[str, ...]], dies: set[str]) -> object:
    """The cell process, played: records which cells were timed together and writes their results, or
    dies (writing nothing) when a cell in ``dies`` is among them."""

    def spawn(
        plan: Plan, plan_path: Path, unit: tuple[CellKey, ...], outs: list[Path], runtime: str | None
    ) -> sweep.Died | None:
        calls.append(tuple(key.variant for key in unit))
        if dies & {key.variant for key in unit}:
            return sweep.Died(Status.CRASHED, "cell process killed by SIGSEGV: boom", "t")
        for key, out in zip(unit, outs, strict=True):
            schema.write(out, CellResult(plan.run_id, key.variant, key.delegate, key.threads, Status.OK, key.api))
        return None

    return spawn


def staged(tmp_path: Path, plan: Plan) -> Path:
    path = tmp_path / "plan" / "plan.json"
    path.parent.mkdir()
    schema.write(path, plan)
    return path


def test_a_resume_times_a_units_missing_cells_together_each_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = dataclasses.replace(
        PLAN,
        variants=[*PLAN.variants, PlanVariant("fp16", "fp16.tflite", "2")],
        measure=Measurement(delegates=["xnnpack"]),
    )
    path, results = staged(tmp_path, plan), tmp_path / "results"
    monkeypatch.setattr(sweep, "check_variant_files", lambda plan, folder: None)
    results.mkdir()
    done = CellKey("int8", "xnnpack", 1)
    schema.write(sweep.result_path(results, done), CellResult("r", "int8", "xnnpack", 1, Status.OK))
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(sweep, "_spawn", fake_spawn(calls, set()))
    found = sweep.run_plan(path, results)
    assert calls == [("fp32", "fp16")]  # int8 was stored: the other two timed together, once
    assert [r.variant for r in found] == ["fp32", "int8", "fp16"]
    assert sweep.run_plan(path, results) == found and calls == [("fp32", "fp16")]  # all stored: nothing timed


def test_a_result_another_plan_left_under_the_same_name_is_measured_again_not_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run folder reused for another model (same run id, same cell names): int8's result there is of another
    file, so this plan's int8 is timed, with fp32, whose result there is this plan's and stays."""
    plan = dataclasses.replace(PLAN, measure=Measurement(delegates=["xnnpack"]))
    path, results = staged(tmp_path, plan), tmp_path / "results"
    monkeypatch.setattr(sweep, "check_variant_files", lambda plan, folder: None)
    results.mkdir()
    mine = CellResult("r", "fp32", "xnnpack", 1, Status.OK, file_sha256="0")
    theirs = CellResult("r", "int8", "xnnpack", 1, Status.OK, file_sha256="f" * 64)
    for result in (mine, theirs):
        schema.write(sweep.result_path(results, result.key), result)
    assert plan.owns(mine) and not plan.owns(theirs)
    assert not plan.owns(dataclasses.replace(mine, run_id="another"))
    assert plan.owns(dataclasses.replace(theirs, file_sha256=None))  # an older runner's, unhashed: taken
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(sweep, "_spawn", fake_spawn(calls, set()))
    found = {r.variant: r for r in sweep.run_plan(path, results)}
    assert calls == [("int8",)]
    assert found["fp32"] == mine and found["int8"].file_sha256 is None  # the fake's result, not the other file's


def test_a_unit_whose_process_dies_is_timed_cell_by_cell_so_the_crash_is_the_right_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = dataclasses.replace(PLAN, measure=Measurement(delegates=["xnnpack"]))
    path = staged(tmp_path, plan)
    monkeypatch.setattr(sweep, "check_variant_files", lambda plan, folder: None)
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(sweep, "_spawn", fake_spawn(calls, {"int8"}))
    found = {r.variant: r for r in sweep.run_plan(path, tmp_path / "results")}
    assert calls == [("fp32", "int8"), ("fp32",), ("int8",)]
    assert found["fp32"].status is Status.OK
    assert found["int8"].status is Status.CRASHED and "SIGSEGV" in found["int8"].message


def test_a_pair_whose_process_dies_is_not_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = dataclasses.replace(PLAN, measure=Measurement(delegates=["xnnpack"]), pairs=[Pair("fp32", "int8")])
    path = staged(tmp_path, plan)
    monkeypatch.setattr(sweep, "check_variant_files", lambda plan, folder: None)
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(sweep, "_spawn", fake_spawn(calls, {"int8"}))
    found = sweep.run_plan(path, tmp_path / "results")
    assert calls == [("fp32", "int8")] and {r.status for r in found} == {Status.CRASHED}


def test_a_schedule_travels_in_the_result_json() -> None:
    schedule = Schedule("ab12", 3, 14, StopReason.PRECISION, 0.02, 0.018, 1.4)
    result = CellResult("r", "fp32", "xnnpack", 1, Status.OK, schedule=schedule)
    again = schema.loads(CellResult, json.dumps(schema.to_dict(result)), "result.json")
    assert again.schedule == schedule and again.timed_with(dataclasses.replace(result, variant="int8"))


def test_an_adaptive_pair_whose_blocks_take_microseconds_stops_at_max_secs_of_the_clock() -> None:
    """A tiny model's blocks add microseconds of timed time each: --max-secs counted in timed seconds alone would
    take thousands of rounds, each deciding on every block so far. The clock bounds it as well."""
    m = Measurement(precision=1e-6, max_s=0.5, min_s=0.0, runs=10, blocks=10)  # a precision no timing meets
    rng = np.random.default_rng(0)

    def invoke() -> None:  # 1-20 µs, as a tiny model's run
        end = time.perf_counter_ns() + int(rng.integers(1_000, 20_000))
        while time.perf_counter_ns() < end:
            pass

    engine = cast(Any, SimpleNamespace(invoke=invoke))
    sides = [Side(CellKey(v, "xnnpack", 1), {}, engine, cast(Any, None), cast(Any, None), 0, 0, 0, 0, 0) for v in "ab"]
    started = time.perf_counter()
    stopped = time_blocks(sides, m)
    assert stopped.stop is StopReason.BOUND
    assert time.perf_counter() - started < 2 * m.max_s + 1.0  # both sides' share of the clock, and some slack
