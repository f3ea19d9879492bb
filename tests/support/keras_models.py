"""Small models of the shapes the bundled example does not have, built at test time with tf_keras (Keras 3 for
the ``keras3_*`` kinds) and saved with data keyed as the converter reads it, each in a process of its own (``build``;
or ``python -m tests.support.keras_models KIND OUT_DIR``), so the test process never imports TensorFlow. Each writes
``OUT_DIR/model.keras`` (or ``OUT_DIR/model``, a SavedModel folder, or ``OUT_DIR/model.h5``) and, where the model
has data, ``OUT_DIR/data.npz``; a model with a custom layer writes the module defining it, ``OUT_DIR/{CUSTOM}.py``.
"""

from __future__ import annotations

import importlib
import os
import runpy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from converter.isolation import isolated
from edgebench.conversion import converter_env

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
SAMPLES = 48  # per split: enough to calibrate and fine-tune one epoch, little to convert
CLASSES = 3
STEPS, FEATURES = 12, 4  # the recurrent models' sequences: time steps of a few features
CUSTOM = "custom_layers"  # the module a custom-layer model's class comes from, written beside it


def _labelled(x: np.ndarray) -> np.ndarray:
    """Class ids a model can learn from its first input: which third of the range its mean falls in."""
    means = x.reshape(len(x), -1).mean(axis=1)
    labels: np.ndarray = np.digitize(means, np.quantile(means, [1 / 3, 2 / 3])).astype(np.int64)
    return labels


def two_inputs(out: Path) -> None:
    """An image and a metadata vector into one classifier; the inputs are declared metadata first."""
    import tf_keras as k

    meta, image = k.Input((4,), name="meta"), k.Input((8, 8, 1), name="image")
    features = k.layers.Concatenate()([k.layers.Flatten()(k.layers.Conv2D(4, 3, activation="relu")(image)), meta])
    model = k.Model([meta, image], k.layers.Dense(CLASSES, activation="softmax")(k.layers.Dense(16, "relu")(features)))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.save(out / "model.keras")
    rng = np.random.default_rng(0)
    arrays: dict[str, np.ndarray] = {}
    for split in ("train", "val"):
        x_image = rng.random((SAMPLES, 8, 8, 1), dtype=np.float32)
        arrays |= {f"x_{split}.image": x_image, f"x_{split}.meta": rng.random((SAMPLES, 4), dtype=np.float32)}
        arrays[f"y_{split}"] = _labelled(x_image)
    np.savez(out / "data.npz", **arrays)  # type: ignore[arg-type]  # numpy's stub wants *args alone


def two_outputs(out: Path) -> None:
    """One input, a classifier head and a regressor head, saved compiled with a loss for each."""
    import tf_keras as k

    image = k.Input((8, 8, 1), name="image")
    features = k.layers.Dense(16, "relu")(k.layers.Flatten()(image))
    heads = [
        k.layers.Dense(CLASSES, activation="softmax", name="kind")(features),
        k.layers.Dense(1, name="size")(features),
    ]
    model = k.Model(image, heads)
    model.compile("adam", {"kind": "sparse_categorical_crossentropy", "size": "mse"})
    model.save(out / "model.keras")
    _image_data(out, 1, side=8)


def regression(out: Path) -> None:
    """Six features to one float target, saved uncompiled: the loss is the converter's to choose."""
    import tf_keras as k

    model = k.Sequential([k.Input((6,)), k.layers.Dense(16, "relu"), k.layers.Dense(16, "relu"), k.layers.Dense(1)])
    model.save(out / "model.keras")
    rng = np.random.default_rng(2)
    arrays: dict[str, np.ndarray] = {}
    for split in ("train", "val"):
        x = rng.normal(size=(SAMPLES, 6)).astype(np.float32)
        arrays |= {f"x_{split}": x, f"y_{split}": (x @ np.arange(1, 7) / 6).astype(np.float32)}
    np.savez(out / "data.npz", **arrays)  # type: ignore[arg-type]  # numpy's stub wants *args alone


