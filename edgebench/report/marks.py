"""What a reader is told beside a figure rather than left to guess: a cell measured under contention, and
a top-1 that is missing because the input set has no labels (never 0 %, never a blank that reads as a
failure). One definition for the run table, the report's tables, its JSON and its plots."""

from __future__ import annotations

from device_runner.schema import CellResult, Status

CONTENDED = "⚠"  # beside the status of a cell measured under contention
CONTENDED_LABEL = "measured under contention"
NO_LABELS = "no labels"  # the input set has none (synthetic inputs, a regression model): no top-1
NOT_SCORED = "not scored"  # an ok cell whose runner scored no outputs at all


def contended(cell: CellResult) -> bool | None:
    """The noise guard's flag; None where the runner did not look (older results, failed cells)."""
    return cell.conditions.contended if cell.conditions else None


def noise(cell: CellResult) -> str:
    """The noise guard's reasons, one line."""
    return "; ".join(cell.conditions.reasons) if cell.conditions else ""


def top1_note(cell: CellResult) -> str:
    """What to print where top-1 would be when there is none; "" when there is one or the cell failed."""
    if cell.accuracy is not None:
        return NO_LABELS if cell.accuracy.top1 is None else ""
    return NOT_SCORED if cell.status == Status.OK else ""
