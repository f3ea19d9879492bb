"""Feeding an input set through an engine and scoring its outputs, head by head.

Shared with the host's converter, so host accuracy and device accuracy are computed one way.

Which outputs are class distributions, so that top-1 and agreement mean something (``class_counts``):
- task ``classification``: every output with at least 2 values per sample (top-1 is an argmax over them);
- task ``regression`` or ``other``: none;
- task ``auto`` (the guess): an output whose per-sample shape, size-1 axes aside, is one axis of at least 2 values,
  and whose values look like a class distribution: probabilities (all within [0, 1], each sample summing to 1
  within ``PROBABILITY_SUM_TOLERANCE``), or scores the labels index (class-id labels all below that count: logits).
  Judged on the host fp32 outputs when the input set has them, so every variant of a model is scored alike.
  Scores the labels index count only when no output holds probabilities, and then only the one head smallest in
  size above the largest label: a landmark or box head is never scored against class labels.
The labels score one head: the flag's (``--labels-output``), else the first class distribution, else output 0.

Every output, class distribution or not, is compared by its RMS error, absolute and against the reference's
spread (which sees an offset), max |diff| (in quantisation steps for a quantised output), and, with at least
SMALL_OUTPUT values a sample, cosine similarity and SNR. The numerics check (``compare``) judges each output in
its own precision and scale; docs/trust.md gives every threshold and why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from device_runner.engines import Engine
from device_runner.precision import FLOAT, OutputPrecision, Precision
from edgebench_records import (
    SMALL_OUTPUT,
    SNR_CAP_DB,
    Accuracy,
    FailureClass,
    Measurement,
    Numerics,
    OutputFidelity,
    Task,
)

PROBABILITY_SUM_TOLERANCE = 0.02  # a softmax's samples sum to 1; quantised ones (int8) to within a level or so


def predict(engine: Engine, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Every output for every sample (one invoke each), stacked on a new axis 0: one array per output."""
    per_sample = []
    for k in range(len(inputs[0]) if inputs else 0):
        engine.set_inputs([x[k] for x in inputs])
        engine.invoke()
        per_sample.append(engine.outputs())
    return [np.stack(column) for column in zip(*per_sample, strict=True)]


def _flat(values: np.ndarray) -> np.ndarray:
    return values.reshape(len(values), -1).astype(np.float64)


def _axis_classes(values: np.ndarray) -> int | None:
    """The class count when one sample is a single axis of at least 2 values (size-1 axes aside)."""
    axes = [d for d in values.shape[1:] if d != 1]
    return axes[0] if len(axes) == 1 and axes[0] >= 2 else None


def _probabilities(values: np.ndarray) -> bool:
    flat = _flat(values)
    in_range = bool(np.isfinite(flat).all() and flat.min() >= 0.0 and flat.max() <= 1.0)
    return in_range and bool(np.all(np.abs(flat.sum(axis=1) - 1.0) <= PROBABILITY_SUM_TOLERANCE))


def class_ids(labels: np.ndarray | None, n: int) -> np.ndarray | None:
    """``labels`` as one class id per sample, or None when they are not class ids (floats, vectors)."""
    if labels is None or labels.size != n:
        return None
    flat = labels.reshape(n)
    whole = flat.dtype.kind in "iu" or (flat.dtype.kind == "f" and bool(np.all(np.mod(flat, 1) == 0)))
    return flat.astype(np.int64) if whole and n and flat.min() >= 0 else None


def class_counts(outputs: Sequence[np.ndarray], labels: np.ndarray | None, task: str) -> list[int | None]:
    """Per output: its class count when it is a class distribution (the module's rule), else None."""
    if task in (Task.REGRESSION, Task.OTHER):
        return [None] * len(outputs)
    if task == Task.CLASSIFICATION:
        return [size if (size := _flat(o).shape[1]) >= 2 else None for o in outputs]
    axes = [_axis_classes(values) for values in outputs]
    counts: list[int | None] = [c if c and _probabilities(o) else None for c, o in zip(axes, outputs, strict=True)]
    ids = class_ids(labels, len(outputs[0])) if outputs else None
    if ids is not None and not any(counts):
        # Scores the labels index (logits): only the one head closest in size to the labels' classes, so a
        # landmark or box head that merely has more values than the largest label is never read as classes.
        indexed = [(c, j) for j, c in enumerate(axes) if c is not None and int(ids.max()) < c]
        if indexed:
            classes, j = min(indexed)
            counts[j] = classes
    return counts


