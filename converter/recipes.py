"""How each variant is made from the source model: one small function per technique."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from converter.source import SourceModel

CALIBRATION_SAMPLES = 200


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    build: Callable[[SourceModel, dict[str, np.ndarray], int], bytes]


def _fp32(source: SourceModel, data: dict[str, np.ndarray], seed: int) -> bytes:
    return bytes(source.make_converter().convert())


def _representative(data: dict[str, np.ndarray], seed: int) -> Callable[[], Iterator[list[np.ndarray]]]:
    x = data["x_train"]
    order = np.random.default_rng(seed).permutation(len(x))[:CALIBRATION_SAMPLES]

    def samples() -> Iterator[list[np.ndarray]]:
        for i in order:
            yield [x[i : i + 1].astype(np.float32)]

    return samples


def _int8(source: SourceModel, data: dict[str, np.ndarray], seed: int) -> bytes:
    import tensorflow as tf

    converter = source.make_converter()
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = _representative(data, seed)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return bytes(converter.convert())


RECIPES = {
    recipe.name: recipe
    for recipe in (
        Recipe("fp32", "float32, no optimisation", _fp32),
        Recipe(
            "int8",
            f"full-integer int8 (int8 I/O), calibrated on {CALIBRATION_SAMPLES} training samples",
            _int8,
        ),
    )
}
