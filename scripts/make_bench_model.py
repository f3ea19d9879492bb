"""Train a MobileNet-class model for scripts/bench_compression.py: keras.applications MobileNetV2.

MobileNetV2 (width 0.35, weights=None: nothing downloaded, 32x32 RGB, 10 classes) trained on
scikit-learn's digits (upscaled with OpenCV as scripts/make_example.py does, the grey channel repeated
three times, scaled to -1..1 as MobileNetV2 expects). Deterministic: fixed seed, TF op determinism.
Writes OUT/model.keras (uncompiled) and OUT/data.npz (x_train, y_train, x_val, y_val as float32).

    TF_USE_LEGACY_KERAS=1 .venv/bin/python scripts/make_bench_model.py OUT [--epochs 30]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_example import SEED, digits_dataset

ALPHA = 0.35
CLASSES = 10
# keras.applications builds BatchNorm with momentum 0.999: over a few hundred steps its moving statistics
# would stay near their initial values and the saved model would score far below its training accuracy.
BN_MOMENTUM = 0.9
# 1,437 training images overfit a 400k-parameter network (~94 % top-1): each epoch sees them shifted by up
# to SHIFT pixels, a seeded draw, so the run stays deterministic.
SHIFT = 3


def rgb_dataset() -> dict[str, np.ndarray]:
    """The example's 32x32 digits as RGB float32 in -1..1 (MobileNetV2's own input scaling)."""
    data = digits_dataset()
    for split in ("train", "val"):
        grey = data[f"x_{split}"].astype(np.float32) / 127.5 - 1.0
        data[f"x_{split}"] = np.repeat(grey, 3, axis=-1)
    return data


def shifted(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by a random offset of up to SHIFT pixels, the border filled with background (-1)."""
    side = x.shape[1]
    padded = np.pad(x, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT), (0, 0)), constant_values=-1.0)
    offsets = rng.integers(0, 2 * SHIFT + 1, size=(len(x), 2))
    return np.stack([image[r : r + side, c : c + side] for image, (r, c) in zip(padded, offsets, strict=True)])


def build_model() -> Any:
    import tf_keras as keras

    model = keras.applications.MobileNetV2(
        (32, 32, 3), alpha=ALPHA, weights=None, classes=CLASSES, classifier_activation="softmax"
    )
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = BN_MOMENTUM
    return model


def train(out: Path, epochs: int) -> float:
    """Train, save the model and its data into ``out``; returns the validation top-1."""
    import tensorflow as tf
    import tf_keras as keras

    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    data = rgb_dataset()
    model = build_model()
    steps = epochs * int(np.ceil(len(data["x_train"]) / 32))
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    validation = (data["x_val"], data["y_val"])
    rng = np.random.default_rng(SEED)
    for epoch in range(epochs):
        x = shifted(data["x_train"], rng)
        model.fit(x, data["y_train"], initial_epoch=epoch, epochs=epoch + 1, batch_size=32, verbose=0)
    print(f"train top-1 {model.evaluate(data['x_train'], data['y_train'], verbose=0)[1]:.4f}")
    _, accuracy = model.evaluate(*validation, verbose=0)
    out.mkdir(parents=True, exist_ok=True)
    plain = build_model()  # uncompiled: no optimizer state in the file
    plain.set_weights(model.get_weights())
    plain.save(out / "model.keras")
    np.savez(out / "data.npz", **data)  # type: ignore[arg-type]  # numpy's stub wants *args alone
    return float(accuracy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    accuracy = train(args.out, args.epochs)
    print(f"val top-1 {accuracy:.4f}; wrote {args.out}")


if __name__ == "__main__":
    main()