def resolve_output(wanted: str, names: Sequence[str], tensor_names: Sequence[str]) -> int | None:
    """The output ``wanted`` names (the model's name for it, its tensor's name, or its index), or None."""
    for known in (names, tensor_names):
        if wanted in known:
            return list(known).index(wanted)
    return int(wanted) if wanted.isdigit() and int(wanted) < len(names) else None


@dataclass(frozen=True)
class Tolerance:
    """What one output is held to, in its own unit: the RMS error allowed, and the top-1 margin under which a
    disagreement is a near-tie."""

    rms: float
    tie_margin: float
    max_error: float  # the fraction of the reference's spread behind ``rms``


def _scale(want: np.ndarray) -> float:
    """The reference's spread: its standard deviation over every value; for an output of fewer than SMALL_OUTPUT
    values a sample (a score across a few dozen inputs says little of its range) or a constant one, its RMS."""
    finite = want[np.isfinite(want)]
    if finite.size == 0:
        return 0.0
    spread = float(finite.std())
    return spread if spread > 0 and want.shape[1] >= SMALL_OUTPUT else float(np.sqrt(np.mean(finite**2)))


def fidelity(
    index: int,
    name: str,
    got: np.ndarray,
    want: np.ndarray,
    classes: int | None,
    output: OutputPrecision = FLOAT,
    tie_margin: float = 0.0,
) -> OutputFidelity:
    """One output against its reference, sample by sample (both dequantised float). Top-1 agreement counts the
    samples whose reference margin (its top value less the next) exceeds ``tie_margin``; disagreements on the
    others are near-ties, reported apart."""
    a, b = _flat(got), _flat(want)
    diff = _difference(a, b)
    rms = float(np.sqrt(np.mean(np.square(diff)))) if diff.size else 0.0
    scale = _scale(b)
    small = a.shape[1] < SMALL_OUTPUT
    cosines = None if small else _cosines(a, b)
    agreement, decisive, near_ties = _agreement(a, b, tie_margin) if classes else (None, None, 0)
    return OutputFidelity(
        index=index,
        name=name,
        cosine=None if cosines is None else float(cosines.mean()),
        min_cosine=None if cosines is None else float(cosines.min()),
        snr_db=None if small else _snr_db(a, b),
        max_abs_diff=float(diff.max()),
        mean_abs_diff=float(diff.mean()),
        classes=classes,
        agreement=agreement,
        rms_diff=rms,
        rel_error=rms / scale if scale > 0 else (0.0 if rms == 0 else np.inf),
        step=output.step,
        max_steps=float(diff.max()) / output.step if output.step else None,
        decisive=decisive,
        near_ties=near_ties,
    )


