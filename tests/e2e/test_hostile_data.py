"""Hostile model and data files: each refused in one line naming the file, before TensorFlow starts
where no model is needed to tell, and never a hang or a silent 0 % top-1."""

from __future__ import annotations

import contextlib
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from device_runner.flatbuffer import ModelFormatError, constant_tensors, read_model_info
from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records import Manifest
from tests.spec.test_hostile_data import convert_argv, digits_with, one_error, relabelled


@pytest.mark.slow
def test_the_converter_refuses_labels_beyond_the_classes_of_the_keras_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = digits_with(tmp_path / "d.npz", **relabelled("y_val", 5, 12))
    message = f"edgebench: data file {data}: y_val has label 12 but the model has 10 classes"
    assert one_error(capsys, convert_argv(EXAMPLE_MODEL, data, tmp_path)) == message


KERAS_3_MODEL = """
import sys, keras
model = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
model.save(sys.argv[1])
model.export(sys.argv[2])
"""


@pytest.fixture(scope="module")
def keras_3(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A Keras 3 model as a .keras file and as the SavedModel its model.export writes (TF's default Keras)."""
    out = tmp_path_factory.mktemp("keras3")
    env = {key: value for key, value in os.environ.items() if key != "TF_USE_LEGACY_KERAS"}
    subprocess.run(
        [sys.executable, "-c", KERAS_3_MODEL, str(out / "k3.keras"), str(out / "k3_export")],
        env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
        check=True,
        capture_output=True,
    )
    return out / "k3.keras", out / "k3_export"


@pytest.mark.slow
def test_a_keras_3_file_is_loaded_by_keras_3_and_a_keras_3_student_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, keras_3: tuple[Path, Path]
) -> None:
    model, _ = keras_3  # tf_keras cannot read it: the file says which Keras wrote it, and that one loads it
    manifest, _ = convert(model, EXAMPLE_DATA, ["fp32"], tmp_path)
    assert manifest.variants[0].status == "ok" and manifest.variants[0].host_fp32_agreement == 1.0
    argv = [*convert_argv(EXAMPLE_MODEL, EXAMPLE_DATA, tmp_path), "--variants", "distilled", "--student", str(model)]
    error = one_error(capsys, argv)
    refusal = rf"--student {re.escape(str(model))} was saved by Keras 3\.[\d.]+; distillation trains a Keras 2 "
    assert re.fullmatch(rf"edgebench: {refusal}\(tf_keras\) model", error), error


@pytest.mark.slow
def test_a_plain_tensorflow_savedmodel_converts_as_a_graph(tmp_path: Path, keras_3: tuple[Path, Path]) -> None:
    _, exported = keras_3  # no Keras layers in it: tf_keras restores it as a bare object
    manifest, _ = convert(exported, EXAMPLE_DATA, ["fp32"], tmp_path)
    assert manifest.variants[0].status == "ok" and manifest.variants[0].host_top1 is not None


@pytest.mark.slow
def test_a_damaged_tflite_is_a_model_format_error_never_another_exception(converted: tuple[Manifest, Path]) -> None:
    manifest, directory = converted
    record = manifest.variant("int8")
    assert record is not None and record.file
    model = (directory / record.file).read_bytes()
    rng = random.Random(14)
    damaged = [model[:n] for n in range(0, len(model), len(model) // 300)]
    for _ in range(2000):
        flipped = bytearray(model)
        for _ in range(rng.randint(1, 4)):  # the tables and vtables sit near the start
            flipped[rng.randrange(4, 256) if rng.random() < 0.5 else rng.randrange(4, len(model))] = rng.randrange(256)
        damaged.append(bytes(flipped))
    for data in damaged:
        for read in (read_model_info, constant_tensors):
            with contextlib.suppress(ModelFormatError):  # anything else escapes and fails the test
                read(data)
