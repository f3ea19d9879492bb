"""The device runner: every cell in its own process, every failure a status, every result kept."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import edgebench_records as schema
from device_runner.cell import serpentine
from device_runner.coverage import node_keys
from device_runner.flatbuffer import read_graph
from device_runner.runtime import load_runtime
from device_runner.sweep import CellDone, result_path, run_plan
from device_runner.timing import bounded_loop
from edgebench_records import CellResult, Manifest, Pair
from tests.conftest import QUICK, make_plan, plan_for_files, variant_of

pytestmark = pytest.mark.slow
Converted = tuple[Manifest, Path]


def sweep(tmp_path: Path, converted: Converted, **settings: Any) -> dict[str, CellResult]:
    _, plan_path = make_plan(tmp_path, converted, dataclasses.replace(QUICK, **settings))
    results = run_plan(plan_path, tmp_path / "results")
    return {
        f"{r.variant}/{r.delegate.split(';')[-1]}" + ("" if r.api == "interpreter" else f"/{r.api}"): r for r in results
    }


def test_an_ok_cell_holds_timing_memory_accuracy_coverage_and_device_facts(
    tmp_path: Path, converted: Converted
) -> None:
    results = sweep(tmp_path, converted, delegates=["xnnpack", "cpu"])
    for result in results.values():
        assert result.status == "ok", result.message
        assert result.timing and result.memory and result.accuracy and result.coverage and result.device
        timing, memory = result.timing, result.memory
        assert not timing.missing and not memory.missing  # device_runner measures every field
        assert len(timing.samples_ms) >= QUICK.runs
        assert timing.min_ms and timing.p50_ms and timing.p90_ms and timing.max_ms and timing.timer_overhead_ms
        assert timing.p5_ms and timing.p95_ms
        assert 0 < timing.min_ms <= timing.p5_ms <= timing.p50_ms <= timing.p90_ms <= timing.p95_ms <= timing.max_ms
        assert timing.timer_overhead_ms < timing.p50_ms
        assert memory.peak_rss_mb and memory.rss_after_load_mb
        assert memory.peak_rss_mb >= memory.rss_after_load_mb > 0
        assert memory.rss_before_mb is not None and memory.model_peak_mb is not None  # the model's own peak
        assert memory.model_peak_mb == memory.peak_rss_mb - memory.rss_before_mb and memory.model_peak_mb > 0
        assert result.accuracy.n == len(result.accuracy.correct) == 360
        assert result.accuracy.top1 is not None and result.accuracy.top1 > 0.95
        assert result.device.runtime == load_runtime().name
    assert results["fp32/xnnpack"].accuracy.fp32_agreement == 1.0  # type: ignore[union-attr]
    assert results["fp32/xnnpack"].coverage.fraction == 1.0  # type: ignore[union-attr]
    assert results["fp32/cpu"].coverage.delegated_nodes == 0  # type: ignore[union-attr]
    manifest, folder = converted
    fp32 = variant_of(manifest, "fp32").file
    assert fp32 is not None
    graph = read_graph((folder / fp32).read_bytes())
    placement = results["fp32/xnnpack"].placement
    assert placement is not None and placement.node_keys == node_keys(graph)  # each node stored with its key


def test_a_cell_whose_process_dies_is_recorded_as_crashed_and_the_sweep_goes_on(
    tmp_path: Path, converted: Converted, faulty_delegate: Path
) -> None:
    results = sweep(tmp_path, converted, delegates=["xnnpack", f"external:{faulty_delegate};mode=abort", "cpu"])
    crashed = results["fp32/mode=abort"]
    assert crashed.status == "crashed"
    assert "SIGABRT" in crashed.message
    assert results["fp32/xnnpack"].status == results["fp32/cpu"].status == "ok"
    assert results["int8/cpu"].status == "ok"  # cells after the crash still ran


def test_a_cell_that_hangs_is_stopped_at_the_cell_timeout(
    tmp_path: Path, converted: Converted, faulty_delegate: Path
) -> None:
    results = sweep(tmp_path, converted, delegates=[f"external:{faulty_delegate};mode=hang"], cell_timeout_s=3.0)
    assert {r.status for r in results.values()} == {"timeout"}
    assert "--cell-timeout 3s" in results["fp32/mode=hang"].message


def test_a_delegate_that_cannot_prepare_is_delegate_failed_not_a_crash(
    tmp_path: Path, converted: Converted, faulty_delegate: Path
) -> None:
    results = sweep(tmp_path, converted, delegates=[f"external:{faulty_delegate};mode=fail"])
    assert results["fp32/mode=fail"].status == "delegate_failed"
    assert "failed to prepare" in results["fp32/mode=fail"].message


def test_delegates_this_device_lacks_are_delegate_unavailable(tmp_path: Path, converted: Converted) -> None:
    results = sweep(tmp_path, converted, delegates=["nnapi", "external:/nonexistent/libdelegate.so"])
    assert results["fp32/nnapi"].status == "delegate_unavailable"
    missing = results["fp32/external:/nonexistent/libdelegate.so"]
    assert missing.status == "delegate_unavailable" and "/nonexistent/libdelegate.so" in missing.message
    assert not missing.failed  # a fact about the device, not a failed measurement


def test_a_runner_killed_half_way_resumes_with_finished_cells_untouched(tmp_path: Path, converted: Converted) -> None:
    plan, plan_path = make_plan(tmp_path, converted, dataclasses.replace(QUICK, min_s=1.0))
    results_dir = tmp_path / "results"
    runner = subprocess.Popen(
        [sys.executable, "-m", "device_runner", "run", str(plan_path), "--results", str(results_dir)],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    first = result_path(results_dir, plan.cells()[0])
    deadline = time.monotonic() + 120
    while not first.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(runner.pid, signal.SIGKILL)  # the runner and its current cell, as a reboot would
    runner.wait()
    finished = {p.name: p.read_bytes() for p in results_dir.glob("*.json")}
    assert first.name in finished and len(finished) < len(plan.cells())
    for name, content in finished.items():  # a killed writer may leave a temp file, never half a result
        schema.loads(CellResult, content.decode(), name)

    events: list[CellDone] = []
    results = run_plan(plan_path, results_dir, on_cell=events.append)

    assert [r.key for r in results] == [key for unit in plan.units() for key in unit]  # a unit's cells together
    assert sorted(r.key.id for r in results) == sorted(key.id for key in plan.cells())
    assert all(r.status == "ok" for r in results)
    assert {e.cell for e in events if e.skipped} == {name.removesuffix(".json") for name in finished}
    for name, content in finished.items():
        assert (results_dir / name).read_bytes() == content


def test_timing_loops_stop_on_count_and_seconds_whichever_comes_last() -> None:
    assert len(bounded_loop(lambda: None, min_runs=7, min_s=0.0, max_s=60)) == 7
    sleeps = bounded_loop(lambda: time.sleep(0.01), min_runs=1, min_s=0.1, max_s=60)
    assert 5 <= len(sleeps) <= 11
    capped = bounded_loop(lambda: time.sleep(0.01), min_runs=10_000, min_s=0.0, max_s=0.1)
    assert len(capped) < 10_000


def test_cells_can_be_pinned_to_cpus(tmp_path: Path, converted: Converted) -> None:
    results = sweep(tmp_path, converted, delegates=["xnnpack"], cpus=[0])
    assert {tuple(r.pinned_cpus) for r in results.values()} == {(0,)}


def test_the_cool_down_pauses_between_measured_units_only(
    tmp_path: Path, converted: Converted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fp32 and int8 are timed together per delegate: two units, one pause between them; a rerun that finds
    every result written measures nothing and pauses for nothing."""
    pauses: list[float] = []
    real_sleep = time.sleep

    def recorded(seconds: float) -> None:
        pauses.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recorded)
    sweep(tmp_path, converted, delegates=["xnnpack", "cpu"], cooldown_s=1.25)
    assert pauses.count(1.25) == 1
    pauses.clear()
    sweep(tmp_path, converted, delegates=["xnnpack", "cpu"], cooldown_s=1.25)  # the same results folder
    assert 1.25 not in pauses


