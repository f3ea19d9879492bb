"""Any model as it comes (issue 16, converter side): several inputs and outputs, regression, 1-D audio, plain
SavedModels, a .tflite with no data, and a .tflite the host cannot run; data keyed by the model's input names,
each key and shape checked against the input it names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebench.conversion import convert
from edgebench_records import Manifest, VariantState
from edgebench_records.catalogue import Options
from tests.support.keras_models import build
from tests.support.real_models import FLOAT_WEIGHTS, UNKNOWN_CUSTOM_OP, real_model

QUICK = Options(epochs=1, batch_size=16)


def statuses(manifest: Manifest) -> dict[str, str]:
    return {v.name: v.status for v in manifest.variants}


def input_set(directory: Path, manifest: Manifest) -> dict[str, np.ndarray]:
    with np.load(directory / manifest.input_set) as arrays:
        return {key: arrays[key] for key in arrays.files}


@pytest.fixture(scope="module")
def two_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest, Path]:
    """The two-input Keras model's data, and its fp32 and int8 variants."""
    out = tmp_path_factory.mktemp("two_inputs")
    built = build("two_inputs", out / "model")
    manifest, directory = convert(built / "model.keras", built / "data.npz", ["fp32", "int8"], out, options=QUICK)
    return built / "data.npz", manifest, directory


@pytest.mark.slow
def test_a_two_input_keras_model_is_fed_each_input_by_name(two_inputs: tuple[Path, Manifest, Path]) -> None:
    data, manifest, directory = two_inputs
    assert statuses(manifest) == {"fp32": "ok", "int8": "ok"}
    arrays = input_set(directory, manifest)
    fp32 = manifest.variants[0]
    with np.load(data) as given:  # x.<i> follows the variant's own inputs, whatever the .npz order
        for i, tensor in enumerate(fp32.inputs):
            name = tensor.name.removeprefix("serving_default_").removesuffix(":0")
            assert np.array_equal(arrays[f"x.{i}"], given[f"x_val.{name}"])
    assert fp32.host_accuracy is not None and fp32.host_accuracy.outputs[0].rel_error is not None
    assert fp32.host_accuracy.outputs[0].rel_error < 1e-4  # a few values a sample: error, not cosine
    assert fp32.host_top1 is not None


@pytest.mark.slow
def test_a_two_input_tflite_takes_the_same_data_keyed_by_its_signature_names(
    two_inputs: tuple[Path, Manifest, Path], tmp_path: Path
) -> None:
    data, made, directory = two_inputs
    manifest, _ = convert(directory / "fp32.tflite", data, [], tmp_path)
    (given,) = manifest.variants
    assert given.status == "ok" and given.host_top1 == made.variants[0].host_top1


@pytest.mark.slow
def test_a_classifier_and_regressor_head_are_each_referenced_and_fine_tuned_with_the_saved_losses(
    tmp_path: Path,
) -> None:
    built = build("two_outputs", tmp_path / "model")
    manifest, directory = convert(
        built / "model.keras", built / "data.npz", ["fp32", "pruned"], tmp_path, options=QUICK
    )
    assert statuses(manifest) == {"fp32": "ok", "pruned": "ok"}, [v.message for v in manifest.variants]
    arrays = input_set(directory, manifest)
    assert {"ref.0", "ref.1", "ref.pruned.0", "ref.pruned.1"} <= set(arrays)
    fp32 = manifest.variants[0].host_accuracy
    assert fp32 is not None and len(fp32.outputs) == 2
    errors = [o.rel_error for o in fp32.outputs if o.rel_error is not None]  # 0.0 where bit-identical
    assert len(errors) == 2 and max(errors) < 1e-4, errors
    assert fp32.top1 is not None  # the labels score the class head, wherever the converter put it


