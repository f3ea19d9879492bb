"""Real models of issue 29's classes through the converter: a crash in ai-edge-quantizer fails its variant
alone, control flow gets its variants, a sparse model keeps its int8, and an int8 model gets no int8 again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from converter import pipeline, tflite_quantize
from converter.isolation import isolated
from converter.pipeline import ConversionRequest
from edgebench.conversion import convert
from edgebench_records import Manifest, VariantRecord, VariantState
from edgebench_records.catalogue import Options
from tests.support import crashers
from tests.support.real_models import CONTROL_FLOW, FLOAT_WEIGHTS, SPARSE_FLOAT, SPARSE_WEIGHTS, STATEFUL, real_model

QUICK = Options(synthetic_samples=4)


def variant(manifest: Manifest, name: str) -> VariantRecord:
    found = manifest.variant(name)
    assert found is not None, name
    return found


def made_here(model: Path, out: Path, variants: list[str]) -> Manifest:
    """Converted by the converter worker's own steps, run in this process so a spec can patch them."""
    shop = pipeline.workshop(ConversionRequest(model=model, data=None, out=out, variants=variants, options=QUICK))
    out.mkdir(parents=True, exist_ok=True)
    made = pipeline.given_there(shop) + [pipeline.made_there(shop, name) for name in variants]
    return pipeline.manifest_there(shop, made)


def test_the_real_segfault_of_int8_calibration_fails_that_variant_and_the_rest_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """okay_nabu is int8 already, so the converter no longer asks for its int8; asked anyway (the check that it has
    no float weights patched away), ai-edge-quantizer's calibration dies of SIGSEGV in its child process."""
    monkeypatch.setattr(tflite_quantize, "_float_kernels", lambda model, schema: 1)
    manifest = made_here(real_model(STATEFUL), tmp_path, ["int8", "dynamic_int8"])
    assert variant(manifest, "given").status == VariantState.OK
    int8 = variant(manifest, "int8")
    assert int8.status == VariantState.FAILED
    assert int8.message.startswith("ai-edge-quantizer killed by SIGSEGV; its stack is in ")
    assert variant(manifest, "dynamic_int8").status == VariantState.OK  # made after the crash


def test_a_variant_whose_child_crashes_is_failed_and_the_variants_after_it_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crashing_dynamic(function: Any, flatbuffer: bytes, scheme: str, *rest: object) -> bytes:
        return isolated(crashers.segfault_some, scheme, "dynamic_int8", flatbuffer, *rest)

    monkeypatch.setattr(tflite_quantize, "isolated", crashing_dynamic)
    manifest = made_here(real_model(FLOAT_WEIGHTS), tmp_path, ["dynamic_int8", "weight_int8"])
    assert variant(manifest, "given").status == VariantState.OK
    dynamic = variant(manifest, "dynamic_int8")
    assert (dynamic.status, dynamic.message.split(";")[0]) == (
        VariantState.FAILED,
        "ai-edge-quantizer killed by SIGSEGV",
    )
    assert variant(manifest, "weight_int8").status == VariantState.OK


def test_control_flow_branches_tensor_names_are_made_unique_and_its_variants_made(tmp_path: Path) -> None:
    manifest, _ = convert(real_model(CONTROL_FLOW), None, ["dynamic_int8", "int8"], tmp_path, options=QUICK)
    dynamic = variant(manifest, "dynamic_int8")
    assert dynamic.status == VariantState.OK, dynamic.message
    assert any("tensor names repeated across subgraphs made unique" in note for note in dynamic.notes)
    given = variant(manifest, "given")
    assert given.figures is not None and dynamic.figures is not None  # weights stored by offset counted too
    assert sum(dynamic.figures.params.values()) == sum(given.figures.params.values())
    int8 = variant(manifest, "int8")  # the quantiser's calibration does not follow IF into its branches
    assert (int8.status, int8.message) == (
        VariantState.NOT_APPLICABLE,
        "full int8 cannot be calibrated through control flow (IF): ai-edge-quantizer does not run the branches' "
        "subgraphs",
    )


@pytest.mark.parametrize("model", [SPARSE_FLOAT, SPARSE_WEIGHTS])
def test_a_sparse_models_int8_is_kept_though_larger_for_it_computes_in_int8(model: str, tmp_path: Path) -> None:
    manifest, _ = convert(real_model(model), None, ["int8"], tmp_path, options=QUICK)
    int8, given = variant(manifest, "int8"), variant(manifest, "given")
    assert int8.status == VariantState.OK, int8.message
    assert int8.size_bytes is not None and given.size_bytes is not None and int8.size_bytes >= given.size_bytes
    assert any(n.startswith("kept though no smaller than the model") for n in int8.notes)
    # its sparse weights quantised as weights: a DENSIFY output left would be quantised as an activation, with a
    # zero point no int8 convolution accepts (the cell failed to prepare)
    assert any(n.endswith("sparse weights densified first, to be quantised as weights") for n in int8.notes)


def test_an_int8_model_gets_no_int8_variant_again_and_says_why(tmp_path: Path) -> None:
    variants = ["dynamic_int8", "weight_int8", "int8"]
    manifest, _ = convert(real_model(STATEFUL), None, variants, tmp_path, options=QUICK)
    for name in variants:
        record = variant(manifest, name)
        assert record.status == VariantState.NOT_APPLICABLE, name
        assert record.message == "the model is already quantised: no float weights left to quantise"
    given = variant(manifest, "given")  # scored on the host under the name its signature gives the output
    assert given.host_accuracy is not None
    assert [output.name for output in given.host_accuracy.outputs] == ["dense_1"]
