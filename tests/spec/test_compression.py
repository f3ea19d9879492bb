"""Compression beyond TFMOT's unstructured techniques: BatchNorm folded before QAT, channel pruning to a smaller
dense model (distilled from the original), low-rank factorisation, and the warning for a variant that loses
accuracy. On the bundled example and on small tf_keras models built here (``tests/support/keras_models.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from converter.techniques import RECOVERY_LR, FineTune, recovering
from edgebench_records import VariantRecord, VariantState
from edgebench_records.catalogue import Options


def test_the_accuracy_warning_names_the_drop_and_what_to_try() -> None:
    from converter.remedies import accuracy_warning, flag_accuracy_losses
    from converter.variants import Made

    def record(name: str, top1: float) -> VariantRecord:
        return VariantRecord(name, VariantState.OK, "recipe", host_top1=top1)

    assert accuracy_warning(record("pruned", 0.939), 0.989) == (
        "warning: -5.0 points top-1 vs fp32: try more --epochs or a lower --sparsity"
    )
    assert accuracy_warning(record("channel_pruned_int8", 0.90), 0.989) == (
        "warning: -8.9 points top-1 vs fp32: try more --epochs or a higher --channel-ratio"
    )
    assert accuracy_warning(record("int8", 0.95), 0.989) == (
        "warning: -3.9 points top-1 vs fp32: try qat_int8 (its ranges are learned)"
    )
    assert accuracy_warning(record("clustered", 0.97), 0.989) is None  # within 2 points
    assert accuracy_warning(record("fp16", 0.5), None) is None  # no labels: nothing to compare
    (flagged,) = flag_accuracy_losses([Made(record("low_rank", 0.5))], 0.989)
    assert flagged.record.notes == [
        "warning: -48.9 points top-1 vs fp32: try more --epochs or a higher --low-rank-energy"
    ]


def test_a_structural_change_recovers_for_longer_and_still_reports_epochs_epochs() -> None:
    seen: list[tuple[int, int]] = []
    factor = Options().recovery_factor
    tune = recovering(FineTune(3, 1e-4, 32, lambda epoch, total: seen.append((epoch, total))), factor)
    assert factor == 20 and tune.epochs == 3 * factor and tune.learning_rate == pytest.approx(1e-4 * RECOVERY_LR)
    for epoch in range(1, tune.epochs + 1):
        tune.on_epoch(epoch, tune.epochs)
    assert seen == [(1, 3), (2, 3), (3, 3)]  # what the progress bar counts per fine-tuned variant


def test_only_a_single_batch_of_images_is_shifted_while_it_is_distilled() -> None:
    from converter.techniques import TrainingSet, image_side

    def inputs(*shapes: tuple[int, ...]) -> TrainingSet:
        return TrainingSet([np.zeros(shape, np.float32) for shape in shapes], [], [])

    assert image_side(inputs((4, 32, 24, 3))) == 24
    assert image_side(inputs((4, 28, 28, 1))) == 28
    assert image_side(inputs((4, 49, 40))) is None  # a spectrogram without channels: not moved
    assert image_side(inputs((4, 8, 8, 16))) is None  # 16 channels: a feature map, not an image
    assert image_side(inputs((4, 4, 4, 3))) is None  # too small to move
    assert image_side(inputs((4, 32, 32, 3), (4, 10))) is None  # two inputs: which one would move?
