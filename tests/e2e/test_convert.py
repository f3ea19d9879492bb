"""`edgebench convert`: every variant, with the figures that decide which one ships."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from converter.recipes import RECIPES, Built
from edgebench.cli import invoke
from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records import Manifest
from edgebench_records.catalogue import FINE_TUNED, VARIANTS, Options
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
# The defaults users get: the figures below are what `edgebench convert` promises.
OPTIONS = Options()


@pytest.fixture(scope="module")
def every_variant(tmp_path_factory: pytest.TempPathFactory) -> tuple[Manifest, Path]:
    # the example is its own student here: distilled needs one, and no other variant reads it. The structural
    # variants recover for 5× --epochs (15), not 20× (60): the specs ask that every variant is made, runs above
    # 90 % and keeps what its technique promises; what each reaches at the defaults is bench_compression's figure.
    # (At one epoch, pruned read 89.4 %: the three are kept.)
    options = dataclasses.replace(OPTIONS, student=str(EXAMPLE_MODEL), recovery_factor=5)
    return convert(EXAMPLE_MODEL, EXAMPLE_DATA, list(RECIPES), tmp_path_factory.mktemp("all"), options=options)


def kernels_a_technique_wraps(manifest: Manifest, variant: str) -> list[object]:
    """Weights of 1x1 convolutions (O,1,1,I) and fully connected layers (O,I): what TFMOT prunes and
    clusters here (it leaves depthwise kernels and this model's first 3x3 conv alone)."""
    record = manifest.variant(variant)
    assert record is not None
    return [w for w in record.weights if len(w.shape) == 2 or (len(w.shape) == 4 and w.shape[1:3] == [1, 1])]


def test_every_variant_is_made_and_runs_in_litert(every_variant: tuple[Manifest, Path]) -> None:
    manifest, directory = every_variant
    assert [v.name for v in manifest.variants] == list(RECIPES)
    for record in manifest.variants:
        assert record.status == "ok", f"{record.name}: {record.message}"
        assert record.file and (directory / record.file).exists()
        assert record.host_top1 is not None and record.host_top1 > 0.9  # ran on the host's LiteRT
        assert record.ops and record.inputs and record.outputs and record.recipe


def test_sizes_fall_fp32_then_fp16_then_int8(every_variant: tuple[Manifest, Path]) -> None:
    manifest, _ = every_variant
    size = {v.name: v.size_bytes for v in manifest.variants}
    assert size["int8"] < size["fp16"] < size["fp32"]  # type: ignore[operator]


def test_pruned_kernels_reach_the_target_sparsity(every_variant: tuple[Manifest, Path]) -> None:
    manifest, _ = every_variant
    for variant in ("pruned", "pruned_int8", "pruned_2x4"):
        kernels = kernels_a_technique_wraps(manifest, variant)
        assert kernels
        for weights in kernels:
            assert abs(weights.zero_fraction - OPTIONS.sparsity) <= 0.02, (variant, weights)  # type: ignore[attr-defined]


def test_clustered_kernels_hold_at_most_the_cluster_count_of_values(every_variant: tuple[Manifest, Path]) -> None:
    manifest, _ = every_variant
    for weights in kernels_a_technique_wraps(manifest, "clustered"):
        # BatchNorm folding rescales each output channel, so the count holds per channel
        assert weights.unique_per_channel_max <= OPTIONS.clusters, weights  # type: ignore[attr-defined]
    dense = [w for w in kernels_a_technique_wraps(manifest, "clustered") if len(w.shape) == 2]  # type: ignore[attr-defined]
    assert dense and all(w.unique <= OPTIONS.clusters for w in dense)  # type: ignore[attr-defined]


def test_pruned_and_clustered_download_well_below_fp32(every_variant: tuple[Manifest, Path]) -> None:
    manifest, _ = every_variant
    gzip = {v.name: v.gzip_bytes or 0 for v in manifest.variants}
    for variant in ("pruned", "clustered"):
        assert gzip[variant] < 0.75 * gzip["fp32"], (variant, gzip)


def test_quantisation_aware_int8_stays_within_two_points_of_fp32(every_variant: tuple[Manifest, Path]) -> None:
    manifest, _ = every_variant
    top1 = {v.name: v.host_top1 or 0.0 for v in manifest.variants}
    assert top1["qat_int8"] >= top1["fp32"] - 0.02


def test_an_unchanged_rerun_reuses_the_output_and_force_rebuilds(tmp_path: Path) -> None:
    first, directory = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32"], tmp_path)
    written = (directory / "variants.json").stat().st_mtime_ns
    again, same = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32"], tmp_path)
    assert same == directory and again == first
    assert (directory / "variants.json").stat().st_mtime_ns == written  # read back, not remade
    forced, _ = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32"], tmp_path, force=True)
    assert (directory / "variants.json").stat().st_mtime_ns > written
    assert forced.variants[0].sha256 == first.variants[0].sha256
    _, elsewhere = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32"], tmp_path, options=Options(seed=1))
    assert elsewhere != directory  # the options are part of the key


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    options = Options(epochs=1)
    one, _ = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["pruned"], tmp_path / "a", options=options)
    two, _ = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["pruned"], tmp_path / "b", options=options)
    assert one.variants[0].sha256 == two.variants[0].sha256


