"""Feeding an input set through an engine and scoring its outputs, head by head.

Shared with the host's converter, so host accuracy and device accuracy are computed one way.

Which outputs are class distributions, so that top-1 and agreement mean something (``class_counts``):
- task ``classification``: every output with at least 2 values per sample (top-1 is an argmax over them);
- task ``regression`` or ``other``: none;
- task ``auto`` (the guess): an output whose per-sample shape, size-1 axes aside, is one axis of at least 2 values,
  and whose values look like a class distribution: probabilities (all within [0, 1], each sample summing to 1
  within ``PROBABILITY_SUM_TOLERANCE``), or scores the labels index (class-id labels all below that count: logits).
  Judged on the host fp32 outputs when the input set has them, so every variant of a model is scored alike.
Every output, class distribution or not, is compared by cosine similarity, SNR and |diff|.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from device_runner.engines import Engine
from edgebench_records import SNR_CAP_DB, Accuracy, Numerics, OutputFidelity, Task

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
    counts: list[int | None] = []
    for values in outputs:
        classes = _axis_classes(values)
        ids = class_ids(labels, len(values))
        indexed = ids is not None and classes is not None and int(ids.max()) < classes
        counts.append(classes if classes and (_probabilities(values) or indexed) else None)
    return counts


def fidelity(index: int, name: str, got: np.ndarray, want: np.ndarray, classes: int | None) -> OutputFidelity:
    """One output against its reference, sample by sample (both dequantised float)."""
    a, b = _flat(got), _flat(want)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = (a * b).sum(axis=1)
    # Two all-zero outputs are identical; one all-zero output against another is as far apart as can be.
    cosines = np.where(
        norms > 0, dots / np.where(norms > 0, norms, 1.0), np.where(a.any(axis=1) | b.any(axis=1), 0.0, 1.0)
    )
    cosines = np.nan_to_num(cosines, nan=0.0)  # a NaN or inf output must fail, never pass
    diff = np.nan_to_num(np.abs(a - b), nan=np.inf)
    agreement = float((a.argmax(axis=1) == b.argmax(axis=1)).mean()) if classes else None
    return OutputFidelity(
        index=index,
        name=name,
        cosine=float(cosines.mean()),
        min_cosine=float(cosines.min()),
        snr_db=_snr_db(a, b),
        max_abs_diff=float(diff.max()),
        mean_abs_diff=float(diff.mean()),
        classes=classes,
        agreement=agreement,
    )


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
) -> Accuracy:
    """Every output against the host fp32 ``reference``; the scored output (the first class distribution, else
    output 0) against ``labels``: top-1/top-5 for class ids, MAE for regression targets."""
    n = len(outputs[0]) if outputs else 0
    fits = _fits(outputs, reference)
    counts = class_counts(reference if reference and all(fits) else outputs, labels, task)
    scored = next((j for j, c in enumerate(counts) if c), 0)
    heads = [
        fidelity(j, _name(names, j), o, reference[j], counts[j])
        for j, o in enumerate(outputs)
        if reference is not None and fits[j]
    ]
    head = next((h for h in heads if h.index == scored), None)
    agree: list[bool] = []
    if head is not None and head.classes and reference is not None:
        agree = [bool(v) for v in _flat(outputs[scored]).argmax(axis=1) == _flat(reference[scored]).argmax(axis=1)]
    labelled = _against_labels(outputs, labels, counts, task)
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
    outputs: list[np.ndarray], labels: np.ndarray | None, counts: list[int | None], task: str
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
    return _regression(outputs, labels, n, resolved)


def _regression(outputs: list[np.ndarray], labels: np.ndarray, n: int, resolved: str) -> _Labelled:
    """Mean |output - label| over the first output of the labels' size per sample."""
    target = labels.reshape(n, -1).astype(np.float64)
    match = next((o for o in outputs if _flat(o).shape[1] == target.shape[1]), None)
    if match is None:
        return _Labelled(resolved, f"labels of {target.shape[1]} values a sample match no output's size")
    found = _Labelled(Task.REGRESSION)
    found.mae = float(np.nan_to_num(np.abs(_flat(match) - target), nan=np.inf).mean())
    return found


def compare(
    outputs: list[np.ndarray],
    reference: list[np.ndarray],
    names: Sequence[str],
    classes: Sequence[int | None],
    min_agreement: float,
    min_cosine: float,
) -> Numerics | None:
    """Every output against the same variant's reference-kernel outputs: each held to ``min_cosine``, and the
    class distributions (``classes``) to ``min_agreement`` too. The figures are of the worst output: the
    failing one with the lowest cosine, else the lowest cosine. None when no output has a reference of its size."""
    fits = _fits(outputs, reference)
    heads = [
        fidelity(j, _name(names, j), o, reference[j], classes[j] if j < len(classes) else None)
        for j, o in enumerate(outputs)
        if fits[j]
    ]
    if not heads:
        return None
    finite = {h.index: bool(np.isfinite(outputs[h.index]).all()) for h in heads}

    def passes(h: OutputFidelity) -> bool:
        agreed = h.agreement is None or h.agreement >= min_agreement
        return finite[h.index] and agreed and h.cosine >= min_cosine

    failing = [h for h in heads if not passes(h)]
    worst = min(failing or heads, key=lambda h: h.cosine)
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
        outputs=heads,
    )


def numerics_message(numerics: Numerics, delegate: str) -> str:
    """One line for a wrong_output cell, naming the worst output."""
    agreement = (
        f"top-1 agreement {numerics.agreement:.1%} (at least {numerics.min_agreement_allowed:.1%} expected), "
        if numerics.agreement is not None
        else ""
    )
    of = f" (the worst of {len(numerics.outputs)} outputs)" if len(numerics.outputs) > 1 else ""
    return (
        f"{delegate} outputs differ from the same variant on the host's reference kernels: {agreement}cosine "
        f"{numerics.cosine:.4f} (at least {numerics.min_cosine_allowed:.4f}), max |diff| {numerics.max_abs_diff:.4g} "
        f"on output {numerics.output}{of}, over {numerics.n} samples"
    )
