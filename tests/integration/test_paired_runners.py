"""Paired mode on every runner: the Android app times a pair in ABBA blocks as device_runner does, the gate
refuses paired mode on a benchmark_model phone, and a paired result without blocks is never compared as if it
had been interleaved."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import edgebench_records as schema
from edgebench.devices.android import APP_PACKAGE, sweep_script
from edgebench_records import CellResult, Plan, Status
from tests.spec.test_paired_runners import latency, paired_plan, side_run
from tests.support.fake_adb import TOOLS


def test_the_app_sweeps_a_python_paired_plan_in_abba_blocks_that_the_gate_pairs(jvm: list[str], tmp_path: Path) -> None:
    plan_path = paired_plan(tmp_path / "plan", runs=60, blocks=6)
    results = tmp_path / "results"
    # a phone that hides /proc/stat from apps: this shared machine's load cannot make the pair inconclusive
    hidden = {**os.environ, "FAKE_PHONE_MACHINE": str(tmp_path / "no-proc")}
    subprocess.run([*jvm, "sweep", str(plan_path), str(results)], check=True, capture_output=True, env=hidden)
    plan = schema.read(Plan, plan_path)
    pairs = plan.paired_cells()
    assert sorted(p.name for p in results.iterdir()) == sorted(f"{key.id}.json" for pair in pairs for key in pair)
    cells = {key.id: schema.read(CellResult, results / f"{key.id}.json") for pair in pairs for key in pair}
    for baseline, candidate in pairs:
        if baseline.delegate == "nnapi":  # the fake phone has none: both sides say so, neither is timed
            assert {cells[k.id].status for k in (baseline, candidate)} == {Status.DELEGATE_UNAVAILABLE}
            continue
        for key in (baseline, candidate):
            timing = cells[key.id].timing
            assert timing is not None
            assert timing.block_lengths == [10] * 6  # 60 runs // 6 blocks, 6 blocks a side
            assert sum(timing.block_lengths) == len(timing.samples_ms)
        found = latency(
            side_run("baseline", [cells[baseline.id]], plan.run_id),
            side_run("candidate", [cells[candidate.id]], plan.run_id),
        )
        assert "Wilcoxon" in found.detail and "over 6 blocks" in found.detail, found.detail


def test_the_host_sweeps_a_pair_on_the_app_with_each_sides_memory_from_a_process_of_its_own(
    jvm: list[str], tmp_path: Path
) -> None:
    plan_path = paired_plan(tmp_path / "plan", runs=8, blocks=2)
    plan = schema.read(Plan, plan_path)
    phone = tmp_path / "phone"  # what fake_android_tools needs of a phone: the app installed
    (phone / "state").mkdir(parents=True)
    (phone / "state" / "packages").write_text(APP_PACKAGE + "\n")
    (phone / "bin").mkdir()
    am = phone / "bin" / "am"
    am.write_text(f'#!/bin/sh\nexec {sys.executable} {TOOLS} am "$@"\n')
    am.chmod(0o755)
    env = {**os.environ, "PATH": f"{phone / 'bin'}:{os.environ['PATH']}", "FAKE_PHONE_ROOT": str(phone)}
    env |= {"FAKE_PHONE_APP": json.dumps(jvm), "FAKE_PHONE_MACHINE": str(tmp_path / "no-proc")}
    results = tmp_path / "results"
    script = sweep_script(plan, str(plan_path), str(results))
    subprocess.run(["sh", "-c", script], check=True, capture_output=True, env=env)
    for baseline, candidate in plan.paired_cells():
        if baseline.delegate == "nnapi":
            continue
        for key in (baseline, candidate):
            memory = schema.read(CellResult, results / f"{key.id}.json").memory
            assert memory is not None and memory.missing == [], key.id  # not the shared process's figures
            assert memory.load_delta_mb == 1.0  # the fake's one engine, in a process that opened only it
    assert sorted(p.name for p in results.iterdir()) == sorted(f"{k.id}.json" for u in plan.paired_cells() for k in u)
    again = subprocess.run(["sh", "-x", "-c", script], check=True, capture_output=True, text=True, env=env)
    assert again.stderr.count("+ am instrument") == 1  # a finished run starts the app once: the closing pass
