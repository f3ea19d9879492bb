"""Feeding an input set through an interpreter and scoring its outputs.

Shared with the host's converter, so host accuracy and device accuracy are computed one way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from device_runner.schema import Accuracy


def quantize_input(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """Cast a float input to what the model takes (quantising for integer inputs)."""
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return x.astype(dtype)
    scale, zero_point = (float(v) for v in detail["quantization"])
    if scale == 0:
        return x.astype(dtype)
    info = np.iinfo(dtype)
    quantized = np.rint(x.astype(np.float64) / scale + zero_point)
    return np.clip(quantized, info.min, info.max).astype(dtype)


def dequantize_output(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    scale, zero_point = (float(v) for v in detail["quantization"])
    if np.dtype(detail["dtype"]).kind == "f" or scale == 0:
        return y.astype(np.float32)
    return ((y.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)).astype(np.float32)


def feed(interpreter: Any, sample: np.ndarray) -> None:
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], quantize_input(sample[None, ...], detail))


def predict(interpreter: Any, x: np.ndarray) -> np.ndarray:
    """Outputs (dequantised) of the first output tensor for every sample, one invoke each."""
    out_detail = interpreter.get_output_details()[0]
    outputs = []
    for sample in x:
        feed(interpreter, sample)
        interpreter.invoke()
        outputs.append(dequantize_output(interpreter.get_tensor(out_detail["index"]), out_detail)[0])
    return np.stack(outputs)


def score(outputs: np.ndarray, labels: np.ndarray | None, reference: np.ndarray | None) -> Accuracy:
    """Top-1 vs labels; top-1 agreement and |diff| vs the host fp32 reference outputs."""
    n = len(outputs)
    flat = outputs.reshape(n, -1)
    predicted = flat.argmax(axis=1)
    correct = (predicted == labels.reshape(n)) if labels is not None else np.zeros(0, dtype=bool)
    if reference is None:
        agreement = max_diff = mean_diff = None
    else:
        ref = reference.reshape(n, -1).astype(np.float32)
        diff = np.abs(flat - ref)
        agreement = float((predicted == ref.argmax(axis=1)).mean())
        max_diff, mean_diff = float(diff.max()), float(diff.mean())
    return Accuracy(
        n=n,
        top1=float(correct.mean()) if labels is not None else None,
        fp32_agreement=agreement,
        max_abs_diff=max_diff,
        mean_abs_diff=mean_diff,
        correct=[bool(c) for c in correct],
    )
