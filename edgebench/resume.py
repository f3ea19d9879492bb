"""What a run keeps in its folder so that ``--resume`` continues exactly that run.

A run's folder holds its plan (what to measure and how), the manifest of the variants it measures and
``run.json`` (device, model, data, variants, conversion options, tags). A resume takes all of them from there and never
from the new command line, so the cells it adds stay comparable with the ones already measured; a flag
given on the resume's command line that says something else is refused, naming the flag.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import edgebench_records as schema
from edgebench.errors import EdgebenchError
from edgebench.plan import PLAN_NAME
from edgebench_records import Manifest, Measurement, Plan, RunRecord
from edgebench_records.catalogue import Options
from edgebench_records.options import declared

RUN_RECORD_NAME = "run.json"
MANIFEST_COPY_NAME = "variants.json"
# The flag that sets each conversion option, as the commands spell it.
CONVERSION_FLAGS = {spec.name: spec.flag for spec in declared(Options)}


@dataclass(frozen=True)
class RunFolder:
    """``WORKDIR/runs/RUN_ID``: everything a run needs to be finished later."""

    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def plan_path(self) -> Path:
        return self.path / "plan" / PLAN_NAME

    @property
    def results(self) -> Path:
        return self.path / "results"

    def save(self, record: RunRecord, manifest: Manifest) -> None:
        schema.write(self.path / MANIFEST_COPY_NAME, manifest)
        schema.write(self.path / RUN_RECORD_NAME, record)

    def load(self) -> tuple[RunRecord, Manifest, Plan]:
        if not (self.path / RUN_RECORD_NAME).is_file() or not self.plan_path.is_file():
            raise EdgebenchError(
                f"cannot resume run {self.run_id}: no such run in {self.path.parent} "
                "(give the --workdir it was started with)"
            )
        record = schema.read(RunRecord, self.path / RUN_RECORD_NAME)
        # JSON has no tuple: the options' input shapes come back as a list, which Options never holds.
        options = dataclasses.replace(record.options, input_shapes=tuple(record.options.input_shapes))
        return (
            dataclasses.replace(record, options=options),
            schema.read(Manifest, self.path / MANIFEST_COPY_NAME),
            schema.read(Plan, self.plan_path),
        )


def settings(record: RunRecord, measure: Measurement) -> dict[str, object]:
    """A run's settings keyed by the flag that sets each, to compare a resume's flags with: every measurement
    and conversion option by its declaration (a resume takes them all from the run, so each must agree)."""
    return {
        "--device": [record.device],
        "--model": record.model,
        "--data": record.data,
        "--variants": record.variants,
        "--tag": record.tags,
        **{spec.flag: getattr(measure, spec.name) for spec in declared(Measurement)},
        **{spec.flag: getattr(record.options, spec.name) for spec in declared(Options)},
    }


def check_resume_flags(run_id: str, given: dict[str, object], stored: dict[str, object]) -> None:
    """``given``: the flags on the resume's command line (parsed); each must agree with the run's own."""
    conflicts = [flag for flag, value in given.items() if flag in stored and value != stored[flag]]
    if conflicts:
        flag = conflicts[0]
        raise EdgebenchError(
            f"--resume {run_id}: {flag} {_show(given[flag])} differs from the run's own {_show(stored[flag])}; "
            f"a resume continues the run as it was started: drop {', '.join(conflicts)}"
        )


def _show(value: object) -> str:
    if value is None:  # no --data (synthetic inputs), no --runtime (whichever is installed)
        return "(none)"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value)) or "(none)"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    return str(value)
