"""--input-shape on models whose placeholder shape does not run: named by tensor or signature name, applied
before the first allocation, and refused at the start, in one line showing every dynamic dimension, when no
size is given. Synthetic ids span the table they index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device_runner.engines import DelegateFailed, fed_shapes, open_engine
from device_runner.flatbuffer import read_model_file
from device_runner.inputs import shapes_by_tensor, synthetic_inputs
from device_runner.lookups import id_limits
from device_runner.runtime import load_runtime
from edgebench.cli import invoke
from edgebench.conversion import check_input_shapes
from edgebench.devices.benchmark_model import input_shape_flags
from edgebench.errors import EdgebenchError
from tests.support.real_models import DYNAMIC_AUDIO, FREE_BATCH, MANY_OUTPUTS, real_model
from tests.support.tiny_models import looked_up

AUDIO_TENSOR = "serving_default_input:0"  # melspectrogram's input [-1, -1], signature name "input"
WAYS = [("interpreter", "xnnpack"), ("interpreter", "cpu"), ("compiled", "xnnpack"), ("compiled", "cpu")]


@pytest.mark.parametrize("name", ["input", AUDIO_TENSOR])
def test_an_input_is_named_by_its_signature_name_or_its_tensor_name(name: str) -> None:
    tensors = read_model_file(real_model(DYNAMIC_AUDIO)).inputs
    assert shapes_by_tensor({name: (1, 1280)}, tensors, {"input": AUDIO_TENSOR}) == {AUDIO_TENSOR: (1, 1280)}
    check_input_shapes(real_model(DYNAMIC_AUDIO), (f"{name}:1x1280",), None)


def test_an_unknown_name_is_refused_listing_both_names_of_every_input() -> None:
    model = real_model(DYNAMIC_AUDIO)
    with pytest.raises(EdgebenchError) as refused:
        check_input_shapes(model, ("audio:1x1280",), None)
    assert str(refused.value) == (
        f"--input-shape audio: model {model} has no input 'audio' (its inputs: input (tensor {AUDIO_TENSOR}))"
    )


def test_one_input_given_under_both_names_is_refused() -> None:
    tensors = read_model_file(real_model(DYNAMIC_AUDIO)).inputs
    with pytest.raises(ValueError, match="given twice"):
        shapes_by_tensor({"input": (1, 8), AUDIO_TENSOR: (1, 9)}, tensors, {"input": AUDIO_TENSOR})


def test_a_dynamic_input_without_a_size_is_one_line_showing_each_dynamic_dimension() -> None:
    with pytest.raises(EdgebenchError) as refused:
        check_input_shapes(real_model(DYNAMIC_AUDIO), (), None)
    message = str(refused.value)
    assert message == (
        f"model melspectrogram.tflite: input 'input' (tensor '{AUDIO_TENSOR}') has a dynamic shape ?x?: "
        "give its sizes with --input-shape input:?x?, each ? replaced by a size"
    )
    assert "\n" not in message and ":1x" not in message  # no size suggested: the placeholder 1x1 does not run
    assert refused.value.code == 2


def test_data_gives_the_sizes_a_free_batch_axis_runs_at_one_and_a_wrong_size_is_refused(tmp_path: Path) -> None:
    check_input_shapes(real_model(DYNAMIC_AUDIO), (), tmp_path / "d.npz")  # --data: its samples' shape
    check_input_shapes(real_model(FREE_BATCH), (), None)  # [-1, 76, 32, 1]
    with pytest.raises(EdgebenchError, match=r"--input-shape input_1:1x75x32x1 does not fit input 'input_1' "):
        check_input_shapes(real_model(FREE_BATCH), ("input_1:1x75x32x1",), None)


@pytest.mark.parametrize(("api", "delegate"), WAYS)
def test_a_model_whose_placeholder_shape_cannot_run_runs_at_the_given_shape(api: str, delegate: str) -> None:
    """melspectrogram's placeholder [1, 1] fails to prepare (a 1-sample frame): the size is set before any
    allocation, on both APIs."""
    model = real_model(DYNAMIC_AUDIO)
    info = read_model_file(model)
    (x,) = synthetic_inputs(info.inputs, 2, 0, {"input": (1, 1280)}, aliases={"input": AUDIO_TENSOR})
    engine = open_engine(load_runtime(), api, model, info, delegate, 1, fed_shapes(info, [x[0]]))
    engine.set_inputs([x[1]])
    engine.invoke()
    (spectrogram,) = engine.outputs()
    assert spectrogram.shape == (1, 1, 5, 32) and np.isfinite(spectrogram).all()


def test_without_the_shape_the_placeholder_fails_to_prepare() -> None:
    """Why the shape must come first: what every cell was before."""
    model = real_model(DYNAMIC_AUDIO)
    with pytest.raises(DelegateFailed, match="xnnpack failed to prepare the model"):
        open_engine(load_runtime(), "interpreter", model, read_model_file(model), "xnnpack", 1)


@pytest.mark.parametrize(("op", "cast"), [("GATHER", False), ("EMBEDDING_LOOKUP", False), ("GATHER", True)])
def test_synthetic_ids_span_every_row_of_the_table_they_index(tmp_path: Path, op: str, cast: bool) -> None:
    model = looked_up(tmp_path / "embedding.tflite", rows=2000, op=op, cast=cast)
    info = read_model_file(model)
    limits = id_limits(model.read_bytes())
    assert limits == {"ids": 2000}
    (ids,) = synthetic_inputs(info.inputs, 64, 0, {}, id_limits=limits)
    assert ids.dtype == np.dtype(info.inputs[0].dtype) and np.all(ids == np.rint(ids))
    assert ids.min() >= 0 and ids.max() <= 1999 and len(np.unique(ids)) > 200  # not ten of two thousand rows
    engine = open_engine(load_runtime(), "interpreter", model, info, "cpu", 1)
    for sample in ids[:4]:  # every id a valid row: an out-of-range one fails the lookup
        engine.set_inputs([sample])
        engine.invoke()


def test_an_input_that_indexes_nothing_keeps_its_small_or_quantised_range() -> None:
    assert id_limits(real_model(MANY_OUTPUTS).read_bytes()) == {}
    assert id_limits(b"not a model") == {}


def test_benchmark_model_is_given_the_shapes_as_it_takes_them() -> None:
    info = read_model_file(real_model(DYNAMIC_AUDIO))
    assert input_shape_flags(info, [(1, 1280)]) == [f"--input_layer={AUDIO_TENSOR}", "--input_layer_shape=1,1280"]
    fixed = read_model_file(real_model(MANY_OUTPUTS))
    assert input_shape_flags(fixed, [tuple(fixed.inputs[0].shape)]) == []


@pytest.mark.parametrize("command", ["run", "convert"])
def test_the_command_stops_at_the_start_with_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    """Not a conversion that exits 0 and then every cell failing: nothing is converted or measured."""
    model = real_model(DYNAMIC_AUDIO)
    store = ["--store", str(tmp_path / "h.sqlite")] if command == "run" else []
    assert invoke([command, "--model", str(model), "--workdir", str(tmp_path / "work"), *store]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"edgebench: model melspectrogram.tflite: input 'input' (tensor '{AUDIO_TENSOR}') has a dynamic shape ?x?: "
        "give its sizes with --input-shape input:?x?, each ? replaced by a size\n"
    )
    assert not (tmp_path / "work" / "variants").exists()
