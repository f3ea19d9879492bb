"""The culprit of a wrong_output cell, on real models: a delegate of our own (tests/data/one_op_delegate.c) computes
one op type right and flips the sign of its outputs, in the middle of the graph, and --find-culprits must name
the first op it corrupted, in execution order; on the local runner and on a board's bare runtime alike."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from device_runner import culprit
from device_runner.runtime import load_runtime
from device_runner.sweep import run_plan
from edgebench.cli import invoke
from edgebench.store import Store, store_url
from edgebench_records import CellKey, CellResult, CulpritMethod, Status
from tests.conftest import QUICK, Board, require
from tests.support import one_op
from tests.support.model_plans import host_outputs, stage, synthetic
from tests.support.real_models import FLOAT_WEIGHTS, MANY_OUTPUTS, MULTI_HEAD, real_model
from tests.support.tiny_models import chain

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return one_op.build(require("gcc", "gcc"), tmp_path_factory.mktemp("one_op"))


def plan(tmp_path: Path, model: Path, delegate: str, *, find: bool = True) -> Path:
    inputs = synthetic(model, 3)
    settings = dataclasses.replace(QUICK, delegates=[delegate], find_culprits=find)
    return stage(tmp_path, model, inputs, host_outputs(model, inputs.inputs, "cpu"), settings)


def cell(plan_path: Path) -> CellResult:
    (result,) = run_plan(plan_path, plan_path.parent / "results")
    return result


@pytest.mark.parametrize("name", [FLOAT_WEIGHTS, MULTI_HEAD, MANY_OUTPUTS])
def test_the_culprit_named_is_the_first_op_the_delegate_corrupted(tmp_path: Path, library: Path, name: str) -> None:
    model = real_model(name)
    result = cell(plan(tmp_path, model, one_op.delegate(library, "ADD")))
    assert result.status == Status.WRONG_OUTPUT, result.message
    culprit = result.culprit
    assert culprit and culprit.found, result.message
    assert culprit.method == CulpritMethod.EXPOSED_OUTPUTS and culprit.samples == 3
    assert (culprit.found.op, culprit.found.index) == ("ADD", one_op.first_corrupted(model, "ADD"))
    assert culprit.found.drift > 1.0 > culprit.tolerance  # a sign flip: about twice the tensor's spread
    assert len(culprit.after) == 3 and all(op.index > culprit.found.index for op in culprit.after)
    assert all(op.op not in ("DEQUANTIZE", "DENSIFY") for op in culprit.after)  # of weights: not the data's path
    # every op's outputs exposed, and the delegate still took the same nodes
    assert culprit.probe_delegated_nodes == culprit.cell_delegated_nodes and not culprit.partitioning_changed
    assert result.message.endswith(f"; {culprit.line}") and "\n" not in result.message


def test_a_wrong_output_cell_without_the_flag_runs_no_search(tmp_path: Path, library: Path) -> None:
    result = cell(plan(tmp_path, chain(tmp_path / "chain.tflite"), one_op.delegate(library, "MUL"), find=False))
    assert result.status == Status.WRONG_OUTPUT and result.culprit is None and "culprit" not in result.message


def test_an_honest_cell_runs_no_search_even_when_asked(tmp_path: Path) -> None:
    result = cell(plan(tmp_path, real_model(FLOAT_WEIGHTS), "xnnpack"))
    assert result.status == Status.OK and result.culprit is None


@pytest.mark.parametrize("api", ["interpreter", "compiled"])
def test_an_honest_delegate_drifts_past_no_tolerance_on_a_real_model(api: str) -> None:
    """hand_landmark_lite dequantizes its fp16 weights in 102 DEQUANTIZE ops, whose outputs XNNPACK under
    CompiledModel folds away and never writes: they are not compared, so they cannot pass for a culprit."""
    model = real_model(MANY_OUTPUTS)
    found = culprit.search(load_runtime(), model, CellKey("fp32", "xnnpack", 1, api), synthetic(model, 2), 0.01, None)
    assert found.found is None and found.compared_ops == 167 - 102, found.note


def test_a_board_s_bare_runtime_names_the_culprit_too(tmp_path: Path, library: Path, board: Board) -> None:
    """x + x, then * itself, then + x: the MUL in the middle is flipped; the ADD after it inherits the error."""
    model = chain(tmp_path / "chain.tflite")
    result = board.run(plan(tmp_path, model, one_op.delegate(library, "MUL")), tmp_path / "results")[
        "fp32/op=MUL/interpreter"
    ]
    assert result.status == Status.WRONG_OUTPUT and result.culprit and result.culprit.found
    assert (result.culprit.found.index, result.culprit.found.op, result.culprit.found.tensor) == (1, "MUL", "b")
    assert [(op.index, op.op, op.tensor) for op in result.culprit.after] == [(2, "ADD", "y")]
    assert result.device and result.device.runtime == board.runtime
    assert result.culprit.found.drift > 2  # -b against b: twice its RMS, over a spread smaller than that (b >= 0)


def test_the_flag_goes_from_the_command_line_to_the_cell_the_store_and_the_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, library: Path
) -> None:
    model = real_model(FLOAT_WEIGHTS)  # a .tflite: measured as given (fp32 does not apply: nothing to convert)
    argv = ["run", "--model", str(model), "--variants", "fp32", "--delegates", one_op.delegate(library, "ADD")]
    argv += ["--workdir", str(tmp_path / "work"), "--store", str(tmp_path / "h.sqlite"), "--synthetic-samples", "3"]
    code = invoke([*argv, "--find-culprits", "--json", "--runs", "5", "--min-secs", "0", "--warmup-secs", "0"])
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert code == 1  # wrong_output is a failed cell, culprit or not
    (row,) = run["rows"]
    assert row["status"] == "wrong_output"
    assert row["culprit"].startswith("culprit: op 6 ADD (output 'add__xeno_compat__1') drifts 2")
    assert row["message"].endswith(row["culprit"])
    with Store(store_url(str(tmp_path / "h.sqlite"))) as store:
        (stored,) = store.load_run(run["run_id"]).cells
    assert stored.culprit and stored.culprit.found and stored.culprit.found.index == 6
