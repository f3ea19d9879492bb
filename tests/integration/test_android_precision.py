"""The Android core reads what a variant's outputs are held to as device_runner/precision.py reads it: integer
arithmetic, each output's quantisation step and range (its own, or behind a final DEQUANTIZE), and state; and
each output's name as device_runner/signature.py reads it (the serving signature's key)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

from device_runner.flatbuffer import read_model_info
from device_runner.precision import precision, stateful
from device_runner.signature import read_signature
from tests.support.real_models import FLOAT_WEIGHTS, MULTI_HEAD, STATEFUL, real_model


def both(jvm: list[str], model: Path) -> tuple[object, object]:
    out = subprocess.run([*jvm, "precision", str(model)], check=True, capture_output=True, text=True)
    data = model.read_bytes()
    info = read_model_info(data)
    found = precision(data, info)
    signature = read_signature(data)
    python = {
        "integer_arithmetic": found.integer_arithmetic,
        "outputs": [dataclasses.asdict(o) for o in found.outputs],
        "stateful": stateful(info),
        "signature_outputs": signature.outputs if signature else None,
    }
    return json.loads(out.stdout), python


@pytest.mark.parametrize("name", [STATEFUL, MULTI_HEAD, FLOAT_WEIGHTS])
def test_the_app_reads_a_real_model_s_precision_as_device_runner_does(jvm: list[str], name: str) -> None:
    java, python = both(jvm, real_model(name))
    assert java == python


def test_an_int8_variant_computes_in_integers_on_both_sides(jvm: list[str], converted: tuple[object, Path]) -> None:
    _, manifest_dir = converted
    java, python = both(jvm, manifest_dir / "int8.tflite")
    assert java == python
    assert python["integer_arithmetic"] is True  # type: ignore[index]
    names = python["signature_outputs"]  # type: ignore[index]
    assert names and not any(n.startswith("StatefulPartitionedCall") for n in names)  # the Keras layer's name
