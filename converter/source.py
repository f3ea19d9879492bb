"""Loading the user's model and data, with one clear error naming what is wrong.

Models: ``.keras`` / ``.h5`` (tf_keras, or Keras 3 when the file says Keras 3 wrote it: conversions only, no
fine-tuning; ``converter/keras_load.py`` says how: safe mode, custom classes, the batch of 1), a SavedModel
directory (as Keras when it was saved by tf_keras, else as a plain graph from its serving signature: conversions
only, no fine-tuning), or a ``.tflite`` (measured as given). Any number of inputs and outputs; each is named as
the model names it: Keras input and output names, a SavedModel signature's keys, a ``.tflite``'s tensor names (or
its signature's names, which are the Keras or SavedModel names it was converted from).

Data (``--data``, optional): an ``.npz`` or a folder of images, one sub-folder per class.

- A single-input model: ``x_val`` and, for recipes that calibrate or fine-tune, ``x_train``; labels
  ``y_val`` / ``y_train`` (class ids, or float targets for regression), one per sample, optional.
- A multi-input model: one array per input, ``x_val.<input name>`` and ``x_train.<input name>`` (a
  single-input model may use that form too). Labels as above: fine-tuning trains the model's first output
  on them and holds every other output to the model's own outputs.
- Samples on axis 0, each shaped as the input without its batch axis. A missing or extra input key, or
  an array that does not fit the input it names, is refused naming the file, the key and the input.
- Without ``x_train`` int8 calibrates on the validation inputs (noted in the manifest) and the
  fine-tuning recipes do not apply; without labels they do not apply either.
- An image folder serves a model with a single image input (H, W, 1|3).

Without data, inputs are generated from the model's own input tensors (``synthetic_data``).
"""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from converter.checks import (
    SourceError,
    check_data,
    check_model,
    check_student,
    check_values,
    first_line,
    output_classes,
)
from converter.keras_load import (
    Keras,
    Loaded,
    Loading,
    converters,
    input_names,
    is_model,
    lambda_warning,
    load,
    output_names,
    register_custom_objects,
)
from converter.ports import read_signature
from device_runner.inputs import parse_input_shapes, sample_shape, synthetic_inputs
from device_runner.lookups import id_limits
from edgebench_records import TensorInfo
from edgebench_records.catalogue import Options

