"""Write the bundled example with a deliberately heavier head (two wide dense layers), as .keras.

A real model change that makes every inference slower, for the gate's detection tests:
    TF_USE_LEGACY_KERAS=1 python tests/data/make_heavier.py OUT.keras
"""

from __future__ import annotations

import sys

import tf_keras

from edgebench.example import EXAMPLE_MODEL


def main(out: str) -> None:
    base = tf_keras.models.load_model(EXAMPLE_MODEL, compile=False)
    features = base.get_layer(index=-3).output  # after global pooling, before dropout
    x = tf_keras.layers.Dense(1024, activation="relu")(features)
    x = tf_keras.layers.Dense(1024, activation="relu")(x)
    outputs = tf_keras.layers.Dense(10, activation="softmax")(x)
    tf_keras.Model(base.input, outputs).save(out)


if __name__ == "__main__":
    main(sys.argv[1])