def _difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b|, NaN or inf where either is not finite (it must fail, never pass), but 0 where both hold the same
    value, NaN and infinities included: the reference kernels against themselves never differ."""
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, np.nan_to_num(np.abs(a - b), nan=np.inf, posinf=np.inf))


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
        dots = (a * b).sum(axis=1)
    # Two all-zero outputs are identical; one all-zero output against another is as far apart as can be.
    cosines = np.where(
        norms > 0, dots / np.where(norms > 0, norms, 1.0), np.where(a.any(axis=1) | b.any(axis=1), 0.0, 1.0)
    )
    identical = ((a == b) | (np.isnan(a) & np.isnan(b))).all(axis=1)  # NaN included: a runner against itself
    return np.where(identical, 1.0, np.nan_to_num(cosines, nan=0.0))  # a NaN or inf output must fail, never pass


def _agreement(a: np.ndarray, b: np.ndarray, tie_margin: float) -> tuple[float | None, int, int]:
    """Top-1 agreement over the decisive samples, their count, and the disagreements among the near-ties."""
    same = a.argmax(axis=1) == b.argmax(axis=1)
    top2 = np.sort(b, axis=1)[:, -2:] if b.shape[1] >= 2 else np.zeros((len(b), 2))
    decisive = ((top2[:, 1] - top2[:, 0]) > tie_margin) | (tie_margin <= 0)  # no margin: every sample counts
    counted = int(decisive.sum())
    agreement = float(same[decisive].mean()) if counted else None
    return agreement, counted, int((~same & ~decisive).sum())


def _snr_db(got: np.ndarray, want: np.ndarray) -> float:
    signal, noise = float((want**2).sum()), float(((got - want) ** 2).sum())
    if not np.isfinite(noise):
        return -SNR_CAP_DB
    if noise == 0:
        return SNR_CAP_DB
    if signal == 0:
        return -SNR_CAP_DB
    return float(np.clip(10 * np.log10(signal / noise), -SNR_CAP_DB, SNR_CAP_DB))


def _name(names: Sequence[str], j: int) -> str:
    return names[j] if j < len(names) else ""


def _fits(outputs: Sequence[np.ndarray], reference: Sequence[np.ndarray] | None) -> list[bool]:
    """Per output: the reference has an array of its size (one made from other inputs does not)."""
    refs = list(reference or [])
    return [j < len(refs) and refs[j].size == o.size for j, o in enumerate(outputs)]


def score(
    outputs: list[np.ndarray],
    labels: np.ndarray | None,
    reference: list[np.ndarray] | None,
    task: str = Task.AUTO,
    names: Sequence[str] = (),
    labels_output: int | None = None,
) -> Accuracy:
    """Every output against the host fp32 ``reference``; the scored output (``labels_output`` where given, else
    the first class distribution, else output 0) against ``labels``: top-1/top-5 for class ids, MAE for
    regression targets."""
    n = len(outputs[0]) if outputs else 0
    fits = _fits(outputs, reference)
    counts = class_counts(reference if reference and all(fits) else outputs, labels, task)
    if labels_output is not None:
        counts = _only(counts, labels_output, outputs, task)
    scored = labels_output if labels_output is not None else next((j for j, c in enumerate(counts) if c), 0)
    heads = [
        fidelity(j, _name(names, j), o, reference[j], counts[j])
        for j, o in enumerate(outputs)
        if reference is not None and fits[j]
    ]
    head = next((h for h in heads if h.index == scored), None)
    agree: list[bool] = []
    if head is not None and head.classes and reference is not None:
        agree = [bool(v) for v in _flat(outputs[scored]).argmax(axis=1) == _flat(reference[scored]).argmax(axis=1)]
    labelled = _against_labels(outputs, labels, counts, task, labels_output)
    return Accuracy(
        n=n,
        top1=labelled.top1,
        fp32_agreement=head.agreement if head else None,
        max_abs_diff=head.max_abs_diff if head else None,
        mean_abs_diff=head.mean_abs_diff if head else None,
        correct=labelled.correct,
        agree=agree,
        task=labelled.task,
        top5=labelled.top5,
        mae=labelled.mae,
        labels_note=labelled.note,
        reference_note=_reference_note(reference, fits, head),
        outputs=heads,
    )


def _only(counts: list[int | None], chosen: int, outputs: list[np.ndarray], task: str) -> list[int | None]:
    """The class counts when the labels belong to output ``chosen``: it is the one class distribution (when its
    sample is one axis of classes), and no other head is scored against the labels."""
    classes = None if task in (Task.REGRESSION, Task.OTHER) else _axis_classes(outputs[chosen])
    return [classes if j == chosen else None for j in range(len(counts))]


def _reference_note(reference: list[np.ndarray] | None, fits: list[bool], head: OutputFidelity | None) -> str:
    if reference is None:
        return "no host fp32 reference (the host could not run the model, or the input set has none)"
    if not any(fits):
        return "the host fp32 reference does not match the outputs' sizes"
    if head is None:
        return "the host fp32 reference lacks the scored output"
    return "" if head.classes else "no output is a class distribution: top-1 agreement does not apply"


class _Labelled:
    """What the labels say about the outputs (the part of an Accuracy that needs labels)."""

    def __init__(self, task: str, note: str = "") -> None:
        self.task, self.note = task, note
        self.top1: float | None = None
        self.top5: float | None = None
        self.mae: float | None = None
        self.correct: list[bool] = []


def _against_labels(
    outputs: list[np.ndarray], labels: np.ndarray | None, counts: list[int | None], task: str, chosen: int | None
) -> _Labelled:
    scored = next((j for j, c in enumerate(counts) if c), None)
    resolved = task if task != Task.AUTO else (Task.CLASSIFICATION if scored is not None else Task.OTHER)
    if labels is None:
        return _Labelled(resolved, "no labels")
    n = len(outputs[0]) if outputs else 0
    ids = class_ids(labels, n)
    if task in (Task.AUTO, Task.CLASSIFICATION) and scored is not None and ids is not None:
        found = _Labelled(Task.CLASSIFICATION)
        ranked = np.argsort(-_flat(outputs[scored]), axis=1, kind="stable")
        hits = ranked[:, 0] == ids
        found.correct = [bool(h) for h in hits]
        found.top1 = float(hits.mean())
        if (counts[scored] or 0) >= 5:
            found.top5 = float((ranked[:, :5] == ids[:, None]).any(axis=1).mean())
        return found
    if task == Task.OTHER:
        return _Labelled(resolved, "task other: labels not scored")
    if task == Task.CLASSIFICATION:
        why = "labels are not class ids" if ids is None else "no output is a class distribution"
        return _Labelled(resolved, f"{why}: top-1 not measured")
    candidates = outputs if chosen is None else [outputs[chosen]]
    return _regression(candidates, labels, n, resolved)


def _regression(outputs: list[np.ndarray], labels: np.ndarray, n: int, resolved: str) -> _Labelled:
    """Mean |output - label| over the first output of the labels' size per sample."""
    target = labels.reshape(n, -1).astype(np.float64)
    match = next((o for o in outputs if _flat(o).shape[1] == target.shape[1]), None)
    if match is None:
        return _Labelled(resolved, f"labels of {target.shape[1]} values a sample match no output's size")
    found = _Labelled(Task.REGRESSION)
    found.mae = float(np.nan_to_num(np.abs(_flat(match) - target), nan=np.inf).mean())
    return found


