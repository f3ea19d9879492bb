"""Numbers you can trust: a cell's outputs are held to the same variant on the host's reference kernels
(wrong numbers are wrong_output, whatever the delegate claims), and an accelerator that is not on the device
is delegate_unavailable with a sentence, whatever the CompiledModel API says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from device_runner import accuracy
from device_runner.precision import OutputPrecision, Precision
from edgebench.cli import invoke
from edgebench_records import FailureClass, Numerics

# ---------------------------------------------------------------------------------------------
# The comparison itself


def compare_one(
    outputs: np.ndarray, reference: np.ndarray, classes: int | None, agreement: float, cosine: float
) -> Numerics:
    found = accuracy.compare([outputs], [reference], ["out"], [classes], agreement, cosine)
    assert found is not None
    return found


def test_identical_outputs_pass_with_perfect_figures() -> None:
    outputs = np.random.default_rng(0).random((20, 10)).astype(np.float32)
    numerics = compare_one(outputs, outputs.copy(), 10, 0.97, 0.99)
    assert numerics.passed and numerics.agreement == 1.0 and numerics.max_abs_diff == 0.0
    assert numerics.cosine == pytest.approx(1.0) and numerics.output == "0 out" and numerics.n == 20


def test_nan_outputs_fail_however_loose_the_tolerance() -> None:
    reference = np.eye(10, dtype=np.float32)
    numerics = compare_one(np.full_like(reference, np.nan), reference, 10, 0.0, 0.0)
    assert not numerics.passed and numerics.max_abs_diff == np.inf


def test_all_zero_outputs_against_a_real_reference_fail() -> None:
    reference = np.eye(10, dtype=np.float32)
    numerics = compare_one(np.zeros_like(reference), reference, 10, 0.0, 0.5)
    assert not numerics.passed and numerics.cosine == 0.0


def test_top_1_agreement_holds_only_class_distributions() -> None:
    """A regression head whose largest value moves between values further apart than the near-tie margin is still
    close to its reference; the same numbers as class scores fail on their top-1."""
    reference = np.zeros((8, 100), dtype=np.float32)
    reference[:, :50] = 10.0  # a spread of 5: the near-tie margin is 5 % of it, 0.25
    reference[:, 98:] = [[10.0, 11.0]]  # top-1 (99) ahead of the next by 1.0: decisive
    swapped = reference[:, [*range(98), 99, 98]]  # every argmax changes; RMS error 2.8 % of the spread
    regression = compare_one(swapped, reference, None, 0.97, 0.99)
    assert regression.passed and regression.agreement is None
    classes = compare_one(swapped, reference, 100, 0.97, 0.99)  # the same numbers as class scores
    assert not classes.passed and classes.agreement == 0.0 and classes.failure == FailureClass.DRIFT


def test_disagreements_on_near_ties_are_reported_apart() -> None:
    """Where the reference's top two are within the margin, a changed argmax is a near-tie: counted, not failed."""
    reference = np.array([[1.0, 1.001, 5.0, 5.001]] * 4, dtype=np.float32)
    jittered = reference[:, [1, 0, 3, 2]]  # every argmax changes, the values hardly do
    numerics = compare_one(jittered, reference, 4, 0.97, 0.99)
    assert numerics.passed and numerics.outputs[0].near_ties == 4 and numerics.outputs[0].decisive == 0


def test_every_output_is_checked_and_the_worst_is_named() -> None:
    rng = np.random.default_rng(1)
    heads = [rng.random((8, 10)).astype(np.float32), rng.random((8, 8)).astype(np.float32)]
    broken = [heads[0].copy(), rng.random((8, 8)).astype(np.float32) - 0.5]  # output 1 wrong, output 0 fine
    numerics = accuracy.compare(broken, heads, ["scores", "box"], [10, None], 0.97, 0.99)
    assert numerics is not None and not numerics.passed
    assert numerics.output == "1 box" and numerics.agreement is None
    assert [o.index for o in numerics.outputs] == [0, 1] and numerics.outputs[0].cosine == pytest.approx(1.0)
    message = accuracy.numerics_message(numerics, "gpu")
    assert "on output 1 box (the worst of 2 outputs)" in message and "top-1" not in message
    assert f"cosine {numerics.cosine:.4f}" in message


