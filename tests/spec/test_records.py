"""Versioned records: today's files keep loading, older ones are upgraded a step at a time, newer majors
are refused, and the records the host shares with the converter need nothing but the standard library."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import edgebench_records as schema
from edgebench.store import Store, store_url
from edgebench_records import CellResult, Manifest, Plan, RunRecord, SchemaError, Status, VariantState, read_bundle
from tests.conftest import DATA

# Written by `edgebench run` / `history --export` when each record type was at the version in its name;
# result-1.0.json is that run's cell in the shape schema 1.0 wrote (no `missing`, p5/p95 or `agree`).
FROZEN = DATA / "records"
ROOT = Path(__file__).resolve().parents[2]


def frozen(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FROZEN / name).read_text(encoding="utf-8"))
    return data


def test_a_frozen_plan_keeps_loading() -> None:
    plan = schema.read(Plan, FROZEN / "plan-1.1.json")
    assert [v.name for v in plan.variants] == ["fp32", "int8"] and len(plan.cells()) == 4


@pytest.mark.parametrize("name", ["result-1.0.json", "result-1.1.json"])
def test_a_frozen_cell_result_keeps_loading(name: str) -> None:
    result = schema.read(CellResult, FROZEN / name)
    assert result.status is Status.OK and result.timing is not None and result.timing.samples_ms
    assert result.schema_version == schema.RESULT_RECORD.version


def test_a_frozen_manifest_keeps_loading() -> None:
    manifest = schema.read(Manifest, FROZEN / "manifest-1.1.json")
    assert [v.name for v in manifest.ok_variants()] == ["fp32", "int8"]
    assert all(v.status is VariantState.OK and v.weights for v in manifest.variants)


def test_a_manifest_from_before_1_3_says_the_host_ran_its_variants_on_data_the_user_gave() -> None:
    manifest = schema.read(Manifest, FROZEN / "manifest-1.1.json")
    assert [v.host_reference for v in manifest.ok_variants()] == ["available", "available"]
    assert not manifest.synthetic_inputs and manifest.schema_version == schema.MANIFEST_RECORD.version


def test_a_frozen_run_record_keeps_loading() -> None:
    assert schema.read(RunRecord, FROZEN / "run-1.1.json").variants == ["fp32", "int8"]


def test_a_frozen_bundle_keeps_loading() -> None:
    (run,) = read_bundle(FROZEN / "bundle-1.1.json")
    assert len(run.cells) == 4 and all(cell.status is Status.OK for cell in run.cells)
    assert run.manifest.model_name == run.plan.model_name


def test_a_1_0_result_reads_as_the_same_cell_with_what_1_0_never_measured_named_missing() -> None:
    old = schema.read(CellResult, FROZEN / "result-1.0.json")
    new = schema.read(CellResult, FROZEN / "result-1.1.json")
    assert new.timing and new.accuracy
    never_in_1_0 = {"p5_ms": None, "p95_ms": None, "missing": ["p5_ms", "p95_ms"]}
    assert old == dataclasses.replace(
        new,
        timing=dataclasses.replace(new.timing, **never_in_1_0),  # type: ignore[arg-type]
        accuracy=dataclasses.replace(new.accuracy, agree=[]),  # unknown per sample, not "all disagree"
    )


def test_the_1_0_to_1_1_step_says_every_memory_field_was_measured() -> None:
    upgraded = schema.RESULT_RECORD.upgrade(frozen("result-1.0.json"), "result-1.0.json")
    # upgraded through every later step too; 1.1's own change is what this checks
    assert upgraded["schema_version"] == schema.RESULT_RECORD.version and upgraded["memory"]["missing"] == []


def test_upgrade_steps_run_one_version_at_a_time_in_order_up_to_a_new_major() -> None:
    record = schema.RecordType("toy", "2.0")
    seen: list[str] = []

    @record.step("1.0", "1.1")
    def _to_1_1(data: dict[str, Any]) -> dict[str, Any]:
        seen.append(data["schema_version"])
        return data | {"b": data["a"] * 2}

    @record.step("1.1", "2.0")
    def _to_2_0(data: dict[str, Any]) -> dict[str, Any]:
        seen.append(data["schema_version"])
        return {"c": data["b"] + 1, "schema_version": data["schema_version"]}

    assert record.upgrade({"schema_version": "1.0", "a": 1}, "toy.json") == {"c": 3, "schema_version": "2.0"}
    assert seen == ["1.0", "1.1"]


def test_a_major_without_a_step_is_refused_as_too_old() -> None:
    with pytest.raises(schema.VersionError, match=r"toy.json: toy schema version 1.3 .*reads 2.x"):
        schema.RecordType("toy", "2.0").upgrade({"schema_version": "1.3"}, "toy.json")


@pytest.mark.parametrize(
    ("name", "cls", "what"),
    [
        ("plan-1.1.json", Plan, "plan"),
        ("result-1.1.json", CellResult, "cell result"),
        ("manifest-1.1.json", Manifest, "variants manifest"),
        ("run-1.1.json", RunRecord, "run record"),
    ],
)
def test_a_record_of_a_newer_major_is_refused_naming_the_file_and_both_versions(
    name: str, cls: type[schema.Versioned], what: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_text(json.dumps(frozen(name) | {"schema_version": "2.0"}))
    with pytest.raises(SchemaError) as error:
        schema.read(cls, path)
    assert str(error.value).startswith(f"{path}: {what} schema version 2.0 cannot be read")
    assert "reads 1.x" in str(error.value)


def test_a_bundle_of_a_newer_major_is_refused_as_such_not_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(frozen("bundle-1.1.json") | {"schema_version": "2.0"}))
    with pytest.raises(schema.VersionError) as error:
        read_bundle(path)
    assert str(error.value).startswith(f"{path}: run bundle schema version 2.0 cannot be read")
    assert "damaged" not in str(error.value)


def test_a_cell_of_an_older_version_inside_a_bundle_is_upgraded_too(tmp_path: Path) -> None:
    bundle = frozen("bundle-1.1.json")
    bundle["runs"][0]["cells"][0] = frozen("result-1.0.json")
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    (run,) = read_bundle(path)
    assert run.cells[0].timing and run.cells[0].timing.missing == ["p5_ms", "p95_ms"]


def test_a_result_stored_at_1_0_is_upgraded_when_the_store_loads_it(tmp_path: Path) -> None:
    url = store_url(str(tmp_path / "history.sqlite"))
    plan = schema.read(Plan, FROZEN / "plan-1.1.json")
    manifest = schema.read(Manifest, FROZEN / "manifest-1.1.json")
    cell = schema.read(CellResult, FROZEN / "result-1.1.json")
    with Store(url) as store:
        store.save_run(device="local", plan=plan, manifest=manifest, created_at="2026-11-20T10:00:00+00:00",
                       git_commit=None, cells=[cell])  # fmt: skip
        with store.engine.begin() as conn:  # as an edgebench of schema 1.0 wrote the row
            conn.execute(sa.text("UPDATE cells SET result = :r"), {"r": (FROZEN / "result-1.0.json").read_text()})
        (loaded,) = store.load_run(plan.run_id).cells
    assert loaded.schema_version == schema.RESULT_RECORD.version
    assert loaded.timing and loaded.timing.missing == ["p5_ms", "p95_ms"]


def test_the_shared_records_import_neither_numpy_sqlalchemy_click_nor_the_converter() -> None:
    heavy = ("numpy", "sqlalchemy", "click", "converter", "rich", "scipy")
    code = f"import sys, edgebench_records; print([m for m in sys.modules if m.split('.')[0] in {heavy!r}])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_1_6_to_1_7_step_gives_the_models_own_peak_where_both_figures_were_measured() -> None:
    def memory(**fields: float | None) -> dict[str, Any]:
        data: dict[str, Any] = {"schema_version": "1.6", "memory": {"missing": []} | fields}
        return schema.RESULT_RECORD.upgrade(data, "result.json")["memory"]  # type: ignore[no-any-return]

    assert memory(rss_before_mb=46.0, peak_rss_mb=58.5) == {
        "rss_before_mb": 46.0,
        "peak_rss_mb": 58.5,
        "missing": [],
        "model_peak_mb": 12.5,
    }
    unknown = memory(peak_rss_mb=58.5)  # benchmark_model's figures: no RSS before the load to subtract
    assert unknown["model_peak_mb"] is None and unknown["missing"] == ["model_peak_mb"]


def test_a_1_7_placement_reads_with_no_node_keys_and_a_1_8_one_keeps_them() -> None:
    ops, partitions = ["CONV_2D", "SOFTMAX"], [0, -1]
    placed = {"node_ops": ops, "node_partition": partitions}
    old = frozen("result-1.1.json") | {"schema_version": "1.7", "placement": placed}
    result = schema.build(CellResult, old, "result.json")
    assert result.placement == schema.Placement(ops, partitions) and not result.placement.node_keys
    keys = ["v3 float32,float32,float32->float32 4->4", "v1 float32->float32 2->2"]
    new = old | {"schema_version": "1.8", "placement": placed | {"node_keys": keys}}
    assert schema.build(CellResult, new, "result.json").placement == schema.Placement(ops, partitions, keys)
