"""The input set contract (device_runner/inputs.py): what the converter writes and every runner reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from device_runner.flatbuffer import read_model_file
from device_runner.inputs import (
    InputSet,
    InputSetError,
    parse_input_shapes,
    read_input_set,
    read_variant_reference,
    shape_error,
    synthetic_inputs,
    write_input_set,
)
from edgebench_records import TensorInfo
from tests.support.real_models import MANY_OUTPUTS, real_model

IMAGE = TensorInfo("image", [1, 8, 8, 3], "float32", 0.0, 0)
TOKENS = TensorInfo("tokens", [1, 16], "int32", 0.0, 0)
QUANTISED = TensorInfo("q", [1, 4], "int8", 0.05, -3)
DYNAMIC = TensorInfo("x", [1, 1, 1, 3], "float32", 0.0, 0, shape_signature=[-1, -1, -1, 3])


def save(path: Path, arrays: dict[str, Any]) -> None:
    """An .npz written by hand, as a user or an older edgebench would."""
    np.savez(path, **arrays)


def two_input_set() -> InputSet:
    rng = np.random.default_rng(0)
    return InputSet(
        inputs=[rng.random((6, 8, 8, 3), dtype=np.float32), rng.integers(0, 9, (6, 16)).astype(np.int32)],
        labels=np.arange(6),
        reference=[rng.random((6, 10), dtype=np.float32), rng.random((6, 1, 4), dtype=np.float32)],
    )


def test_a_written_input_set_reads_back_whole(tmp_path: Path) -> None:
    written = two_input_set()
    write_input_set(tmp_path / "inputs.npz", written, {})
    read = read_input_set(tmp_path / "inputs.npz")
    assert len(read) == 6 and read.synthetic is False
    assert [x.dtype for x in read.inputs] == [np.float32, np.int32]  # integer inputs keep their dtype
    for got, want in zip(
        [*read.inputs, read.labels, *(read.reference or [])],
        [*written.inputs, written.labels, *(written.reference or [])],
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)


def test_the_v2_keys_are_the_documented_ones(tmp_path: Path) -> None:
    write_input_set(tmp_path / "inputs.npz", two_input_set(), {"int8": [np.zeros((6, 10)), np.zeros((6, 1, 4))]})
    with np.load(tmp_path / "inputs.npz") as data:
        assert sorted(data.files) == ["ref.0", "ref.1", "ref.int8.0", "ref.int8.1", "synthetic", "x.0", "x.1", "y"]


def test_each_variants_reference_kernel_outputs_read_per_output(tmp_path: Path) -> None:
    outputs = [np.full((6, 10), 1.0), np.full((6, 1, 4), 2.0)]
    write_input_set(tmp_path / "inputs.npz", two_input_set(), {"int8": outputs})
    got = read_variant_reference(tmp_path / "inputs.npz", "int8")
    assert got is not None and [a.tolist() for a in got] == [a.tolist() for a in outputs]
    assert read_variant_reference(tmp_path / "inputs.npz", "fp16") is None


def test_a_set_without_labels_or_reference_says_so_by_none(tmp_path: Path) -> None:
    write_input_set(tmp_path / "s.npz", InputSet([np.zeros((3, 4), np.float32)], None, None, synthetic=True), {})
    read = read_input_set(tmp_path / "s.npz")
    assert (read.labels, read.reference, read.synthetic) == (None, None, True)


def test_the_previous_layout_reads_as_one_input_and_one_output(tmp_path: Path) -> None:
    x, y, ref = np.ones((4, 5), np.float32), np.arange(4), np.full((4, 3), 0.5, np.float32)
    save(tmp_path / "old.npz", {"x": x, "y": y, "ref": ref, "ref.int8": ref * 2})
    read = read_input_set(tmp_path / "old.npz")
    assert [a.tolist() for a in read.inputs] == [x.tolist()]
    assert read.reference is not None and [a.tolist() for a in read.reference] == [ref.tolist()]
    variant = read_variant_reference(tmp_path / "old.npz", "int8")
    assert variant is not None and [a.tolist() for a in variant] == [(ref * 2).tolist()]


def test_sample_k_takes_that_sample_of_every_input() -> None:
    inputs = two_input_set()
    assert [s.shape for s in inputs.sample(2)] == [(8, 8, 3), (16,)]
    np.testing.assert_array_equal(inputs.sample(2)[1], inputs.inputs[1][2])


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x.0": np.zeros((4, 2)), "x.1": np.zeros((3, 2))}, "x.1 has 3 samples, x.0 has 4"),
        ({"x.0": np.zeros((4, 2)), "y": np.zeros(5)}, "y has 5 samples, x.0 has 4"),
        ({"x.0": np.zeros((4, 2)), "x.2": np.zeros((4, 2))}, "not numbered 0..1"),
        ({"y": np.zeros(4)}, "no inputs"),
        ({"x.0": np.zeros((0, 2))}, "x.0 holds no samples"),
        ({"x.0": np.array(3.0)}, "x.0 holds no samples"),
    ],
)
def test_inconsistent_input_sets_are_refused_naming_the_key(
    tmp_path: Path, arrays: dict[str, np.ndarray], message: str
) -> None:
    save(tmp_path / "bad.npz", arrays)
    with pytest.raises(InputSetError, match=message):
        read_input_set(tmp_path / "bad.npz")


def test_a_file_that_is_no_npz_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "inputs.npz").write_text("not a zip")
    with pytest.raises(InputSetError, match=r"inputs\.npz: not a readable input set"):
        read_input_set(tmp_path / "inputs.npz")


def test_synthetic_inputs_follow_each_tensor_shape_and_dtype() -> None:
    image, tokens, quantised = synthetic_inputs([IMAGE, TOKENS, QUANTISED], 5, seed=1, shapes={})
    assert image.shape == (5, 8, 8, 3) and image.dtype == np.float32
    assert image.min() >= -1.0 and image.max() <= 1.0 and image.std() > 0.1
    assert tokens.dtype == np.int32 and tokens.min() >= 0 and tokens.max() < 10
    # float values standing for int8 levels -128..127 at scale 0.05, zero point -3
    assert quantised.dtype == np.float32
    assert quantised.min() >= (-125 * 0.05) - 1e-6 and quantised.max() <= (130 * 0.05) + 1e-6


def test_synthetic_inputs_are_the_same_for_the_same_seed() -> None:
    first, second, other = (synthetic_inputs([IMAGE], 3, seed, {})[0] for seed in (7, 7, 8))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_a_real_models_synthetic_inputs_fit_its_input_tensors() -> None:
    info = read_model_file(real_model(MANY_OUTPUTS))
    (x,) = synthetic_inputs(info.inputs, 2, seed=0, shapes={})
    assert x.shape == (2, *info.inputs[0].shape[1:])
    assert shape_error(info.inputs[0], 0, x[0]) is None


def test_a_dynamic_dimension_without_a_shape_shows_every_dynamic_one_and_asks_for_sizes() -> None:
    with pytest.raises(ValueError) as refused:
        synthetic_inputs([DYNAMIC], 2, seed=0, shapes={})
    message = str(refused.value)
    assert message == (
        "input 'x' has a dynamic shape ?x?x?x3: give its sizes with --input-shape x:?x?x?x3, each ? replaced by a size"
    )
    assert "x:1" not in message  # no size is suggested: 1 is rarely one the model can run at


def test_a_dynamic_batch_axis_alone_runs_at_one_without_a_flag() -> None:
    """What every Keras model converted to .tflite declares: [-1, …] with the rest fixed."""
    keras_like = TensorInfo("x", [1, 8, 3], "float32", 0.0, 0, shape_signature=[-1, 8, 3])
    (x,) = synthetic_inputs([keras_like], 2, seed=0, shapes={})
    assert x.shape == (2, 8, 3) and not keras_like.dynamic


def test_a_dynamic_vector_length_is_no_batch_axis() -> None:
    with pytest.raises(ValueError, match=r"has a dynamic shape \?: give its sizes with --input-shape v:\?"):
        synthetic_inputs([TensorInfo("v", [1], "float32", 0.0, 0, shape_signature=[-1])], 2, seed=0, shapes={})


def test_a_dynamic_dimension_takes_the_given_shape() -> None:
    (x,) = synthetic_inputs([DYNAMIC], 2, seed=0, shapes={"x": (1, 20, 30, 3)})
    assert x.shape == (2, 20, 30, 3)


def test_a_given_shape_that_contradicts_a_fixed_dimension_is_refused() -> None:
    with pytest.raises(ValueError, match=r"--input-shape x:1x20x30x4 does not fit input 'x' \?x\?x\?x3$"):
        synthetic_inputs([DYNAMIC], 2, seed=0, shapes={"x": (1, 20, 30, 4)})


def test_a_string_input_cannot_be_made_up() -> None:
    with pytest.raises(ValueError, match="input 'text' takes string"):
        synthetic_inputs([TensorInfo("text", [1], "string", 0.0, 0)], 2, seed=0, shapes={})


def test_input_shapes_parse_by_name_even_when_the_name_has_a_colon() -> None:
    assert parse_input_shapes(["x:1x224x224x3", "serving_default_y:0:1x16"]) == {
        "x": (1, 224, 224, 3),
        "serving_default_y:0": (1, 16),
    }


@pytest.mark.parametrize("entry", ["x", "x:", ":1x2", "x:1x0", "x:1,2", "x:-1x3", "x:1xx2"])
def test_junk_input_shapes_are_refused_naming_the_entry(entry: str) -> None:
    with pytest.raises(ValueError, match=f"--input-shape '{entry}'"):
        parse_input_shapes([entry])


def test_the_same_input_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="input 'x' given twice"):
        parse_input_shapes(["x:1x2", "x:1x3"])


def test_a_sample_that_does_not_fit_names_the_input_its_index_and_both_shapes() -> None:
    mask = TensorInfo("mask", [1, 16], "float32", 0.0, 0)
    assert shape_error(mask, 1, np.zeros(16)) is None
    assert shape_error(mask, 1, np.zeros(8)) == "input 'mask' (index 1) takes [1, 16], the input set gives [1, 8]"
