"""Compression beyond TFMOT's unstructured techniques: BatchNorm folded before QAT, channel pruning to a smaller
dense model (distilled from the original), low-rank factorisation, and the warning for a variant that loses
accuracy. On the bundled example and on small tf_keras models built here (``tests/keras_models.py``)."""

from __future__ import annotations

import pytest

from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.records import Manifest, VariantRecord

OPTIONS_1 = {"epochs": 1}


def _options(**changes: object) -> object:
    from converter.catalogue import Options

    return Options(**{**OPTIONS_1, **changes})  # type: ignore[arg-type]


def _variant(manifest: Manifest, name: str) -> VariantRecord:
    record = manifest.variant(name)
    assert record is not None, name
    return record


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    variants = ["fp32", "int8", "qat_int8"]
    manifest, _ = convert(EXAMPLE_MODEL, EXAMPLE_DATA, variants, tmp_path_factory.mktemp("example"), options=_options())  # type: ignore[arg-type]
    return manifest


@pytest.mark.slow
def test_qat_int8_folds_batchnorm_into_the_same_ops_as_int8(example: Manifest) -> None:
    int8, qat = _variant(example, "int8"), _variant(example, "qat_int8")
    assert qat.status == "ok", qat.message
    assert int8.figures is not None and qat.figures is not None
    assert qat.figures.ops == int8.figures.ops  # no MUL/ADD left over from an unfolded BatchNorm
    assert qat.figures.total_params == int8.figures.total_params
    assert qat.host_top1 is not None and qat.host_top1 >= _variant(example, "fp32").host_top1 - 0.02  # type: ignore[operator]
