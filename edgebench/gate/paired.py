"""Paired mode: measure baseline and candidate on the same device in the same job, side by side in
ABBA blocks, store both, and hand them to the comparison. Measured together, the two sides share the
device's clock, heat and load: that removes the false alarms of a baseline measured elsewhere."""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import edgebench_records as schema
from device_runner.inputs import InputSet, read_input_set, read_variant_reference, write_input_set
from device_runner.sweep import CellDone
from edgebench.conversion import ConvertRequest, check_inputs, convert_reporting
from edgebench.devices import get_device
from edgebench.errors import EdgebenchError
from edgebench.inventory import AdbTarget, Inventory
from edgebench.plan import PLAN_NAME, collect_results, link_or_copy
from edgebench.progress import Listener
from edgebench.store import Store
from edgebench_records import Manifest, Measurement, Pair, Plan, PlanVariant, StoredRun, VariantState
from edgebench_records.catalogue import Options

SIDES = ("baseline", "candidate")


@dataclass(frozen=True)
class PairedRequest:
    baseline_model: Path
    candidate_model: Path
    data: Path | None  # None: synthetic inputs from the baseline's input tensors
    variants: list[str]
    measure: Measurement
    device: str
    inventory: Inventory
    workdir: Path
    store_url: str
    options: Options = field(default_factory=Options)  # both models are converted with the same


def measure(request: PairedRequest, listener: Listener) -> tuple[StoredRun, StoredRun, list[str]]:
    """Both sides as stored, and what the user should know of how they were checked."""
    check_models(request.baseline_model, request.candidate_model)
    sides = ((request.baseline_model, "--baseline-model"), (request.candidate_model, "--candidate-model"))
    for model, flag in sides:  # both, before the baseline's conversion takes minutes
        check_inputs(model, request.data, flag, options=request.options)
    check_runner(request.device, request.inventory)
    device = get_device(request.device, request.inventory)  # an unknown device too, before converting
    Store(request.store_url).close()  # writable and migrated now, not after minutes of converting and measuring
    converted = [
        convert_reporting(
            ConvertRequest(
                model, request.data, recipes(model, request.variants), request.workdir, request.options, model_flag=flag
            ),
            listener,
        )
        for model, flag in sides
    ]
    names = paired_variants(converted[0][0], converted[1][0])
    gate_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-gate-" + secrets.token_hex(3)
    plan_dir = request.workdir / "runs" / gate_id / "plan"
    plan_dir.mkdir(parents=True)
    variants = []
    for side, (manifest, directory) in zip(SIDES, converted, strict=True):
        for name in names:
            record = manifest.variant(name)
            assert record is not None and record.file and record.sha256  # paired_variants: made on both sides
            link_or_copy(directory / record.file, plan_dir / f"{side}.{record.file}")
            variants.append(PlanVariant(f"{side}.{name}", f"{side}.{record.file}", record.sha256))
    warnings = paired_input_set(converted, names, plan_dir / converted[0][0].input_set)
    plan = Plan(
        run_id=gate_id,
        model_name=converted[1][0].model_name,
        variants=variants,
        input_set=converted[0][0].input_set,
        measure=request.measure,
        pairs=[Pair(f"baseline.{n}", f"candidate.{n}") for n in names],
    )
    schema.write(plan_dir / PLAN_NAME, plan)

    task = listener.task(f"Measuring A/B on {request.device}", len(plan.cells()))

    def on_cell(event: CellDone) -> None:
        task.step(f"{event.cell}: {event.status}", done=event.index)

    device.run(plan_dir / PLAN_NAME, plan_dir.parent / "results", on_cell)
    task.finish()
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
                tags=run.tags,
            )
            runs.append(run)
    return runs[0], runs[1], warnings


def paired_input_set(converted: list[tuple[Manifest, Path]], names: list[str], out: Path) -> list[str]:
    """The input set both sides are measured on: the baseline's inputs, labels and host fp32 outputs (the same
    inputs, so accuracy is paired), with each side's reference-kernel outputs under its paired name
    (``ref.baseline.fp32.0``, ``ref.candidate.fp32.0``), so the runner's numerics check holds every cell of both
    sides to its own model's reference. A candidate whose input set holds other inputs has no reference for
    these: said, as its outputs go unchecked."""
    baseline, candidate = (read_input_set(directory / manifest.input_set) for manifest, directory in converted)
    checked = SIDES if same_inputs(baseline, candidate) else SIDES[:1]
    references: dict[str, list[np.ndarray]] = {}
    for side, (manifest, directory) in zip(checked, converted, strict=False):
        for name in names:
            found = read_variant_reference(directory / manifest.input_set, name)
            if found is not None:
                references[f"{side}.{name}"] = found
    write_input_set(out, baseline, references)
    if len(checked) == len(SIDES):
        return []
    return [
        f"the candidate's outputs are not checked against its host reference: {converted[1][0].model_name}'s "
        "input set holds other inputs than the baseline's, which both sides are measured on (other input tensors?)"
    ]


def same_inputs(a: InputSet, b: InputSet) -> bool:
    return len(a.inputs) == len(b.inputs) and all(np.array_equal(x, y) for x, y in zip(a.inputs, b.inputs, strict=True))


def is_tflite(model: Path) -> bool:
    return model.suffix.lower() == ".tflite"


def check_models(baseline: Path, candidate: Path) -> None:
    """A .tflite is measured as given (variant ``given``): it has no fp32 or int8 to pair with a Keras model's,
    so both sides are .tflite files or neither is. Checked before anything is converted."""
    flags = {"--baseline-model": baseline, "--candidate-model": candidate}
    given = [flag for flag, path in flags.items() if is_tflite(path)]
    if len(given) == 1:
        (flag,) = given
        (other,) = set(flags) - {flag}
        raise EdgebenchError(
            f"{flag} {flags[flag]}: a .tflite is measured as given, so {other} must be a .tflite too "
            f"(e.g. the variant to compare with, from `edgebench convert --model {flags[other]} --variants int8`)"
        )


def check_runner(device: str, inventory: Inventory) -> None:
    """Paired mode needs a runner that times both models in one process (device_runner, the app); the
    inventory says which runner a phone has, so this refuses before anything is converted or connected."""
    target = inventory.devices.get(device)
    if isinstance(target, AdbTarget) and target.runner == "benchmark_model":
        from edgebench.devices.benchmark_model import paired_refusal

        raise paired_refusal(device)


def recipes(model: Path, variants: list[str]) -> list[str]:
    """A .tflite gets no recipes: the converter measures it as given and could only mark them not applicable."""
    return [] if is_tflite(model) else variants


def paired_variants(baseline: Manifest, candidate: Manifest) -> list[str]:
    """The variants made for both models; refuses when there is none (else the gate would compare nothing)."""
    names = [v.name for v in baseline.ok_variants() if (c := candidate.variant(v.name)) and c.status == VariantState.OK]
    if names:
        return names
    problems = [
        f"{v.name} {v.status} for the {side} ({v.message})"
        for side, manifest in zip(SIDES, (baseline, candidate), strict=True)
        for v in manifest.variants
        if v.status != VariantState.OK
    ]
    raise EdgebenchError("no variant was made for both models" + (": " + "; ".join(problems) if problems else ""))


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
        tags={"gate": plan.run_id, "side": side},  # as stored: the comparison sees the two were timed together
        cells=mine,
    )
