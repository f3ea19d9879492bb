"""Variants are made in the converter's worker process: a recipe that crashes it fails that variant alone, naming
the signal and the log, and the variants after it are made in a fresh worker."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from converter import pipeline
from converter.pipeline import ConversionRequest
from edgebench_records import VariantState
from edgebench_records.catalogue import Options
from tests.support import crashers
from tests.support.keras_models import build

pytestmark = pytest.mark.slow


def test_a_tensorflow_recipe_that_segfaults_fails_its_variant_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = build("regression", tmp_path / "model") / "model.keras"
    monkeypatch.setattr(pipeline, "made_there", functools.partial(crashers.segfault_building, "fp16"))
    log = tmp_path / "convert.log"
    request = ConversionRequest(
        model, None, tmp_path / "out", ["fp32", "fp16", "dynamic_int8"], Options(synthetic_samples=4), log=log
    )
    manifest = pipeline.convert(request)
    statuses = {v.name: (v.status, v.message) for v in manifest.variants}
    assert statuses == {
        "fp32": (VariantState.OK, ""),
        "fp16": (VariantState.FAILED, f"TensorFlow killed by SIGSEGV; its stack is in {log}"),
        "dynamic_int8": (VariantState.OK, ""),  # made in a fresh worker
    }