@pytest.fixture(scope="module")
def other_formats(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bundled example saved as .h5 and as a SavedModel by tf_keras, in a TF process of its own."""
    out = tmp_path_factory.mktemp("formats")
    script = (
        "import sys, tf_keras; m = tf_keras.models.load_model(sys.argv[1], compile=False); "
        "m.save(sys.argv[2]); m.save(sys.argv[3])"
    )
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run(
        [sys.executable, "-c", script, str(EXAMPLE_MODEL), str(out / "digits.h5"), str(out / "digits_savedmodel")],
        env=env,
        check=True,
        capture_output=True,
    )
    return {"h5": out / "digits.h5", "savedmodel": out / "digits_savedmodel"}


@pytest.mark.parametrize("form", ["h5", "savedmodel"])
def test_h5_and_savedmodel_inputs_make_variants(form: str, other_formats: dict[str, Path], tmp_path: Path) -> None:
    manifest, _ = convert(
        other_formats[form], EXAMPLE_DATA, ["fp32", "int8", "clustered"], tmp_path, options=Options(epochs=1)
    )
    assert [v.status for v in manifest.variants] == ["ok", "ok", "ok"]
    assert manifest.variants[0].host_top1 == pytest.approx(0.9889, abs=0.001)


def test_a_tflite_input_is_measured_as_given_and_the_rest_is_not_applicable(
    every_variant: tuple[Manifest, Path], tmp_path: Path
) -> None:
    _, directory = every_variant
    manifest, _ = convert(directory / "int8.tflite", EXAMPLE_DATA, ["fp16", "pruned"], tmp_path)
    given, fp16, pruned = manifest.variants
    assert (given.name, given.status) == ("given", "ok") and given.host_top1 is not None
    assert fp16.status == pruned.status == "not_applicable"
    assert "already quantised" in fp16.message  # ai-edge-quantizer makes fp16 only from a float .tflite
    assert "needs a Keras model" in pruned.message


def test_an_image_folder_is_read_with_opencv_and_split_per_class(tmp_path: Path) -> None:
    digits = np.load(EXAMPLE_DATA)
    folder = tmp_path / "images"
    for label in range(10):
        (folder / f"digit{label}").mkdir(parents=True)
        for i, image in enumerate(digits["x_val"][digits["y_val"] == label][:10]):
            cv2.imwrite(str(folder / f"digit{label}" / f"{i}.png"), image)
    manifest, directory = convert(EXAMPLE_MODEL, folder, ["fp32"], tmp_path / "work")
    inputs = np.load(directory / manifest.input_set)
    assert inputs["x.0"].shape == (20, 32, 32, 1)  # 2 of 10 per class held out (--val-split 0.2)
    assert sorted(set(inputs["y"].tolist())) == list(range(10))
    assert manifest.variants[0].host_top1 is not None and manifest.variants[0].host_top1 >= 0.9


def test_the_cli_prints_the_comparison_table_and_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = invoke(["convert", "--variants", "fp32,int8", "--workdir", str(tmp_path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    rows = {row["variant"]: row for row in report["variants"]}
    assert rows["fp32"]["size_ratio"] == 1.0 and rows["int8"]["size_ratio"] < 0.5
    code = invoke(["convert", "--variants", "fp32,int8", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "gzip KB" in out and "int8" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--model", "missing.h5", "--data", str(EXAMPLE_DATA)], "edgebench: model file not found: missing.h5"),
        (["--variants", "fp32,fp64"], "unknown fp64"),
        (["--model", str(EXAMPLE_MODEL), "--data", str(ROOT / "README.md")], "cannot read data file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], expected: str
) -> None:
    code = invoke(["convert", *argv, "--workdir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err


def test_a_variant_that_fails_is_recorded_with_one_readable_line_and_the_others_go_on(tmp_path: Path) -> None:
    from converter.recipes import Context, Recipe
    from converter.source import Data, SourceModel, tensor_spec
    from converter.variants import make_variant
    from edgebench_records.catalogue import VariantSpec

    def needs_select_ops(ctx: Context) -> Built:
        raise RuntimeError(
            'loc(callsite("model/lambda/Lgamma" at "lite.py":1254:1)): error: '
            "'tf.Lgamma' op is neither a custom op nor a flex op\nmore detail"
        )

    spec = tensor_spec("x", (None, 8), "float32")
    source = SourceModel("m", [spec], [spec], make_converter=lambda: None, load_keras=None, predict=lambda x: x)
    ctx = Context(source, Data([np.zeros((1, 8))]), Options(), lambda epoch, total: None, lambda: None)  # type: ignore[arg-type,return-value]
    flex = Recipe(VariantSpec("flex", "needs SELECT_TF_OPS"), lambda o: "needs SELECT_TF_OPS", needs_select_ops)
    made = make_variant(flex, ctx, tmp_path, None, None)
    assert (made.record.status, made.record.message) == (
        "failed",
        "'tf.Lgamma' op is neither a custom op nor a flex op",
    )
    assert made.record.file is None and not list(tmp_path.iterdir())


def test_the_catalogue_the_cli_lists_is_what_the_converter_makes() -> None:
    from converter.source import NORMALISATIONS as SCALINGS
    from edgebench_records.catalogue import NORMALISATIONS

    assert tuple(RECIPES) == VARIANTS
    assert {name for name, recipe in RECIPES.items() if recipe.trains} == FINE_TUNED
    assert tuple(SCALINGS) == NORMALISATIONS
