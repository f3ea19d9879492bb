"""Loading the user's model and data, with one clear error naming what is wrong.

Models: ``.keras`` / ``.h5`` (tf_keras), a SavedModel directory (as Keras when it was saved by
Keras, else as a plain graph: conversions only, no fine-tuning), or a ``.tflite`` (measured as given).
Data: an ``.npz`` with x_train, y_train, x_val, y_val, or a folder of images, one sub-folder per class.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from converter.checks import (
    DATA_KEYS,
    SourceError,
    check_data,
    check_model,
    check_values,
    first_line,
    keras_version,
    output_classes,
)

__all__ = [
    "DATA_KEYS",
    "NORMALISATIONS",
    "SourceError",
    "SourceModel",
    "import_tensorflow",
    "load_data",
    "load_model",
    "needs_tensorflow",
]

# TensorFlow, tf_keras and TFMOT are an extra: a plain install measures, gates and reports .tflite files.
CONVERT_EXTRA = "pip install 'edgebench[convert]'"

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
# How pixel values (0..255) are scaled before they reach the model.
NORMALISATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "raw": lambda x: x,  # 0..255: the model rescales itself (as the bundled example does)
    "unit": lambda x: x / 255.0,  # 0..1
    "symmetric": lambda x: x / 127.5 - 1.0,  # -1..1 (MobileNet's preprocess_input)
}


@dataclass
class SourceModel:
    name: str
    input_shape: tuple[int, ...]  # without the batch axis
    make_converter: Callable[[], Any] | None  # a fresh tf.lite.TFLiteConverter; None for a .tflite
    load_keras: Callable[[], Any] | None  # a fresh Keras copy for each technique; None if not Keras
    predict: Callable[[np.ndarray], np.ndarray]  # float32 reference outputs
    tflite: Path | None = None  # the given file, for a .tflite source
    classes: int | None = None  # size of one sample's output, which labels index; None if unknown


def needs_tensorflow(path: Path) -> bool:
    """Only a .tflite is read without TensorFlow: LiteRT runs it and numpy scores it."""
    return path.suffix.lower() != ".tflite"


def import_tensorflow(path: Path) -> tuple[Any, Any]:
    """``tensorflow`` and ``tf_keras`` for loading ``path``, or one line naming the extra that brings them."""
    try:
        import tensorflow as tf
        import tf_keras
    except ImportError as exc:
        missing = exc.name or "tensorflow"
        raise SourceError(f"model {path} needs {missing} to convert, which is not installed: {CONVERT_EXTRA}") from exc
    return tf, tf_keras


def _keras(path: Path) -> SourceModel:
    tf, tf_keras = import_tensorflow(path)

    def load() -> Any:
        return tf_keras.models.load_model(path, compile=False)

    try:
        model = load()
    except Exception as exc:  # Keras raises anything from ValueError to zipfile/h5py errors
        version = keras_version(path) if path.is_file() else None
        hint = ""
        if version and not version.startswith("2."):  # TFMOT needs tf_keras (Keras 2), which cannot read these
            hint = (
                f" (saved by Keras {version}; edgebench loads tf_keras / Keras 2 models: "
                "export a SavedModel with model.export(folder) and give the folder)"
            )
        raise SourceError(f"cannot load model {path}: {first_line(exc)}{hint}") from exc
    if not hasattr(model, "input_shape"):  # tf_keras restores a plain TF SavedModel as a bare object
        raise SourceError(f"cannot load model {path}: not a Keras model")
    return SourceModel(
        name=path.stem if path.is_file() else path.name,
        input_shape=tuple(int(d) for d in model.input_shape[1:]),
        make_converter=lambda: tf.lite.TFLiteConverter.from_keras_model(model),
        load_keras=load,
        predict=lambda x: np.asarray(model.predict(x, verbose=0, batch_size=64), dtype=np.float32),
        classes=_keras_classes(model),
    )


def _keras_classes(model: Any) -> int | None:
    outputs = getattr(model, "outputs", None)  # None for a subclassed model restored without its graph
    return output_classes(outputs[0].shape) if outputs else None  # the first output is the one scored


def _saved_model_graph(path: Path) -> SourceModel:
    tf, _ = import_tensorflow(path)

    try:
        signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    except (OSError, KeyError, ValueError, tf.errors.OpError) as exc:
        raise SourceError(f"cannot load SavedModel {path}: {first_line(exc)}") from exc
    (spec,) = signature.structured_input_signature[1].values()
    first_output = next(iter(signature.structured_outputs.values()))

    def predict(x: np.ndarray) -> np.ndarray:
        (output,) = signature(tf.constant(x, dtype=spec.dtype)).values()
        return np.asarray(output, dtype=np.float32)

    return SourceModel(
        path.name,
        tuple(int(d) for d in spec.shape[1:]),
        lambda: tf.lite.TFLiteConverter.from_saved_model(str(path)),
        None,
        predict,
        classes=output_classes(first_output.shape),
    )


def _tflite(path: Path) -> SourceModel:
    from device_runner.accuracy import predict
    from device_runner.engines import InterpreterEngine
    from device_runner.flatbuffer import ModelFormatError, read_model_info
    from device_runner.runtime import load_runtime

    try:
        info = read_model_info(path.read_bytes())
        engine = InterpreterEngine(load_runtime(), path, info, "xnnpack", threads=1)
    except (ModelFormatError, ValueError, RuntimeError) as exc:
        raise SourceError(f"cannot load model {path}: {first_line(exc)}") from exc
    return SourceModel(
        path.stem,
        tuple(info.inputs[0].shape[1:]),
        None,
        None,
        lambda x: predict(engine, x),
        tflite=path,
        classes=output_classes(info.outputs[0].shape),
    )


def load_model(path: Path) -> SourceModel:
    check_model(path)
    if path.suffix.lower() == ".tflite":
        return _tflite(path)
    if path.is_dir():
        try:
            return _keras(path)  # a SavedModel written by Keras keeps its layers: every variant works
        except SourceError:
            return _saved_model_graph(path)
    return _keras(path)


def load_data(
    path: Path,
    input_shape: tuple[int, ...],
    normalize: str,
    val_split: float,
    seed: int,
    classes: int | None = None,
) -> dict[str, np.ndarray]:
    """The four arrays, checked against the model: its input shape and its number of ``classes``."""
    check_data(path)
    if path.is_dir():
        return _image_folder(path, input_shape, normalize, val_split, seed, classes)
    try:
        with np.load(path, allow_pickle=False) as npz:  # never unpickle a user's file
            data = {key: npz[key] for key in DATA_KEYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise SourceError(f"cannot read data file {path}: {first_line(exc)}") from exc
    data = {key: value.reshape(len(value)) if key.startswith("y") else value for key, value in data.items()}
    check_values(path, data, classes)
    for split in ("train", "val"):
        if tuple(data[f"x_{split}"].shape[1:]) != input_shape:
            raise SourceError(
                f"data file {path}: x_{split} samples are {tuple(data[f'x_{split}'].shape[1:])}, "
                f"the model takes {input_shape}"
            )
    return data


def _image_folder(
    path: Path, input_shape: tuple[int, ...], normalize: str, val_split: float, seed: int, classes: int | None
) -> dict[str, np.ndarray]:
    """Images in ``path/<class>/*``, read and resized with OpenCV to the model's input, split per class."""
    import cv2

    if len(input_shape) != 3 or input_shape[-1] not in (1, 3):
        raise SourceError(f"image folder {path}: the model's input {input_shape} is not an image (H, W, 1|3)")
    height, width, channels = input_shape
    names = sorted(p.name for p in path.iterdir() if p.is_dir())
    if len(names) < 2:
        raise SourceError(f"image folder {path} needs one sub-folder per class (found {len(names)})")
    if classes is not None and len(names) > classes:
        raise SourceError(f"image folder {path} has {len(names)} class folders but the model has {classes} classes")
    rng = np.random.default_rng(seed)
    splits: dict[str, list[Any]] = {key: [] for key in DATA_KEYS}
    for label, name in enumerate(names):
        # is_file: a FIFO named like an image would block the reader
        files = sorted(p for p in (path / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        images = []
        for file in files:
            image = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR)
            if image is None:
                raise SourceError(f"cannot read image {file}")
            if channels == 3:
                image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            images.append(image.reshape(height, width, channels))
        if len(images) < 2:
            raise SourceError(f"image folder {path / name} has {len(images)} readable images; needs at least 2")
        order = rng.permutation(len(images))
        n_val = max(1, round(len(images) * val_split))
        for i, index in enumerate(order):
            split = "val" if i < n_val else "train"
            splits[f"x_{split}"].append(images[index])
            splits[f"y_{split}"].append(label)
    scale = NORMALISATIONS[normalize]
    return {
        key: scale(np.stack(values).astype(np.float32)) if key.startswith("x") else np.asarray(values)
        for key, values in splits.items()
    }
