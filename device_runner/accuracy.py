"""Feeding an input set through an engine and scoring its outputs.

Shared with the host's converter, so host accuracy and device accuracy are computed one way.
"""

from __future__ import annotations

import numpy as np

from device_runner.engines import Engine
from device_runner.schema import Accuracy


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