_DEFAULTS = Measurement()


def diverges_past(integer_arithmetic: bool, m: Measurement) -> float:
    """The one figure that decides "diverges", for a cell's outputs here and for each op's in a culprit search
    (device_runner/culprit.py): the RMS error allowed as a fraction of the reference's spread, looser for a
    variant that computes in integers (its kernels round apart at every layer)."""
    return m.numerics_max_error_quantized if integer_arithmetic else m.numerics_max_error


def tolerance(scale: float, output: OutputPrecision, integer_arithmetic: bool, m: Measurement) -> Tolerance:
    """The RMS error one output may have against the reference kernels: a fraction of the reference's spread
    (a looser one for a variant that computes in integers), and never less than ``numerics_max_steps`` of its
    quantisation step, so a quantised output is judged in its own precision (a 1-step difference on a 1-value
    output is 1 step, not a 100 % error). The same steps, or the same fraction, make the near-tie margin."""
    max_error = diverges_past(integer_arithmetic, m)
    steps = m.numerics_max_steps * output.step if output.step else 0.0
    tie = steps if output.step else max_error * scale
    return Tolerance(max(max_error * scale, steps), tie, max_error)


def failure_class(got: np.ndarray, want: np.ndarray, output: OutputPrecision) -> str:
    """Why an output is broken beyond any tolerance: NaN/inf, all zeros, stuck at its quantised range's ends;
    "" when it is none of these."""
    if not np.isfinite(got).all() and np.isfinite(want).all():
        return FailureClass.NOT_FINITE
    if not got.any() and want.any():
        return FailureClass.ALL_ZEROS
    if output.low is not None and output.high is not None and output.step:
        half = output.step / 2

        def at_ends(values: np.ndarray) -> float:
            return float(((values <= output.low + half) | (values >= output.high - half)).mean())  # type: ignore[operator]

        if at_ends(got) >= SATURATED_SHARE and at_ends(want) < SATURATED_SHARE / 2:
            return FailureClass.SATURATED
    return ""


