"""Compression beyond TFMOT's unstructured techniques: BatchNorm folded before QAT, channel pruning to a smaller
dense model (distilled from the original), low-rank factorisation, and the warning for a variant that loses
accuracy. On the bundled example and on small tf_keras models built here (``tests/support/keras_models.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records import Manifest, VariantRecord
from edgebench_records.catalogue import Options
from tests.conftest import variant_of

# One epoch, and a structural variant's recovery 5 of them rather than 20: these specs check what each technique
# makes, and that it still works (top-1 above 70 %); what it reaches at the defaults is bench_compression's figure.
OPTIONS_1: dict[str, Any] = {"epochs": 1, "recovery_factor": 5}


def _options(**changes: Any) -> Options:
    return Options(**{**OPTIONS_1, **changes})


def _structure_only(**changes: Any) -> Options:
    """For specs of the shape channel pruning makes, not of how well it recovers: one recovery epoch."""
    return _options(recovery_factor=1, **changes)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    variants = ["fp32", "int8", "qat_int8"]
    manifest, _ = convert(EXAMPLE_MODEL, EXAMPLE_DATA, variants, tmp_path_factory.mktemp("example"), options=_options())
    return manifest


@pytest.mark.slow
def test_qat_int8_folds_batchnorm_into_the_same_ops_as_int8(example: Manifest) -> None:
    int8, qat = variant_of(example, "int8"), variant_of(example, "qat_int8")
    assert qat.status == "ok", qat.message
    assert int8.figures is not None and qat.figures is not None
    assert qat.figures.ops == int8.figures.ops  # no MUL/ADD left over from an unfolded BatchNorm
    assert qat.figures.total_params == int8.figures.total_params
    assert qat.host_top1 is not None and qat.host_top1 >= variant_of(example, "fp32").host_top1 - 0.02  # type: ignore[operator]


@pytest.fixture(scope="module")
def pruned_example(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    variants = ["fp32", "channel_pruned", "channel_pruned_int8", "low_rank"]
    manifest, _ = convert(EXAMPLE_MODEL, EXAMPLE_DATA, variants, tmp_path_factory.mktemp("pruned"), options=_options())
    return manifest


@pytest.mark.slow
def test_channel_pruning_makes_a_smaller_dense_model_of_the_same_ops(pruned_example: Manifest) -> None:
    fp32 = variant_of(pruned_example, "fp32")
    assert fp32.figures is not None
    for name in ("channel_pruned", "channel_pruned_int8"):
        record = variant_of(pruned_example, name)
        assert record.status == "ok", record.message
        assert record.figures is not None and record.sparsity is not None
        assert record.figures.total_params < 0.45 * fp32.figures.total_params  # 0.55 of the filters: ~0.3 of 1x1s
        assert record.figures.flops < 0.5 * fp32.figures.flops
        assert set(record.figures.ops) == set(fp32.figures.ops)  # nothing added: a dense model, just narrower
        assert record.sparsity < 0.05  # removed, not zeroed
        assert record.host_top1 is not None and record.host_top1 > 0.7  # 5 epochs; at the defaults: docs/converting.md
        assert "distilled" in record.recipe


@pytest.mark.slow
def test_a_pair_s_int8_variant_converts_the_model_its_float_variant_fine_tuned(pruned_example: Manifest) -> None:
    float32, int8 = variant_of(pruned_example, "channel_pruned"), variant_of(pruned_example, "channel_pruned_int8")
    assert float32.finetune_s is not None and float32.finetune_s > 0
    assert int8.finetune_s == 0  # not trained again ...
    assert "the fine-tuned model of both channel_pruned variants, trained once" in int8.notes
    assert float32.figures is not None and int8.figures is not None
    assert int8.figures.total_params == float32.figures.total_params  # ... the same network, quantised
    assert int8.host_top1 is not None and float32.host_top1 is not None
    assert abs(int8.host_top1 - float32.host_top1) <= 0.02


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["residual_cnn", "sequential_cnn", "mobilenet_v2"])
def test_channel_pruning_carries_residuals_batchnorm_depthwise_and_pooling(kind: str, tmp_path: Path) -> None:
    from tests.support.keras_models import build

    built = build(kind, tmp_path / kind)
    variants = ["fp32", "channel_pruned", "channel_pruned_int8"]
    options = _structure_only()
    manifest, _ = convert(built / "model.keras", built / "data.npz", variants, tmp_path / "out", options=options)
    fp32 = variant_of(manifest, "fp32")
    for name in variants[1:]:
        record = variant_of(manifest, name)
        assert record.status == "ok", f"{name}: {record.message}"
        assert record.figures is not None and fp32.figures is not None
        assert record.figures.total_params < fp32.figures.total_params, name


@pytest.mark.slow
def test_a_residual_stream_is_kept_whole_unless_stream_ratio_says_otherwise(tmp_path: Path) -> None:
    from tests.support.keras_models import build

    built = build("residual_cnn", tmp_path / "model")

    def pruned(streams: float) -> VariantRecord:
        variants, options = ["fp32", "channel_pruned"], _structure_only(stream_ratio=streams)
        out = tmp_path / str(streams)
        manifest, _ = convert(built / "model.keras", built / "data.npz", variants, out, options=options)
        record, fp32 = variant_of(manifest, "channel_pruned"), variant_of(manifest, "fp32")
        assert record.status == "ok", record.message
        assert record.figures is not None and fp32.figures is not None
        assert record.figures.total_params < fp32.figures.total_params
        return record

    kept, cut = pruned(1.0), pruned(0.5)
    assert "residual streams kept whole" in kept.recipe and "residual streams to 0.5" in cut.recipe
    # the stem and the branch that Add ties together lose their filters together, and only when asked
    assert cut.figures is not None and kept.figures is not None
    assert cut.figures.total_params < kept.figures.total_params


@pytest.mark.slow
def test_a_layer_channel_pruning_cannot_map_is_not_applicable_and_named(tmp_path: Path) -> None:
    from tests.support.keras_models import build

    built = build("layer_norm_cnn", tmp_path / "model")
    manifest, _ = convert(
        built / "model.keras", built / "data.npz", ["channel_pruned"], tmp_path / "out", options=_options()
    )
    record = variant_of(manifest, "channel_pruned")
    assert record.status == "not_applicable"
    assert "mixing_norm (LayerNormalization)" in record.message


@pytest.mark.slow
def test_low_rank_factorises_only_where_the_layer_gets_smaller(pruned_example: Manifest) -> None:
    fp32, low = variant_of(pruned_example, "fp32"), variant_of(pruned_example, "low_rank")
    assert low.status == "ok", low.message
    assert low.figures is not None and fp32.figures is not None
    assert low.figures.total_params < fp32.figures.total_params
    # each factorised kernel is two layers: more CONV_2D / FULLY_CONNECTED nodes, nothing else new
    assert set(low.figures.ops) == set(fp32.figures.ops)
    assert sum(low.figures.ops.values()) > sum(fp32.figures.ops.values())
    assert low.host_top1 is not None and low.host_top1 > 0.9


@pytest.mark.slow
def test_a_variant_that_loses_accuracy_carries_a_warning_in_the_manifest(pruned_example: Manifest) -> None:
    fp32 = variant_of(pruned_example, "fp32")
    assert fp32.host_top1 is not None and not any(n.startswith("warning") for n in fp32.notes)
    for record in pruned_example.variants:
        lost = record.host_top1 is not None and record.host_top1 < fp32.host_top1 - 0.02
        warned = [n for n in record.notes if n.startswith("warning: ") and "points top-1 vs fp32" in n]
        assert bool(warned) == lost, record.name