def test_both_litert_apis_measure_the_same_model_alike(tmp_path: Path, converted: Converted) -> None:
    results = sweep(tmp_path, converted, delegates=["xnnpack"], apis=["interpreter", "compiled"])
    by_api = {r.api: r for r in results.values() if r.variant == "fp32"}
    interpreter, compiled = by_api["interpreter"], by_api["compiled"]
    assert compiled.status == "ok" and compiled.fully_accelerated is True and compiled.coverage is None
    assert interpreter.fully_accelerated is None and interpreter.coverage is not None
    assert compiled.accuracy and interpreter.accuracy
    assert compiled.accuracy.correct == interpreter.accuracy.correct


def test_a_gpu_accelerator_the_machine_lacks_is_unavailable_not_a_failure(tmp_path: Path, converted: Converted) -> None:
    results = sweep(tmp_path, converted, delegates=["gpu"], apis=["compiled", "interpreter"])
    for result in results.values():
        assert result.status in ("ok", "delegate_unavailable"), result.message
        assert not result.failed


def test_xnnpack_refusing_a_sparse_int8_model_is_delegate_failed_and_plain_kernels_still_run(
    tmp_path: Path, converted: Converted, sparse_int8_model: Path
) -> None:
    plan_path = plan_for_files(tmp_path, converted, {"sparse": sparse_int8_model})
    results = {r.delegate: r for r in run_plan(plan_path, tmp_path / "results")}
    assert results["xnnpack"].status == "delegate_failed"
    assert "failed to delegate FULLY_CONNECTED" in results["xnnpack"].message
    assert results["cpu"].status == "ok"


def test_a_paired_plan_times_both_sides_in_interleaved_abba_blocks(tmp_path: Path, converted: Converted) -> None:
    plan, plan_path = make_plan(
        tmp_path, converted, dataclasses.replace(QUICK, delegates=["xnnpack"], runs=60, blocks=6)
    )
    paired = dataclasses.replace(plan, pairs=[Pair("fp32", "int8")])
    schema.write(plan_path, paired)
    events: list[CellDone] = []
    baseline, candidate = run_plan(plan_path, tmp_path / "results", on_cell=events.append)
    assert [side for r in range(3) for side in serpentine(2, r)] == [0, 1, 1, 0, 0, 1]  # ABBA
    for result in (baseline, candidate):
        assert result.status == "ok" and result.timing is not None
        assert len(result.timing.block_lengths) == 6  # one block per ABBA slot of its side
        assert sum(result.timing.block_lengths) == len(result.timing.samples_ms) >= 60
        assert result.accuracy is not None and result.accuracy.n == 360
    assert (baseline.variant, candidate.variant) == ("fp32", "int8")
    assert [e.index for e in events] == [1, 2] and {e.total for e in events} == {2}
    again = run_plan(plan_path, tmp_path / "results")  # resume: the pair is complete, nothing re-measured
    assert again == [baseline, candidate]
