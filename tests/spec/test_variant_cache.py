"""Each variant is kept by what its bytes depend on: changing an option rebuilds only the variants that read it,
the others are reused from earlier conversions and scored again like new ones."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from converter.recipes import RECIPES
from converter.variant_cache import Entry, VariantCache, code_sha256
from edgebench_records.catalogue import DATA_OPTIONS, Options


def test_every_option_is_declared_by_what_it_changes() -> None:
    read = set(DATA_OPTIONS).union(*(recipe.reads for recipe in RECIPES.values()))
    assert read == {field.name for field in dataclasses.fields(Options)}


def test_a_variant_s_key_moves_only_with_the_options_it_reads(tmp_path: Path) -> None:
    cache = VariantCache(tmp_path, {"model": "m", "data": "d"})
    clustered = DATA_OPTIONS | RECIPES["clustered"].reads
    key = cache.key("clustered", Options(), clustered)
    assert cache.key("clustered", Options(sparsity=0.8), clustered) == key
    assert cache.key("clustered", Options(clusters=8), clustered) != key
    assert cache.key("clustered", Options(seed=1), clustered) != key  # the data's order moves everything
    assert VariantCache(tmp_path, {"model": "other", "data": "d"}).key("clustered", Options(), clustered) != key


def test_a_change_to_the_converter_s_sources_makes_every_variant_again(tmp_path: Path) -> None:
    (tmp_path / "recipes.py").write_text("RECOVERY_EPOCHS = 5\n")
    before = code_sha256(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "recipes.cpython-311.pyc").write_bytes(b"bytecode differs per machine")
    assert code_sha256(tmp_path) == before
    (tmp_path / "recipes.py").write_text("RECOVERY_EPOCHS = 10\n")
    assert code_sha256(tmp_path) != before
    assert code_sha256() == code_sha256()  # the installed converter's own, stable between calls


def test_an_entry_cut_short_is_made_again(tmp_path: Path) -> None:
    cache = VariantCache(tmp_path, {})
    cache.store("fp32", "k" * 64, Entry(b"\x00" * 100, 1.5, 0.0, ("a note",)))
    assert cache.load("fp32", "k" * 64) == Entry(b"\x00" * 100, 1.5, 0.0, ("a note",))
    (flatbuffer,) = tmp_path.glob("*.tflite")
    flatbuffer.write_bytes(b"\x00" * 50)
    assert cache.load("fp32", "k" * 64) is None
    assert cache.load("fp32", "j" * 64) is None
    cache.store("fp32", "k" * 64, Entry(b"\x00" * 100, 1.5, 0.0, ()))
    assert VariantCache(tmp_path, {}, reuse=False).load("fp32", "k" * 64) is None  # convert --force
