"""The results schema: the versioned JSON shapes of plans and cell results, and the cell vocabulary."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

import edgebench_records as schema
from edgebench_records import (
    Accuracy,
    CellKey,
    CellResult,
    Coverage,
    DeviceFacts,
    Measurement,
    Memory,
    Numerics,
    OutputFidelity,
    Plan,
    PlanVariant,
    SchemaError,
    Status,
    Timing,
)

PLAN = Plan(
    run_id="r1",
    model_name="digits",
    variants=[PlanVariant("fp32", "fp32.tflite", "ab" * 32), PlanVariant("int8", "int8.tflite", "cd" * 32)],
    input_set="inputs.npz",
    measure=Measurement(delegates=["xnnpack", "external:/opt/lib.so;k=v"], threads=[1, 2]),
)
RESULT = CellResult(
    run_id="r1",
    variant="int8",
    delegate="xnnpack",
    threads=2,
    status=Status.OK,
    timing=Timing(
        init_ms=1.5,
        first_ms=0.2,
        warmup_runs=3,
        samples_ms=[0.1, 0.12, 0.11],
        p50_ms=0.11,
        p90_ms=0.118,
        p99_ms=0.1198,
        mean_ms=0.11,
        std_ms=0.01,
        min_ms=0.1,
        max_ms=0.12,
        timer_overhead_ms=0.00005,
    ),
    memory=Memory(rss_before_mb=40.0, rss_after_load_mb=41.5, load_delta_mb=1.5, peak_rss_mb=48.0),
    accuracy=Accuracy(
        n=3,
        top1=2 / 3,
        fp32_agreement=1.0,
        max_abs_diff=0.02,
        mean_abs_diff=0.001,
        correct=[True, False, True],
        task="classification",
        outputs=[
            OutputFidelity(0, "scores", 0.999, 0.99, 41.5, 0.02, 0.001, classes=10, agreement=1.0),
            OutputFidelity(1, "box", 0.98, 0.95, 18.0, 0.5, 0.1, classes=None, agreement=None),
        ],
    ),
    numerics=Numerics(
        n=3,
        output="1 box",
        agreement=None,
        cosine=0.98,
        min_cosine=0.95,
        max_abs_diff=0.5,
        min_agreement_allowed=0.97,
        min_cosine_allowed=0.99,
        passed=False,
        outputs=[OutputFidelity(1, "box", 0.98, 0.95, 18.0, 0.5, 0.1, classes=None, agreement=None)],
    ),
    coverage=Coverage(delegated_nodes=15, total_nodes=16),
    device=DeviceFacts(
        runtime="ai_edge_litert",
        runtime_version="2.3.0",
        python="3.11.7",
        numpy="2.4.6",
        machine="x86_64",
        cpu_model="cpu",
        cores=2,
        os="Debian",
        kernel="6.1",
        governor=None,
        ram_mb=24000.0,
    ),
    temperature_before_c={"cpu:thermal_zone0": 41.0},
    started_at="2026-11-24T08:00:00Z",
)


def test_a_plan_survives_a_round_trip_through_json_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    schema.write(path, PLAN)
    assert schema.read(Plan, path) == PLAN


def test_a_cell_result_survives_a_round_trip_through_json_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    schema.write(path, RESULT)
    assert schema.read(CellResult, path) == RESULT


@pytest.mark.parametrize(("record", "version"), [(PLAN, schema.PLAN_RECORD), (RESULT, schema.RESULT_RECORD)])
def test_every_file_carries_its_own_record_types_version(
    record: object, version: schema.RecordType, tmp_path: Path
) -> None:
    path = tmp_path / "r.json"
    schema.write(path, record)
    assert json.loads(path.read_text())["schema_version"] == version.version


def test_a_1_4_result_reads_as_a_classifier_scored_on_its_first_output_with_no_per_output_figures() -> None:
    """What 1.4 runners did: an argmax over output 0, whatever the model."""
    data = schema.to_dict(RESULT) | {"schema_version": "1.4", "numerics": None}
    accuracy = {k: v for k, v in data["accuracy"].items() if k not in ("task", "outputs", "labels_note")}
    upgraded = schema.loads(CellResult, json.dumps(data | {"accuracy": accuracy}), "old.json")
    assert upgraded.accuracy is not None and upgraded.accuracy.task == "classification"
    assert upgraded.accuracy.outputs == [] and upgraded.accuracy.top1 == RESULT.accuracy.top1  # type: ignore[union-attr]


def test_a_1_2_plan_reads_with_the_task_guessed() -> None:
    data = {k: v for k, v in schema.to_dict(PLAN).items() if k != "task"} | {"schema_version": "1.2"}
    assert schema.loads(Plan, json.dumps(data), "plan.json").task == "auto"


def test_a_status_is_written_as_its_plain_string_and_read_back_as_the_enum() -> None:
    data = json.loads(schema.dumps(RESULT))
    assert data["status"] == "ok"
    assert schema.loads(CellResult, json.dumps(data), "r.json").status is Status.OK


def test_a_status_outside_the_vocabulary_is_an_invalid_result() -> None:
    data = schema.to_dict(RESULT) | {"status": "exploded"}
    with pytest.raises(SchemaError, match="not a valid CellResult"):
        schema.loads(CellResult, json.dumps(data), "r.json")


def test_only_a_delegate_the_device_lacks_is_not_a_failed_cell() -> None:
    assert {s for s in Status if not s.failed} == {Status.OK, Status.DELEGATE_UNAVAILABLE}


def test_an_unknown_major_version_is_refused_naming_the_file_and_both_versions(tmp_path: Path) -> None:
    data = schema.to_dict(RESULT) | {"schema_version": "2.0"}
    path = tmp_path / "from-the-future.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SchemaError) as error:
        schema.read(CellResult, path)
    message = str(error.value)
    assert str(path) in message and "cell result schema version 2.0" in message and "reads 1.x" in message


def test_a_newer_minor_version_is_read_and_its_new_fields_ignored() -> None:
    data = schema.to_dict(PLAN) | {"schema_version": "1.7", "field_from_1_7": {"x": 1}}
    assert schema.loads(Plan, json.dumps(data), "plan.json") == dataclasses.replace(PLAN, schema_version="1.7")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"run_id": "x"}', "no schema_version"),
        ('{"schema_version": "1.0", "run_id": "x"}', "not a valid Plan"),
    ],
)
def test_malformed_files_give_one_clear_error(text: str, expected: str) -> None:
    with pytest.raises(SchemaError, match=expected):
        schema.loads(Plan, text, "plan.json")


def test_cells_are_every_variant_by_delegate_by_threads_with_file_safe_ids() -> None:
    ids = [key.id for key in PLAN.cells()]
    assert len(ids) == 2 * 2 * 2 == len(set(ids))
    assert "fp32.xnnpack.interpreter.t2" in ids
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+", cell_id) for cell_id in ids)


def test_delegate_specs_that_slug_alike_get_different_cell_ids() -> None:
    first, second = CellKey("v", "external:/a/b.so", 1), CellKey("v", "external:/a_b.so", 1)
    assert first.id != second.id
    assert first.id.startswith("v.external_a_b_so-")


def test_atomic_write_leaves_no_temp_file_and_replaces_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    schema.write_atomic(path, "first")
    schema.write_atomic(path, "second")
    assert path.read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