__all__ = [
    "NORMALISATIONS",
    "Data",
    "SourceError",
    "SourceModel",
    "import_tensorflow",
    "load_data",
    "load_model",
    "needs_tensorflow",
    "synthetic_data",
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
PREDICT_BATCH = 64
SPLITS = ("val", "train")

Predict = Callable[[list[np.ndarray]], list[np.ndarray]]


@dataclass
class Data:
    """What the model is fed: one array per model input (in the source's input order), samples on axis 0."""

    val: list[np.ndarray]
    train: list[np.ndarray] | None = None  # None: calibration uses ``val``; fine-tuning does not apply
    y_val: np.ndarray | None = None  # labels for the first output, one per sample
    y_train: np.ndarray | None = None
    synthetic: bool = False  # generated from the model's input tensors: no data set was given
    notes: list[str] = field(default_factory=list)  # what the converter made of the data, for the manifest

    @property
    def calibration(self) -> list[np.ndarray]:
        return self.train if self.train is not None else self.val

    @property
    def trainable(self) -> str | None:
        """Why this data cannot fine-tune a model, or None when it can."""
        if self.synthetic:
            return "needs labelled data (--data) to fine-tune"
        if self.train is None or self.y_train is None:
            return "needs labelled training data (x_train and y_train in --data) to fine-tune"
        return None


@dataclass
class SourceModel:
    name: str
    inputs: list[TensorInfo]  # named as the model names them; batch axis 1, -1 where a dimension is free
    outputs: list[TensorInfo]
    make_converter: Callable[[], Any] | None  # a fresh tf.lite.TFLiteConverter; None for a .tflite
    load_keras: Callable[[], Any] | None  # a fresh Keras copy for each technique; None if not Keras
    predict: Predict | None  # float32 outputs, one array per output; None when the host cannot run it
    tflite: Path | None = None  # the given file, for a .tflite source
    loss: Any = None  # the loss the Keras model was compiled with when saved (one, or one per output)
    host_problem: str = ""  # why ``predict`` is None
    not_keras: str = ""  # why fine-tuning cannot apply to this source, when it cannot
    # other names an input answers to in --data keys: a .tflite's signature names for its tensors (the Keras or
    # SavedModel input names it was converted from), so one .npz serves a model and its .tflite alike
    aliases: dict[str, str] = field(default_factory=dict)
    loading: Loading = field(default_factory=Loading)  # how its Keras models (and --student) load and convert
    notes: list[str] = field(default_factory=list)  # what loading it said, for the manifest (a Lambda in an .h5)
    _float: bytes | None = field(default=None, repr=False)

    def float_flatbuffer(self) -> bytes:
        """Its plain float conversion, converted once on first use (``make_converter`` is set)."""
        if self._float is None:
            assert self.make_converter is not None
            self._float = bytes(self.make_converter().convert())
        return self._float

    def float_ops(self) -> frozenset[str]:
        """The op names of its plain float conversion."""
        from device_runner.flatbuffer import read_model_info

        return frozenset(op.name for op in read_model_info(self.float_flatbuffer()).ops)

    @property
    def classes(self) -> int | None:
        """Size of one sample of the first output, which class-id labels index; None if unknown."""
        return output_classes(self.outputs[0].shape) if self.outputs else None


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


def tensor_spec(name: str, shape: Any, dtype: str) -> TensorInfo:
    """A TensorInfo for a Keras or TF tensor shape (batch axis first): batch 1, -1 for a free dimension."""
    dims = [None if d is None else int(d) for d in list(shape)[1:]]
    return TensorInfo(
        name=name,
        shape=[1, *(d or 1 for d in dims)],
        dtype=dtype,
        scale=0.0,
        zero_point=0,
        shape_signature=[1, *(-1 if d is None else d for d in dims)],
    )


def _as_list(outputs: Any, names: list[str]) -> list[np.ndarray]:
    if isinstance(outputs, dict):
        outputs = [outputs[name] for name in names]
    elif not isinstance(outputs, list | tuple):
        outputs = [outputs]
    return [np.asarray(output, dtype=np.float32) for output in outputs]


def _compiled_loss(path: Path, loading: Loading) -> Any:
    """The loss the model was saved with, or None: compiling can fail on custom objects, which only costs it."""
    try:
        model = load(path, loading, f"cannot load model {path}", compiled=True).model
    except SourceError:  # any custom loss, metric or optimiser Keras cannot rebuild
        return None
    loss = getattr(model, "loss", None)
    if isinstance(loss, dict):
        return dict(loss)
    return list(loss) if isinstance(loss, list | tuple) else loss


def _tensors(names: list[str], tensors: list[Any]) -> list[TensorInfo]:
    import tensorflow as tf

    return [tensor_spec(n, t.shape, tf.as_dtype(t.dtype).name) for n, t in zip(names, tensors, strict=True)]


def _keras(path: Path, loading: Loading) -> SourceModel:
    import_tensorflow(path)
    refusal = f"cannot load model {path}"
    loaded = load(path, loading, refusal)
    if not is_model(loaded):
        raise SourceError(f"{refusal}: not a Keras model with known inputs")
    model = loaded.model
    names_in, names_out = input_names(model), output_names(model)

    def predict(x: list[np.ndarray]) -> list[np.ndarray]:
        outputs = model.predict(x if len(x) > 1 else x[0], verbose=0, batch_size=PREDICT_BATCH)
        return _as_list(outputs, names_out)

    keras_3 = loaded.keras is Keras.KERAS_3
    warning = lambda_warning(path, loaded, loading)
    return SourceModel(
        name=path.stem if path.is_file() else path.name,
        inputs=_tensors(names_in, model.inputs),
        outputs=_tensors(names_out, model.outputs),
        make_converter=converters(loaded, loading.free_batch),
        load_keras=None if keras_3 else lambda: load(path, loading, refusal).model,
        predict=predict,
        loss=None if keras_3 else _compiled_loss(path, loading),
        not_keras=_keras_3_refusal(loaded) if keras_3 else "",
        loading=loading,
        notes=[warning] if warning else [],
    )


def _keras_3_refusal(loaded: Loaded) -> str:
    return (
        f"needs a Keras 2 (tf_keras) model to fine-tune, as TFMOT does (the source was saved by Keras {loaded.version})"
    )


def _signature(inputs: list[TensorInfo], outputs: list[TensorInfo]) -> str:
    def shapes(tensors: list[TensorInfo]) -> str:
        return ", ".join("x".join("?" if d < 0 else str(d) for d in t.shape_signature[1:]) for t in tensors)

    return f"takes {shapes(inputs)} and gives {shapes(outputs)}"


def load_student(path: Path, source: SourceModel) -> Any:
    """The ``--student`` model (tf_keras, uncompiled), loaded as the source model is (safe mode, custom classes),
    refused in one line naming the flag unless it takes and gives what ``source`` does: every input and output of
    the same shape, in the same order."""
    check_student(path)
    import_tensorflow(path)
    flag = f"--student {path}"
    loaded = load(path, source.loading, f"{flag}: cannot load it")
    if loaded.keras is Keras.KERAS_3:  # distillation fine-tunes it with tf_keras
        raise SourceError(f"{flag} was saved by Keras {loaded.version}; distillation trains a Keras 2 (tf_keras) model")
    if not is_model(loaded):
        raise SourceError(f"{flag}: not a Keras model with known inputs")
    warning = lambda_warning(path, loaded, source.loading)
    if warning and warning not in source.notes:  # loaded first before the data, whose notes take the source's
        source.notes.append(warning)
    student = loaded.model
    specs = [_tensors(["" for _ in tensors], tensors) for tensors in (student.inputs, student.outputs)]
    given, wanted = _signature(*specs), _signature(source.inputs, source.outputs)
    if given != wanted:
        raise SourceError(f"{flag} {given}; the source model {source.name} {wanted}")
    return student


def _saved_model_graph(path: Path) -> SourceModel:
    """A SavedModel with no Keras layers (a ``tf.Module``): its serving signature, converted as a graph."""
    tf, _ = import_tensorflow(path)
    try:
        loaded = tf.saved_model.load(str(path))
        key = "serving_default" if "serving_default" in loaded.signatures else next(iter(loaded.signatures), None)
        if key is None:
            raise ValueError("no serving signature (save it with signatures=…)")
        signature = loaded.signatures[key]
    except (OSError, ValueError, tf.errors.OpError) as exc:
        raise SourceError(f"cannot load SavedModel {path}: {first_line(exc)}") from exc
    specs: dict[str, Any] = signature.structured_input_signature[1]
    outputs: dict[str, Any] = signature.structured_outputs
    output_names = list(outputs)

    def predict(x: list[np.ndarray]) -> list[np.ndarray]:
        batches = []
        for start in range(0, len(x[0]), PREDICT_BATCH):
            feed = {
                n: tf.constant(a[start : start + PREDICT_BATCH], dtype=specs[n].dtype)
                for n, a in zip(specs, x, strict=True)
            }
            batches.append(_as_list({k: v.numpy() for k, v in signature(**feed).items()}, output_names))
        return [np.concatenate(parts) for parts in zip(*batches, strict=True)]

    predict.loaded = loaded  # type: ignore[attr-defined]  # the signature's variables live as long as it
    return SourceModel(
        path.name,
        inputs=[tensor_spec(name, spec.shape, spec.dtype.name) for name, spec in specs.items()],
        outputs=[tensor_spec(name, spec.shape, spec.dtype.name) for name, spec in outputs.items()],
        make_converter=lambda: tf.lite.TFLiteConverter.from_saved_model(str(path), signature_keys=[key]),
        load_keras=None,
        predict=predict,
        not_keras="needs a Keras model to fine-tune (the source is a plain SavedModel: a graph, no Keras layers)",
    )


def _tflite(path: Path) -> SourceModel:
    from device_runner.accuracy import predict
    from device_runner.engines import InterpreterEngine, fed_shapes
    from device_runner.flatbuffer import read_model_info
    from device_runner.runtime import load_runtime

    flatbuffer = path.read_bytes()
    info = read_model_info(flatbuffer)  # check_model read it already
    signature = read_signature(flatbuffer)
    names = zip(signature.inputs, info.inputs, strict=True) if signature else ()
    source = SourceModel(
        path.stem,
        info.inputs,
        info.outputs,
        None,
        None,
        None,
        tflite=path,
        not_keras="needs a Keras model to fine-tune (the source is a .tflite)",
        aliases={alias: tensor.name for alias, tensor in names if alias != tensor.name},
    )
    try:  # the host's runtime never decides what a device can run: a model it cannot run is still measured
        runtime = load_runtime()
    except RuntimeError as exc:
        source.host_problem = first_line(exc)
        return source

    def run(x: list[np.ndarray]) -> list[np.ndarray]:
        """Opened at the inputs' shapes: a dynamic model's placeholder shape may be one it cannot run at."""
        return predict(InterpreterEngine(runtime, path, info, "xnnpack", 1, fed_shapes(info, [a[0] for a in x])), x)

    source.predict = run
    return source


def load_model(path: Path, options: Options | None = None) -> SourceModel:
    check_model(path)
    if path.suffix.lower() == ".tflite":
        source = _tflite(path)
        if options and options.custom_objects:  # said, not silently ignored
            source.notes.append(f"--custom-objects {options.custom_objects} is not used: the model is a .tflite")
        return source
    loading = Loading.of(options or Options())
    if loading.custom_objects:  # before anything loads, and refused as itself (never read as "not Keras")
        register_custom_objects(loading.custom_objects)
    if path.is_dir():
        try:
            return _keras(path, loading)  # a SavedModel written by Keras keeps its layers: every variant works
        except SourceError:
            return _saved_model_graph(path)
    return _keras(path, loading)


def fed_dtype(tensor: TensorInfo) -> np.dtype[Any]:
    """What the input set holds for ``tensor``: float32 before quantisation, an integer input's own dtype."""
    dtype = np.dtype(tensor.dtype)
    return dtype if dtype.kind in "iub" and tensor.scale == 0 else np.dtype(np.float32)


def synthetic_data(source: SourceModel, options: Options) -> Data:
    """Seeded inputs made from the model's input tensors alone, for when no data set is given."""
    ids = source_id_limits(source)  # what an embedding's ids may be
    try:
        shapes = parse_input_shapes(options.input_shapes)
        tensors = [batch_fixed(t) for t in source.inputs]
        n, seed = options.synthetic_samples, options.seed
        val = synthetic_inputs(tensors, n, seed, shapes, aliases=source.aliases, id_limits=ids)
    except ValueError as exc:
        raise SourceError(f"model {source.name}: {exc}") from exc
    note = f"no data given: {options.synthetic_samples} synthetic samples (seed {options.seed}) from the model's inputs"
    return Data(val=val, synthetic=True, notes=[*source.notes, note])


def source_id_limits(source: SourceModel) -> dict[str, int]:
    """The rows of the table each integer input indexes, by the source's input name. One rule for every source:
    read from a flatbuffer (``device_runner.lookups``), the given .tflite or the Keras or SavedModel source's float
    conversion, which only a source with an integer input pays for."""
    if not any(np.dtype(t.dtype).kind in "iu" and t.scale == 0 for t in source.inputs):
        return {}
    if source.tflite is not None:
        return id_limits(source.tflite.read_bytes())
    if source.make_converter is None:
        return {}
    from device_runner.flatbuffer import read_model_info

    try:
        flatbuffer = source.float_flatbuffer()
    except Exception:  # its fp32 variant says why it does not convert; the ids stay small
        return {}
    signature = read_signature(flatbuffer)
    tensors = read_model_info(flatbuffer).inputs
    named = {t.name: alias for alias, t in zip(signature.inputs, tensors, strict=True)} if signature else {}
    return {named.get(tensor, tensor): rows for tensor, rows in id_limits(flatbuffer).items()}


def load_data(path: Path, source: SourceModel, options: Options) -> Data:
    """The arrays, checked against the model: its named inputs, their shapes, and its first output's classes."""
    check_data(path)
    data = _image_folder(path, source, options) if path.is_dir() else _npz(path, source, options.task)
    data.notes[:0] = source.notes
    _check_labels_fit_loss(path, data.y_train, options.loss)
    if data.train is None:
        data.notes.append(f"data file {path} has no x_train: int8 calibrates on the validation inputs")
    return data


def _check_labels_fit_loss(path: Path, labels: np.ndarray | None, loss: str) -> None:
    """``--loss categorical_crossentropy`` with class-id labels (the only labels a classifier's data holds: one-hot
    rows are refused) is refused before any fine-tuning; TensorFlow would fail each fine-tuned variant with its
    traced stack."""
    if loss == "categorical_crossentropy" and labels is not None and labels.ndim == 1:
        raise SourceError(
            f"--loss {loss} needs one-hot labels, but the labels of {path} are class ids (shape "
            f"{labels.shape}): use --loss sparse_categorical_crossentropy, or auto"
        )


def _npz(path: Path, source: SourceModel, task: str) -> Data:
    try:
        with np.load(path, allow_pickle=False) as npz:  # never unpickle a user's file (check_data refused one)
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise SourceError(f"cannot read data file {path}: {first_line(exc)}") from exc
    check_values(path, arrays, source.classes, task)
    inputs = {split: _inputs(path, arrays, f"x_{split}", source) for split in SPLITS}
    labels = {split: arrays.get(f"y_{split}") for split in SPLITS}
    labels = {split: None if y is None else y.reshape(len(y)) for split, y in labels.items()}
    val = inputs["val"]
    assert val is not None  # check_data requires x_val
    return Data(val=val, train=inputs["train"], y_val=labels["val"], y_train=labels["train"])


def _inputs(path: Path, arrays: dict[str, np.ndarray], split: str, source: SourceModel) -> list[np.ndarray] | None:
    """``split``'s array for each model input, from ``split`` (one input) or ``split.<input name>``."""
    names = [t.name for t in source.inputs]
    keyed: dict[str, str] = {}  # input name -> the key giving it
    for key in (k for k in arrays if k.startswith(split + ".")):
        named = key.removeprefix(split + ".")
        name = source.aliases.get(named, named)
        if name in keyed:
            raise SourceError(f"data file {path}: {key} and {keyed[name]} both give input '{name}'")
        keyed[name] = key
    if split in arrays:
        if len(names) != 1:
            wanted = ", ".join(f"{split}.{n}" for n in names)
            raise SourceError(
                f"data file {path}: {split} is one array but the model takes {len(names)} inputs: give {wanted}"
            )
        keyed = {names[0]: split}
    if not keyed:
        return None
    for name, key in keyed.items():
        if name not in names:
            raise SourceError(f"data file {path}: {key} names no input of the model (its inputs: {', '.join(names)})")
    missing = [n for n in names if n not in keyed]
    if missing:
        raise SourceError(f"data file {path} lacks {split}.{missing[0]} for input '{missing[0]}'")
    return [_fitted(path, keyed[t.name], arrays[keyed[t.name]], t) for t in source.inputs]


def batch_fixed(tensor: TensorInfo) -> TensorInfo:
    """``tensor`` with a free batch axis (-1 first in its signature) fixed at 1: samples are fed one at a time."""
    declared = tensor.declared_shape
    if not declared or declared[0] != -1:
        return tensor
    return dataclasses.replace(tensor, shape=[1, *tensor.shape[1:]], shape_signature=[1, *declared[1:]])


def _fitted(path: Path, key: str, array: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    wanted = sample_shape(batch_fixed(tensor).declared_shape)
    got = array.shape[1:]
    if len(got) != len(wanted) or any(w > 0 and w != g for w, g in zip(wanted, got, strict=True)):
        shown = tuple(d if d > 0 else None for d in wanted)
        raise SourceError(f"data file {path}: {key} samples are {got}, input '{tensor.name}' takes {shown}")
    return array.astype(fed_dtype(tensor), copy=False)


# Where each format's data ends: a file cut before it (an interrupted copy or download) would be decoded with grey
# fill and measured as if whole (libjpeg only warns), so it is refused instead.
END_MARKERS = ((b"\xff\xd8", b"\xff\xd9", "JPEG"), (b"\x89PNG", b"IEND", "PNG"))
END_WITHIN = 4096  # bytes from the end: a JPEG may carry trailing padding after its end marker


def _truncated(encoded: bytes) -> str | None:
    """The format of an image whose data stops before its end marker, or None."""
    for start, end, kind in END_MARKERS:
        if encoded.startswith(start) and end not in encoded[-END_WITHIN:]:
            return kind
    return None


def _read_image(file: Path, height: int, width: int, channels: int) -> np.ndarray:
    """One image of a class folder, whole, as the model takes it (resized; RGB or grey)."""
    import cv2

    # Decoded from its bytes: cv2.imread takes the name as UTF-8 and segfaults on one that is not.
    try:
        encoded = file.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read image {file}: {exc.strerror or exc}") from exc
    kind = _truncated(encoded)
    if kind:
        raise SourceError(f"image {file} is truncated: its {kind} data stops before its end; replace or remove it")
    flags = cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR
    image = cv2.imdecode(np.frombuffer(encoded, np.uint8), flags) if encoded else None
    if image is None:
        raise SourceError(f"cannot read image {file}")
    if channels == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return np.asarray(image).reshape(height, width, channels)


def _image_folder(path: Path, source: SourceModel, options: Options) -> Data:
    """Images in ``path/<class>/*``, read and resized with OpenCV to the model's input, split per class."""

    if len(source.inputs) != 1:
        raise SourceError(
            f"image folder {path}: the model takes {len(source.inputs)} inputs; give an .npz keyed x_val.<input name>"
        )
    input_shape = sample_shape(source.inputs[0].shape)
    classes = source.classes
    if len(input_shape) != 3 or input_shape[-1] not in (1, 3):
        raise SourceError(f"image folder {path}: the model's input {input_shape} is not an image (H, W, 1|3)")
    height, width, channels = input_shape
    names = sorted(p.name for p in path.iterdir() if p.is_dir())
    if len(names) < 2:
        raise SourceError(f"image folder {path} needs one sub-folder per class (found {len(names)})")
    if classes is not None and len(names) > classes:
        raise SourceError(f"image folder {path} has {len(names)} class folders but the model has {classes} classes")
    rng = np.random.default_rng(options.seed)
    x: dict[str, list[np.ndarray]] = {split: [] for split in SPLITS}
    y: dict[str, list[int]] = {split: [] for split in SPLITS}
    for label, name in enumerate(names):
        # is_file: a FIFO named like an image would block the reader
        files = sorted(p for p in (path / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        images = [_read_image(file, height, width, channels) for file in files]
        if len(images) < 2:
            raise SourceError(f"image folder {path / name} has {len(images)} readable images; needs at least 2")
        order = rng.permutation(len(images))
        n_val = max(1, round(len(images) * options.val_split))
        for i, index in enumerate(order):
            split = "val" if i < n_val else "train"
            x[split].append(images[index])
            y[split].append(label)
    if not x["train"]:
        raise SourceError(
            f"image folder {path}: --val-split {options.val_split:g} leaves no image to train on; "
            "lower --val-split or add images"
        )
    scale = NORMALISATIONS[options.normalize]
    stacked = {split: scale(np.stack(x[split]).astype(np.float32)) for split in SPLITS}
    return Data(
        val=[stacked["val"]],
        train=[stacked["train"]],
        y_val=np.asarray(y["val"]),
        y_train=np.asarray(y["train"]),
    )