def compare(
    outputs: list[np.ndarray],
    reference: list[np.ndarray],
    names: Sequence[str],
    classes: Sequence[int | None],
    min_agreement: float,
    min_cosine: float,
    precision: Precision | None = None,
    measure: Measurement = _DEFAULTS,
    state: str = "",
) -> Numerics | None:
    """Every output against the same variant's reference-kernel outputs, each in its own precision and scale
    (``precision``: float outputs of a float model when None): its RMS error held to ``tolerance``; the class
    distributions (``classes``) to ``min_agreement`` over their decisive samples; the outputs of a variant that
    computes in floats, of at least SMALL_OUTPUT values, to ``min_cosine`` too. The figures are of the worst
    output: the failing one furthest past its tolerance, else the one with the largest error for its tolerance.
    None when no output has a reference of its size."""
    fits = _fits(outputs, reference)
    integer = precision.integer_arithmetic if precision else False
    judged: list[tuple[OutputFidelity, Tolerance]] = []
    for j, o in enumerate(outputs):
        if not fits[j]:
            continue
        output = precision.outputs[j] if precision and j < len(precision.outputs) else FLOAT
        allowed = tolerance(_scale(_flat(reference[j])), output, integer, measure)
        head = fidelity(
            j, _name(names, j), o, reference[j], classes[j] if j < len(classes) else None, output, allowed.tie_margin
        )
        failure = failure_class(_flat(o), _flat(reference[j]), output) or _drift(
            head, allowed, min_agreement, None if integer else min_cosine
        )
        judged.append((dataclasses.replace(head, failure=failure), allowed))
    if not judged:
        return None
    failing = [(h, t) for h, t in judged if h.failure]
    worst, allowed = max(failing or judged, key=lambda ht: _past(*ht))
    return Numerics(
        n=len(outputs[worst.index]),
        output=f"{worst.index} {worst.name}".strip(),
        agreement=worst.agreement,
        cosine=worst.cosine,
        min_cosine=worst.min_cosine,
        max_abs_diff=worst.max_abs_diff,
        min_agreement_allowed=min_agreement,
        min_cosine_allowed=min_cosine,
        passed=not failing,
        outputs=[h for h, _ in judged],
        failure=worst.failure,
        max_error_allowed=allowed.max_error,
        max_steps_allowed=measure.numerics_max_steps,
        state=state,
    )


SATURATED_SHARE = 0.5  # half an output's values at its range's ends (the reference's under a quarter): stuck


def _drift(head: OutputFidelity, allowed: Tolerance, min_agreement: float, min_cosine: float | None) -> str:
    """DRIFT when a finite, live output is further from the reference than its tolerance."""
    rms = head.rms_diff if head.rms_diff is not None else np.inf
    disagrees = head.agreement is not None and head.agreement < min_agreement
    cosine_low = min_cosine is not None and head.cosine is not None and head.cosine < min_cosine
    return FailureClass.DRIFT if rms > allowed.rms or disagrees or cosine_low else ""


def _past(head: OutputFidelity, allowed: Tolerance) -> float:
    """How far past (above 1) or within (below 1) its tolerance an output's error is."""
    rms = head.rms_diff if head.rms_diff is not None else np.inf
    return rms / allowed.rms if allowed.rms > 0 else (0.0 if rms == 0 else np.inf)


def numerics_message(numerics: Numerics, delegate: str) -> str:
    """One line for a wrong_output cell, naming the failure class and the worst output with its figures."""
    head = next(h for h in numerics.outputs if f"{h.index} {h.name}".strip() == numerics.output)
    figures = [_agreement_text(head, numerics)] if head.agreement is not None else []
    if head.cosine is not None:
        figures.append(f"cosine {head.cosine:.4f} (at least {numerics.min_cosine_allowed:.4f})")
    if head.rel_error is not None and np.isfinite(head.rel_error) and head.cosine is not None:
        allowed = "" if numerics.max_error_allowed is None else f" (at most {numerics.max_error_allowed:.0%})"
        figures.append(f"RMS error {head.rel_error:.1%} of the reference's spread{allowed}")
    finite_steps = head.max_steps is not None and np.isfinite(head.max_steps)
    steps = f" = {head.max_steps:.3g} output steps" if finite_steps else ""
    figures.append(f"max |diff| {numerics.max_abs_diff:.4g}{steps}")
    of = f" (the worst of {len(numerics.outputs)} outputs)" if len(numerics.outputs) > 1 else ""
    failure = f"{numerics.failure}: " if numerics.failure else ""
    return (
        f"{delegate} outputs differ from the same variant on the host's reference kernels: {failure}"
        f"{', '.join(figures)} on output {numerics.output}{of}, over {numerics.n} samples"
    )


def _agreement_text(head: OutputFidelity, numerics: Numerics) -> str:
    assert head.agreement is not None
    ties = f"; {head.near_ties} near-ties apart" if head.near_ties else ""
    over = f" of {head.decisive} decisive samples" if head.decisive is not None else ""
    return f"top-1 agreement {head.agreement:.1%}{over} (at least {numerics.min_agreement_allowed:.1%} expected{ties})"
