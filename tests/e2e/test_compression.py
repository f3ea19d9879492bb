"""Channel pruning on model shapes the bundled example does not have (residual Adds, Sequential models,
keras.applications' MobileNetV2, a LayerNormalization it cannot map), on small tf_keras models built here
(``tests/support/keras_models.py``). On the example itself: test_every_variant.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edgebench.conversion import convert
from edgebench_records import VariantRecord
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
