"""Builds the plan a device runs, and stages it with its files in the run's directory."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from converter.manifest import Manifest
from device_runner import schema
from device_runner.schema import Plan, PlanVariant

PLAN_NAME = "plan.json"


@dataclass(frozen=True)
class Settings:
    """How hard to measure; defaults match or exceed LiteRT's benchmark_model."""

    delegates: tuple[str, ...] = ("xnnpack", "cpu")
    threads: tuple[int, ...] = (1,)
    warmup_runs: int = 1
    warmup_min_s: float = 0.5
    runs: int = 50
    min_s: float = 1.0
    max_s: float = 150.0
    cell_timeout_s: float = 600.0
    apis: tuple[str, ...] = ("interpreter",)
    runtime: str | None = None
    cpus: tuple[int, ...] = ()
    cooldown_s: float = 0.0


def build_plan(run_id: str, manifest: Manifest, settings: Settings) -> Plan:
    return Plan(
        run_id=run_id,
        model_name=manifest.model_name,
        variants=[PlanVariant(v.name, v.file or "", v.sha256 or "") for v in manifest.ok_variants()],
        delegates=list(settings.delegates),
        threads=list(settings.threads),
        input_set=manifest.input_set,
        warmup_runs=settings.warmup_runs,
        warmup_min_s=settings.warmup_min_s,
        runs=settings.runs,
        min_s=settings.min_s,
        max_s=settings.max_s,
        cell_timeout_s=settings.cell_timeout_s,
        apis=list(settings.apis),
        runtime=settings.runtime,
        cpus=list(settings.cpus),
        cooldown_s=settings.cooldown_s,
    )


def stage(plan: Plan, manifest_dir: Path, plan_dir: Path) -> Path:
    """Put the plan, the input set and the variant files in ``plan_dir``; returns the plan's path."""
    plan_dir.mkdir(parents=True, exist_ok=True)
    for name in [plan.input_set, *(v.file for v in plan.variants)]:
        _link_or_copy(manifest_dir / name, plan_dir / name)
    path = plan_dir / PLAN_NAME
    schema.write(path, plan)
    return path


def _link_or_copy(source: Path, target: Path) -> None:
    if target.exists():
        return
    try:
        os.link(source, target)  # variants are immutable once written: share the bytes
    except OSError:
        shutil.copy2(source, target)
