"""Any model as it comes (issue 16, converter side): several inputs and outputs, regression, 1-D audio, plain
SavedModels, a .tflite with no data, and a .tflite the host cannot run; data keyed by the model's input names,
each key and shape checked against the input it names."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from converter.catalogue import Options
from converter.checks import SourceError
from converter.ports import port_order
from converter.source import Data, SourceModel, load_data, synthetic_data, tensor_spec
from converter.techniques import training_set
from edgebench.conversion import convert
from edgebench.records import Manifest, VariantState
from tests.support.keras_models import build
from tests.support.real_models import FLOAT_WEIGHTS, UNKNOWN_CUSTOM_OP, real_model

QUICK = Options(epochs=1, batch_size=16)


def two_input_model() -> SourceModel:
    """A model taking an image and a metadata vector, as the converter sees it (no TensorFlow needed)."""
    inputs = [tensor_spec("meta", (None, 4), "float32"), tensor_spec("image", (None, 8, 8, 1), "float32")]
    return SourceModel("two", inputs, [tensor_spec("probs", (None, 3), "float32")], None, None, None)


def npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]  # numpy's stub wants *args alone
    return path


META, IMAGE = np.zeros((5, 4), np.float32), np.zeros((5, 8, 8, 1), np.float32)


def test_each_input_is_read_from_its_own_key_in_the_models_input_order(tmp_path: Path) -> None:
    data = load_data(
        npz(tmp_path / "d.npz", **{"x_val.image": IMAGE, "x_val.meta": META + 1}), two_input_model(), Options()
    )
    assert [x.shape for x in data.val] == [(5, 4), (5, 8, 8, 1)] and data.val[0].max() == 1
    assert data.train is None and data.y_val is None  # labels and training inputs are optional


def test_without_x_train_calibration_falls_back_to_the_validation_inputs_with_a_note(tmp_path: Path) -> None:
    data = load_data(
        npz(tmp_path / "d.npz", **{"x_val.image": IMAGE, "x_val.meta": META}), two_input_model(), Options()
    )
    assert data.calibration is data.val
    assert any("no x_train" in note for note in data.notes)
    assert data.trainable == "needs labelled training data (x_train and y_train in --data) to fine-tune"


@pytest.mark.parametrize(
    ("arrays", "problem"),
    [
        ({"x_val.image": IMAGE}, "{} lacks x_val.meta for input 'meta'"),
        (
            {"x_val.image": IMAGE, "x_val.meta": META, "x_val.audio": META},
            "{}: x_val.audio names no input of the model (its inputs: meta, image)",
        ),
        ({"x_val": IMAGE}, "{}: x_val is one array but the model takes 2 inputs: give x_val.meta, x_val.image"),
        (
            {"x_val.image": IMAGE[:, :4], "x_val.meta": META},
            "{}: x_val.image samples are (4, 8, 1), input 'image' takes (8, 8, 1)",
        ),
        (
            {"x_val.image": IMAGE, "x_val.meta": META, "x_train.image": IMAGE, "x_train.meta": META[:, :3]},
            "{}: x_train.meta samples are (3,), input 'meta' takes (4,)",
        ),
        (
            {"x_val.image": IMAGE, "x_val.meta": META[:4]},
            "{}: the x_val arrays differ in samples (x_val.image 5, x_val.meta 4)",
        ),
        ({"x_val": IMAGE, "x_val.image": IMAGE}, "{} has both x_val and x_val.<input name> keys; give one form"),
        ({"x_val.image": IMAGE, "x_val.meta": META, "labels": META}, "{}: key 'labels' is not part of the layout"),
        ({"x_val.image": IMAGE, "x_val.meta": META, "y_train": np.zeros(5)}, "{} has y_train but no x_train"),
    ],
    ids=["missing", "extra", "one-array", "shape", "train-shape", "lengths", "both-forms", "unknown-key", "y-alone"],
)
def test_a_key_or_shape_that_does_not_fit_the_named_input_is_refused_naming_file_key_and_input(
    tmp_path: Path, arrays: dict[str, np.ndarray], problem: str
) -> None:
    data = npz(tmp_path / "d.npz", **arrays)
    with pytest.raises(SourceError) as refused:
        load_data(data, two_input_model(), Options())
    assert str(refused.value).startswith("data file " + problem.format(data))


def test_float_targets_are_regression_labels_when_the_model_gives_one_value(tmp_path: Path) -> None:
    model = SourceModel(
        "r", [tensor_spec("x", (None, 6), "float32")], [tensor_spec("y", (None, 1), "float32")], None, None, None
    )
    data = load_data(
        npz(tmp_path / "d.npz", x_val=np.zeros((3, 6)), y_val=np.array([0.5, -1.25, 3.0])), model, Options()
    )
    assert data.y_val is not None and data.y_val.tolist() == [0.5, -1.25, 3.0]


def test_task_regression_takes_float_targets_for_a_model_with_many_values_per_sample(tmp_path: Path) -> None:
    model = SourceModel(
        "r", [tensor_spec("x", (None, 6), "float32")], [tensor_spec("y", (None, 4), "float32")], None, None, None
    )
    data = npz(tmp_path / "d.npz", x_val=np.zeros((2, 6)), y_val=np.array([0.5, 1.5]))
    with pytest.raises(SourceError, match=r"labels are class indices \(a regression model\? --task regression\)"):
        load_data(data, model, Options())
    assert load_data(data, model, Options(task="regression")).y_val is not None


def test_an_image_folder_serves_only_a_single_input_model(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    with pytest.raises(
        SourceError, match=r"image folder .*: the model takes 2 inputs; give an .npz keyed x_val.<input name>"
    ):
        load_data(tmp_path / "images", two_input_model(), Options())


def test_synthetic_inputs_are_seeded_and_a_dynamic_dimension_needs_its_shape() -> None:
    model = SourceModel("seq", [tensor_spec("tokens", (None, None), "int32")], [], None, None, None)
    with pytest.raises(
        SourceError, match=r"model seq: input 'tokens' has a dynamic shape .*give --input-shape tokens:"
    ):
        synthetic_data(model, Options())
    options = Options(input_shapes=("tokens:1x7",), synthetic_samples=4, seed=3)
    one, two = synthetic_data(model, options), synthetic_data(model, options)
    assert one.synthetic and one.val[0].shape == (4, 7) and one.val[0].dtype == np.int32
    assert np.array_equal(one.val[0], two.val[0])
    assert one.trainable == "needs labelled data (--data) to fine-tune"


def test_a_free_batch_axis_is_fed_one_sample_at_a_time(tmp_path: Path) -> None:
    """As TensorFlow writes a Keras model's input: shape [1, 4], signature [-1, 4]."""
    free = dataclasses.replace(tensor_spec("x", (None, 4), "float32"), shape_signature=[-1, 4])
    model = SourceModel("m", [free], [tensor_spec("y", (None, 2), "float32")], None, None, None)
    assert load_data(npz(tmp_path / "d.npz", x_val=META), model, Options()).val[0].shape == (5, 4)
    assert synthetic_data(model, Options(synthetic_samples=3)).val[0].shape == (3, 4)


