"""Model figures read from the flatbuffer: parameters by dtype, MACs/FLOPs, op counts — checked against
the formulas on synthetic nodes and against an independent count from the Keras source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from device_runner.flatbuffer import read_graph
from device_runner.model_figures import model_figures
from edgebench.example import EXAMPLE_MODEL
from edgebench_records import Manifest

ROOT = Path(__file__).resolve().parents[2]


def test_the_variants_figures_are_in_the_manifest_and_count_what_the_file_stores(
    converted: tuple[Manifest, Path],
) -> None:
    manifest, directory = converted
    fp32, int8 = manifest.variant("fp32"), manifest.variant("int8")
    assert fp32 is not None and fp32.figures is not None and fp32.file
    assert int8 is not None and int8.figures is not None
    assert fp32.figures == model_figures(read_graph((directory / fp32.file).read_bytes()))
    assert fp32.figures.macs == int8.figures.macs > 0  # quantisation changes the dtype, not the work
    assert fp32.figures.flops >= 2 * fp32.figures.macs
    assert max(int8.figures.params, key=int8.figures.params.__getitem__) == "int8"
    assert fp32.figures.ops["CONV_2D"] > 0 and "BATCH_NORM" not in " ".join(fp32.figures.ops)  # folded


KERAS_COUNT = r"""
import json, sys
import numpy as np, tensorflow as tf, tf_keras as keras
from device_runner.flatbuffer import read_graph
from device_runner.model_figures import model_figures

model = keras.models.load_model(sys.argv[1]) if sys.argv[1] != "mobilenet" else keras.applications.MobileNetV2(
    input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10)
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
flat = tf.lite.TFLiteConverter.from_keras_model(model).convert()
figures = model_figures(read_graph(flat))
print(json.dumps({"keras": [int(macs), int(params)], "flatbuffer": [figures.macs, figures.params["float32"]]}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("model", ["example", "mobilenet"])
def test_macs_and_parameters_agree_with_a_count_from_the_keras_layers(model: str) -> None:
    """The Keras model's own layer shapes, counted by hand in TensorFlow's process, against the flatbuffer."""
    source = str(EXAMPLE_MODEL) if model == "example" else "mobilenet"
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", KERAS_COUNT, source], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    (keras_macs, keras_params), (macs, params) = counts["keras"], counts["flatbuffer"]
    assert macs == pytest.approx(keras_macs, rel=0.02)
    assert params == pytest.approx(keras_params, rel=0.02)
