"""Honest memory: the runner's own buffers are not the model's memory, and both sides of a pair are
accounted alike."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import edgebench_records as schema
from device_runner.sweep import run_plan
from edgebench_records import CellKey, CellResult, Manifest, Measurement, Pair
from tests.conftest import QUICK, ROOT, make_plan

Converted = tuple[Manifest, Path]


def one_cell(tmp_path: Path, converted: Converted, settings: Measurement, name: str) -> CellResult:
    """The int8 x xnnpack cell, in its own process as the sweep runs it."""
    _, plan_path = make_plan(tmp_path / name, converted, settings)
    out = tmp_path / f"{name}.json"
    key = CellKey("int8", "xnnpack", 1)
    command = [sys.executable, "-m", "device_runner", "cell", str(plan_path), key.id, "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=300)
    return schema.read(CellResult, out)


@pytest.mark.slow
def test_peak_rss_does_not_grow_with_the_time_spent_measuring(tmp_path: Path, converted: Converted) -> None:
    """The int8 model runs ~40 µs: 12 s are ~300k samples, which as a Python list were ~50 MB of 'model' (30 s
    measured ~130 MB), 25 times the tolerance below even on a machine busy enough to halve them."""
    settings = dataclasses.replace(QUICK, delegates=["xnnpack"], runs=50, warmup_min_s=0.2)
    short = one_cell(tmp_path, converted, dataclasses.replace(settings, min_s=0.5), "short")
    long = one_cell(tmp_path, converted, dataclasses.replace(settings, min_s=12.0), "long")
    assert short.timing and long.timing and short.memory and long.memory
    assert len(long.timing.samples_ms) > 10 * len(short.timing.samples_ms)  # it did measure longer
    assert short.memory.peak_rss_mb and long.memory.peak_rss_mb
    assert abs(long.memory.peak_rss_mb - short.memory.peak_rss_mb) <= 2.0, (short.memory, long.memory)


@pytest.mark.slow
def test_both_sides_of_a_pair_report_the_memory_they_cost_alone(tmp_path: Path, converted: Converted) -> None:
    """Loaded second in the pair's process, the candidate used to find the runtime's start-up already paid
    (0.49 MB against the baseline's 3.58 MB): each side now costs what it costs as a cell of its own."""
    settings = dataclasses.replace(QUICK, delegates=["xnnpack"], runs=40, blocks=4)
    plan, plan_path = make_plan(tmp_path, converted, settings)
    schema.write(plan_path, dataclasses.replace(plan, pairs=[Pair("fp32", "int8")]))
    paired = {r.variant: r for r in run_plan(plan_path, tmp_path / "paired")}
    alone = {variant: one_cell(tmp_path, converted, settings, f"alone-{variant}") for variant in ("fp32", "int8")}
    for variant in ("fp32", "int8"):
        a, b = paired[variant].memory, alone[variant].memory
        assert a and b and a.load_delta_mb is not None and b.load_delta_mb is not None, variant
        assert a.peak_rss_mb is not None and b.peak_rss_mb is not None
        assert abs(a.load_delta_mb - b.load_delta_mb) <= 1.0, (variant, a, b)
        assert abs(a.peak_rss_mb - b.peak_rss_mb) <= 2.0, (variant, a, b)
