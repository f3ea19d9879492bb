"""Explaining a number: where each node ran, and why a variant is slower than fp32, from figures only (the
rule itself: tests/spec/test_why.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench_records import StoredRun
from tests.support.real_models import real_model


def test_a_real_int8_cell_under_xnnpack_shows_the_softmax_left_on_plain_kernels(measured: StoredRun) -> None:
    cell = next(c for c in measured.cells if (c.variant, c.delegate) == ("int8", "xnnpack"))
    assert cell.placement is not None
    assert cell.placement.partitions == 1 and cell.placement.on_plain_kernels() == ["SOFTMAX"]
    cpu = next(c for c in measured.cells if (c.variant, c.delegate) == ("int8", "cpu"))
    assert cpu.placement is not None and cpu.placement.partitions == 0  # plain kernels: no partition at all


@pytest.mark.slow
def test_a_dynamic_int8_tflite_variant_slower_than_the_given_file_names_its_partitions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A real face-landmark model: dynamic-range int8 splits XNNPACK's one partition into many, and leaves the
    depthwise convolutions on plain kernels; in a run without fp32 the given file is what it is compared with."""
    model = real_model("face_landmark")
    argv = ["run", "--model", str(model), "--variants", "dynamic_int8", "--delegates", "xnnpack"]
    argv += ["--workdir", str(tmp_path), "--store", str(tmp_path / "h.sqlite"), "--runs", "100", "--min-secs", "0.3"]
    assert invoke([*argv, "--json"]) == 0
    rows = {r["variant"]: r for r in json.loads(capsys.readouterr().out)["runs"][0]["rows"]}
    assert rows["dynamic_int8"]["p50_ms"] > 1.05 * rows["given"]["p50_ms"]
    why = rows["dynamic_int8"]["why"]
    assert why.startswith("dynamic_int8: ") and "× given's time" in why
    assert "xnnpack partitions (given: 1)" in why and "DEPTHWISE_CONV_2D" in why
    assert invoke(["report", "--store", str(tmp_path / "h.sqlite"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["rows"]
    (dynamic,) = [r for r in report if r["variant"] == "dynamic_int8"]
    assert "xnnpack partitions (given: 1)" in dynamic["why"] and dynamic["speedup"]["ratio"] < 1
    assert dynamic["speedup"]["base"] == "given"  # divided by the given file, as the why line says
