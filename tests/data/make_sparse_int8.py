"""Write a full-integer int8 .tflite of the bundled example with sparse-encoded weights.

The largest kernels are magnitude-zeroed to 80 % and converted with EXPERIMENTAL_SPARSITY, the
kind of model XNNPACK refuses ("failed to delegate FULLY_CONNECTED"). Run in its own process:

    TF_USE_LEGACY_KERAS=1 python tests/data/make_sparse_int8.py OUT.tflite
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import numpy as np
import tensorflow as tf
import tf_keras

from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL

SPARSITY = 0.8


def main(out: str) -> None:
    model = tf_keras.models.load_model(EXAMPLE_MODEL, compile=False)
    weights = []
    for w in model.get_weights():
        if w.ndim >= 2 and w.size > 1000:
            w = np.where(np.abs(w) < np.quantile(np.abs(w), SPARSITY), 0, w)
        weights.append(w)
    model.set_weights(weights)
    x = np.load(EXAMPLE_DATA)["x_train"][:100].astype(np.float32)

    def representative() -> Iterator[list[np.ndarray]]:
        for i in range(len(x)):
            yield [x[i : i + 1]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY, tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with open(out, "wb") as handle:
        handle.write(converter.convert())


if __name__ == "__main__":
    main(sys.argv[1])