def test_passing_outputs_report_the_lowest_cosine() -> None:
    rng = np.random.default_rng(2)
    heads = [rng.random((8, 4)).astype(np.float32) for _ in range(3)]
    close = [h + np.float32(0.01) * j * rng.standard_normal(h.shape).astype(np.float32) for j, h in enumerate(heads)]
    numerics = accuracy.compare(close, heads, ["a", "b", "c"], [None] * 3, 0.97, 0.9)
    assert numerics is not None and numerics.passed and numerics.output == "2 c"


def test_an_output_without_a_reference_of_its_size_is_left_out() -> None:
    outputs = [np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)]
    numerics = accuracy.compare(outputs, [np.ones((4, 3), np.float32), np.ones((4, 5))], ["a", "b"], [3, 2], 0.9, 0.9)
    assert numerics is not None and [o.name for o in numerics.outputs] == ["a"]
    assert accuracy.compare(outputs, [np.ones((4, 7))], ["a", "b"], [3, 2], 0.9, 0.9) is None


# ---------------------------------------------------------------------------------------------
# The reference: made by the converter on the host, per variant, carried in the input set


# ---------------------------------------------------------------------------------------------
# Cells


# ---------------------------------------------------------------------------------------------
# The flags


@pytest.mark.parametrize(
    "flag,value",
    [("--numerics-min-agreement", "1.5"), ("--numerics-min-cosine", "nan"), ("--numerics-min-cosine", "2")],
)
def test_a_tolerance_outside_its_range_is_refused_before_anything_runs(
    flag: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = invoke(["run", "--workdir", str(tmp_path / "w"), flag, value])
    assert code == 2 and flag in capsys.readouterr().err
    assert not (tmp_path / "w").exists()


# ---------------------------------------------------------------------------------------------
# Each output in its own precision and scale (issue 30 item 3, issue 29 item 2)


def landmarks(rng: np.random.Generator) -> np.ndarray:
    """Regression outputs with a large common offset: 71 (x, y) pairs around (120, 80) pixels, spread ~15 px."""
    return (np.array([120.0, 80.0] * 71) + rng.normal(0, 15, (32, 142))).astype(np.float32)


def test_an_offset_cosine_cannot_see_is_caught_by_the_error_against_the_spread() -> None:
    """Landmarks moved by 4 px (as six corrupted max-pool nodes moved iris_landmark's): cosine stays near 0.997."""
    reference = landmarks(np.random.default_rng(3))
    moved = reference + np.float32(4.0) + np.random.default_rng(4).normal(0, 2, reference.shape).astype(np.float32)
    numerics = compare_one(moved, reference, None, 0.97, 0.99)
    head = numerics.outputs[0]
    assert head.cosine is not None and head.cosine > 0.99  # cosine alone would pass it
    assert not numerics.passed and numerics.failure == FailureClass.DRIFT
    assert head.rel_error is not None and head.rel_error > 0.15 and head.rms_diff == pytest.approx(4.47, rel=0.05)
    message = accuracy.numerics_message(numerics, "gpu")
    assert message.startswith("gpu outputs differ") and "drift: " in message and "of the reference's spread" in message


def test_float_kernels_rounding_apart_pass() -> None:
    reference = landmarks(np.random.default_rng(5))
    close = reference * np.float32(1 + 1e-6)
    assert compare_one(close, reference, None, 0.97, 0.99).passed


QUANTISED = Precision(True, [OutputPrecision(1 / 256, 0.0, 255 / 256)])  # uint8, scale 1/256, zero point 0


def test_a_one_value_output_gets_no_cosine_and_one_step_is_no_error() -> None:
    """okay_nabu's single uint8 score: a 1-LSB difference was cosine 0 and SNR -300 dB; now it is 1 step."""
    reference = np.zeros((32, 1, 1), np.float32)
    one_step = reference.copy()
    one_step[5] = 1 / 256
    numerics = accuracy.compare([one_step], [reference], ["dense_1"], [None], 0.97, 0.99, QUANTISED)
    assert numerics is not None and numerics.passed and numerics.output == "0 dense_1"
    head = numerics.outputs[0]
    assert head.cosine is None and head.snr_db is None and head.min_cosine is None
    assert head.max_steps == pytest.approx(1.0) and head.step == 1 / 256 and head.max_abs_diff == pytest.approx(1 / 256)


def test_a_quantised_output_is_allowed_its_steps_and_no_more() -> None:
    rng = np.random.default_rng(6)
    reference = np.round(rng.uniform(0.3, 0.7, (32, 16)) * 256) / 256
    within = reference + rng.choice([-2, 0, 2], reference.shape) / 256  # RMS 1.6 steps
    beyond = reference + rng.choice([-24, 24], reference.shape) / 256  # RMS 24 steps: past 3 steps and half the spread
    ok = accuracy.compare([within.astype(np.float32)], [reference], ["p"], [None], 0.97, 0.99, QUANTISED)
    bad = accuracy.compare([beyond.astype(np.float32)], [reference], ["p"], [None], 0.97, 0.99, QUANTISED)
    assert ok is not None and ok.passed and ok.max_steps_allowed == 3.0
    assert bad is not None and not bad.passed and bad.failure == FailureClass.DRIFT
    assert bad.outputs[0].max_steps == pytest.approx(24.0)


def test_an_integer_variant_is_not_held_to_float_cosine() -> None:
    """Honest int8 kernels round apart layer by layer: cosine 0.98 with an error well inside the spread."""
    rng = np.random.default_rng(7)
    reference = rng.normal(0, 1, (32, 64)).astype(np.float32)
    rounded = reference + rng.normal(0, 0.2, reference.shape).astype(np.float32)  # 20 % of the spread
    integer = Precision(True, [OutputPrecision(None)])
    assert not compare_one(rounded, reference, None, 0.97, 0.99).passed  # a float variant this far off is wrong
    found = accuracy.compare([rounded], [reference], ["y"], [None], 0.97, 0.99, integer)
    assert found is not None and found.passed and found.max_error_allowed == 0.5


@pytest.mark.parametrize(
    "broken,failure",
    [
        (lambda r: np.full_like(r, np.nan), FailureClass.NOT_FINITE),
        (lambda r: np.zeros_like(r), FailureClass.ALL_ZEROS),
        (lambda r: np.where(r > 0.5, 255 / 256, 0.0).astype(np.float32), FailureClass.SATURATED),
        (lambda r: (r + np.float32(0.2)).astype(np.float32), FailureClass.DRIFT),
    ],
    ids=["nan", "zeros", "saturated", "drift"],
)
def test_a_wrong_output_names_its_failure_class(broken: Callable[[np.ndarray], np.ndarray], failure: str) -> None:
    reference = np.random.default_rng(8).uniform(0.3, 0.7, (16, 32)).astype(np.float32)
    numerics = accuracy.compare([broken(reference)], [reference], ["p"], [None], 0.97, 0.99, QUANTISED)
    assert numerics is not None and not numerics.passed and numerics.failure == failure
    assert accuracy.numerics_message(numerics, "gpu").startswith(
        f"gpu outputs differ from the same variant on the host's reference kernels: {failure}: "
    )


def test_identical_outputs_never_fail_nan_included() -> None:
    """The reference kernels against themselves: the same NaN on both sides is no difference."""
    reference = np.random.default_rng(9).random((8, 10)).astype(np.float32)
    reference[2, 3] = np.nan
    assert compare_one(reference.copy(), reference, 10, 1.0, 1.0).passed


def test_labels_score_the_class_head_never_a_larger_regression_head() -> None:
    """Two heads the labels could index (iris_landmark: 213 and 15 values): only the one nearest in size counts."""
    rng = np.random.default_rng(10)
    heads = [rng.normal(0, 5, (12, 213)).astype(np.float32), rng.normal(0, 5, (12, 15)).astype(np.float32)]
    labels = rng.integers(0, 15, 12)
    assert accuracy.class_counts(heads, labels, "auto") == [None, 15]
    boxes = rng.normal(0, 1, (12, 4)).astype(np.float32)
    scores = accuracy.score([boxes, heads[1]], labels, None, "auto", ["box", "classes"], labels_output=1)
    assert scores.top1 is not None and scores.task == "classification"
    assert accuracy.resolve_output("classes", ["box", "classes"], ["Identity", "Identity_1"]) == 1
    assert accuracy.resolve_output("Identity", ["box", "classes"], ["Identity", "Identity_1"]) == 0
    assert accuracy.resolve_output("7", ["box", "classes"], ["Identity", "Identity_1"]) is None
