"""One key text on both sides: the Android core's ModelOps.nodeKeys gives each node of a model the key
device_runner/coverage.node_key stores beside each placed node (its op's version, dtypes and shapes' class), on
real models of every kind the test set holds, so a placement the app keys matches the forecast's history."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from device_runner.coverage import node_keys
from device_runner.flatbuffer import read_graph
from tests.support import real_models
from tests.support.real_models import real_model
from tests.support.tiny_models import dynamic_length, looked_up, quantised_add

REAL = [
    real_models.FP16_WEIGHTS,  # FLOAT16 constants feeding DEQUANTIZE
    real_models.SPARSE_WEIGHTS,  # sparse constants feeding DENSIFY
    real_models.XNNPACK_CUSTOM_OP,  # a custom op
    real_models.STATEFUL,  # resource variables, int8
    real_models.CONTROL_FLOW,  # IF and its bool
    real_models.DYNAMIC_AUDIO,  # dimensions fixed only when fed
    real_models.MULTI_HEAD,
]


def java_keys(jvm: list[str], model: Path) -> list[str]:
    out = subprocess.run([*jvm, "node-keys", str(model)], check=True, capture_output=True, text=True)
    keys: list[str] = json.loads(out.stdout)
    return keys


@pytest.mark.parametrize("name", REAL)
def test_the_app_keys_each_node_of_a_real_model_as_the_runners_store_it(jvm: list[str], name: str) -> None:
    model = real_model(name)
    expected = node_keys(read_graph(model.read_bytes()))
    assert java_keys(jvm, model) == expected


def test_integers_stored_constants_and_dynamic_shapes_key_alike(jvm: list[str], tmp_path: Path) -> None:
    models = [
        quantised_add(tmp_path / "int8.tflite"),
        dynamic_length(tmp_path / "dynamic.tflite"),
        looked_up(tmp_path / "table.tflite", 10, cast=True),  # a stored constant table: left out of the ranks
    ]
    for model in models:
        assert java_keys(jvm, model) == node_keys(read_graph(model.read_bytes())), model.name
    assert java_keys(jvm, models[1]) == ["v1 float32,float32->float32 2,2->2 dynamic"]
