"""Variants from a float .tflite alone (ai-edge-quantizer, no TensorFlow), made by the converter as any other."""

from __future__ import annotations

from pathlib import Path

from edgebench.conversion import convert
from edgebench_records import Manifest, VariantState
from edgebench_records.catalogue import FINE_TUNED, Options
from tests.support.real_models import FLOAT_WEIGHTS, FP16_WEIGHTS, real_model

FROM_FILE = ["fp16", "dynamic_int8", "weight_int8", "int8"]
MIN_COSINE = 0.95  # full int8 on synthetic inputs keeps less than the others (tests/test_tflite_quantize.py)


def made(model: Path, tmp_path: Path, variants: list[str]) -> Manifest:
    manifest, _ = convert(model, None, variants, tmp_path, options=Options(synthetic_samples=4))
    return manifest


def test_a_float_tflite_with_no_data_gets_every_post_training_variant_smaller_and_faithful(tmp_path: Path) -> None:
    manifest = made(real_model(FLOAT_WEIGHTS), tmp_path, FROM_FILE)
    given = manifest.variant("given")
    assert given is not None and given.size_bytes
    for name in FROM_FILE:
        variant = manifest.variant(name)
        assert variant is not None and variant.status == VariantState.OK, variant
        assert variant.size_bytes is not None and variant.size_bytes < given.size_bytes
        assert variant.host_accuracy is not None
        assert min(o.cosine for o in variant.host_accuracy.outputs if o.cosine is not None) >= MIN_COSINE
        assert f"made by ai-edge-quantizer from the given {real_model(FLOAT_WEIGHTS).name}" in variant.notes
    calibrated = manifest.variant("int8")
    assert calibrated is not None and any("calibrated on synthetic inputs" in n for n in calibrated.notes)


def test_an_fp16_weight_model_is_repaired_first_and_its_fp16_variant_does_not_apply(tmp_path: Path) -> None:
    manifest = made(real_model(FP16_WEIGHTS), tmp_path, ["fp16", "dynamic_int8"])
    fp16, dynamic = manifest.variant("fp16"), manifest.variant("dynamic_int8")
    assert fp16 is not None and fp16.status == VariantState.NOT_APPLICABLE  # never "ok" at the same size
    assert "no smaller" in fp16.message and "already float16" in fp16.message
    assert dynamic is not None and dynamic.status == VariantState.OK
    assert any("fp16 weights de-quantised" in note for note in dynamic.notes)
    assert any("old-format opcodes" in note for note in dynamic.notes)


def test_training_recipes_stay_not_applicable_for_a_tflite_with_the_reason(tmp_path: Path) -> None:
    manifest = made(real_model(FLOAT_WEIGHTS), tmp_path, ["fp32", *sorted(FINE_TUNED)])
    for variant in manifest.variants:
        if variant.name != "given":
            assert variant.status == VariantState.NOT_APPLICABLE
            assert "needs a Keras model or SavedModel" in variant.message


def test_an_already_quantised_tflite_gets_no_post_training_variant_and_says_why(tmp_path: Path) -> None:
    quick = Options(synthetic_samples=4)
    first, directory = convert(real_model(FLOAT_WEIGHTS), None, ["int8"], tmp_path, options=quick)
    int8 = first.variant("int8")
    assert int8 is not None and int8.file
    dynamic = made(directory / int8.file, tmp_path / "again", ["dynamic_int8"]).variant("dynamic_int8")
    assert dynamic is not None and dynamic.status == VariantState.NOT_APPLICABLE
    assert "already quantised" in dynamic.message
