"""Loading the user's model and data, with one clear error naming what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DATA_KEYS = ("x_train", "y_train", "x_val", "y_val")


class SourceError(Exception):
    """The model or data given by the user cannot be used; the message names the file."""


@dataclass
class SourceModel:
    name: str
    make_converter: Callable[[], Any]  # a fresh tf.lite.TFLiteConverter per variant
    predict: Callable[[np.ndarray], np.ndarray]  # float32 reference outputs


def load_model(path: Path) -> SourceModel:
    import tensorflow as tf
    import tf_keras

    if path.is_dir():
        try:
            loaded = tf.saved_model.load(str(path))
            signature = loaded.signatures["serving_default"]
        except (OSError, KeyError, ValueError, tf.errors.OpError) as exc:
            raise SourceError(f"cannot load SavedModel {path}: {_first_line(exc)}") from exc

        def predict_saved(x: np.ndarray) -> np.ndarray:
            (output,) = signature(tf.constant(x)).values()
            return np.asarray(output, dtype=np.float32)

        return SourceModel(path.name, lambda: tf.lite.TFLiteConverter.from_saved_model(str(path)), predict_saved)
    try:
        model = tf_keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises anything from ValueError to zipfile/h5py errors
        raise SourceError(f"cannot load model {path}: {_first_line(exc)}") from exc
    return SourceModel(
        path.stem,
        lambda: tf.lite.TFLiteConverter.from_keras_model(model),
        lambda x: np.asarray(model.predict(x, verbose=0, batch_size=64), dtype=np.float32),
    )


def load_data(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as npz:
            data = {key: npz[key] for key in npz.files}
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot read data file {path}: {_first_line(exc)}") from exc
    missing = [key for key in DATA_KEYS if key not in data]
    if missing:
        raise SourceError(f"data file {path} lacks {', '.join(missing)} (needs {', '.join(DATA_KEYS)})")
    for split in ("train", "val"):
        if len(data[f"x_{split}"]) != len(data[f"y_{split}"]):
            raise SourceError(f"data file {path}: x_{split} and y_{split} differ in length")
    return data


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
