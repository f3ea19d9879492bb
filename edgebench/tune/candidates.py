"""A candidate made and measured: converted by the converter (its per-variant cache keys the settings, so a
setting made once is made once), added to the tune run's plan as a variant of its own name, and measured by the
device's sweep, the same plan and cells as `run`'s. The run's folder is the record of what was measured: a
candidate whose cells have results is read back, and a sweep cut off finishes only the cells it lacks.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import edgebench_records as schema
from device_runner.sweep import CellDone, result_path
from edgebench.conversion import convert
from edgebench.devices.base import Device
from edgebench.plan import link_or_copy
from edgebench.resume import MANIFEST_COPY_NAME, RunFolder
from edgebench.tune.front import BASELINE, beside, is_beside, point
from edgebench.tune.search import Measured
from edgebench.tune.space import Candidate
from edgebench_records import (
    INPUT_SET_NAME,
    CellResult,
    Manifest,
    Measurement,
    Plan,
    PlanVariant,
    VariantRecord,
    VariantState,
)
from edgebench_records.catalogue import Options
from edgebench_records.tune import Objective, Search


@dataclass(frozen=True)
class Source:
    """What every candidate is made from and measured with."""

    model: Path
    data: Path | None
    workdir: Path
    options: Options  # the base: each candidate sets its own settings over them
    measure: Measurement
    aim: Search


class RunBench:
    """Measures candidates into one run: its plan and manifest grow by a variant per candidate."""

    def __init__(
        self, source: Source, folder: RunFolder, device: Device, say: Callable[[str], None], state: RunState | None
    ) -> None:
        self.source, self.folder, self.device, self.say = source, folder, device, say
        self.state = state
        # Candidates settled without a measurement of their own, by name, not made again: those that could not
        # be made, and those whose file is one measured already under other settings (read as that one).
        self.settled: dict[str, Measured] = {}

    @property
    def plan_dir(self) -> Path:
        return self.folder.plan_path.parent

    def measure(self, candidate: Candidate) -> Measured:
        name = candidate.name
        if name in self.settled:
            return dataclasses.replace(self.settled[name], fresh=False)
        if self.state is None or planned(self.state.plan, name) is None:
            settled = self._make(candidate)
            if settled is not None:
                self.settled[name] = settled
                return settled
        elif self._measured(name):
            return self._point(name, fresh=False)
        self._sweep()  # the cells this candidate lacks: a sweep cut off before finishes only those
        return self._point(name, fresh=True)

    def cells(self) -> list[CellResult]:
        """Every cell of the run measured so far, in the plan's order."""
        assert self.state is not None
        paths = (result_path(self.folder.results, key) for key in self.state.plan.cells())
        return [schema.read(CellResult, path) for path in paths if path.exists()]

    def _measured(self, name: str) -> bool:
        """Every cell of the candidate, and of fp32 timed beside it, has its result."""
        assert self.state is not None
        keys = [key for key in self.state.plan.cells() if key.variant in (name, beside(name))]
        return bool(keys) and all(result_path(self.folder.results, key).exists() for key in keys)

    def _make(self, candidate: Candidate) -> Measured | None:
        """Convert the candidate and add it to the run; a Measured when it could not be made, or when its file is
        one the run holds already (settings that change nothing in this model, such as a residual-stream ratio in
        one without residual streams): that one's figures, not measured again."""
        self.say(f"{candidate.name}: converting")
        s = self.source
        manifest, made_in = convert(
            s.model, s.data, [candidate.recipe], s.workdir, options=candidate.options(s.options)
        )
        record = manifest.variant(candidate.recipe)
        if record is None or record.status is not VariantState.OK:
            why = f"{record.status}: {record.message}" if record else "not made"
            unusable = record is not None and record.status is VariantState.NOT_APPLICABLE
            return Measured(None, why, unusable=unusable)
        if self.state is None:
            self.state = RunState.first(self.folder.run_id, manifest, s.measure, s.aim)
        assert record.sha256  # an ok variant's file is hashed
        same = twin(self.state.plan, record.sha256)
        if same is not None:
            self.say(f"{candidate.name}: the same file as {same}, not measured again")
            read = self._point(same, fresh=False)
            return dataclasses.replace(read, note=f"the same file as {same}" + (f" ({read.note})" if read.note else ""))
        self._add(candidate, record, made_in)
        return None

    def _add(self, candidate: Candidate, record: VariantRecord, made_in: Path) -> None:
        """The candidate's file, its reference-kernel outputs and its variant, into the run (written before it is
        measured, so a resume finds it)."""
        assert self.state is not None and record.file and record.sha256
        name, file = candidate.name, f"{candidate.name}.tflite"
        self.plan_dir.mkdir(parents=True, exist_ok=True)
        link_or_copy(made_in / record.file, self.plan_dir / file)
        add_references(self.plan_dir / INPUT_SET_NAME, made_in / INPUT_SET_NAME, candidate.recipe, name)
        settings = dict(candidate.settings)
        variant = PlanVariant(name, file, record.sha256, candidate.recipe if name != candidate.recipe else "", settings)
        self.state = self.state.adding(variant, dataclasses.replace(record, name=name, file=file))
        if name != BASELINE and self.source.aim.objective == Objective.LATENCY:
            self._add_beside(name)
        self.state.write(self.folder)

    def _add_beside(self, name: str) -> None:
        """fp32 again, as a variant of its own name timed with the candidate (one process, interleaved blocks),
        so the candidate's latency is read against fp32 of the same minutes (front.TimeBase)."""
        assert self.state is not None
        fp32, record = planned(self.state.plan, BASELINE), self.state.manifest.variant(BASELINE)
        assert fp32 is not None and record is not None  # fp32 is always measured first
        again = beside(name)
        inputs = self.plan_dir / INPUT_SET_NAME
        add_references(inputs, inputs, BASELINE, again)  # the same file, checked against the same outputs
        variant = PlanVariant(again, fp32.file, fp32.sha256, BASELINE)
        self.state = self.state.adding(variant, dataclasses.replace(record, name=again))

    def _sweep(self) -> None:
        def on_cell(event: CellDone) -> None:
            if not event.skipped:
                self.say(f"{event.cell}: {event.status}")

        self.device.run(self.folder.plan_path, self.folder.results, on_cell)

    def _point(self, name: str, fresh: bool) -> Measured:
        assert self.state is not None
        variant = planned(self.state.plan, name)
        record = self.state.manifest.variant(name)
        assert variant is not None and record is not None
        cells = self.cells()
        base = self.state.manifest.variant(BASELINE)
        labelled = base is not None and base.host_top1 is not None
        measured = point(variant, record, cells, Objective(self.source.aim.objective), labelled)
        if measured is None:
            statuses = ", ".join(f"{c.key.id} {c.status}" for c in cells if c.variant == name) or "no cell"
            return Measured(None, f"no figure ({statuses})", fresh)
        return Measured(measured, fresh=fresh)


