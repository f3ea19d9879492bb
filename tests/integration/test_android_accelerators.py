"""The Android core's ModelOps on models LiteRT's own schema wrote: how many nodes an NPU runs of a model
(its dispatch ops), which the app's CompiledModel cells on the NPU are judged by (core/Accelerators.place)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support.tiny_models import Op, Tensor, TinyModel, two_inputs


def nodes(jvm: list[str], model: Path) -> object:
    out = subprocess.run([*jvm, "model-ops", str(model)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_a_plain_model_has_no_dispatch_node(jvm: list[str], tmp_path: Path) -> None:
    assert nodes(jvm, two_inputs(tmp_path / "plain.tflite")) == {"total": 2, "dispatch": 0}


def test_dispatch_ops_beside_builtin_ones_are_counted_apart(jvm: list[str], tmp_path: Path) -> None:
    x, y, z = Tensor("x", [1, 4]), Tensor("y", [1, 4]), Tensor("z", [1, 4])
    model = TinyModel(
        inputs=[x],
        outputs=[z],
        intermediates=[y],
        ops=[Op(["x"], "y", custom="DISPATCH_OP"), Op(["y", "y"], "z", builtin="ADD")],
    ).write(tmp_path / "aot.tflite")
    assert nodes(jvm, model) == {"total": 2, "dispatch": 1}


def test_a_model_that_is_one_dispatch_op(jvm: list[str], tmp_path: Path) -> None:
    model = TinyModel(
        inputs=[Tensor("x", [1, 4])], outputs=[Tensor("y", [1, 4])], ops=[Op(["x"], "y", custom="DISPATCH_OP")]
    ).write(tmp_path / "npu.tflite")
    assert nodes(jvm, model) == {"total": 1, "dispatch": 1}
