"""Cells of models unlike the bundled example, as they come: real pre-trained .tflite files with several
outputs or custom ops, and a two-input model; input sets with no labels, synthetic inputs, or the old layout."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from device_runner.flatbuffer import read_model_file
from device_runner.inputs import InputSet
from device_runner.sweep import SweepStopped, run_plan
from edgebench_records import CellResult, Status
from tests.conftest import QUICK
from tests.support.model_plans import host_outputs, stage, synthetic
from tests.support.real_models import MANY_OUTPUTS, UNKNOWN_CUSTOM_OP, XNNPACK_CUSTOM_OP, real_model
from tests.support.tiny_models import doubling, two_inputs

pytestmark = pytest.mark.slow
BOTH_APIS = dataclasses.replace(QUICK, apis=["interpreter", "compiled"])


def sweep(plan_path: Path) -> dict[str, CellResult]:
    return {f"{r.delegate}/{r.api}": r for r in run_plan(plan_path, plan_path.parent / "results")}


def test_every_output_of_a_real_model_is_measured_against_the_host_without_labels(tmp_path: Path) -> None:
    model = real_model(MANY_OUTPUTS)
    inputs = synthetic(model)
    inputs.reference = host_outputs(model, inputs.inputs, "xnnpack")
    results = sweep(stage(tmp_path, model, inputs, host_outputs(model, inputs.inputs, "cpu")))
    names = [t.name for t in read_model_file(model).outputs]
    assert len(names) == 4
    for cell, result in results.items():
        assert result.status == Status.OK, f"{cell}: {result.message}"
        assert result.timing and result.memory and result.coverage  # latency, memory, coverage: no labels needed
        a, numerics = result.accuracy, result.numerics
        assert a and [h.name for h in a.outputs] == names
        assert all(h.cosine > 0.999 for h in a.outputs if h.cosine is not None)  # none for its 1-value heads
        assert all(h.rel_error is not None and h.rel_error < 0.001 for h in a.outputs)
        assert a.top1 is None and a.labels_note == "no labels"
        assert numerics and numerics.passed and [h.index for h in numerics.outputs] == [0, 1, 2, 3]


def test_the_numerics_check_names_the_worst_output(tmp_path: Path) -> None:
    model = real_model(MANY_OUTPUTS)
    inputs = synthetic(model)
    reference = host_outputs(model, inputs.inputs, "cpu")
    reference[2] = -reference[2] - 1  # output 2 alone no longer what these kernels give
    result = sweep(stage(tmp_path, model, inputs, reference))["xnnpack/interpreter"]
    assert result.status == Status.WRONG_OUTPUT
    assert result.numerics and result.numerics.output == "2 Identity_2" and result.numerics.agreement is None
    assert "on output 2 Identity_2 (the worst of 4 outputs)" in result.message
    assert result.timing and result.accuracy  # still measured: the figures show how wrong


def test_a_custom_op_no_runtime_has_makes_every_cell_incompatible_naming_it(tmp_path: Path) -> None:
    model = real_model(UNKNOWN_CUSTOM_OP)
    for cell, result in sweep(stage(tmp_path, model, synthetic(model, 2), settings=BOTH_APIS)).items():
        assert result.status == Status.INCOMPATIBLE, cell
        assert result.message.startswith("custom op Landmarks2TransformMatrix not in this runtime"), result.message
        assert "\n" not in result.message


def test_a_custom_op_only_xnnpack_provides_runs_there_and_is_incompatible_on_plain_kernels(tmp_path: Path) -> None:
    model = real_model(XNNPACK_CUSTOM_OP)
    results = sweep(stage(tmp_path, model, synthetic(model, 2), settings=BOTH_APIS))
    for api in ("interpreter", "compiled"):
        assert results[f"xnnpack/{api}"].status == Status.OK, results[f"xnnpack/{api}"].message
        plain = results[f"cpu/{api}"]
        assert plain.status == Status.INCOMPATIBLE
        assert (
            plain.message
            == "custom op Convolution2DTransposeBias not in this runtime without a delegate (plain kernels)"
        )


def test_a_two_input_model_is_fed_every_input_under_every_api(tmp_path: Path) -> None:
    model = two_inputs(tmp_path / "two.tflite", signature=["mask", "x"])
    rng = np.random.default_rng(0)
    x, mask = rng.random((5, 4), dtype=np.float32), rng.random((5, 16), dtype=np.float32)
    expected = [(x + x)[:, None], (mask * mask)[:, None]]  # worked out here, not by LiteRT
    results = sweep(stage(tmp_path, model, InputSet([x, mask], None, expected), expected, BOTH_APIS))
    assert set(results) == {f"{d}/{a}" for d in ("xnnpack", "cpu") for a in ("interpreter", "compiled")}
    for cell, result in results.items():
        assert result.status == Status.OK, f"{cell}: {result.message}"
        assert result.accuracy and [h.max_abs_diff for h in result.accuracy.outputs] == [0.0, 0.0], cell
        assert result.numerics and result.numerics.passed


@pytest.mark.parametrize(
    ("arrays", "problem"),
    [
        (
            {"x.0": np.zeros((3, 4)), "x.1": np.zeros((3, 8))},
            "input 'mask' (index 1) takes [1, 16], the input set gives [1, 8]",
        ),
        (
            {"x.0": np.zeros((3, 4))},
            "input 'mask' (index 1) has no array x.1: the model takes 2 inputs, the input set has 1",
        ),
        (
            {"x.0": np.zeros((3, 4)), "x.1": np.zeros((3, 16)), "x.2": np.zeros((3, 1))},
            "x.2 is extra: the model takes 2 inputs, the input set has 3",
        ),
    ],
)
def test_an_input_set_that_does_not_fit_stops_the_sweep_naming_the_input(
    tmp_path: Path, arrays: dict[str, np.ndarray], problem: str
) -> None:
    plan_path = stage(tmp_path, two_inputs(tmp_path / "two.tflite"), arrays)
    with pytest.raises(SweepStopped) as stopped:
        run_plan(plan_path, tmp_path / "results")
    assert str(stopped.value) == f"device_runner: {plan_path.parent / 'inputs.npz'} does not fit fp32.tflite: {problem}"
    assert not list((tmp_path / "results").glob("*.json"))  # nothing measured: a resume after the fix measures all


def test_an_input_set_in_the_old_layout_is_still_measured(tmp_path: Path) -> None:
    single = doubling(tmp_path / "one.tflite")  # the old layout's one input, one output
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    old = {"x": x, "y": np.array([3, 3, 3]), "ref": 2 * x, "ref.fp32": 2 * x}  # as the previous converter wrote it
    result = sweep(stage(tmp_path, single, old))["xnnpack/interpreter"]
    assert result.status == Status.OK, result.message
    assert result.numerics and result.numerics.passed and result.numerics.output == "0 y"
    assert result.accuracy and result.accuracy.top1 == 1.0 and result.accuracy.max_abs_diff == 0.0


def test_a_synthetic_input_set_without_any_reference_is_timed_and_says_what_it_lacks(tmp_path: Path) -> None:
    model = two_inputs(tmp_path / "two.tflite")
    result = sweep(stage(tmp_path, model, synthetic(model)))["xnnpack/interpreter"]
    assert result.status == Status.OK and result.timing and result.memory and result.coverage
    assert result.numerics is None  # nothing to hold the outputs to: not checked, never passed
    a = result.accuracy
    assert a and a.outputs == [] and (a.top1, a.fp32_agreement) == (None, None)
    assert a.labels_note == "no labels" and a.reference_note.startswith("no host fp32 reference")


@pytest.mark.parametrize(
    ("task", "mae", "note"), [("regression", 0.5, ""), ("other", None, "task other: labels not scored")]
)
def test_the_plans_task_decides_how_the_device_scores_labels(
    tmp_path: Path, task: str, mae: float | None, note: str
) -> None:
    """Float targets for output 0 (x + x), every sample 0.5 off: a regression's MAE, or not scored at all."""
    model = two_inputs(tmp_path / "two.tflite")
    rng = np.random.default_rng(3)
    x, mask = rng.random((5, 4), dtype=np.float32), rng.random((5, 16), dtype=np.float32)
    plan_path = stage(tmp_path, model, InputSet([x, mask], x + x + np.float32(0.5), None), task=task)
    result = sweep(plan_path)["xnnpack/interpreter"]
    assert result.status == Status.OK, result.message
    a = result.accuracy
    assert a and a.task == task and a.top1 is None and a.labels_note == note
    assert a.mae == (pytest.approx(mae) if mae is not None else None)
