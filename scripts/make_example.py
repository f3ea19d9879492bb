"""Train the bundled example: a compact MobileNet-style CNN on scikit-learn's digits.

Deterministic (fixed seed, TF op determinism), no download: the digits ship inside scikit-learn.
The 8x8 digits are upscaled to 32x32 with OpenCV so the model does MobileNet-like work (depthwise
separable blocks, ~0.1 ms per inference) and latency is well above the timer's own overhead.

    TF_USE_LEGACY_KERAS=1 python scripts/make_example.py   # rewrites edgebench/example/
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SIDE = 32
SEED = 0
# Few steps per epoch: the default 0.99 leaves BatchNorm's moving statistics far from the data.
BN_MOMENTUM = 0.9
OUT = Path(__file__).resolve().parent.parent / "edgebench" / "example"


def digits_dataset() -> dict[str, np.ndarray]:
    """Digits as uint8 32x32x1 images (0..255), split 80/20 stratified."""
    digits = load_digits()
    images = (digits.images * (255.0 / 16.0)).astype(np.float32)
    big = np.stack([cv2.resize(im, (SIDE, SIDE), interpolation=cv2.INTER_LINEAR) for im in images])
    x = np.clip(np.rint(big), 0, 255).astype(np.uint8)[..., None]
    x_train, x_val, y_train, y_val = train_test_split(
        x, digits.target.astype(np.int64), test_size=0.2, random_state=SEED, stratify=digits.target
    )
    return {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val}


def build_model() -> Any:
    import tf_keras as keras
    from tf_keras import layers

    def separable(x: Any, filters: int, stride: int) -> Any:
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU(6.0)(x)
        x = layers.Conv2D(filters, 1, use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        return layers.ReLU(6.0)(x)

    inputs = keras.Input((SIDE, SIDE, 1), name="image")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.ReLU(6.0)(x)
    for filters, stride in [(32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1)]:
        x = separable(x, filters, stride)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="digits_mobilenet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import tensorflow as tf
    import tf_keras as keras

    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    data = digits_dataset()
    model = build_model()
    steps = args.epochs * int(np.ceil(len(data["x_train"]) / 32))
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(
        data["x_train"].astype(np.float32),
        data["y_train"],
        epochs=args.epochs,
        batch_size=32,
        validation_data=(data["x_val"].astype(np.float32), data["y_val"]),
        verbose=2,
    )
    _, accuracy = model.evaluate(data["x_val"].astype(np.float32), data["y_val"], verbose=0)
    args.out.mkdir(parents=True, exist_ok=True)
    # An uncompiled copy: the optimizer's state would triple the file and is of no use to users.
    plain = build_model()
    plain.set_weights(model.get_weights())
    plain.save(args.out / "digits_mobilenet.keras")
    np.savez_compressed(
        args.out / "digits.npz",
        x_train=data["x_train"],
        y_train=data["y_train"],
        x_val=data["x_val"],
        y_val=data["y_val"],
    )
    print(f"val top-1 {accuracy:.4f}; wrote {args.out}")


if __name__ == "__main__":
    main()
