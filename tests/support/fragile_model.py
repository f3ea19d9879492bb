"""A digits classifier that full int8 hurts through one small layer: ``python -m tests.support.fragile_model OUT_DIR
[EPOCHS]`` (a process of its own, so the caller never imports TensorFlow) writes ``OUT_DIR/model.keras``, trained
on the bundled example's data (``edgebench.example.EXAMPLE_DATA``, which serves as its ``--data``).

The pathology is a real one (a unit that died in training, whose outgoing weights nothing keeps small), built
on purpose: after training, one unit of the second hidden layer is silenced (zero weights and bias, so ReLU
holds it at 0) and the small third layer reads it with an outlier weight, ``OUTLIER`` times its largest, in
every output channel. In float the outlier multiplies 0 and changes nothing; in int8 each of that layer's
channels takes its scale from the outlier, and its ordinary weights round to a few levels. Keeping that one
layer in float32 recovers the float model's accuracy at a few KB beside the int8 model's size.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from edgebench.example import EXAMPLE_DATA

OUTLIER = 120.0  # × the layer's largest trained weight: its ordinary weights keep about one level each side of 0
DEAD = 0  # the silenced unit of the second hidden layer
FRAGILE = "fragile"  # the layer whose weights carry the outlier


def make(out: Path, epochs: int = 8) -> Path:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tf_keras as k

    k.utils.set_random_seed(0)
    with np.load(EXAMPLE_DATA) as data:
        x, y = data["x_train"].astype(np.float32), data["y_train"]
    model = k.Sequential(
        [
            k.Input((32, 32, 1), name="image"),
            k.layers.Rescaling(1 / 255),
            k.layers.Flatten(),
            k.layers.Dense(256, activation="relu", name="hidden1"),
            k.layers.Dense(64, activation="relu", name="hidden2"),
            k.layers.Dense(32, activation="relu", name=FRAGILE),
            k.layers.Dense(10, activation="softmax", name="classes"),
        ]
    )
    model.compile(k.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    kernel, bias = model.get_layer("hidden2").get_weights()
    kernel[:, DEAD], bias[DEAD] = 0.0, 0.0
    model.get_layer("hidden2").set_weights([kernel, bias])
    kernel, bias = model.get_layer(FRAGILE).get_weights()
    kernel[DEAD, :] = OUTLIER * float(np.abs(kernel).max())
    model.get_layer(FRAGILE).set_weights([kernel, bias])
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    return out / "model.keras"


if __name__ == "__main__":
    print(make(Path(sys.argv[1]), *(int(a) for a in sys.argv[2:3])))
