"""What ``edgebench run`` shows of its outcomes: per device the run table or its ``--json`` rows, the
devices that failed, and the variants that could not be made."""

from __future__ import annotations

from rich.console import Console

from edgebench.measure import DeviceFailure, RunOutcome
from edgebench.report import table
from edgebench_records import VariantRecord


def worst(outcomes: list[RunOutcome | DeviceFailure]) -> int:
    """The run's exit code: the worst of its devices'."""
    return max(int(o.exit_code) for o in outcomes)


def as_json(outcomes: list[RunOutcome | DeviceFailure]) -> dict[str, object]:
    reports = [
        {"device": o.device, "exit_code": int(o.exit_code), "error": o.message}
        if isinstance(o, DeviceFailure)
        else {
            "device": o.device,
            "run_id": o.run_id,
            "model": o.manifest.model_name,
            "exit_code": int(o.exit_code),
            "rows": table.as_json(table.rows(o.cells, o.manifest)),
        }
        for o in outcomes
    ]
    return {"exit_code": worst(outcomes), "runs": reports}


def render(outcome: RunOutcome, console: Console) -> None:
    title = f"{outcome.manifest.model_name} on {outcome.device} — run {outcome.run_id}"
    table.render(table.rows(outcome.cells, outcome.manifest), title, console)


def unmade(outcomes: list[RunOutcome | DeviceFailure]) -> list[VariantRecord]:
    """The variants the converter could not make (every device measures the same manifest's)."""
    manifest = next((o.manifest for o in outcomes if isinstance(o, RunOutcome)), None)
    if manifest is None:
        return []
    made = manifest.ok_variants()
    return [v for v in manifest.variants if v not in made]
