"""Builds the plan a device runs, and stages it with its files in the run's directory."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import edgebench_records as schema
from device_runner.sweep import result_path
from edgebench.errors import EdgebenchError
from edgebench_records import CellResult, Manifest, Measurement, Plan, PlanVariant, altered_file

PLAN_NAME = "plan.json"


def build_plan(run_id: str, manifest: Manifest, measure: Measurement) -> Plan:
    return Plan(
        run_id=run_id,
        model_name=manifest.model_name,
        variants=[PlanVariant(v.name, v.file or "", v.sha256 or "") for v in manifest.ok_variants()],
        input_set=manifest.input_set,
        measure=measure,
        task=str(manifest.options.get("task", "auto")),  # --task, which decides how outputs are scored there too
    )


def stage(plan: Plan, manifest_dir: Path, plan_dir: Path) -> Path:
    """Put the plan, the input set and the variant files in ``plan_dir``; returns the plan's path."""
    altered = altered_file(manifest_dir, ((v.file, v.sha256) for v in plan.variants))
    if altered:
        raise EdgebenchError(altered_message(manifest_dir / altered[0], plan, altered[1]))
    plan_dir.mkdir(parents=True, exist_ok=True)
    for name in [plan.input_set, *(v.file for v in plan.variants)]:
        link_or_copy(manifest_dir / name, plan_dir / name)
    path = plan_dir / PLAN_NAME
    schema.write(path, plan)
    return path


def altered_message(path: Path, plan: Plan, now: str) -> str:
    (variant,) = (v for v in plan.variants if v.file == path.name)
    return (
        f"variant file {path} is not the {variant.name} its manifest names (sha256 {now[:12]}, "
        f"recorded {variant.sha256[:12]}); refusing to measure it under that name"
    )


def link_or_copy(source: Path, target: Path) -> None:
    if target.exists():
        return
    try:
        os.link(source, target)  # variants are immutable once written: share the bytes
    except OSError:
        shutil.copy2(source, target)


def collect_results(plan: Plan, results_dir: Path, device_name: str) -> list[CellResult]:
    cells, missing = [], []
    for key in plan.cells():
        path = result_path(results_dir, key)
        if path.exists():
            cells.append(schema.read(CellResult, path))
        else:
            missing.append(key.id)
    if missing:
        raise EdgebenchError(
            f"device {device_name}: {len(missing)} of {len(plan.cells())} cells have no result "
            f"(first: {missing[0]}); finished cells are kept: rerun with --resume {plan.run_id}"
        )
    return cells