def audio(out: Path) -> None:
    """One second of 16 kHz mono audio, (16000, 1), through 1-D convolutions to five classes; no data."""
    import tf_keras as k

    model = k.Sequential(
        [
            k.Input((16000, 1), name="waveform"),
            k.layers.Conv1D(8, 64, strides=16, activation="relu"),
            k.layers.Conv1D(8, 8, strides=4, activation="relu"),
            k.layers.GlobalAveragePooling1D(),
            k.layers.Dense(5, activation="softmax"),
        ]
    )
    model.save(out / "model.keras")


def plain_module(out: Path) -> None:
    """A tf.Module (no Keras) serving two same-shaped inputs, whose .tflite TensorFlow orders the other way."""
    import tensorflow as tf

    class Mixer(tf.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            rng = np.random.default_rng(3)
            self.a = tf.Variable(rng.normal(size=(4, 3)).astype(np.float32))
            self.b = tf.Variable(rng.normal(size=(4, 3)).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([None, 4], tf.float32)])  # type: ignore[untyped-decorator]
        def mix(self, left: Any, right: Any) -> dict[str, Any]:
            return {"mixed": tf.nn.softmax(tf.matmul(left, self.a) + tf.matmul(tf.square(right), self.b))}

    module = Mixer()
    tf.saved_model.save(module, str(out / "model"), signatures=module.mix.get_concrete_function())
    rng = np.random.default_rng(4)
    splits = [f"x_{s}.{n}" for s in ("train", "val") for n in ("left", "right")]
    arrays = {key: rng.normal(size=(SAMPLES, 4)).astype(np.float32) for key in splits}
    np.savez(out / "data.npz", **arrays)  # type: ignore[arg-type]  # numpy's stub wants *args alone


