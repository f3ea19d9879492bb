"""One schema for two runners: android_app's Java core reads the plans device_runner/schema.py writes, and
writes results device_runner/schema.py reads, field for field (so neither side can drift)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import typing
from pathlib import Path
from typing import Any

import pytest

from device_runner import schema
from device_runner.schema import CellResult, Measurement, Plan
from edgebench.plan import build_plan, stage
from edgebench.records import Manifest


@pytest.fixture
def plan_path(tmp_path: Path, converted: tuple[Manifest, Path]) -> Path:
    manifest, manifest_dir = converted
    measure = Measurement(
        delegates=["xnnpack", "nnapi", "gpu", "external:/vendor/lib64/libx.so;k=v"],
        threads=[1, 4],
        runs=5,
        min_s=0.0,
        warmup_min_s=0.0,
        cooldown_s=0.0,
    )
    return stage(build_plan("20261124T120000Z-abcdef", manifest, measure), manifest_dir, tmp_path / "plan")


def field_names(cls: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def nested_records(cls: Any) -> dict[str, Any]:
    """Field name -> the record type it holds (optional or not), for the records inside a result."""
    out = {}
    for name, tp in typing.get_type_hints(cls).items():
        inner = [a for a in typing.get_args(tp) if dataclasses.is_dataclass(a)] or [tp]
        if dataclasses.is_dataclass(inner[0]):
            out[name] = inner[0]
    return out


def test_the_java_core_reads_a_python_plan_and_writes_back_the_same_plan(
    jvm: list[str], plan_path: Path, tmp_path: Path
) -> None:
    echoed = tmp_path / "echoed.json"
    subprocess.run([*jvm, "echo-plan", str(plan_path), str(echoed)], check=True, capture_output=True)
    assert schema.read(Plan, echoed) == schema.read(Plan, plan_path)
    assert set(json.loads(echoed.read_text())) == field_names(Plan)


def test_results_written_by_the_java_core_are_read_by_python_field_for_field(
    jvm: list[str], plan_path: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    subprocess.run([*jvm, "sweep", str(plan_path), str(results)], check=True, capture_output=True)
    plan = schema.read(Plan, plan_path)
    assert sorted(p.name for p in results.iterdir()) == sorted(f"{key.id}.json" for key in plan.cells())
    for path in results.iterdir():
        raw = json.loads(path.read_text())
        assert set(raw) == field_names(CellResult), path.name  # no field only one side knows
        for name, record in nested_records(CellResult).items():
            if raw[name] is not None:
                assert set(raw[name]) == field_names(record), f"{path.name}: {name}"
        result = schema.read(CellResult, path)
        assert (result.run_id, result.schema_version) == (plan.run_id, schema.RESULT_RECORD.version)
        expected = {"xnnpack": "ok", "nnapi": "delegate_unavailable", "gpu": "delegate_failed"}
        assert result.status == expected.get(result.delegate, "ok")
        if result.status == "ok":
            assert result.timing and result.accuracy and result.memory
            assert len(result.timing.samples_ms) >= 5 and result.timing.p50_ms is not None
            assert result.accuracy.n == len(result.accuracy.correct) == 360
            assert result.accuracy.top1 is not None and result.accuracy.fp32_agreement is not None
