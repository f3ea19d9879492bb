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

from device_runner import noise, schema
from device_runner.schema import Activity, CellResult, Measurement, Plan
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


# ---- one rule on both sides: the noise guard's thresholds and reasons --------------------------------


def java_json(jvm: list[str], command: str, tmp_path: Path, given: object | None = None) -> Any:
    """What JvmRunner's ``command`` prints for ``given`` (as a JSON file), parsed."""
    args = [*jvm, command]
    if given is not None:
        request = tmp_path / f"{command}.json"
        request.write_text(json.dumps(given))
        args.append(str(request))
    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def test_the_app_holds_a_cell_to_the_noise_guards_own_thresholds(jvm: list[str], tmp_path: Path) -> None:
    found = java_json(jvm, "noise-constants", tmp_path)
    assert found == {
        "window_s": noise.WINDOW_S,
        "slack_cores": noise.SLACK_CORES,
        "busy_fields": list(noise.BUSY_FIELDS),
        "throttle_now": [noise.THROTTLE_NOW[1 << bit] for bit in range(len(noise.THROTTLE_NOW))],
    }


def window(others: float | None, throttled: str | None = None, thermal: tuple[str, ...] = ()) -> Activity:
    busy = None if others is None else others + 0.5
    return Activity(0.1, 1.0, busy, others, {"cpu0": 1800.0}, throttled, list(thermal))


WINDOWS = {
    "quiet": (1, 2, window(0.0), window(0.1), window(0.0)),
    "others busy": (1, 2, window(1.9), window(1.234), window(2.0)),
    "threads past the cores": (4, 2, window(0.0), window(0.0), window(0.0)),
    "unreadable /proc/stat": (1, 2, window(None), window(None), window(None)),
    "throttled": (1, 4, window(0.0, "0x50005"), window(0.0), window(0.0, "0x0", ("cpu at 90 °C (passive trip)",))),
    "thermal status": (2, 8, window(0.0, thermal=("Android thermal status 2 (moderate)",)), window(None), window(0.3)),
}


@pytest.mark.parametrize("case", sorted(WINDOWS))
def test_the_app_flags_contention_for_the_same_reasons_in_the_same_words(
    jvm: list[str], tmp_path: Path, case: str
) -> None:
    threads, cores, before, during, after = WINDOWS[case]
    given = {"threads": threads, "cores": cores} | {
        name: schema.to_dict(w) for name, w in (("before", before), ("during", during), ("after", after))
    }
    assert java_json(jvm, "reasons", tmp_path, given) == noise.reasons(threads, cores, before, during, after)
