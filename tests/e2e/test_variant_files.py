"""A cached conversion whose variant file was replaced on disk is a cache miss: made again, never measured under
the name it no longer has (a cached int8.tflite overwritten with fp32's bytes was stored as an "int8" row)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records import sha256_file
from tests.conftest import variant_of


@pytest.mark.slow
def test_a_replaced_variant_in_the_conversion_cache_is_made_again(tmp_path: Path) -> None:
    manifest, folder = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "int8"], tmp_path)
    int8, fp32 = variant_of(manifest, "int8"), variant_of(manifest, "fp32")
    assert int8.file and fp32.file
    shutil.copy(folder / fp32.file, folder / int8.file)

    again, same_folder = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "int8"], tmp_path)

    assert same_folder == folder
    assert sha256_file(folder / int8.file) == variant_of(again, "int8").sha256 != fp32.sha256
