"""Collaborative optimisation (TFMOT's stacked techniques) on the bundled example: the int8 model keeps what the
technique before it made — the pruned zeros through quantisation-aware training (pqat_int8), the clusters through
it (cqat_int8), both through clustering and QAT (pcqat_int8, pruned_clustered_int8) — read from the .tflite, with
int8's ops and about int8's accuracy. One epoch per stage here; the figures at the defaults are in the README."""

from __future__ import annotations

from typing import Any

import pytest

from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records import Manifest, VariantRecord, WeightStats
from edgebench_records.catalogue import Options
from tests.conftest import sharing_variants

OPTIONS = Options(epochs=1)
STACKED = ("pqat_int8", "cqat_int8", "pruned_clustered_int8", "pcqat_int8")
KEEP_ZEROS = ("pqat_int8", "pruned_clustered_int8", "pcqat_int8")
KEEP_CLUSTERS = ("cqat_int8", "pruned_clustered_int8", "pcqat_int8")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Manifest, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    variants = ["fp32", "int8", "pruned_int8", "clustered_int8", *STACKED]
    manifest, _ = convert(
        EXAMPLE_MODEL,
        EXAMPLE_DATA,
        variants,
        sharing_variants(tmp_path_factory, tmp_path_factory.mktemp("stacked")),  # int8s test_every_variant makes too
        options=OPTIONS,
        on_event=events.append,
    )
    return manifest, events


def _variant(manifest: Manifest, name: str) -> VariantRecord:
    record = manifest.variant(name)
    assert record is not None, name
    assert record.status == "ok", f"{name}: {record.message}"
    return record


def _wrapped(record: VariantRecord) -> dict[tuple[int, ...], WeightStats]:
    """The kernels TFMOT prunes and clusters here, by shape (each is unique in the example): 1×1 convolutions
    (O,1,1,I) and the Dense layer (O,I); it leaves the depthwise kernels alone."""
    kernels = [w for w in record.weights if len(w.shape) == 2 or (len(w.shape) == 4 and w.shape[1:3] == [1, 1])]
    assert len(kernels) == 7, record.name
    return {tuple(w.shape): w for w in kernels}


@pytest.mark.slow
def test_stacked_variants_have_int8s_ops_and_about_its_accuracy(example: tuple[Manifest, list[dict[str, Any]]]) -> None:
    manifest, _ = example
    int8 = _variant(manifest, "int8")
    assert int8.figures is not None and int8.host_top1 is not None
    for name in STACKED:
        record = _variant(manifest, name)
        assert record.figures is not None and record.host_top1 is not None
        assert record.figures.ops == int8.figures.ops, name  # BatchNorm folded, ReLUs fused: nothing left over
        # no worse than the single technique + int8 it builds on (one epoch a stage; at the defaults: README)
        alone = _variant(manifest, "clustered_int8" if name == "cqat_int8" else "pruned_int8")
        assert record.host_top1 >= alone.host_top1 - 0.02, name  # type: ignore[operator]
        assert record.host_top1 > 0.85, name


@pytest.mark.slow
def test_the_zeros_survive_quantisation_aware_training_and_clustering(
    example: tuple[Manifest, list[dict[str, Any]]],
) -> None:
    manifest, _ = example
    pruned = _variant(manifest, "pruned_int8")
    assert pruned.sparsity is not None and pruned.sparsity > 0.4
    for name in KEEP_ZEROS:
        record = _variant(manifest, name)
        assert record.sparsity is not None and abs(record.sparsity - pruned.sparsity) < 0.01, name
        for shape, kernel in _wrapped(record).items():
            assert abs(kernel.zero_fraction - OPTIONS.sparsity) <= 0.02, (name, kernel)
            assert abs(kernel.zero_fraction - _wrapped(pruned)[shape].zero_fraction) <= 0.02, (name, kernel)


@pytest.mark.slow
def test_the_clusters_survive_quantisation_aware_training(example: tuple[Manifest, list[dict[str, Any]]]) -> None:
    manifest, _ = example
    # without clustering each of these kernels holds far more values per output channel
    assert max(w.unique_per_channel_max for w in _wrapped(_variant(manifest, "int8")).values()) > 4 * OPTIONS.clusters
    for name in KEEP_CLUSTERS:
        for kernel in _wrapped(_variant(manifest, name)).values():
            # each output channel has a scale of its own in int8, so the count holds per channel
            assert kernel.unique_per_channel_max <= OPTIONS.clusters, (name, kernel)


@pytest.mark.slow
def test_a_stacked_variant_reports_epochs_epochs_however_many_stages_it_runs(
    example: tuple[Manifest, list[dict[str, Any]]],
) -> None:
    _, events = example
    for name in STACKED:
        epochs = [(e["epoch"], e["epochs"]) for e in events if e["event"] == "epoch" and e["name"] == name]
        assert epochs == [(1, OPTIONS.epochs)], name  # what the progress bar counts per fine-tuned variant
