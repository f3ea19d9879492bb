"""``run.json``: what a run was started with (device, model, data, variants, conversion options, tags), kept in
its folder so that ``--resume`` continues exactly that run (edgebench/resume.py reads it back)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from edgebench_records.catalogue import Options
from edgebench_records.versioning import RecordType

# 1.1 (unchanged since 1.0, when one version covered every record). 1.2: the conversion options; no data
# (synthetic inputs) is null.
RUN_RECORD = RecordType("run record", "1.2")


@RUN_RECORD.step("1.1", "1.2")
def _run_1_1_to_1_2(data: dict[str, Any]) -> dict[str, Any]:
    """Before 1.2 `run` and `push` passed no conversion option: the run was converted with the defaults."""
    return data | {"options": dataclasses.asdict(Options())}


@dataclass(frozen=True)
class RunRecord:
    RECORD: ClassVar[RecordType] = RUN_RECORD

    device: str
    model: str  # absolute path, as given when the run started
    data: str | None  # None: synthetic inputs made from the model's own
    variants: list[str]
    tags: dict[str, str] = field(default_factory=dict)
    options: Options = field(default_factory=Options)  # what the variants were converted with
    schema_version: str = RUN_RECORD.version
