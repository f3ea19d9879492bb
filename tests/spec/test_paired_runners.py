"""Paired mode on every runner: the Android app times a pair in ABBA blocks as device_runner does, the gate
refuses paired mode on a benchmark_model phone, and a paired result without blocks is never compared as if it
had been interleaved."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest

import edgebench_records as schema
from edgebench.cli import invoke
from edgebench.devices.benchmark_model import BenchmarkModelRunner
from edgebench.devices.remote import Job, Link, RemoteDevice
from edgebench.errors import EdgebenchError
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.gate import stats
from edgebench.gate.compare import Verdict, compare
from edgebench.gate.paired import check_runner
from edgebench.gate.policy import Policy
from edgebench.inventory import load_inventory
from edgebench_records import (
    CellResult,
    Manifest,
    Measurement,
    Memory,
    Pair,
    Plan,
    PlanVariant,
    Status,
    StoredRun,
    Timing,
)

SIDES = ("baseline", "candidate")
REFUSAL = (
    "edgebench: device pixel runs benchmark_model, which loads one model per process and cannot time two models "
    'side by side: paired mode needs runner = "app"; use stored mode (`edgebench gate --baseline REF --candidate REF`)'
)


def paired_plan(plan_dir: Path, runs: int, blocks: int) -> Path:
    """The plan the gate writes, for two variants of each side; the fake phone never reads the model files."""
    plan_dir.mkdir(parents=True)
    rng = np.random.default_rng(0)
    np.savez(plan_dir / "inputs.npz", x=rng.random((8, 4), dtype=np.float32), y=np.arange(8) % 10)
    names = ["fp32", "int8"]
    plan = Plan(
        run_id="20261124T120000Z-gate-abcdef",
        model_name="digits",
        variants=[PlanVariant(f"{side}.{n}", f"{side}.{n}.tflite", "0" * 64) for side in SIDES for n in names],
        input_set="inputs.npz",
        measure=Measurement(delegates=["xnnpack", "nnapi"], runs=runs, blocks=blocks, min_s=0.0, warmup_min_s=0.0),
        pairs=[Pair(f"baseline.{n}", f"candidate.{n}") for n in names],
    )
    schema.write(plan_dir / "plan.json", plan)
    return plan_dir / "plan.json"


def side_run(side: str, cells: list[CellResult], gate: str) -> StoredRun:
    """One side of a paired gate as paired.measure hands it to the comparison (tags as stored)."""
    manifest = Manifest(model_name="digits", model_sha256="0" * 64, cache_key="k", input_set="inputs.npz", variants=[])
    plan = Plan(run_id=f"{gate}-{side}", model_name="digits", variants=[], input_set="inputs.npz")
    mine = [dataclasses.replace(c, variant=c.variant.removeprefix(f"{side}.")) for c in cells]
    tags = {"gate": gate, "side": side}
    return StoredRun(f"{gate}-{side}", "2026-11-24T12:00:00+00:00", "pixel", plan, manifest, None, tags, mine)


def latency(baseline: StoredRun, candidate: StoredRun) -> Verdict:
    result = compare([baseline], [candidate], Policy(), {})
    return next(v for v in result.verdicts if v.metric == "latency_p50")


def timed_cell(variant: str, samples: list[float], block_lengths: list[int]) -> CellResult:
    p50 = float(np.median(samples))
    timing = Timing(
        init_ms=1.0,
        first_ms=1.0,
        warmup_runs=1,
        samples_ms=samples,
        p50_ms=p50,
        p90_ms=p50,
        p99_ms=p50,
        mean_ms=p50,
        std_ms=0.0,
        min_ms=min(samples),
        max_ms=max(samples),
        timer_overhead_ms=0.0,
        block_lengths=block_lengths,
    )
    memory = Memory(rss_before_mb=100.0, rss_after_load_mb=101.0, load_delta_mb=1.0, peak_rss_mb=200.0)
    return CellResult(
        run_id="r", variant=variant, delegate="xnnpack", threads=1, status=Status.OK, timing=timing, memory=memory
    )


# ---- the Android app's core ----------------------------------------------------------------------


# ---- the gate: no silent fallback ----------------------------------------------------------------


def test_a_paired_gate_whose_results_have_no_blocks_is_inconclusive_and_says_why() -> None:
    samples = [1.0 + 0.01 * (i % 7) for i in range(120)]
    old_app = [timed_cell("fp32", samples, []), timed_cell("fp32", [s * 1.5 for s in samples], [])]
    found = latency(side_run("baseline", old_app[:1], "g1"), side_run("candidate", old_app[1:], "g1"))
    assert found.verdict == stats.Outcome.INCONCLUSIVE  # 1.5x slower, but not as the gate claims to measure it
    assert found.detail.startswith("paired mode, but the results carry 0 and 0 ABBA blocks"), found.detail
    assert "stored mode" in found.detail

    blocked = [timed_cell("fp32", samples, [10] * 12), timed_cell("fp32", [s * 1.5 for s in samples], [10] * 12)]
    paired = latency(side_run("baseline", blocked[:1], "g1"), side_run("candidate", blocked[1:], "g1"))
    assert paired.verdict == stats.Outcome.REGRESSION and "Wilcoxon" in paired.detail

    # blocks from two sessions are no pairs: runs of two different gates are compared as stored runs
    apart = latency(side_run("baseline", blocked[:1], "g1"), side_run("candidate", blocked[1:], "g2"))
    assert "stored mode" in apart.detail and "Wilcoxon" not in apart.detail


# ---- benchmark_model: one model per process, so no paired mode --------------------------------------


def write_inventory(path: Path, runner: str) -> Path:
    path.write_text(
        f'[devices.pixel]\nkind = "adb"\nserial = "NOPHONE123"\nrunner = "{runner}"\n'
        f'benchmark_model = "{path.parent / "benchmark_model"}"\n',
        encoding="utf-8",
    )
    return path


def test_the_gate_refuses_paired_mode_on_a_benchmark_model_phone_before_converting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    inventory = write_inventory(tmp_path / "edgebench.toml", "benchmark_model")
    workdir, store = tmp_path / "work", tmp_path / "h.sqlite"
    argv = ["gate", "--baseline-model", str(EXAMPLE_MODEL), "--candidate-model", str(EXAMPLE_MODEL)]
    argv += ["--data", str(EXAMPLE_DATA), "--device", "pixel", "--inventory", str(inventory)]
    code = invoke([*argv, "--workdir", str(workdir), "--store", str(store)])
    assert code == 2
    assert capsys.readouterr().err.strip() == REFUSAL  # one line; no phone was there to connect to
    assert not workdir.exists() and not store.exists()  # nothing converted, nothing stored


def test_a_phone_with_the_app_runner_may_gate_in_paired_mode(tmp_path: Path) -> None:
    check_runner("pixel", load_inventory(str(write_inventory(tmp_path / "edgebench.toml", "app"))))
    check_runner("local", load_inventory(str(write_inventory(tmp_path / "edgebench.toml", "benchmark_model"))))


def test_benchmark_model_never_measures_a_paired_plan_as_ordinary_cells(tmp_path: Path) -> None:
    plan = schema.read(Plan, paired_plan(tmp_path / "plan", runs=10, blocks=2))
    job = Job(plan, tmp_path / "plan", "/data/local/tmp/edgebench/runs/r", tmp_path / "results", lambda _: None)
    device = cast(RemoteDevice, SimpleNamespace(name="pixel"))
    with pytest.raises(EdgebenchError) as refused:
        BenchmarkModelRunner("benchmark_model", 10).measure(device, cast(Link, None), job)
    assert f"edgebench: {refused.value}" == REFUSAL
    assert not (tmp_path / "results").exists()
