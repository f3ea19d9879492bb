"""Numbers you can trust: a cell's outputs are held to the same variant on the host's reference kernels
(wrong numbers are wrong_output, whatever the delegate claims), and an accelerator that is not on the device
is delegate_unavailable with a sentence, whatever the CompiledModel API says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device_runner import accuracy
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
    swapped = reference[:, list(range(98)) + [99, 98]]  # every argmax changes; RMS error 2.8 % of the spread
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