def heads(loss: object = None) -> SourceModel:
    """A classifier head and a regressor head, saved with ``loss``; its own outputs are fixed values."""
    outputs = [tensor_spec("kind", (None, 3), "float32"), tensor_spec("size", (None, 1), "float32")]
    own = [np.full((4, 3), 1 / 3, np.float32), np.ones((4, 1), np.float32)]
    model = SourceModel("h", [tensor_spec("x", (None, 2), "float32")], outputs, None, None, lambda x: own)
    model.loss = loss
    return model


TRAIN = Data([np.zeros((4, 2))], train=[np.zeros((4, 2))], y_val=np.arange(4) % 3, y_train=np.arange(4) % 3)


@pytest.mark.parametrize(
    ("loss", "options", "first"),
    [
        ({"kind": "categorical_hinge", "size": "mae"}, Options(), "categorical_hinge"),  # the saved one
        ("kl_divergence", Options(), "kl_divergence"),
        ({"kind": "categorical_hinge"}, Options(loss="mae"), "mae"),  # --loss overrides it
        (None, Options(task="regression"), "mse"),  # nothing saved: one that fits the labels
    ],
)
def test_fine_tuning_uses_the_saved_loss_else_the_flag_else_one_that_fits(
    loss: object, options: Options, first: str
) -> None:
    train = training_set(heads(loss), TRAIN, options)
    assert train.losses == [first, "mse"]  # the other head is held to the model's own outputs
    assert np.array_equal(train.y[0], TRAIN.y_train) and np.array_equal(train.y[1], np.ones((4, 1)))  # type: ignore[arg-type]


def test_ports_are_matched_by_the_names_the_converter_gave_them_else_kept_in_order() -> None:
    assert port_order(["left", "right"], ["serving_default_right:0", "serving_default_left:0"]) == [1, 0]
    assert port_order(["kind", "size"], ["quant_size", "quant_kind"]) == [1, 0]
    assert port_order(["a", "b"], ["StatefulPartitionedCall:0", "StatefulPartitionedCall:1"]) == [0, 1]


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
    assert fp32.host_accuracy is not None and fp32.host_accuracy.outputs[0].cosine > 0.9999
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
    assert fp32 is not None and len(fp32.outputs) == 2 and min(o.cosine for o in fp32.outputs) > 0.9999
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
