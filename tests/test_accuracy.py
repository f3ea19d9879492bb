"""Accuracy arithmetic, checked against cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from device_runner.accuracy import score
from device_runner.engines import dequantize_output, quantize_input
from device_runner.flatbuffer import TensorInfo

INT8 = TensorInfo(name="t", shape=[5], dtype="int8", scale=0.5, zero_point=-10)


def test_score_against_labels_and_the_host_fp32_reference() -> None:
    outputs = np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6]], dtype=np.float32)
    labels = np.array([1, 1, 1])
    reference = np.array([[0.2, 0.8], [0.7, 0.3], [0.7, 0.3]], dtype=np.float32)
    result = score(outputs, labels, reference)
    # predictions 1, 0, 1: right, wrong, right; reference argmax 1, 0, 0: agree, agree, disagree
    assert result.correct == [True, False, True]
    assert result.top1 == pytest.approx(2 / 3)
    assert result.fp32_agreement == pytest.approx(2 / 3)
    # |diff| = .1 .1 / .1 .1 / .3 .3
    assert result.max_abs_diff == pytest.approx(0.3)
    assert result.mean_abs_diff == pytest.approx(1 / 6)


def test_score_without_labels_or_reference_reports_none_rather_than_zero() -> None:
    result = score(np.eye(3, dtype=np.float32), None, None)
    assert (result.top1, result.fp32_agreement, result.max_abs_diff) == (None, None, None)


def test_integer_inputs_are_quantised_with_the_tensor_scale_and_zero_point_and_clipped() -> None:
    x = np.array([0.0, 1.0, 2.26, 1000.0, -1000.0])
    assert quantize_input(x, INT8).tolist() == [-10, -8, -5, 127, -128]


def test_integer_outputs_are_dequantised_before_comparison() -> None:
    assert dequantize_output(np.array([-10, -8, 0], dtype=np.int8), INT8).tolist() == [0.0, 1.0, 5.0]


def test_float_tensors_pass_through_as_float32() -> None:
    tensor = TensorInfo(name="t", shape=[1], dtype="float32", scale=0.0, zero_point=0)
    assert quantize_input(np.array([3], dtype=np.uint8), tensor).dtype == np.float32