def _image_data(out: Path, seed: int, side: int = 16) -> None:
    """Labelled grey ``side`` × ``side`` images for both splits, in the single-input .npz layout."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for split in ("train", "val"):
        x = rng.random((SAMPLES, side, side, 1), dtype=np.float32)
        arrays |= {f"x_{split}": x, f"y_{split}": _labelled(x)}
    np.savez(out / "data.npz", **arrays)  # type: ignore[arg-type]  # numpy's stub wants *args alone


def residual_cnn(out: Path) -> None:
    """A functional CNN with a residual Add (its two convolutions' channels tied), BatchNorm, a depthwise
    convolution and a dense head: what channel pruning must carry through."""
    import tf_keras as k

    image = k.Input((16, 16, 1), name="image")
    stem = k.layers.ReLU()(k.layers.BatchNormalization()(k.layers.Conv2D(8, 3, padding="same", use_bias=False)(image)))
    branch = k.layers.BatchNormalization()(k.layers.Conv2D(8, 3, padding="same", use_bias=False)(stem))
    x = k.layers.ReLU()(k.layers.Add()([stem, branch]))
    x = k.layers.ReLU()(k.layers.BatchNormalization()(k.layers.DepthwiseConv2D(3, strides=2, padding="same")(x)))
    x = k.layers.Conv2D(16, 1, activation="relu")(x)
    x = k.layers.Dense(16, activation="relu")(k.layers.GlobalAveragePooling2D()(x))
    model = k.Model(image, k.layers.Dense(CLASSES, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.save(out / "model.keras")
    _image_data(out, 5)


def sequential_cnn(out: Path) -> None:
    """A Sequential CNN: convolution, BatchNorm, pooling, dropout, two dense layers."""
    import tf_keras as k

    model = k.Sequential(
        [
            k.Input((16, 16, 1)),
            k.layers.Conv2D(8, 3, activation="relu"),
            k.layers.BatchNormalization(),
            k.layers.MaxPooling2D(),
            k.layers.Conv2D(16, 3),
            k.layers.ReLU(),
            k.layers.GlobalAveragePooling2D(),
            k.layers.Dropout(0.1),
            k.layers.Dense(32, activation="relu"),
            k.layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    model.save(out / "model.keras")
    _image_data(out, 6)


def layer_norm_cnn(out: Path) -> None:
    """A convolution followed by LayerNormalization, which mixes all of its channels: not channel-prunable."""
    import tf_keras as k

    image = k.Input((16, 16, 1), name="image")
    x = k.layers.LayerNormalization(name="mixing_norm")(k.layers.Conv2D(8, 3)(image))
    model = k.Model(image, k.layers.Dense(CLASSES, activation="softmax")(k.layers.GlobalAveragePooling2D()(x)))
    model.save(out / "model.keras")
    _image_data(out, 7)


def mobilenet_v2(out: Path) -> None:
    """keras.applications' MobileNetV2 (width 0.35, untrained, 32×32 RGB): ZeroPadding, ReLU6, residual Adds."""
    import tf_keras as k

    model = k.applications.MobileNetV2((32, 32, 3), alpha=0.35, weights=None, classes=CLASSES)
    model.save(out / "model.keras")
    rng = np.random.default_rng(8)
    arrays: dict[str, np.ndarray] = {}
    for split in ("train", "val"):
        x = rng.random((SAMPLES, 32, 32, 3), dtype=np.float32)
        arrays |= {f"x_{split}": x, f"y_{split}": _labelled(x)}
    np.savez(out / "data.npz", **arrays)  # type: ignore[arg-type]  # numpy's stub wants *args alone


def _sequence_data(out: Path, seed: int) -> None:
    """Labelled sequences (SAMPLES, STEPS, FEATURES) for both splits, in the single-input .npz layout."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for split in ("train", "val"):
        x = rng.normal(size=(SAMPLES, STEPS, FEATURES)).astype(np.float32)
        arrays |= {f"x_{split}": x, f"y_{split}": _labelled(x)}
    np.savez(out / "data.npz", **arrays)  # type: ignore[arg-type]  # numpy's stub wants *args alone


def _recurrent(out: Path, layer: str, seed: int) -> None:
    import tf_keras as k

    sequence = k.Input((STEPS, FEATURES), name="sequence")
    features = getattr(k.layers, layer)(8, name=layer.lower())(sequence)
    model = k.Model(sequence, k.layers.Dense(CLASSES, activation="softmax", name="probs")(features))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.save(out / "model.keras")
    _sequence_data(out, seed)


def gru(out: Path) -> None:
    """A GRU over a short sequence into a classifier: TensorList ops that lower to TFLite only at a static batch."""
    _recurrent(out, "GRU", 9)


def lstm(out: Path) -> None:
    """An LSTM over a short sequence into a classifier (TFLite fuses it into UNIDIRECTIONAL_SEQUENCE_LSTM)."""
    _recurrent(out, "LSTM", 10)


def transformer(out: Path) -> None:
    """One tiny transformer encoder block (self-attention, feed-forward, LayerNorm, residuals) and a classifier."""
    import tf_keras as k

    tokens = k.Input((STEPS, 16), name="tokens")
    attended = k.layers.MultiHeadAttention(num_heads=2, key_dim=8)(tokens, tokens)
    x = k.layers.LayerNormalization()(k.layers.Add()([tokens, attended]))
    x = k.layers.LayerNormalization()(k.layers.Add()([x, k.layers.Dense(16)(k.layers.Dense(32, "relu")(x))]))
    model = k.Model(tokens, k.layers.Dense(CLASSES, activation="softmax")(k.layers.GlobalAveragePooling1D()(x)))
    model.save(out / "model.keras")
    rng = np.random.default_rng(11)
    x_val = rng.normal(size=(SAMPLES, STEPS, 16)).astype(np.float32)
    np.savez(out / "data.npz", x_val=x_val, y_val=_labelled(x_val))


ROWS = 500  # the embedding model's vocabulary: far past the handful of small ids plain integer inputs get


def embedding(out: Path) -> None:
    """Token ids (int32) through an Embedding of ``ROWS`` rows into a classifier, saved with no data."""
    import tf_keras as k

    ids = k.Input((STEPS,), name="ids", dtype="int32")
    pooled = k.layers.GlobalAveragePooling1D()(k.layers.Embedding(ROWS, 8, name="table")(ids))
    k.Model(ids, k.layers.Dense(CLASSES, activation="softmax")(pooled)).save(out / "model.keras")


def keras3_cnn(out: Path) -> None:
    """A small CNN saved by Keras 3 (TensorFlow's default Keras), which tf_keras cannot load."""
    import keras

    image = keras.Input((8, 8, 1), name="image")
    x = keras.layers.Conv2D(4, 3, activation="relu")(image)
    probs = keras.layers.Dense(CLASSES, activation="softmax", name="probs")(keras.layers.Flatten()(x))
    keras.Model(image, probs).save(out / "model.keras")
    _image_data(out, 12, side=8)


CUSTOM_MODULE = """
import {keras}


class Scale({keras}.layers.Layer):
    \"\"\"Multiplies its input by a learned factor per feature.\"\"\"

    def build(self, input_shape):
        self.factor = self.add_weight(name="factor", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.factor
"""


def _custom_layer_model(out: Path, keras: str) -> None:
    """A Dense classifier with a ``Scale`` layer from the module written beside it (``CUSTOM``.py)."""
    (out / f"{CUSTOM}.py").write_text(CUSTOM_MODULE.format(keras=keras))
    sys.path.insert(0, str(out))
    k = importlib.import_module(keras)
    scale = importlib.import_module(CUSTOM).Scale
    features = k.Input((6,), name="features")
    x = scale(name="scale")(k.layers.Dense(8, activation="relu")(features))
    k.Model(features, k.layers.Dense(CLASSES, activation="softmax")(x)).save(out / "model.keras")


def custom_layer(out: Path) -> None:
    """A tf_keras model with a custom layer class, defined in ``OUT_DIR/custom_layers.py``."""
    _custom_layer_model(out, "tf_keras")


def keras3_custom_layer(out: Path) -> None:
    """A Keras 3 model with a custom layer class, defined in ``OUT_DIR/custom_layers.py``."""
    _custom_layer_model(out, "keras")


def lambda_layer(out: Path) -> None:
    """A tf_keras model with a Lambda layer (a Python lambda), saved as .keras and as .h5."""
    import tf_keras as k

    model = k.Sequential([k.Input((6,)), k.layers.Lambda(lambda x: x * 2.0, name="double"), k.layers.Dense(CLASSES)])
    model.save(out / "model.keras")
    model.save(out / "model.h5")


def _student(out: Path, classes: int) -> None:
    """An untrained student for the bundled example: its input (32x32x1, pixels 0..255), ``classes`` class
    probabilities, a tenth of its parameters (2.7k); saved as ``student.keras``."""
    import tf_keras as k

    image = k.Input((32, 32, 1), name="image")
    x = k.layers.Rescaling(1 / 255)(image)
    x = k.layers.MaxPooling2D(2)(k.layers.Conv2D(8, 3, strides=2, activation="relu")(x))
    x = k.layers.Flatten()(k.layers.Conv2D(16, 3, strides=2, activation="relu")(x))
    k.Model(image, k.layers.Dense(classes, activation="softmax")(x)).save(out / "student.keras")


def resaved(model: str, *copies: str) -> None:
    """The tf_keras model at ``model`` saved again at each of ``copies`` (the format each path's suffix says)."""
    import tf_keras

    loaded = tf_keras.models.load_model(model, compile=False)
    for path in copies:
        loaded.save(path)


def student(out: Path) -> None:
    _student(out, 10)


def five_class_student(out: Path) -> None:
    """A student that gives 5 classes where the example gives 10."""
    _student(out, 5)


BUILDERS: dict[str, Callable[[Path], None]] = {
    "mobilenet_v2": mobilenet_v2,
    "residual_cnn": residual_cnn,
    "sequential_cnn": sequential_cnn,
    "layer_norm_cnn": layer_norm_cnn,
    "two_inputs": two_inputs,
    "two_outputs": two_outputs,
    "regression": regression,
    "audio": audio,
    "plain_module": plain_module,
    "gru": gru,
    "lstm": lstm,
    "transformer": transformer,
    "embedding": embedding,
    "keras3_cnn": keras3_cnn,
    "custom_layer": custom_layer,
    "keras3_custom_layer": keras3_custom_layer,
    "lambda_layer": lambda_layer,
    "student": student,
    "five_class_student": five_class_student,
}


def build(kind: str, out: Path) -> Path:
    """Build ``kind`` into ``out`` in a TensorFlow process of its own (forked from the warm one where the suite
    keeps it, converter/warm.py; a Keras 3 kind always in a fresh one, as its users' TensorFlow imports Keras 3);
    returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    if kind.startswith("keras3_"):
        env = {key: value for key, value in os.environ.items() if key != "TF_USE_LEGACY_KERAS"}
        command = [sys.executable, "-m", "tests.support.keras_models", kind, str(out)]
        subprocess.run(command, env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=ROOT, check=True, capture_output=True)
        return out
    in_tensorflow(built, kind, str(out))
    return out


def in_tensorflow(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` in a TensorFlow process of its own, forked from the warm one where the suite keeps it:
    the test process never imports TensorFlow."""
    with pytest.MonkeyPatch.context() as patch:  # the converter's: the warm process imported TensorFlow under it
        for name, value in converter_env().items():
            patch.setenv(name, value)
        return isolated(function, *args)


def layer_counts(source: str) -> dict[str, list[int]]:
    """MACs and parameters of a tf_keras model (a file, or "mobilenet": a MobileNetV2 at 96x96, alpha 0.35)
    counted by hand from its layers' shapes, beside ``model_figures``' count from its float conversion."""
    import tensorflow as tf
    import tf_keras as keras

    from device_runner.flatbuffer import read_graph
    from device_runner.model_figures import model_figures

    if source == "mobilenet":
        model = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10)
    else:
        model = keras.models.load_model(source)
    macs = params = 0
    for layer in model.layers:
        out = layer.output_shape
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            kh, kw, c, m = layer.depthwise_kernel.shape
            macs += np.prod(out[1:]) * kh * kw
            params += kh * kw * c * m + c * m  # a folded BatchNorm leaves a bias per channel
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, c, f = layer.kernel.shape
            macs += np.prod(out[1:]) * kh * kw * c
            params += kh * kw * c * f + f
        elif isinstance(layer, keras.layers.Dense):
            c, units = layer.kernel.shape
            macs += c * units
            params += c * units + units
    figures = model_figures(read_graph(tf.lite.TFLiteConverter.from_keras_model(model).convert()))
    return {"keras": [int(macs), int(params)], "flatbuffer": [figures.macs, figures.params["float32"]]}


def built(kind: str, out: str) -> None:
    """``kind`` built, seeded, in this (TensorFlow) process."""
    import keras
    import tf_keras

    tf_keras.utils.set_random_seed(0)
    keras.utils.set_random_seed(0)
    BUILDERS[kind](Path(out))


def script(path: str, *args: str) -> None:
    """Runs the script at ``path`` as ``python PATH ARGS…`` would (in the process ``in_tensorflow`` gives it)."""
    sys.argv = [path, *args]
    runpy.run_path(path, run_name="__main__")


if __name__ == "__main__":
    built(sys.argv[1], sys.argv[2])
