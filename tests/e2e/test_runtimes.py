"""device_runner on a bare board: a copy of it and its records, numpy and one LiteRT runtime, nothing else.

Each test runs once with ai-edge-litert (numpy 2) and once with tflite-runtime 2.14 (numpy < 2).
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgebench_records import Manifest
from tests.conftest import QUICK, Board, make_plan, patch_model, plan_for_files
from tests.support.model_plans import stage, synthetic
from tests.support.real_models import XNNPACK_CUSTOM_OP, real_model
from tests.support.tiny_models import two_inputs

pytestmark = pytest.mark.slow
Converted = tuple[Manifest, Path]


def test_the_board_has_nothing_but_numpy_and_a_runtime(board: Board) -> None:
    probe = "import importlib.util as u; print([m for m in {names!r} if u.find_spec(m)])"
    names = (
        "device_runner",
        "edgebench_records",
        "numpy",
        board.runtime,
        "edgebench",
        "converter",
        "tensorflow",
        "click",
    )
    run = subprocess.run(
        [board.python, "-c", probe.format(names=names)], cwd=board.home, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == str(["device_runner", "edgebench_records", "numpy", board.runtime])


def test_every_cell_is_measured_with_the_boards_runtime(board: Board, tmp_path: Path, converted: Converted) -> None:
    _, plan_path = make_plan(tmp_path, converted)
    results = board.run(plan_path, tmp_path / "results")
    assert set(results) == {f"{v}/{d}/interpreter" for v in ("fp32", "int8") for d in ("xnnpack", "cpu")}
    for result in results.values():
        assert result.status == "ok", result.message
        assert result.device is not None and result.device.runtime == board.runtime
        assert result.accuracy is not None and result.accuracy.top1 is not None and result.accuracy.top1 > 0.95
        assert result.model_ops and all(" v" in op for op in result.model_ops)


def test_a_crashing_delegate_costs_one_cell_on_either_runtime(
    board: Board, tmp_path: Path, converted: Converted, faulty_delegate: Path
) -> None:
    settings = dataclasses.replace(QUICK, delegates=[f"external:{faulty_delegate};mode=abort", "cpu"])
    _, plan_path = make_plan(tmp_path, converted, settings)
    results = board.run(plan_path, tmp_path / "results")
    assert results["fp32/mode=abort/interpreter"].status == "crashed"
    assert "SIGABRT" in results["fp32/mode=abort/interpreter"].message
    assert results["int8/cpu/interpreter"].status == "ok"


def test_an_op_version_newer_than_the_runtime_is_incompatible_naming_op_and_version(
    board: Board, tmp_path: Path, converted: Converted
) -> None:
    _, manifest_dir = converted
    too_new = tmp_path / "fc99.tflite"
    patch_model(manifest_dir / "int8.tflite", too_new, op="FULLY_CONNECTED", version=99)
    plan_path = plan_for_files(tmp_path, converted, {"fc99": too_new, "int8": manifest_dir / "int8.tflite"})
    results = board.run(plan_path, tmp_path / "results")
    for delegate in ("xnnpack", "cpu"):
        incompatible = results[f"fc99/{delegate}/interpreter"]
        assert incompatible.status == "incompatible"
        assert "FULLY_CONNECTED v99" in incompatible.message
        assert "FULLY_CONNECTED v99" in incompatible.model_ops
        assert results[f"int8/{delegate}/interpreter"].status == "ok"


def test_min_runtime_version_is_checked_before_loading_where_versions_are_comparable(
    board: Board, tmp_path: Path, converted: Converted
) -> None:
    _, manifest_dir = converted
    future = tmp_path / "future.tflite"
    patch_model(manifest_dir / "int8.tflite", future, min_runtime_version="9.9.0")
    plan_path = plan_for_files(tmp_path, converted, {"future": future})
    result = board.run(plan_path, tmp_path / "results")["future/xnnpack/interpreter"]
    if board.runtime == "tflite_runtime":  # numbered like TensorFlow: the preflight can compare
        assert result.status == "incompatible"
        assert "needs LiteRT runtime >= 9.9.0" in result.message and "tflite_runtime 2.14.0" in result.message
    else:  # ai_edge_litert restarted its numbering: only a real load failure decides
        assert result.status == "ok"


def test_the_compiled_model_api_exists_only_with_ai_edge_litert(
    board: Board, tmp_path: Path, converted: Converted
) -> None:
    _, plan_path = make_plan(tmp_path, converted, dataclasses.replace(QUICK, apis=["compiled"], delegates=["xnnpack"]))
    results = board.run(plan_path, tmp_path / "results")
    if board.runtime == "ai_edge_litert":
        assert results["fp32/xnnpack/compiled"].status == "ok"
        assert results["fp32/xnnpack/compiled"].fully_accelerated is True
    else:
        assert results["fp32/xnnpack/compiled"].status == "delegate_unavailable"
        assert "needs ai_edge_litert" in results["fp32/xnnpack/compiled"].message


def test_custom_ops_are_incompatible_naming_the_op_on_either_runtime(board: Board, tmp_path: Path) -> None:
    """tflite_runtime 2.14's XNNPACK lacks Convolution2DTransposeBias too; ai_edge_litert's has it."""
    model = real_model(XNNPACK_CUSTOM_OP)
    results = board.run(stage(tmp_path, model, synthetic(model, 2)), tmp_path / "results")
    plain = results["fp32/cpu/interpreter"]
    assert plain.status == "incompatible" and plain.message.startswith("custom op Convolution2DTransposeBias not in")
    xnnpack = results["fp32/xnnpack/interpreter"]
    if board.runtime == "ai_edge_litert":
        assert xnnpack.status == "ok", xnnpack.message
    else:
        assert (xnnpack.status, xnnpack.message) == (
            "incompatible",
            "custom op Convolution2DTransposeBias not in this runtime",
        )


def test_a_two_input_model_is_measured_head_by_head_on_either_runtime(board: Board, tmp_path: Path) -> None:
    model = two_inputs(tmp_path / "two.tflite", signature=["mask", "x"])
    inputs = synthetic(model, 4)
    inputs.reference = [2 * inputs.inputs[0][:, None], np.square(inputs.inputs[1])[:, None]]
    results = board.run(stage(tmp_path, model, inputs, inputs.reference), tmp_path / "results")
    for cell, result in results.items():
        assert result.status == "ok", f"{cell}: {result.message}"
        assert result.accuracy and [h.name for h in result.accuracy.outputs] == ["doubled", "squared"]
        assert all(h.max_abs_diff == 0.0 for h in result.accuracy.outputs), cell
        assert result.numerics and result.numerics.passed
