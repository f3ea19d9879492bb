"""Feeding an input set through an engine and scoring its outputs.

Shared with the host's converter, so host accuracy and device accuracy are computed one way.
"""

from __future__ import annotations

import numpy as np

from device_runner.engines import Engine
from device_runner.schema import Accuracy, Numerics


def predict(engine: Engine, x: np.ndarray) -> np.ndarray:
    """Dequantised first output for every sample, one invoke each."""
    outputs = []
    for sample in x:
        engine.set_input(sample)
        engine.invoke()
        outputs.append(engine.output())
    return np.stack(outputs)


def score(outputs: np.ndarray, labels: np.ndarray | None, reference: np.ndarray | None) -> Accuracy:
    """Top-1 vs labels; top-1 agreement and |diff| vs the host fp32 reference outputs."""
    n = len(outputs)
    flat = outputs.reshape(n, -1)
    predicted = flat.argmax(axis=1)
    correct = (predicted == labels.reshape(n)) if labels is not None else np.zeros(0, dtype=bool)
    if reference is None:
        agreement = max_diff = mean_diff = None
        agree = np.zeros(0, dtype=bool)
    else:
        ref = reference.reshape(n, -1).astype(np.float32)
        diff = np.abs(flat - ref)
        agree = predicted == ref.argmax(axis=1)
        agreement = float(agree.mean())
        max_diff, mean_diff = float(diff.max()), float(diff.mean())
    return Accuracy(
        n=n,
        top1=float(correct.mean()) if labels is not None else None,
        fp32_agreement=agreement,
        max_abs_diff=max_diff,
        mean_abs_diff=mean_diff,
        correct=[bool(c) for c in correct],
        agree=[bool(a) for a in agree],
    )


def reference_key(variant: str) -> str:
    """The input set's entry holding ``variant``'s outputs on the host's reference kernels."""
    return f"ref.{variant}"


def compare(
    outputs: np.ndarray, reference: np.ndarray, output: str, min_agreement: float, min_cosine: float
) -> Numerics:
    """``outputs`` against the same variant's reference-kernel outputs, held to the two tolerances."""
    n = len(outputs)
    got = outputs.reshape(n, -1).astype(np.float64)
    want = reference.reshape(n, -1).astype(np.float64)
    agreement = float((got.argmax(axis=1) == want.argmax(axis=1)).mean())
    norms = np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1)
    dots = (got * want).sum(axis=1)
    # Two all-zero outputs are identical; one all-zero output against another is as far apart as can be.
    cosines = np.where(
        norms > 0, dots / np.where(norms > 0, norms, 1.0), np.where(got.any(axis=1) | want.any(axis=1), 0.0, 1.0)
    )
    cosines = np.nan_to_num(cosines, nan=0.0)  # a NaN or inf output must fail, never pass
    cosine, worst = float(cosines.mean()), float(cosines.min())
    return Numerics(
        n=n,
        output=output,
        agreement=agreement,
        cosine=cosine,
        min_cosine=worst,
        max_abs_diff=float(np.nan_to_num(np.abs(got - want), nan=np.inf).max()),
        min_agreement_allowed=min_agreement,
        min_cosine_allowed=min_cosine,
        passed=bool(np.isfinite(got).all()) and agreement >= min_agreement and cosine >= min_cosine,
    )


def numerics_message(numerics: Numerics, delegate: str) -> str:
    """One line for a wrong_output cell."""
    return (
        f"{delegate} outputs differ from the same variant on the host's reference kernels: top-1 agreement "
        f"{numerics.agreement:.1%} (at least {numerics.min_agreement_allowed:.1%} expected), cosine "
        f"{numerics.cosine:.4f} (at least {numerics.min_cosine_allowed:.4f}), max |diff| {numerics.max_abs_diff:.4g} "
        f"on output {numerics.output}, over {numerics.n} samples"
    )
