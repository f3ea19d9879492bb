"""Each variant is kept by what its bytes depend on: changing an option rebuilds only the variants that read it,
the others are reused from earlier conversions and scored again like new ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.conversion import ConvertRequest, convert_reporting
from edgebench.example import EXAMPLE_MODEL
from edgebench_records import Manifest
from edgebench_records.catalogue import Options
from tests.support.small_data import small_digits


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
    data = small_digits(workdir.parent)  # which variants are made again, not how well they learn
    request = ConvertRequest(EXAMPLE_MODEL, data, variants, workdir, Options(epochs=1, **options))  # type: ignore[arg-type]
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
