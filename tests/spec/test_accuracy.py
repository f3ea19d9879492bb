"""Accuracy arithmetic, checked against cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from device_runner.accuracy import class_counts, score
from device_runner.engines import dequantize_output, quantize_input
from edgebench_records import SNR_CAP_DB, TensorInfo

INT8 = TensorInfo(name="t", shape=[5], dtype="int8", scale=0.5, zero_point=-10)


def test_score_against_labels_and_the_host_fp32_reference() -> None:
    outputs = np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6]], dtype=np.float32)
    labels = np.array([1, 1, 1])
    reference = np.array([[0.2, 0.8], [0.7, 0.3], [0.7, 0.3]], dtype=np.float32)
    result = score([outputs], labels, [reference])
    # predictions 1, 0, 1: right, wrong, right; reference argmax 1, 0, 0: agree, agree, disagree
    assert result.correct == [True, False, True]
    assert result.top1 == pytest.approx(2 / 3)
    assert result.fp32_agreement == pytest.approx(2 / 3)
    # |diff| = .1 .1 / .1 .1 / .3 .3
    assert result.max_abs_diff == pytest.approx(0.3)
    assert result.mean_abs_diff == pytest.approx(1 / 6)


def test_score_without_labels_or_reference_reports_none_with_the_reason_rather_than_zero() -> None:
    result = score([np.eye(3, dtype=np.float32)], None, None)
    assert (result.top1, result.top5, result.mae, result.fp32_agreement, result.max_abs_diff) == (None,) * 5
    assert result.labels_note == "no labels" and result.reference_note.startswith("no host fp32 reference")
    assert result.outputs == [] and result.correct == []


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return np.asarray(e / e.sum(axis=-1, keepdims=True), dtype=np.float32)


RNG = np.random.default_rng(0)
PROBABILITIES = softmax(RNG.standard_normal((12, 1, 6)))  # batch axis kept, as the engines give it
LOGITS = RNG.standard_normal((12, 6)).astype(np.float32) * 3
BOXES = RNG.random((12, 4, 2)).astype(np.float32) * 100  # two axes: no class distribution
LANDMARKS = RNG.random((12, 63)).astype(np.float32) * 224  # one axis, but neither probabilities nor indexed


def test_a_softmax_head_is_a_class_distribution_and_other_heads_are_not() -> None:
    assert class_counts([PROBABILITIES, BOXES, LANDMARKS], None, "auto") == [6, None, None]


def test_logits_count_as_classes_only_when_class_id_labels_index_them() -> None:
    assert class_counts([LOGITS], None, "auto") == [None]
    assert class_counts([LOGITS], np.arange(12) % 6, "auto") == [6]
    assert class_counts([LOGITS], np.arange(12) + 6, "auto") == [None]  # ids past the count: not its classes


def test_the_task_overrides_the_guess() -> None:
    assert class_counts([LOGITS, BOXES], None, "classification") == [6, 8]
    assert class_counts([PROBABILITIES], np.zeros(12, int), "regression") == [None]
    assert class_counts([PROBABILITIES], None, "other") == [None]


def test_top_5_is_measured_for_five_classes_or_more() -> None:
    labels = PROBABILITIES.reshape(12, 6).argsort(axis=1)[:, -5]  # each sample's 5th most likely class
    result = score([PROBABILITIES], labels, None)
    assert result.top1 == 0.0 and result.top5 == 1.0 and result.task == "classification"
    assert score([softmax(LOGITS[:, :4])], labels % 4, None).top5 is None


def test_every_head_is_compared_and_the_scored_one_is_the_first_class_distribution() -> None:
    reference = [BOXES, PROBABILITIES]
    outputs = [BOXES + np.float32(1.0), PROBABILITIES.copy()]
    result = score(outputs, None, reference, names=["boxes", "scores"])
    assert [(h.index, h.name, h.classes) for h in result.outputs] == [(0, "boxes", None), (1, "scores", 6)]
    boxes, scores = result.outputs
    assert boxes.agreement is None and boxes.max_abs_diff == pytest.approx(1.0)
    assert boxes.cosine is not None and boxes.cosine < 1.0
    assert scores.agreement == 1.0 and scores.snr_db == SNR_CAP_DB  # identical: the cap, JSON has no infinity
    assert (result.fp32_agreement, result.max_abs_diff, result.agree) == (1.0, 0.0, [True] * 12)
    assert result.reference_note == ""


def test_snr_is_the_reference_energy_over_the_difference_energy_in_db() -> None:
    reference = np.ones((4, 10), np.float32)
    (head,) = score([reference * np.float32(1.1)], None, [reference], "regression").outputs
    assert head.snr_db == pytest.approx(20.0, abs=1e-4)  # difference 0.1 of the signal: 10 log10(1 / 0.01)


def test_a_model_without_class_outputs_has_no_agreement_and_says_why() -> None:
    result = score([LANDMARKS], None, [LANDMARKS])
    assert result.fp32_agreement is None and result.max_abs_diff == 0.0 and result.task == "other"
    assert "no output is a class distribution" in result.reference_note


def test_regression_labels_are_scored_by_mean_absolute_error() -> None:
    targets = RNG.random((12, 2)).astype(np.float32)
    outputs = [PROBABILITIES, targets + np.float32(0.25)]  # the head the labels' size matches
    result = score(outputs, targets, None, "regression")
    assert result.mae == pytest.approx(0.25) and result.top1 is None and result.task == "regression"


def test_float_labels_of_a_size_no_output_has_are_said_so() -> None:
    result = score([LANDMARKS], RNG.random((12, 5)), None)
    assert result.mae is None and "labels of 5 values a sample match no output" in result.labels_note


def test_class_ids_stored_as_floats_are_class_ids() -> None:
    labels = PROBABILITIES.reshape(12, 6).argmax(axis=1).astype(np.float32)
    assert score([PROBABILITIES], labels, None).top1 == 1.0


def test_integer_inputs_are_quantised_with_the_tensor_scale_and_zero_point_and_clipped() -> None:
    x = np.array([0.0, 1.0, 2.26, 1000.0, -1000.0])
    assert quantize_input(x, INT8).tolist() == [-10, -8, -5, 127, -128]


def test_integer_outputs_are_dequantised_before_comparison() -> None:
    assert dequantize_output(np.array([-10, -8, 0], dtype=np.int8), INT8).tolist() == [0.0, 1.0, 5.0]


def test_float_tensors_pass_through_as_float32() -> None:
    tensor = TensorInfo(name="t", shape=[1], dtype="float32", scale=0.0, zero_point=0)
    assert quantize_input(np.array([3], dtype=np.uint8), tensor).dtype == np.float32
