"""What a reader is told beside a figure rather than left to guess: a cell measured under contention, a
top-1 that is missing because the input set has no labels (never 0 %, never a blank that reads as a
failure), and the fidelity figure that applies when no output is a class distribution. One definition for
the run table, the report's tables, its JSON and its plots."""

from __future__ import annotations

from edgebench_records import Accuracy, CellResult, OutputFidelity, Status

CONTENDED = "⚠"  # beside the status of a cell measured under contention
CONTENDED_LABEL = "measured under contention"
NO_LABELS = "no labels"  # the input set has none (synthetic inputs): no top-1
NOT_SCORED = "not scored"  # labels that score no output (the runner's labels_note says why), or no scoring at all
SHORT_NOTES = {"", NO_LABELS}  # runner notes a table cell can hold as they are


def contended(cell: CellResult) -> bool | None:
    """The noise guard's flag; None where the runner did not look (older results, failed cells)."""
    return cell.conditions.contended if cell.conditions else None


def noise(cell: CellResult) -> str:
    """The noise guard's reasons, one line."""
    return "; ".join(cell.conditions.reasons) if cell.conditions else ""


def top1_note(cell: CellResult) -> str:
    """What to print where top-1 would be when there is none: "no labels", a regression's "MAE 0.0123",
    "not scored"; "" when there is a top-1 or the cell failed."""
    accuracy = cell.accuracy
    if accuracy is None:
        return NOT_SCORED if cell.status == Status.OK else ""
    if accuracy.top1 is not None:
        return ""
    if accuracy.mae is not None:
        return f"MAE {accuracy.mae:.4g}"
    return NO_LABELS if accuracy.labels_note in SHORT_NOTES else NOT_SCORED


def labels_note(cell: CellResult) -> str:
    """The runner's full reason when top-1 is "not scored" (too long for a table cell: a footnote)."""
    accuracy = cell.accuracy
    if accuracy is None or accuracy.top1 is not None or accuracy.mae is not None:
        return ""
    return "" if accuracy.labels_note in SHORT_NOTES else accuracy.labels_note


def worst_output_cosine(accuracy: Accuracy | None) -> float | None:
    """The mean cosine similarity to the host fp32 outputs of the output that is furthest from them: the
    fidelity figure where top-1 agreement does not apply (no output is a class distribution). None in
    results older than schema 1.5, which scored one output."""
    if accuracy is None or not accuracy.outputs:
        return None
    return min((o.cosine for o in accuracy.outputs if o.cosine is not None), default=None)


# A variant whose worst output's RMS error against the host fp32 model passes this share of that output's spread
# is warned about: at 30 % (about 10 dB) boxes and landmarks move by a third of their typical range, which no
# user would ship unknowingly; honest int8 variants of the real models stay below it on their regression heads.
FIDELITY_MAX_ERROR = 0.3


def worst_head(accuracy: Accuracy | None) -> OutputFidelity | None:
    """The output furthest from the host fp32 model, by its RMS error against its spread; None before schema 1.6
    (no error figures) or with no reference."""
    heads = [o for o in accuracy.outputs if o.rel_error is not None] if accuracy else []
    return max(heads, key=lambda o: o.rel_error or 0.0, default=None)


def worst_head_name(accuracy: Accuracy | None) -> str:
    head = worst_head(accuracy)
    return head.name or str(head.index) if head else ""


def worst_head_error(accuracy: Accuracy | None) -> float | None:
    head = worst_head(accuracy)
    return head.rel_error if head else None


def head_warning(accuracy: Accuracy | None) -> str:
    """One line when the worst output is past FIDELITY_MAX_ERROR, naming it and its figure; "" otherwise."""
    head = worst_head(accuracy)
    if head is None or head.rel_error is None or head.rel_error <= FIDELITY_MAX_ERROR:
        return ""
    return (
        f"output {head.name or head.index}: RMS error {head.rel_error:.0%} of its spread against the host fp32 "
        f"model (warned past {FIDELITY_MAX_ERROR:.0%})"
    )


def fidelity(agreement: float | None, cosine: float | None) -> str:
    """The agreement column: top-1 agreement in %, else "cos 0.9999", else "—"."""
    if agreement is not None:
        return f"{100 * agreement:.1f}"
    return f"cos {cosine:.4f}" if cosine is not None else "—"


FIDELITY_LEGEND = (
    "agree: top-1 agreement with the host fp32 model, %; cos: where no output is a class distribution, "
    "the mean cosine similarity to it of the output furthest from it; worst head: the output furthest from it, "
    "its RMS error as a share of its spread"
)
HEAD_WARNING = "⚑"  # beside the worst head of a variant past FIDELITY_MAX_ERROR


def head_cell(name: str, error: float | None, warning: str) -> str:
    """The worst-head column: "regressors 12.3%", flagged when past FIDELITY_MAX_ERROR; "—" without figures."""
    if not name or error is None:
        return "—"
    return f"{name} {100 * error:.1f}%" + (f" {HEAD_WARNING}" if warning else "")
