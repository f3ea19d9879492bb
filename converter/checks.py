"""Checks on the user's model and data that need no TensorFlow: refused in one line naming the file.

The host runs ``check_model`` / ``check_data`` before hashing (a FIFO or a device would hang it) and
before starting the converter; the converter runs them again, then ``check_values`` on the loaded
arrays, where it knows the model's classes.
"""

from __future__ import annotations

import math
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

# x_val (or x_val.<input name>, one per model input) is required; x_train and the labels are optional.
DATA_KEY = re.compile(r"(?P<key>x_train|x_val)(?:\.(?P<input>.+))?|y_train|y_val")
LAYOUT = "x_val, or x_val.<input name> for each input; x_train, y_train, y_val optional"
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5", ".tflite")
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
NUMBER_KINDS = "biuf"  # bool, signed, unsigned, float: what a model input and a label can be made of
SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class SourceError(Exception):
    """The model or data given by the user cannot be used; the message names the file."""


def special_kind(path: Path) -> str | None:
    """What ``path`` is when it is neither a regular file nor a folder: reading a FIFO or a device never ends."""
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return next((name for test, name in SPECIAL_KINDS if test(mode)), "a special file")


def _check_path(path: Path, what: str, flag: str) -> None:
    if not path.exists():
        raise SourceError(f"{what} file not found: {path}")
    kind = special_kind(path)
    if kind:
        raise SourceError(f"{flag} {path} is {kind}, not a file or a folder")


def _hdf5_signature_at(handle: IO[bytes], size: int) -> bool:
    """HDF5 puts its signature at 0, 512, 1024, 2048, … (after an optional user block)."""
    offset = 0
    while offset + len(HDF5_SIGNATURE) <= size:
        handle.seek(offset)
        if handle.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
            return True
        offset = offset * 2 if offset else 512
    return False


def model_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a model, judged from its type and first bytes (no TensorFlow); None if it may be."""
    if path.is_dir():
        if not any((path / name).is_file() for name in ("saved_model.pb", "saved_model.pbtxt")):
            return "a folder but not a SavedModel (no saved_model.pb)"
        return None
    if path.suffix.lower() not in MODEL_SUFFIXES:
        return f"unknown model type '{path.suffix}' (expects .keras, .h5, .tflite or a SavedModel folder)"
    size = path.stat().st_size
    if size == 0:
        return "empty file"
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        from device_runner.flatbuffer import ModelFormatError, constant_tensors, read_model_info

        try:
            flatbuffer = path.read_bytes()
            info = read_model_info(flatbuffer)
            constant_tensors(flatbuffer)  # what the converter's size figures read
        except ModelFormatError as exc:
            return str(exc)
        return None if info.inputs else "the model has no inputs: there is nothing to feed it or time"
    if suffix == ".keras":
        if not zipfile.is_zipfile(path):
            return "not a Keras archive (not a zip file)"
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError) as exc:
            return f"not a Keras archive ({first_line(exc)})"
        return None if "config.json" in names else "not a Keras archive (no config.json)"
    with path.open("rb") as handle:
        return None if _hdf5_signature_at(handle, size) else "not an HDF5 file (no HDF5 signature)"


def check_model(path: Path, flag: str = "--model") -> None:
    """Refuse, before TensorFlow starts, a model path that cannot load or would hang; ``flag`` named it."""
    _check_path(path, "model", flag)
    try:
        str(path).encode()
    except UnicodeEncodeError:  # LiteRT and TensorFlow take paths as UTF-8 strings: they could not open it
        raise SourceError(f"{flag} {path}: the path is not valid UTF-8, which LiteRT cannot open; rename it") from None
    problem = model_file_problem(path)
    if problem:
        raise SourceError(f"cannot load model {path}: {problem}")


STUDENT_SUFFIXES = (".keras", ".h5", ".hdf5")


def check_student(path: Path) -> None:
    """Refuse, before TensorFlow starts, a ``--student`` that is no Keras model file; its shapes are the
    converter's to check (``source.load_student``)."""
    try:
        if not path.exists():
            raise SourceError(f"--student {path}: file not found")
        if not path.is_file():
            raise SourceError(f"--student {path} is {special_kind(path) or 'a folder'}, not a Keras model file")
        if path.suffix.lower() not in STUDENT_SUFFIXES:
            raise SourceError(f"--student {path}: not a Keras model file (expects .keras or .h5)")
        problem = model_file_problem(path)
    except OSError as exc:  # e.g. a file we may not read
        raise SourceError(f"--student {path}: cannot read it: {exc.strerror or first_line(exc)}") from exc
    if problem:
        raise SourceError(f"--student {path}: cannot load it: {problem}")


