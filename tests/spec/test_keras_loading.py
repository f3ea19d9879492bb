"""Keras model files as users bring them (issue 29 item 4, issue 31 item 5), read without TensorFlow: which Keras
wrote a file, its Lambda layers, the one-line refusals of a load and of ``--custom-objects``, and the options that
decide how Keras models load and convert."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import h5py
import pytest

from converter.__main__ import _parser, request_of
from converter.checks import SourceError
from converter.keras_files import (
    LONGEST_REASON,
    is_keras_3,
    lambda_layers,
    layers,
    model_config,
    saved_by,
    short_reason,
)
from converter.keras_load import Keras, Loaded, Loading, lambda_warning, register_custom_objects, why_not_loaded
from converter.source import load_model, synthetic_data
from edgebench_records.catalogue import DATA_OPTIONS, Options
from tests.support.real_models import FLOAT_WEIGHTS, real_model


def layer(name: str, class_name: str, **config: Any) -> dict[str, Any]:
    return {"class_name": class_name, "config": {"name": name, **config}}


# A functional model holding a Sequential holding a Lambda, and a Bidirectional wrapping a GRU.
CONFIG = layer(
    "outer",
    "Functional",
    layers=[
        layer("image", "InputLayer"),
        layer("inner", "Sequential", layers=[layer("double", "Lambda", function="…"), layer("d", "Dense")]),
        layer("both_ways", "Bidirectional", layer=layer("gru", "GRU"), backward_layer=layer("gru_back", "GRU")),
        layer("scale", "Scale"),
    ],
)


def keras_file(path: Path, version: str | None, config: dict[str, Any] | None = CONFIG) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        if version is not None:
            archive.writestr("metadata.json", json.dumps({"keras_version": version, "date_saved": "today"}))
        if config is not None:
            archive.writestr("config.json", json.dumps(config))
    return path


def h5_file(path: Path, version: str, config: dict[str, Any] | None = CONFIG) -> Path:
    with h5py.File(path, "w") as handle:
        handle.attrs["keras_version"] = version
        if config is not None:
            handle.attrs["model_config"] = json.dumps(config)
    return path


@pytest.mark.parametrize(("version", "three"), [("3.15.1", True), ("2.21.0", False), (None, False)])
def test_the_keras_that_wrote_a_file_is_read_from_it_before_anything_loads(
    tmp_path: Path, version: str | None, three: bool
) -> None:
    archive = keras_file(tmp_path / "m.keras", version)
    assert saved_by(archive) == version and is_keras_3(saved_by(archive)) is three
    if version is not None:
        assert saved_by(h5_file(tmp_path / "m.h5", version)) == version


def test_a_file_that_says_nothing_is_taken_for_tf_keras(tmp_path: Path) -> None:
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    assert saved_by(tmp_path / "junk.keras") is None and model_config(tmp_path / "junk.keras") is None
    assert saved_by(tmp_path) is None  # a SavedModel folder


def test_every_layer_is_found_in_nested_models_and_wrappers(tmp_path: Path) -> None:
    names = [entry.name for entry in layers(CONFIG)]
    assert names == ["outer", "image", "inner", "double", "d", "both_ways", "gru", "gru_back", "scale"]
    assert lambda_layers(model_config(keras_file(tmp_path / "m.keras", "3.15.1"))) == ["double"]
    assert lambda_layers(model_config(h5_file(tmp_path / "m.h5", "2.21.0"))) == ["double"]
    assert lambda_layers(None) == []


def test_a_loaders_message_is_cut_before_the_config_it_pastes_in() -> None:
    config = "{'module': 'keras.layers', " * 200
    exc = TypeError(f"Could not locate class 'Scale'. Make sure it is registered. Full object config: {config}")
    assert short_reason(exc) == "Could not locate class 'Scale'. Make sure it is registered."
    assert len(short_reason(ValueError("x" * 5000))) == LONGEST_REASON
    assert short_reason(ValueError("first\nsecond")) == "first" and short_reason(KeyError()) == "KeyError"


def test_a_lambda_refused_in_safe_mode_is_one_line_naming_the_layer_and_the_way_to_allow_it(tmp_path: Path) -> None:
    model = keras_file(tmp_path / "m.keras", "3.15.1")
    refusal = ValueError("Requested the deserialization of a `Lambda` layer … passing `safe_mode=False` …")
    reason = why_not_loaded(model, Keras.KERAS_3, refusal)
    assert reason == (
        "layer 'double' is a Lambda layer, whose Python code would run on load (refused in safe mode): give "
        "--trust-model-code if you trust this file, or make it a custom layer and give --custom-objects"
    )


def test_a_lambda_in_a_tf_keras_h5_is_warned_about_as_it_has_no_safe_mode(tmp_path: Path) -> None:
    h5 = h5_file(tmp_path / "m.h5", "2.21.0")
    loaded = Loaded(model=None, keras=Keras.TF_KERAS, version="2.21.0")
    warning = lambda_warning(h5, loaded, Loading())
    assert warning is not None and warning.startswith("warning: model m.h5 has Lambda layer 'double', whose Python")
    assert lambda_warning(h5, loaded, Loading(trust_code=True)) is None  # asked for
    assert lambda_warning(keras_file(tmp_path / "m.keras", "2.21.0"), loaded, Loading()) is None  # safe mode
    plain = h5_file(tmp_path / "plain.h5", "2.21.0", layer("m", "Sequential", layers=[layer("d", "Dense")]))
    assert lambda_warning(plain, loaded, Loading()) is None


@pytest.mark.parametrize(
    ("write", "given", "problem"),
    [
        (None, "nosuch.py", "--custom-objects {}: file not found (a .py file or an importable module name)"),
        (None, "no_such_module_here", "--custom-objects {}: cannot import it: ModuleNotFoundError: No module named"),
        ("def broken(:\n", "broken.py", "--custom-objects {}: cannot import it: SyntaxError: "),
        ("raise ImportError('needs torch')\n", "imports.py", "--custom-objects {}: cannot import it: ImportError: "),
        ("CUSTOM_OBJECTS = ['Scale']\n", "listed.py", "--custom-objects {}: CUSTOM_OBJECTS is not a dict of names"),
        ("CUSTOM_OBJECTS = {}\n", "empty.py", "--custom-objects {} defines no Keras layer class and no CUSTOM_OB"),
    ],
)
def test_custom_objects_that_cannot_be_used_are_one_line_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: str | None, given: str, problem: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if write is not None:
        (tmp_path / given).write_text(write)
    with pytest.raises(SourceError) as refused:
        register_custom_objects(given)
    message = str(refused.value)
    assert message.startswith(problem.format(given)) and "\n" not in message, message


def test_the_loading_options_are_declared_once_and_reach_the_converter() -> None:
    options = Options(custom_objects="my_layers.py", trust_model_code=True, free_batch=True)
    flags = options.as_flags()
    assert {"--custom-objects=my_layers.py", "--trust-model-code", "--free-batch"} <= set(flags)
    assert request_of(_parser().parse_args(["--model", "m.keras", "--out", "o", *flags])).options == options
    assert Loading.of(options) == Loading("my_layers.py", trust_code=True, free_batch=True)
    # every variant's bytes depend on how the model loads and converts: a change makes them all again
    assert {"custom_objects", "trust_model_code", "free_batch"} <= DATA_OPTIONS


def test_custom_objects_given_for_a_tflite_are_said_unused_not_imported(tmp_path: Path) -> None:
    source = load_model(real_model(FLOAT_WEIGHTS), Options(custom_objects=str(tmp_path / "nosuch.py")))
    data = synthetic_data(source, Options(synthetic_samples=2))
    assert data.notes[0] == f"--custom-objects {tmp_path / 'nosuch.py'} is not used: the model is a .tflite"
