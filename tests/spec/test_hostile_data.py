"""Hostile model and data files: each refused in one line naming the file, before TensorFlow starts
where no model is needed to tell, and never a hang or a silent 0 % top-1."""

from __future__ import annotations

import os
import random
import signal
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from converter.checks import LAYOUT, SourceError, output_classes
from converter.source import SourceModel, load_data, tensor_spec
from edgebench.cli import invoke
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records import sha256_file
from edgebench_records.catalogue import Options


def digits_model(classes: int = 10) -> SourceModel:
    """The bundled example's input and output as the converter sees them (no TensorFlow needed)."""
    image = tensor_spec("input", (None, 32, 32, 1), "float32")
    return SourceModel("digits", [image], [tensor_spec("probs", (None, classes), "float32")], None, None, None)


def digits() -> dict[str, np.ndarray]:
    with np.load(EXAMPLE_DATA) as npz:
        return {key: npz[key] for key in npz.files}


def digits_with(path: Path, **changes: Any) -> Path:
    np.savez(path, **{**digits(), **changes})
    return path


def one_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The one error line of a command that must exit 2 (a progress bar may be drawn before it)."""
    code = invoke(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("edgebench:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def convert_argv(model: Path, data: Path, workdir: Path) -> list[str]:
    return ["convert", "--model", str(model), "--data", str(data), "--workdir", str(workdir), "--variants", "fp32"]


def converter_started(workdir: Path) -> bool:
    return (workdir / "logs").exists()  # each converter run logs there


@pytest.fixture
def within_20_s() -> Iterator[None]:
    """A hang fails the test instead of stalling the suite."""

    def give_up(signum: int, frame: object) -> None:
        raise TimeoutError("still running after 20 s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("within_20_s")
@pytest.mark.parametrize("command", ["convert", "run"])
@pytest.mark.parametrize("flag", ["--model", "--data"])
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_fifo_or_a_device_is_refused_naming_the_flag_instead_of_hanging(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, flag: str, kind: str
) -> None:
    if kind == "fifo":
        special = tmp_path / "pipe.keras"
        os.mkfifo(special)
    else:
        special = Path("/dev/zero")
    given = {"--model": EXAMPLE_MODEL, "--data": EXAMPLE_DATA, flag: special}
    argv = [command, "--model", str(given["--model"]), "--data", str(given["--data"]), "--workdir", str(tmp_path)]
    expected = "a FIFO" if kind == "fifo" else "a character device"
    assert one_error(capsys, argv) == f"edgebench: {flag} {special} is {expected}, not a file or a folder"
    assert not converter_started(tmp_path)


@pytest.mark.usefixtures("within_20_s")
def test_hashing_a_fifo_raises_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        sha256_file(fifo)


def zip_without_config(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weights.bin", b"\0" * 16)


MODELS: list[tuple[str, Callable[[Path], Any], str]] = [
    ("empty.keras", lambda p: p.write_bytes(b""), "empty file"),
    (
        "truncated.keras",
        lambda p: p.write_bytes(EXAMPLE_MODEL.read_bytes()[:5000]),
        "not a Keras archive (not a zip file)",
    ),
    ("other.keras", zip_without_config, "not a Keras archive (no config.json)"),
    ("text.h5", lambda p: p.write_text("not hdf5"), "not an HDF5 file (no HDF5 signature)"),
    (
        "junk.tflite",
        lambda p: p.write_bytes(random.Random(0).randbytes(1000)),
        "not a LiteRT model (no TFL3 identifier)",
    ),
    (
        "truncated.tflite",
        lambda p: p.write_bytes(b"\x1c\x00\x00\x00TFL3"),
        "truncated or corrupt flatbuffer (offset 28 lies outside its 8 bytes)",
    ),
    (
        "model.onnx",
        lambda p: p.write_bytes(b"onnx"),
        "unknown model type '.onnx' (expects .keras, .h5, .tflite or a SavedModel folder)",
    ),
    (
        "folder",
        lambda p: (p / "variables").mkdir(parents=True),
        "a folder but not a SavedModel (no saved_model.pb)",
    ),
]


@pytest.mark.parametrize(("name", "make", "reason"), MODELS, ids=[m[0] for m in MODELS])
def test_a_file_that_cannot_be_a_model_is_refused_before_tensorflow_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, make: Callable[[Path], Any], reason: str
) -> None:
    model = tmp_path / name
    make(model)
    assert (
        one_error(capsys, convert_argv(model, EXAMPLE_DATA, tmp_path))
        == f"edgebench: cannot load model {model}: {reason}"
    )
    assert not converter_started(tmp_path)


class SideEffect:
    """Unpickling this creates ``marker``: proof that a user's pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (str(self.marker),)


