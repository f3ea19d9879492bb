"""One schema for two runners: android_app's Java core reads the plans edgebench_records/protocol.py writes,
and writes results edgebench_records/protocol.py reads, field for field (so neither side can drift)."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import edgebench_records as schema
from device_runner import accuracy, noise
from edgebench.plan import build_plan, stage
from edgebench_records import Activity, CellResult, Manifest, Measurement, Plan
from tests.spec.test_noise import busy_loops


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


# ---- one scoring on both sides: accuracy.py's score and compare, fed the same arrays -----------------


def arrays(values: list[np.ndarray] | None) -> list[dict[str, Any]] | None:
    """Arrays as JvmRunner reads them: one sample's shape, a flat row per sample, integer or not."""
    if values is None:
        return None
    return [
        {"shape": list(v.shape[1:]), "rows": v.reshape(len(v), -1).tolist(), "integer": v.dtype.kind in "iub"}
        for v in values
    ]


def same(java: Any, python: Any, where: str = "") -> None:
    """Equal records, floats to 1e-9 relative (the two sum in different orders), infinities and NaN alike."""
    if isinstance(python, dict):
        assert set(java) == set(python), where
        for key in python:
            same(java[key], python[key], f"{where}.{key}")
    elif isinstance(python, list):
        assert len(java) == len(python), where
        for k, (j, p) in enumerate(zip(java, python, strict=True)):
            same(j, p, f"{where}[{k}]")
    elif isinstance(python, float) and isinstance(java, int | float):
        assert math.isclose(java, python, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(java) and math.isnan(python)), (
            f"{where}: {java} != {python}"
        )
    else:
        assert java == python, f"{where}: {java!r} != {python!r}"


RNG = np.random.default_rng(7)
SOFTMAX = RNG.dirichlet(np.ones(10), size=12).astype(np.float32).reshape(12, 1, 10)
NOISY = (SOFTMAX + RNG.normal(0, 0.05, SOFTMAX.shape)).astype(np.float32)
LOGITS = RNG.normal(0, 3, (12, 6)).astype(np.float32)
BOXES = RNG.normal(0, 1, (12, 4)).astype(np.float32)
WITH_NAN = SOFTMAX.copy()
WITH_NAN[3, 0, 2] = np.nan
CLASS_IDS = RNG.integers(0, 6, 12)

SCORED = {
    "softmax with labels and reference": ([NOISY], CLASS_IDS, [SOFTMAX], "auto"),
    "logits the labels index": ([LOGITS], CLASS_IDS, [LOGITS * 1.01], "auto"),
    "regression targets": ([BOXES], BOXES + 0.1, None, "auto"),
    "several heads, one a distribution": ([BOXES, NOISY], CLASS_IDS, [BOXES * 0.9, SOFTMAX], "auto"),
    "a NaN output": ([WITH_NAN], CLASS_IDS, [SOFTMAX], "auto"),
    "nothing to score against": ([SOFTMAX], None, None, "auto"),
    "task classification, float labels": ([BOXES], BOXES[:, 0] + 0.5, [BOXES], "classification"),
    "task other": ([SOFTMAX], CLASS_IDS, [SOFTMAX], "other"),
    "a reference of another size": ([SOFTMAX], CLASS_IDS, [LOGITS], "auto"),
}


@pytest.mark.parametrize("case", sorted(SCORED))
def test_the_app_scores_outputs_as_device_runner_does(jvm: list[str], tmp_path: Path, case: str) -> None:
    outputs, labels, reference, task = SCORED[case]
    names = [f"out{j}" for j in range(len(outputs))]
    given = {
        "outputs": arrays(outputs),
        "labels": None if labels is None else arrays([np.asarray(labels)])[0],  # type: ignore[index]
        "reference": arrays(reference),
        "task": task,
        "names": names,
    }
    python = schema.to_dict(accuracy.score(outputs, labels, reference, task, names))
    same(java_json(jvm, "score", tmp_path, given), python)


SCORED_FOR = {  # the labels belong to the output --labels-output names (its index here)
    "class ids for the second head": ([SOFTMAX, LOGITS], CLASS_IDS, [SOFTMAX, LOGITS * 1.01], "auto", 1),
    "targets for a later head of their size": ([BOXES, BOXES * 2], BOXES * 2 + 0.1, None, "auto", 1),
}


@pytest.mark.parametrize("case", sorted(SCORED_FOR))
def test_the_app_scores_the_labels_against_the_output_the_plan_names(jvm: list[str], tmp_path: Path, case: str) -> None:
    outputs, labels, reference, task, chosen = SCORED_FOR[case]
    names = [f"out{j}" for j in range(len(outputs))]
    given = {
        "outputs": arrays(outputs),
        "labels": arrays([np.asarray(labels)])[0],  # type: ignore[index]
        "reference": arrays(reference),
        "task": task,
        "names": names,
        "labels_output": chosen,
    }
    python = schema.to_dict(accuracy.score(outputs, labels, reference, task, names, chosen))
    same(java_json(jvm, "score", tmp_path, given), python)


COMPARED: dict[str, tuple[list[np.ndarray], list[np.ndarray], list[int | None]]] = {
    "close": ([NOISY * 0 + SOFTMAX], [SOFTMAX], [10]),
    "a corrupting delegate": ([SOFTMAX[:, :, ::-1].copy()], [SOFTMAX], [10]),
    "a NaN output": ([WITH_NAN], [SOFTMAX], [10]),
    "no class distribution, cosine alone": ([BOXES * 1.5], [BOXES], [None]),
    "the worst of two outputs": ([BOXES, -SOFTMAX], [BOXES, SOFTMAX], [None, 10]),
    "no reference of the outputs' size": ([SOFTMAX], [LOGITS], [10]),
}


@pytest.mark.parametrize("case", sorted(COMPARED))
def test_the_app_holds_outputs_to_the_reference_kernels_as_device_runner_does(
    jvm: list[str], tmp_path: Path, case: str
) -> None:
    outputs, reference, classes = COMPARED[case]
    names = [f"out{j}" for j in range(len(outputs))]
    given: dict[str, Any] = {"outputs": arrays(outputs), "reference": arrays(reference), "names": names}
    given["classes"] = classes
    given |= {"min_agreement": 0.97, "min_cosine": 0.99, "delegate": "gpu"}
    found = accuracy.compare(outputs, reference, names, classes, 0.97, 0.99)
    python = {
        "numerics": None if found is None else schema.to_dict(found),
        "message": None if found is None else accuracy.numerics_message(found, "gpu"),
    }
    same(java_json(jvm, "numerics", tmp_path, given), python)


def test_cells_the_app_times_under_busy_loops_are_stored_flagged_with_the_reason(
    jvm: list[str], plan_path: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    with busy_loops():  # a spinning process per core: this machine's /proc shows them as others' load
        subprocess.run([*jvm, "sweep", str(plan_path), str(results)], check=True, capture_output=True)
    timed = [r for r in (schema.read(CellResult, p) for p in results.iterdir()) if r.status == "ok"]
    assert timed
    for result in timed:
        assert result.conditions is not None and result.conditions.contended, result.conditions
        assert any(r.startswith("other processes kept") for r in result.conditions.reasons), result.conditions
        assert result.timing and result.timing.samples_ms  # still measured, still stored
