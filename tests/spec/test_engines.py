"""Both engines feed every input and read every output, each per its own tensor, on real LiteRT runtimes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device_runner import accuracy
from device_runner.engines import Engine, Incompatible, InputMismatch, first_invoke, open_engine
from device_runner.flatbuffer import read_model_file
from device_runner.runtime import load_runtime
from tests.support.real_models import MANY_OUTPUTS, UNKNOWN_CUSTOM_OP, XNNPACK_CUSTOM_OP, real_model
from tests.support.tiny_models import dynamic_length, quantised_add, token_input, two_inputs

# Every way to run a model here: the Interpreter's default (XNNPACK) and plain kernels, and CompiledModel's.
WAYS = [("interpreter", "xnnpack"), ("interpreter", "cpu"), ("compiled", "xnnpack"), ("compiled", "cpu")]


def engine(model: Path, api: str, delegate: str) -> Engine:
    return open_engine(load_runtime(), api, model, read_model_file(model), delegate, threads=1)


def run(e: Engine, samples: list[np.ndarray]) -> list[np.ndarray]:
    e.set_inputs(samples)
    e.invoke()
    return e.outputs()


@pytest.mark.parametrize(("api", "delegate"), WAYS)
def test_two_inputs_each_reach_their_own_tensor_whatever_the_signature_order(
    tmp_path: Path, api: str, delegate: str
) -> None:
    """The signature lists mask before x; the input set follows the subgraph's order (x, mask)."""
    model = two_inputs(tmp_path / "two.tflite", signature=["mask", "x"])
    x, mask = np.arange(4, dtype=np.float32), np.arange(16, dtype=np.float32) - 8
    doubled, squared = run(engine(model, api, delegate), [x, mask])
    np.testing.assert_array_equal(doubled, (x + x)[None])  # batch axis as the model has it
    np.testing.assert_array_equal(squared, (mask * mask)[None])


@pytest.mark.parametrize(("api", "delegate"), WAYS)
def test_integer_inputs_are_quantised_and_outputs_dequantised_per_tensor(
    tmp_path: Path, api: str, delegate: str
) -> None:
    model = quantised_add(tmp_path / "q.tflite")
    # Values on the tensors' own levels (inputs 0.1, output 0.2): any other scale or zero point would show.
    a, b = (np.arange(-4, 4) * 0.4).astype(np.float32), np.full(8, 0.4, np.float32)
    (total,) = run(engine(model, api, delegate), [a, b])
    assert total.dtype == np.float32
    np.testing.assert_allclose(total[0], a + b, atol=1e-5)


def test_integer_ids_keep_their_values(tmp_path: Path) -> None:
    model = token_input(tmp_path / "ids.tflite")
    ids = np.array([0, 1, 2, 3, 40, 500], np.int32)
    (twice,) = run(engine(model, "interpreter", "xnnpack"), [ids])
    np.testing.assert_array_equal(twice[0], ids * 2)


@pytest.mark.parametrize("api", ["interpreter", "compiled"])
def test_a_dynamic_dimension_is_resized_to_the_samples_shape(tmp_path: Path, api: str) -> None:
    model = dynamic_length(tmp_path / "dyn.tflite")
    e = engine(model, api, "xnnpack")
    for length in (6, 3):
        x = np.arange(length, dtype=np.float32)
        (y,) = run(e, [x])
        np.testing.assert_array_equal(y, (2 * x)[None])


def test_samples_that_do_not_fit_name_the_input(tmp_path: Path) -> None:
    e = engine(two_inputs(tmp_path / "two.tflite"), "interpreter", "xnnpack")
    with pytest.raises(InputMismatch, match=r"input 'mask' \(index 1\) takes \[1, 16\], the input set gives \[1, 8\]"):
        e.set_inputs([np.zeros(4, np.float32), np.zeros(8, np.float32)])
    with pytest.raises(InputMismatch, match=r"the model takes 2 inputs \('x', 'mask'\), given 1"):
        e.set_inputs([np.zeros(4, np.float32)])


@pytest.mark.parametrize(("api", "delegate"), WAYS)
def test_predict_stacks_every_output_of_a_real_model(api: str, delegate: str) -> None:
    model = real_model(MANY_OUTPUTS)
    info = read_model_file(model)
    x = np.random.default_rng(0).random((3, *info.inputs[0].shape[1:]), dtype=np.float32)
    outputs = accuracy.predict(engine(model, api, delegate), [x])
    assert [o.shape for o in outputs] == [(3, *t.shape) for t in info.outputs]


@pytest.mark.parametrize(("api", "delegate"), WAYS)
def test_a_custom_op_no_runtime_has_is_incompatible_naming_it(api: str, delegate: str) -> None:
    with pytest.raises(Incompatible, match=r"^custom op Landmarks2TransformMatrix not in this runtime"):
        engine(real_model(UNKNOWN_CUSTOM_OP), api, delegate)


@pytest.mark.parametrize("api", ["interpreter", "compiled"])
def test_a_custom_op_only_xnnpack_provides_runs_under_xnnpack_alone(api: str) -> None:
    model = real_model(XNNPACK_CUSTOM_OP)
    info = read_model_file(model)
    x = np.zeros(info.inputs[0].shape[1:], np.float32)
    (mask,) = run(engine(model, api, "xnnpack"), [x])
    assert mask.shape == tuple(info.outputs[0].shape)
    with pytest.raises(Incompatible, match=r"^custom op Convolution2DTransposeBias not in this runtime without a"):
        plain = engine(model, api, "cpu")  # the Interpreter refuses here; CompiledModel only when it runs
        plain.set_inputs([x])
        first_invoke(plain, info, "cpu")