@dataclass(frozen=True)
class ArrayHeader:
    dtype: np.dtype[Any]
    shape: tuple[int, ...]


def npz_headers(path: Path) -> dict[str, ArrayHeader]:
    """Dtype and shape of each array in an .npz, read from the .npy headers only: no data, nothing unpickled."""
    with path.open("rb") as handle:
        start = handle.read(6)
    if not start:
        raise SourceError(f"cannot read data file {path}: empty file")
    if start == b"\x93NUMPY":
        raise SourceError(f"cannot read data file {path}: a single .npy array; needs an .npz ({LAYOUT})")
    if not zipfile.is_zipfile(path):
        raise SourceError(f"cannot read data file {path}: not an .npz (not a zip archive)")
    headers = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                key = name.removesuffix(".npy")
                with archive.open(name) as member:
                    version = np.lib.format.read_magic(member)
                    read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
                    if version not in read:
                        raise ValueError(f"unsupported .npy format {version[0]}.{version[1]}")
                    shape, _, dtype = read[version](member)
                _check_claimed_size(path, key, shape, dtype, archive.getinfo(name).file_size)
                headers[key] = ArrayHeader(dtype, tuple(shape))
    # zipfile says "encrypted" with a RuntimeError and "unsupported compression" with a NotImplementedError.
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise SourceError(f"cannot read data file {path}: {first_line(exc)}") from exc
    for key, header in headers.items():
        problem = _dtype_problem(header.dtype)
        if problem:
            raise SourceError(f"data file {path}: {key} {problem}")
    return headers


def _check_claimed_size(path: Path, key: str, shape: tuple[int, ...], dtype: np.dtype[Any], stored: int) -> None:
    """An array whose header claims more bytes than its member holds is refused before numpy allocates them: a
    header is only a claim (10**9 samples in a 1 KB file would ask for terabytes, and die of it)."""
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > stored and not dtype.hasobject:  # pickled objects take what they take: refused for being objects
        raise SourceError(
            f"data file {path}: {key}'s header claims {'x'.join(map(str, shape))} {dtype} ({claimed:,} bytes) "
            f"but the file holds {stored:,}: truncated or corrupt"
        )


def _dtype_problem(dtype: np.dtype[Any]) -> str | None:
    if dtype.kind in NUMBER_KINDS:
        return None
    if dtype.hasobject:
        return "holds Python objects (pickled; never loaded)"
    if dtype.kind in "US":
        return f"holds strings ({dtype}), not numbers"
    return f"has dtype {dtype}, not numbers"


def _split_inputs(path: Path, headers: dict[str, ArrayHeader], split: str) -> dict[str, ArrayHeader]:
    """``split``'s input arrays by key: ``x_val`` alone or ``x_val.<input name>`` ones, never both."""
    keys = {key: h for key, h in headers.items() if (m := DATA_KEY.fullmatch(key)) and m.group("key") == split}
    if split in keys and len(keys) > 1:
        raise SourceError(f"data file {path} has both {split} and {split}.<input name> keys; give one form")
    return keys


