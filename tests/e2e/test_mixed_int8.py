"""Quantisation culprits end to end: `edgebench convert` on a model int8 hurts through one layer names that layer
among each int8 variant's worst, in the manifest and under its table, and mixed_int8 keeps it in float32."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from device_runner.flatbuffer import read_graph
from edgebench.cli import invoke
from edgebench.example import EXAMPLE_DATA
from edgebench_records import read_manifest, worst_layers
from tests.conftest import ROOT
from tests.support.fragile_model import FRAGILE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fragile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/support/fragile_model.py's classifier after one epoch, made in a TensorFlow process of its own."""
    out = tmp_path_factory.mktemp("fragile")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, "-m", "tests.support.fragile_model", str(out), "1"], cwd=ROOT, env=env, check=True)
    return out / "model.keras"


def test_the_fragile_layer_is_int8_s_worst_and_mixed_int8_keeps_it_float(
    fragile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["convert", "--model", str(fragile), "--data", str(EXAMPLE_DATA), "--variants", "fp32,int8,mixed_int8"]
    assert invoke([*argv, "--mixed-float-layers", "1", "--workdir", str(tmp_path), "--quiet"]) == 0
    shown = capsys.readouterr().out
    (directory,) = (tmp_path / "variants").glob("model-*")
    manifest = read_manifest(directory)
    int8, mixed = manifest.variant("int8"), manifest.variant("mixed_int8")
    assert int8 is not None and mixed is not None
    (worst,) = worst_layers(int8.layer_errors, 1)
    assert f"/{FRAGILE}/" in worst.tensor and worst.op == "FULLY_CONNECTED" and worst.added > 0.1
    assert [layer.index for layer in int8.layer_errors] == sorted(layer.index for layer in int8.layer_errors)
    assert "int8: worst layers vs fp32 (error +added): op " in " ".join(shown.split())
    assert f"/{FRAGILE}/MatMul" in shown
    # mixed_int8 kept the layer its own full int8 ranked worst: the fragile one, in float32 among int8 ops
    (kept,) = mixed.float_layers
    assert f"/{FRAGILE}/" in kept and int8.float_layers == []
    graph = read_graph((directory / str(mixed.file)).read_bytes())
    ops = {node.outputs[0].name: node for node in graph.nodes}
    assert ops[kept].op.name == "FULLY_CONNECTED"
    assert [t.dtype for t in ops[kept].outputs] == ["float32"]
    assert {t.dtype for t in ops[kept].inputs if t is not None} == {"float32"}
    others = [n for n in graph.nodes if n.op.name == "FULLY_CONNECTED" and n is not ops[kept]]
    assert others and all(n.outputs[0].dtype == "int8" for n in others)
    assert any(note.startswith("kept in float32: ") for note in mixed.notes)
