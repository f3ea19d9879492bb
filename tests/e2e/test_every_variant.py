"""Every variant of the bundled example, made in one conversion: what each technique makes and keeps, read from
the .tflite files. Sizes fall fp32 → fp16 → int8; pruned kernels hold the target sparsity and clustered ones the
cluster count; BatchNorm is folded before QAT; channel pruning makes a smaller dense model distilled from the
original; low-rank factorises only where a layer gets smaller; a variant that loses accuracy carries a warning.

One conversion serves them all because each conversion of the example costs CI minutes (fine-tuning, and
TensorFlow's start-up in every converter process). Two families are made once, by the modules that hold their
specs, not again here: the stacked variants convert at one epoch a stage (test_collaborative.py: how close each
stays to the technique it builds on is a one-epoch figure), the distilled ones into a real student
(test_student.py: the example distilled into itself shows nothing). A spec below holds that every recipe is made
by one of the three."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from converter.recipes import RECIPES
from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records import Manifest, VariantRecord, WeightStats
from edgebench_records.catalogue import Options
from tests.conftest import sharing_variants, variant_of
from tests.e2e.test_collaborative import STACKED
from tests.e2e.test_student import DISTILLED

pytestmark = pytest.mark.slow
# One epoch, and the structural variants recover for 5 (the defaults: 3, and 20x that): fine-tuning is most of
# this module's time, and these specs ask that every variant is made, runs as a classifier (above 85 % on ten
# classes) and keeps what its technique promises; what each reaches at the defaults is bench_compression's figure.
OPTIONS = dataclasses.replace(Options(), epochs=1, recovery_factor=5)
WORKS = 0.85  # host top-1 of a variant that works (pruned reads 0.89 after one epoch, 0.97 after three)
ELSEWHERE = {**dict.fromkeys(STACKED, "test_collaborative.py"), **dict.fromkeys(DISTILLED, "test_student.py")}
MADE_HERE = [name for name in RECIPES if name not in ELSEWHERE]


@dataclasses.dataclass(frozen=True)
class Conversion:
    manifest: Manifest
    directory: Path


@pytest.fixture(scope="module")
def every(tmp_path_factory: pytest.TempPathFactory) -> Conversion:
    out = sharing_variants(tmp_path_factory, tmp_path_factory.mktemp("all"))  # int8s test_collaborative makes too
    return Conversion(*convert(EXAMPLE_MODEL, EXAMPLE_DATA, MADE_HERE, out, options=OPTIONS))


def wrapped(record: VariantRecord) -> dict[tuple[int, ...], WeightStats]:
    """The kernels TFMOT prunes and clusters here, by shape (each is unique in the example): 1×1 convolutions
    (O,1,1,I) and the Dense layer (O,I); it leaves the depthwise kernels and the first 3×3 convolution alone."""
    kernels = [w for w in record.weights if len(w.shape) == 2 or (len(w.shape) == 4 and w.shape[1:3] == [1, 1])]
    assert len(kernels) == 7, record.name
    return {tuple(w.shape): w for w in kernels}


def made(every: Conversion, name: str) -> VariantRecord:
    record = variant_of(every.manifest, name)
    assert record.status == "ok", f"{name}: {record.message}"
    return record


def test_every_recipe_is_made_here_or_by_the_module_that_holds_its_specs() -> None:
    assert set(ELSEWHERE) <= set(RECIPES)  # a recipe renamed or dropped must leave these lists too
    assert set(DISTILLED) == {name for name, recipe in RECIPES.items() if "student" in recipe.reads}


def test_every_variant_is_made_and_runs_in_litert(every: Conversion) -> None:
    assert [v.name for v in every.manifest.variants] == MADE_HERE
    for record in every.manifest.variants:
        assert record.status == "ok", f"{record.name}: {record.message}"
        assert record.file and (every.directory / record.file).exists()
        assert record.host_top1 is not None and record.host_top1 > WORKS  # ran on the host's LiteRT
        assert record.ops and record.inputs and record.outputs and record.recipe


def test_sizes_fall_fp32_then_fp16_then_int8(every: Conversion) -> None:
    size = {v.name: v.size_bytes for v in every.manifest.variants}
    assert size["int8"] < size["fp16"] < size["fp32"]  # type: ignore[operator]


def test_pruned_kernels_reach_the_target_sparsity(every: Conversion) -> None:
    for variant in ("pruned", "pruned_int8", "pruned_2x4"):
        for weights in wrapped(made(every, variant)).values():
            assert abs(weights.zero_fraction - OPTIONS.sparsity) <= 0.02, (variant, weights)


def test_clustered_kernels_hold_at_most_the_cluster_count_of_values(every: Conversion) -> None:
    kernels = wrapped(made(every, "clustered")).values()
    # BatchNorm folding rescales each output channel, so the count holds per channel
    assert all(w.unique_per_channel_max <= OPTIONS.clusters for w in kernels)
    dense = [w for w in kernels if len(w.shape) == 2]
    assert dense and all(w.unique <= OPTIONS.clusters for w in dense)


def test_pruned_and_clustered_download_well_below_fp32(every: Conversion) -> None:
    gzip = {v.name: v.gzip_bytes or 0 for v in every.manifest.variants}
    for variant in ("pruned", "clustered"):
        assert gzip[variant] < 0.75 * gzip["fp32"], (variant, gzip)


def test_quantisation_aware_int8_stays_within_two_points_of_fp32_and_folds_batchnorm(every: Conversion) -> None:
    fp32, int8, qat = made(every, "fp32"), made(every, "int8"), made(every, "qat_int8")
    assert qat.host_top1 is not None and fp32.host_top1 is not None and qat.host_top1 >= fp32.host_top1 - 0.02
    assert int8.figures is not None and qat.figures is not None
    assert qat.figures.ops == int8.figures.ops  # no MUL/ADD left over from an unfolded BatchNorm
    assert qat.figures.total_params == int8.figures.total_params


def test_channel_pruning_makes_a_smaller_dense_model_of_the_same_ops(every: Conversion) -> None:
    fp32 = made(every, "fp32")
    assert fp32.figures is not None
    for name in ("channel_pruned", "channel_pruned_int8"):
        record = made(every, name)
        assert record.figures is not None and record.sparsity is not None
        assert record.figures.total_params < 0.45 * fp32.figures.total_params  # 0.55 of the filters: ~0.3 of 1x1s
        assert record.figures.flops < 0.5 * fp32.figures.flops
        assert set(record.figures.ops) == set(fp32.figures.ops)  # nothing added: a dense model, just narrower
        assert record.sparsity < 0.05  # removed, not zeroed
        assert "distilled" in record.recipe


def test_a_pair_s_int8_variant_converts_the_model_its_float_variant_fine_tuned(every: Conversion) -> None:
    float32, int8 = made(every, "channel_pruned"), made(every, "channel_pruned_int8")
    assert float32.finetune_s is not None and float32.finetune_s > 0
    assert int8.finetune_s == 0  # not trained again ...
    assert "the fine-tuned model of both channel_pruned variants, trained once" in int8.notes
    assert float32.figures is not None and int8.figures is not None
    assert int8.figures.total_params == float32.figures.total_params  # ... the same network, quantised
    assert int8.host_top1 is not None and float32.host_top1 is not None
    assert abs(int8.host_top1 - float32.host_top1) <= 0.02


def test_low_rank_factorises_only_where_the_layer_gets_smaller(every: Conversion) -> None:
    fp32, low = made(every, "fp32"), made(every, "low_rank")
    assert low.figures is not None and fp32.figures is not None
    assert low.figures.total_params < fp32.figures.total_params
    # each factorised kernel is two layers: more CONV_2D / FULLY_CONNECTED nodes, nothing else new
    assert set(low.figures.ops) == set(fp32.figures.ops)
    assert sum(low.figures.ops.values()) > sum(fp32.figures.ops.values())


def test_a_variant_that_loses_accuracy_carries_a_warning_in_the_manifest(every: Conversion) -> None:
    fp32 = made(every, "fp32")
    assert fp32.host_top1 is not None and not any(n.startswith("warning") for n in fp32.notes)
    for record in every.manifest.variants:
        lost = record.host_top1 is not None and record.host_top1 < fp32.host_top1 - 0.02
        warned = [n for n in record.notes if n.startswith("warning: ") and "points top-1 vs fp32" in n]
        assert bool(warned) == lost, record.name
