"""Paired mode: measure baseline and candidate on the same device in the same job, side by side in
ABBA blocks, store both, and hand them to the comparison (shared/GATE.md: the remedy for false alarms
that come from comparing with a baseline measured elsewhere)."""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from converter.manifest import Manifest
from converter.recipes import Options
from device_runner import schema
from device_runner.schema import Measurement, Pair, Plan, PlanVariant
from device_runner.sweep import CellDone
from edgebench.commands.convert import convert_with_progress
from edgebench.devices import get_device
from edgebench.inventory import Inventory
from edgebench.plan import PLAN_NAME, collect_results, link_or_copy
from edgebench.store import Store, StoredRun

SIDES = ("baseline", "candidate")


@dataclass(frozen=True)
class PairedRequest:
    baseline_model: Path
    candidate_model: Path
    data: Path
    variants: list[str]
    measure: Measurement
    device: str
    inventory: Inventory
    workdir: Path
    store_url: str


def measure(request: PairedRequest, console: Console) -> tuple[StoredRun, StoredRun]:
    converted = [
        convert_with_progress(model, request.data, request.variants, request.workdir, Options(), False)
        for model in (request.baseline_model, request.candidate_model)
    ]
    names = [v.name for v in converted[0][0].ok_variants() if converted[1][0].variant(v.name)]
    gate_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-gate-" + secrets.token_hex(3)
    plan_dir = request.workdir / "runs" / gate_id / "plan"
    plan_dir.mkdir(parents=True)
    variants = []
    for side, (manifest, directory) in zip(SIDES, converted, strict=True):
        for name in names:
            record = manifest.variant(name)
            assert record is not None and record.file and record.sha256
            link_or_copy(directory / record.file, plan_dir / f"{side}.{record.file}")
            variants.append(PlanVariant(f"{side}.{name}", f"{side}.{record.file}", record.sha256))
    # Both models are scored on the baseline's input set: the same inputs, so accuracy is paired.
    link_or_copy(converted[0][1] / converted[0][0].input_set, plan_dir / converted[0][0].input_set)
    plan = Plan(
        run_id=gate_id,
        model_name=converted[1][0].model_name,
        variants=variants,
        input_set=converted[0][0].input_set,
        measure=request.measure,
        pairs=[Pair(f"baseline.{n}", f"candidate.{n}") for n in names],
    )
    schema.write(plan_dir / PLAN_NAME, plan)

    device = get_device(request.device, request.inventory)
    columns = (
        TextColumn("[bold]Measuring A/B"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("pairs", total=len(plan.cells()), last="")

        def on_cell(event: CellDone) -> None:
            progress.update(task, completed=event.index, last=f"{event.cell}: {event.status}")

        device.run(plan_dir / PLAN_NAME, plan_dir.parent / "results", on_cell)
    cells = collect_results(plan, plan_dir.parent / "results", request.device)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    runs = []
    with Store(request.store_url) as store:
        for side, (manifest, _) in zip(SIDES, converted, strict=True):
            run = _side(plan, manifest, side, cells, request.device, created)
            store.save_run(
                device=run.device,
                plan=run.plan,
                manifest=manifest,
                created_at=created,
                git_commit=None,
                cells=run.cells,
                tags={"gate": gate_id, "side": side},
            )
            runs.append(run)
    return runs[0], runs[1]


def _side(
    plan: Plan, manifest: Manifest, side: str, cells: list[schema.CellResult], device: str, created: str
) -> StoredRun:
    """One side of the pair as a run of its own, variant names as the converter made them."""
    run_id = f"{plan.run_id}-{side}"
    prefix = f"{side}."
    mine = [
        dataclasses.replace(c, run_id=run_id, variant=c.variant.removeprefix(prefix))
        for c in cells
        if c.variant.startswith(prefix)
    ]
    side_plan = dataclasses.replace(
        plan,
        run_id=run_id,
        model_name=manifest.model_name,
        variants=[
            dataclasses.replace(v, name=v.name.removeprefix(prefix)) for v in plan.variants if v.name.startswith(prefix)
        ],
        pairs=[],
    )
    return StoredRun(
        run_id=run_id,
        created_at=created,
        device=device,
        plan=side_plan,
        manifest=manifest,
        git_commit=None,
        tags={},
        cells=mine,
    )