@pytest.mark.slow
def test_a_regression_model_is_pruned_with_a_regression_loss_and_scored_by_mae(tmp_path: Path) -> None:
    built = build("regression", tmp_path / "model")
    manifest, _ = convert(built / "model.keras", built / "data.npz", ["fp32", "pruned"], tmp_path, options=QUICK)
    assert statuses(manifest) == {"fp32": "ok", "pruned": "ok"}, [v.message for v in manifest.variants]
    for variant in manifest.variants:
        assert variant.host_top1 is None  # no class ids: no top-1 to speak of
        assert variant.host_accuracy is not None and variant.host_accuracy.mae is not None


@pytest.mark.slow
def test_a_1d_audio_model_without_data_converts_on_synthetic_inputs_and_says_so(tmp_path: Path) -> None:
    built = build("audio", tmp_path / "model")
    options = Options(synthetic_samples=8)
    manifest, directory = convert(built / "model.keras", None, ["fp32", "int8", "pruned"], tmp_path, options=options)
    fp32, int8, pruned = manifest.variants
    assert (fp32.status, int8.status) == ("ok", "ok")
    assert manifest.synthetic_inputs and any("synthetic" in note for note in manifest.data_notes)
    assert any(note.startswith("warning: calibrated on synthetic inputs") for note in int8.notes)
    assert (pruned.status, pruned.message) == ("not_applicable", "needs labelled data (--data) to fine-tune")
    arrays = input_set(directory, manifest)
    assert arrays["x.0"].shape == (8, 16000, 1) and bool(arrays["synthetic"]) and "y" not in arrays


@pytest.mark.slow
def test_a_plain_tf_module_savedmodel_takes_the_graph_recipes_with_its_inputs_in_the_right_order(
    tmp_path: Path,
) -> None:
    built = build("plain_module", tmp_path / "model")
    graph_only = ["fp32", "fp16", "dynamic_int8", "int8"]
    manifest, directory = convert(built / "model", built / "data.npz", [*graph_only, "pruned"], tmp_path, options=QUICK)
    assert statuses(manifest) == dict.fromkeys(graph_only, "ok") | {"pruned": "not_applicable"}
    assert manifest.variants[-1].message == (
        "needs a Keras model to fine-tune (the source is a plain SavedModel: a graph, no Keras layers)"
    )
    arrays = input_set(directory, manifest)
    # the two inputs have one shape: fed the wrong way round, fp32 would differ from the SavedModel's own outputs
    assert np.allclose(arrays["ref.fp32.0"], arrays["ref.0"], atol=1e-5)


@pytest.mark.slow
def test_a_tflite_without_data_is_measured_as_given_on_synthetic_inputs_with_every_output_referenced(
    tmp_path: Path,
) -> None:
    manifest, directory = convert(real_model(FLOAT_WEIGHTS), None, [], tmp_path, options=Options(synthetic_samples=4))
    (given,) = manifest.variants
    assert (given.status, given.host_reference) == ("ok", "available") and manifest.synthetic_inputs
    assert given.host_accuracy is not None and len(given.host_accuracy.outputs) == len(given.outputs) == 2
    assert given.host_accuracy.labels_note == "no labels"
    arrays = input_set(directory, manifest)
    assert {"x.0", "ref.0", "ref.1", "ref.given.0", "ref.given.1"} <= set(arrays) and len(arrays["x.0"]) == 4


@pytest.mark.slow
def test_a_tflite_the_host_cannot_run_is_still_a_variant_with_its_host_reference_unavailable(tmp_path: Path) -> None:
    manifest, directory = convert(
        real_model(UNKNOWN_CUSTOM_OP), None, [], tmp_path, options=Options(synthetic_samples=2)
    )
    (given,) = manifest.variants
    assert given.status == VariantState.OK and given.file and (directory / given.file).exists()
    assert given.host_reference.startswith("unavailable (") and "Landmarks2TransformMatrix" in given.host_reference
    assert given.host_top1 is None and given.host_accuracy is None
    arrays = input_set(directory, manifest)
    assert not [key for key in arrays if key.startswith("ref")] and len(arrays["x.0"]) == 2
