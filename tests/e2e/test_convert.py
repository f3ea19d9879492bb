"""`edgebench convert`: its cache, its inputs (.keras, .h5, SavedModel, .tflite, image folders), its table and
its failures. What each variant is made of: test_every_variant.py."""

from __future__ import annotations

import json
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
from tests.support.keras_models import in_tensorflow, resaved
from tests.support.small_data import small_digits

pytestmark = pytest.mark.slow


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


def test_the_same_seed_gives_the_same_bytes_whatever_the_process_fine_tuned_before(tmp_path: Path) -> None:
    """channel_pruned distils on randomly shifted images: the shifts, too, follow the seed."""
    options, data = Options(epochs=1, recovery_factor=2), small_digits(tmp_path)
    alone, _ = convert(EXAMPLE_MODEL, data, ["channel_pruned"], tmp_path / "a", options=options)
    after, _ = convert(EXAMPLE_MODEL, data, ["pruned", "channel_pruned"], tmp_path / "b", options=options)
    made = [manifest.variant("channel_pruned") for manifest in (alone, after)]
    assert made[0] is not None and made[1] is not None and made[0].sha256 == made[1].sha256


@pytest.fixture(scope="module")
def other_formats(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bundled example saved as .h5 and as a SavedModel by tf_keras, in a TF process of its own."""
    out = tmp_path_factory.mktemp("formats")
    in_tensorflow(resaved, str(EXAMPLE_MODEL), str(out / "digits.h5"), str(out / "digits_savedmodel"))
    return {"h5": out / "digits.h5", "savedmodel": out / "digits_savedmodel"}


@pytest.mark.parametrize("form", ["h5", "savedmodel"])
def test_h5_and_savedmodel_inputs_make_variants(form: str, other_formats: dict[str, Path], tmp_path: Path) -> None:
    manifest, _ = convert(
        other_formats[form], EXAMPLE_DATA, ["fp32", "int8", "clustered"], tmp_path, options=Options(epochs=1)
    )
    assert [v.status for v in manifest.variants] == ["ok", "ok", "ok"]
    assert manifest.variants[0].host_top1 == pytest.approx(0.9889, abs=0.001)


def test_a_tflite_input_is_measured_as_given_and_the_rest_is_not_applicable(
    converted: tuple[Manifest, Path], tmp_path: Path
) -> None:
    _, directory = converted
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
