"""Any model as it comes (issue 16, converter side): several inputs and outputs, regression, 1-D audio, plain
SavedModels, a .tflite with no data, and a .tflite the host cannot run; data keyed by the model's input names,
each key and shape checked against the input it names."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from converter.checks import SourceError
from converter.ports import port_order
from converter.source import Data, SourceModel, load_data, synthetic_data, tensor_spec
from converter.techniques import training_set
from edgebench_records.catalogue import Options


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
        SourceError,
        match=r"model seq: input 'tokens' has a dynamic shape 1x\?: give its sizes with --input-shape tokens:",
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