def check_npz_layout(path: Path, headers: dict[str, ArrayHeader]) -> None:
    """Keys, dtypes and lengths of the arrays, from their headers: what holds whatever the model's inputs."""
    unknown = [key for key in headers if not DATA_KEY.fullmatch(key)]
    if unknown:
        raise SourceError(f"data file {path}: key {unknown[0]!r} is not part of the layout ({LAYOUT})")
    for split in ("val", "train"):
        inputs = _split_inputs(path, headers, f"x_{split}")
        if not inputs:
            if split == "val":
                raise SourceError(f"data file {path} lacks x_val (needs {LAYOUT})")
            if "y_train" in headers:
                raise SourceError(f"data file {path} has y_train but no x_train")
            continue
        lengths = set()
        for key, header in inputs.items():
            if len(header.shape) < 2:
                raise SourceError(
                    f"data file {path}: {key} has shape {header.shape}; needs (samples, *the model's input shape)"
                )
            if not header.shape[0]:
                raise SourceError(f"data file {path}: {key} is empty")
            lengths.add(header.shape[0])
        first = next(iter(inputs))
        if len(lengths) > 1:
            shown = ", ".join(f"{key} {h.shape[0]}" for key, h in inputs.items())
            raise SourceError(f"data file {path}: the x_{split} arrays differ in samples ({shown})")
        y = headers.get(f"y_{split}")
        if y is None:
            continue
        if len(y.shape) not in (1, 2) or (len(y.shape) == 2 and y.shape[1] != 1):
            raise SourceError(
                f"data file {path}: y_{split} has shape {y.shape}; needs one label per sample (one-hot? store argmax)"
            )
        if y.shape[0] != inputs[first].shape[0]:
            raise SourceError(
                f"data file {path}: {first} has {inputs[first].shape[0]} samples but y_{split} has {y.shape[0]} labels"
            )


def check_data(path: Path, flag: str = "--data") -> None:
    """Refuse, before TensorFlow starts, data that cannot be read or would hang; .npz checked from its headers."""
    _check_path(path, "data", flag)
    if path.is_file():
        check_npz_layout(path, npz_headers(path))


def labels_are_class_ids(task: str, classes: int | None) -> bool:
    """Labels index the first output's classes unless the task says otherwise or it gives one value."""
    return task == "classification" or (task == "auto" and classes != 1)


def check_values(path: Path, arrays: dict[str, np.ndarray], classes: int | None, task: str) -> None:
    """NaN/inf inputs, and labels that are not class indices of the model (a silent 0 % top-1 otherwise)
    or, for regression, not finite."""
    for key, x in arrays.items():
        if not key.startswith("x") or x.dtype.kind != "f":
            continue
        nan = int(np.isnan(x).sum())
        if nan:
            raise SourceError(f"data file {path}: {key} holds {nan} NaN values")
        inf = int(np.isinf(x).sum())
        if inf:
            raise SourceError(f"data file {path}: {key} holds {inf} infinite values")
    for key in ("y_train", "y_val"):
        y = arrays.get(key)
        if y is None:
            continue
        if not labels_are_class_ids(task, classes):
            if y.dtype.kind == "f" and not np.isfinite(y).all():
                raise SourceError(
                    f"data file {path}: {key} has target {y[~np.isfinite(y)].flat[0]}; targets are finite"
                )
            continue
        if y.dtype.kind == "f":
            fractional = y[~np.isfinite(y) | (y != np.round(y))]
            if fractional.size:
                raise SourceError(
                    f"data file {path}: {key} has label {fractional.flat[0]}; labels are class indices "
                    "(a regression model? --task regression)"
                )
        low, high = int(y.min()), int(y.max())
        if low < 0:
            raise SourceError(f"data file {path}: {key} has label {low}; labels are class indices from 0")
        if classes is not None and high >= classes:
            raise SourceError(f"data file {path}: {key} has label {high} but the model has {classes} classes")


def output_classes(shape: Any) -> int | None:
    """Classes the model scores: the size of one sample's output (top-1 is an argmax over it); None if unknown."""
    dims = list(shape)[1:]
    if not all(isinstance(d, int) and d > 0 for d in dims):
        return None
    return int(math.prod(dims))