def planned(plan: Plan, name: str) -> PlanVariant | None:
    return next((v for v in plan.variants if v.name == name), None)


def twin(plan: Plan, sha256: str) -> str | None:
    """The candidate (or fp32) of the run whose file has these bytes, if one has (fp32 timed beside a candidate
    is fp32's file under another name, not a candidate)."""
    return next((v.name for v in plan.variants if v.sha256 == sha256 and not is_beside(v.name)), None)


@dataclass(frozen=True)
class RunState:
    """The run's plan and manifest as they stand: fp32 first, then each candidate made."""

    plan: Plan
    manifest: Manifest

    @classmethod
    def first(cls, run_id: str, manifest: Manifest, measure: Measurement, aim: Search) -> RunState:
        """The state a run starts with: nothing yet (fp32, the first made, is added like any candidate)."""
        plan = Plan(
            run_id=run_id,
            model_name=manifest.model_name,
            variants=[],
            input_set=INPUT_SET_NAME,
            task=str(manifest.options.get("task", "auto")),
            measure=measure,
            tune=aim,
        )
        return cls(plan, dataclasses.replace(manifest, variants=[], input_set=INPUT_SET_NAME))

    def adding(self, variant: PlanVariant, record: VariantRecord) -> RunState:
        plan = dataclasses.replace(self.plan, variants=[*self.plan.variants, variant])
        manifest = dataclasses.replace(self.manifest, variants=[*self.manifest.variants, record])
        return RunState(plan, manifest)

    def write(self, folder: RunFolder) -> None:
        schema.write(folder.path / MANIFEST_COPY_NAME, self.manifest)
        schema.write(folder.plan_path, self.plan)


def add_references(run_inputs: Path, made_inputs: Path, recipe: str, name: str) -> None:
    """The run's input set gains ``ref.<name>.<j>``: the candidate's outputs on the host's reference kernels, as
    its conversion wrote them under its recipe's name (the device checks its numerics against them). The first
    candidate's inputs, labels and fp32 outputs start it: every conversion of one model and data has the same."""
    with np.load(made_inputs) as made:
        arrays = {key: made[key] for key in made.files}
    if run_inputs.exists():
        with np.load(run_inputs) as run:
            kept = {key: run[key] for key in run.files}
    else:
        kept = {key: value for key, value in arrays.items() if not _variant_reference(key)}
    prefix = f"ref.{recipe}."
    kept |= {f"ref.{name}.{key[len(prefix) :]}": value for key, value in arrays.items() if key.startswith(prefix)}
    partial = run_inputs.with_name(run_inputs.name + ".partial")
    with partial.open("wb") as out:
        np.savez(out, **kept)
    os.replace(partial, run_inputs)  # a device never reads half an input set


def _variant_reference(key: str) -> bool:
    """``ref.<variant>.<j>`` (a variant's reference-kernel outputs), not ``ref.<j>`` (the host fp32 outputs)."""
    parts = key.split(".")
    return parts[0] == "ref" and len(parts) == 3
