"""Collaborative optimisation (TFMOT's stacked techniques) on the bundled example: the int8 model keeps what the
technique before it made — the pruned zeros through quantisation-aware training (pqat_int8), the clusters through
it (cqat_int8), both through clustering and QAT (pcqat_int8, pruned_clustered_int8) — read from the .tflite, with
int8's ops and about int8's accuracy. One epoch per stage here; the figures at the defaults are in the README."""

from __future__ import annotations

from converter.techniques import FineTune, stages


def test_stages_report_one_epoch_for_every_stage_count_epochs_run() -> None:
    seen: list[tuple[int, int]] = []
    first, second = stages(FineTune(3, 1e-4, 32, lambda epoch, total: seen.append((epoch, total))), 2)
    for stage in (first, second):
        assert stage.epochs == 3  # each stage runs the full --epochs
        for epoch in range(1, 4):
            stage.on_epoch(epoch, 3)
    assert seen == [(1, 3), (2, 3), (3, 3)]
