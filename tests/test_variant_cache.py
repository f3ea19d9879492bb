"""Each variant is kept by what its bytes depend on: changing an option rebuilds only the variants that read it,
the others are reused from earlier conversions and scored again like new ones."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from converter.catalogue import DATA_OPTIONS, Options
from converter.recipes import RECIPES
from converter.variant_cache import Entry, VariantCache, code_sha256
from edgebench.conversion import ConvertRequest, convert_reporting
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.records import Manifest


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


class Steps:
    """A listener that keeps every step's note and count."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, int | None]] = []
        self.total = 0

    def task(self, title: str, total: int) -> Steps:
        self.total = total
        return self

    def step(self, note: str, *, done: int | None = None) -> None:
        self.steps.append((note, done))

    def finish(self, note: str = "done") -> None:
        pass


def _convert(workdir: Path, **options: object) -> tuple[Manifest, Steps]:
    listener = Steps()
    variants = ["fp32", "int8", "pruned", "clustered"]
    request = ConvertRequest(EXAMPLE_MODEL, EXAMPLE_DATA, variants, workdir, Options(epochs=1, **options))  # type: ignore[arg-type]
    manifest, _ = convert_reporting(request, listener)
    return manifest, listener


def _sha(manifest: Manifest, name: str) -> str | None:
    record = manifest.variant(name)
    assert record is not None and record.status == "ok", (name, record)
    return record.sha256


@pytest.mark.slow
def test_changing_an_option_rebuilds_only_the_variants_that_read_it(tmp_path: Path) -> None:
    first, _ = _convert(tmp_path)
    reclustered, steps = _convert(tmp_path, clusters=8)
    reused = ["fp32 (reused)", "int8 (reused)", "pruned (reused)"]
    assert [note for note, _ in steps.steps] == [*reused, "clustered", "clustered: epoch 1/1"]
    assert steps.steps[-1][1] == steps.total  # the reused ones' fine-tuning counts as done
    for name in ("fp32", "int8", "pruned"):
        assert _sha(reclustered, name) == _sha(first, name)
    assert _sha(reclustered, "clustered") != _sha(first, "clustered")
    pruned = reclustered.variant("pruned")
    assert pruned is not None and pruned.finetune_s == first.variant("pruned").finetune_s  # type: ignore[union-attr]
    assert pruned.host_top1 == first.variant("pruned").host_top1  # type: ignore[union-attr]

    float_io, steps = _convert(tmp_path, float_io=True)
    reused = ["fp32 (reused)", "pruned (reused)", "clustered (reused)"]  # clustered at 16: the first conversion's
    assert [note for note, _ in steps.steps if "reused" in note] == reused
    int8 = float_io.variant("int8")
    assert int8 is not None and int8.inputs[0].dtype == "float32"