def test_a_pickled_object_array_is_refused_and_never_unpickled(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = tmp_path / "pickle-ran"
    data = digits_with(tmp_path / "d.npz", y_val=np.array([SideEffect(marker)] * 360, dtype=object))
    expected = f"data file {data}: y_val holds Python objects (pickled; never loaded)"
    assert one_error(capsys, convert_argv(EXAMPLE_MODEL, data, tmp_path)) == f"edgebench: {expected}"
    with pytest.raises(SourceError, match="holds Python objects"):  # the converter's own read refuses it too
        load_data(data, digits_model(), Options())
    assert not marker.exists()


def npy_file(path: Path) -> Path:
    np.save(path.with_suffix(".npy"), digits()["x_val"])
    return path.with_suffix(".npy")


LAYOUTS: list[tuple[Callable[[Path], Path], str]] = [
    (lambda p: (p.write_text("x,y\n1,2\n"), p)[1], "cannot read data file {}: not an .npz (not a zip archive)"),
    (lambda p: (p.write_bytes(b""), p)[1], "cannot read data file {}: empty file"),
    (npy_file, f"cannot read data file {{}}: a single .npy array; needs an .npz ({LAYOUT})"),
    (
        lambda p: digits_with(p, x_train=np.full((1437, 32, 32, 1), "abc")),
        "data file {}: x_train holds strings (<U3), not numbers",
    ),
    (
        lambda p: digits_with(p, x_val=np.zeros((360, 32, 32, 1), np.complex64)),
        "data file {}: x_val has dtype complex64, not numbers",
    ),
    (
        lambda p: digits_with(p, y_val=digits()["y_val"][:-1]),
        "data file {}: x_val has 360 samples but y_val has 359 labels",
    ),
    (
        lambda p: digits_with(p, y_train=np.eye(10)[digits()["y_train"]]),
        "data file {}: y_train has shape (1437, 10); needs one label per sample (one-hot? store argmax)",
    ),
    (lambda p: digits_with(p, x_val=np.zeros((0, 32, 32, 1)), y_val=np.zeros(0)), "data file {}: x_val is empty"),
    (
        lambda p: digits_with(p, x_val=np.zeros(360)),
        "data file {}: x_val has shape (360,); needs (samples, *the model's input shape)",
    ),
]


@pytest.mark.parametrize(("make", "message"), LAYOUTS, ids=[m.split("{}: ")[1][:32] for _, m in LAYOUTS])
def test_data_laid_out_wrong_is_refused_from_the_npz_headers_before_tensorflow_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    data = make(tmp_path / "d.npz")
    assert one_error(capsys, convert_argv(EXAMPLE_MODEL, data, tmp_path)) == f"edgebench: {message.format(data)}"
    assert not converter_started(tmp_path)


def with_nan(key: str, count: int, value: float) -> dict[str, np.ndarray]:
    x = digits()[key].astype(np.float32)
    x.reshape(-1)[:count] = value
    return {key: x}


def relabelled(key: str, index: int, label: float) -> dict[str, np.ndarray]:
    y = digits()[key].astype(np.float64 if isinstance(label, float) else np.int64)
    y[index] = label
    return {key: y}


REGRESSION_HINT = "(a regression model? --task regression)"
VALUES: list[tuple[dict[str, np.ndarray], str]] = [
    (with_nan("x_val", 3, np.nan), "x_val holds 3 NaN values"),
    (with_nan("x_train", 2, np.inf), "x_train holds 2 infinite values"),
    (relabelled("y_val", 5, 12), "y_val has label 12 but the model has 10 classes"),
    (relabelled("y_train", 0, -1), "y_train has label -1; labels are class indices from 0"),
    (relabelled("y_val", 7, 2.5), f"y_val has label 2.5; labels are class indices {REGRESSION_HINT}"),
    (relabelled("y_val", 7, np.nan), f"y_val has label nan; labels are class indices {REGRESSION_HINT}"),
]


@pytest.mark.parametrize(("changes", "problem"), VALUES, ids=[v[1] for v in VALUES])
def test_inputs_that_are_not_finite_and_labels_that_are_not_the_models_classes_are_refused(
    tmp_path: Path, changes: dict[str, np.ndarray], problem: str
) -> None:
    data = digits_with(tmp_path / "d.npz", **changes)
    with pytest.raises(SourceError) as refused:
        load_data(data, digits_model(), Options())
    assert str(refused.value) == f"data file {data}: {problem}"


def test_labels_stored_as_whole_floats_or_as_a_column_are_class_indices(tmp_path: Path) -> None:
    y_val = digits()["y_val"]
    data = digits_with(tmp_path / "d.npz", y_val=y_val.astype(np.float32), y_train=digits()["y_train"].reshape(-1, 1))
    loaded = load_data(data, digits_model(), Options())
    assert loaded.y_train is not None and loaded.y_train.shape == (1437,)
    assert loaded.y_val is not None and np.array_equal(loaded.y_val, y_val)


def test_an_image_folder_with_more_classes_than_the_model_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    for name in ("cat", "dog", "fox"):
        (folder / name).mkdir(parents=True)
        for i in range(2):
            cv2.imwrite(str(folder / name / f"{i}.png"), np.zeros((8, 8), np.uint8))
    with pytest.raises(SourceError) as refused:
        load_data(folder, digits_model(classes=2), Options())
    assert str(refused.value) == f"image folder {folder} has 3 class folders but the model has 2 classes"


@pytest.mark.parametrize(
    ("shape", "classes"), [((None, 10), 10), ([1, 7, 7, 3], 147), ((None, None), None), ([1, -1], None)]
)
def test_a_models_classes_are_the_size_of_one_samples_output(shape: Any, classes: int | None) -> None:
    assert output_classes(shape) == classes
