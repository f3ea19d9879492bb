"""Model figures read from the flatbuffer: parameters by dtype, MACs/FLOPs, op counts — checked against
the formulas on synthetic nodes and against an independent count from the Keras source."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_runner.flatbuffer import read_graph
from device_runner.model_figures import model_figures
from edgebench.example import EXAMPLE_MODEL
from edgebench_records import Manifest
from tests.support.keras_models import in_tensorflow, layer_counts


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


@pytest.mark.slow
@pytest.mark.parametrize("model", ["example", "mobilenet"])
def test_macs_and_parameters_agree_with_a_count_from_the_keras_layers(model: str) -> None:
    """The Keras model's own layer shapes, counted by hand in TensorFlow's process, against the flatbuffer."""
    source = str(EXAMPLE_MODEL) if model == "example" else "mobilenet"
    counts = in_tensorflow(layer_counts, source)
    (keras_macs, keras_params), (macs, params) = counts["keras"], counts["flatbuffer"]
    assert macs == pytest.approx(keras_macs, rel=0.02)
    assert params == pytest.approx(keras_params, rel=0.02)
