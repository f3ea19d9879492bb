"""Which op broke a wrong_output cell: each tensor's drift from the reference kernels, the ops taken in execution
order, the first past tolerance named with the few after it; the probe model that exposes every op's outputs;
and what the cell, its message and the report's rows say."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

import edgebench_records as schema
from device_runner import accuracy, culprit
from device_runner.culprit import TensorDrift, drift, judge, op_drifts, tolerance
from device_runner.engines import InterpreterEngine
from device_runner.flatbuffer import Graph, ModelFormatError, Node, OpCode, read_graph, read_model_file, with_outputs
from device_runner.inputs import InputSet
from device_runner.precision import Precision
from device_runner.runtime import load_runtime
from edgebench.report.analysis import ComparisonRow
from edgebench.report.comparison import row_notes
from edgebench.report.metrics import METRICS, Measured
from edgebench_records import DRIFT_CAP, CellKey, CellResult, Culprit, Measurement, OpDrift, Status, TensorInfo
from tests.support.tiny_models import chain

RNG = np.random.default_rng(0)
FLOATS, INTEGERS = Precision(False, []), Precision(True, [])
LIMIT = tolerance(FLOATS, Measurement())  # 0.05 of the spread, as the numerics check allows a float variant


# ---- one tensor's drift -------------------------------------------------------------------------------------


def test_a_tensor_equal_to_its_reference_does_not_drift() -> None:
    x = RNG.normal(size=(2, 16)).astype(np.float32)
    assert drift(x, x.copy()) == 0.0


def test_a_sign_flip_drifts_twice_the_spread_of_a_centred_tensor() -> None:
    x = RNG.normal(size=(4, 4096))
    x -= x.mean()
    assert drift(-x, x) == pytest.approx(2 * math.sqrt((x**2).mean()) / x.std())


def test_drift_is_measured_against_the_spread_not_the_offset() -> None:
    """A tensor far from zero (a bias-heavy activation): 1 % of its spread is 1 %, however large its mean."""
    x = 1000 + RNG.normal(size=4096)
    got = x + 0.01 * x.std()
    assert drift(got, x) == pytest.approx(0.01, rel=1e-3)


def test_a_constant_reference_is_measured_against_its_size_and_a_zero_one_against_any_change() -> None:
    assert drift(np.full(8, 2.2), np.full(8, 2.0)) == pytest.approx(0.1)
    assert drift(np.zeros(8), np.zeros(8)) == 0.0
    assert drift(np.full(8, 1e-3), np.zeros(8)) == DRIFT_CAP


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_value_drifts_as_far_as_can_be(bad: float) -> None:
    got = np.ones(8)
    got[3] = bad
    assert drift(got, np.arange(8.0)) == DRIFT_CAP


def test_a_tensor_of_another_shape_than_its_reference_drifts_as_far_as_can_be() -> None:
    assert drift(np.zeros((2, 4)), np.zeros((4, 2))) == DRIFT_CAP


def test_drift_pools_the_samples_as_one_stack_would() -> None:
    want = RNG.normal(size=(6, 32))
    got = want + RNG.normal(scale=0.05, size=want.shape)
    pooled = TensorDrift()
    for a, b in zip(got, want, strict=True):
        pooled.add(a, b)
    assert pooled.drift == pytest.approx(drift(got, want))


def test_the_tolerance_is_the_numerics_check_s_own_figure_for_the_variant_s_arithmetic() -> None:
    assert tolerance(FLOATS, Measurement()) == Measurement().numerics_max_error == 0.05
    assert tolerance(INTEGERS, Measurement()) == Measurement().numerics_max_error_quantized == 0.5
    assert tolerance(FLOATS, Measurement(numerics_max_error=0.02)) == 0.02


@pytest.mark.parametrize(("error", "diverges"), [(0.04, False), (0.06, True)])
def test_one_figure_decides_diverges_for_a_cell_s_outputs_and_for_an_op_s(error: float, diverges: bool) -> None:
    """The same tensor, as a cell's output and as an op's in a probe: past the numerics check's tolerance in both
    or in neither."""
    want = RNG.normal(size=(8, 512))
    got = want + RNG.normal(size=want.shape) * error * want.std()
    checked = accuracy.compare([got], [want], ["y"], [None], 0.97, 0.0)
    assert checked is not None and checked.passed is not diverges
    assert (drift(got, want) > tolerance(FLOATS, Measurement())) is diverges


# ---- ops in execution order ---------------------------------------------------------------------------------


def _tensor(name: str) -> TensorInfo:
    return TensorInfo(name=name, shape=[1, 4], dtype="float32", scale=0.0, zero_point=0)


def _graph(*ops: tuple[str, list[int]], reads: list[list[int]] | None = None, stored: tuple[int, ...] = ()) -> Graph:
    """Ops in execution order, each with the indices of its outputs (and of its inputs, ``reads``); tensor t is
    named "t<t>", and stored in the file when in ``stored``."""
    count = 1 + max(t for _, outs in ops for t in outs)
    tensors = [_tensor(f"t{t}") for t in range(count)]
    ins = reads or [[] for _ in ops]
    nodes = [
        Node(OpCode(op, 1), [], [tensors[t] for t in outs], [], output_ids=outs, input_ids=read)
        for (op, outs), read in zip(ops, ins, strict=True)
    ]
    return Graph(nodes, tensors, [t in stored for t in range(count)])


def test_each_op_carries_the_drift_of_its_worst_output_and_ops_not_compared_are_left_out() -> None:
    graph = _graph(("CONV_2D", [1]), ("SPLIT", [2, 3]), ("SHAPE", [4]), ("ADD", [5]))
    found = op_drifts(graph, {1: 0.01, 2: 0.02, 3: 0.5, 5: 2.0})
    assert found == [
        OpDrift(0, "CONV_2D", "t1", 0.01),
        OpDrift(1, "SPLIT", "t3", 0.5),
        OpDrift(3, "ADD", "t5", 2.0),
    ]


def test_the_culprit_is_the_first_op_past_tolerance_in_execution_order_not_the_worst() -> None:
    """An error grows as it travels: a later op drifts further, but the first past tolerance is where it began."""
    ops = [OpDrift(k, op, f"t{k}", d) for k, (op, d) in enumerate([("CONV_2D", 0.001), ("MUL", 0.3), ("ADD", 0.9),
           ("RELU", 1.5), ("CONV_2D", 2.0), ("SOFTMAX", 3.0)])]  # fmt: skip
    found, after = judge(ops, LIMIT)
    assert found == ops[1]
    assert after == ops[2:5] and len(after) == culprit.NEXT_OPS


def test_ops_within_tolerance_name_no_culprit() -> None:
    ops = [OpDrift(0, "CONV_2D", "a", 0.001), OpDrift(1, "ADD", "b", 0.049)]
    assert judge(ops, LIMIT) == (None, [])


def test_the_culprit_near_the_end_has_only_the_ops_that_follow() -> None:
    ops = [OpDrift(0, "CONV_2D", "a", 0.0), OpDrift(1, "ADD", "b", 0.0), OpDrift(2, "MUL", "c", 1.0)]
    assert judge(ops, 0.1) == (ops[2], [])


# ---- the probe model ----------------------------------------------------------------------------------------


def test_the_probe_model_outputs_every_op_s_outputs_after_the_model_s_own(tmp_path: Path) -> None:
    model = chain(tmp_path / "chain.tflite")
    data = model.read_bytes()
    graph = read_graph(data)
    probe, outputs = with_outputs(data, [t for node in graph.nodes for t in node.output_ids])
    assert [graph.tensors[t].name for t in outputs] == ["y", "a", "b"]  # y once: already an output
    assert read_graph(probe).nodes == graph.nodes  # nothing else moved
    path = tmp_path / "probe.tflite"
    path.write_bytes(probe)
    info = read_model_file(path)
    assert [t.name for t in info.outputs] == ["y", "a", "b"]
    engine = InterpreterEngine(load_runtime(), path, info, "cpu", threads=1)
    x = np.arange(8, dtype=np.float32).reshape(1, 8)
    engine.set_inputs([x])
    engine.invoke()
    y, a, b = engine.outputs()
    np.testing.assert_array_equal(a, x + x)
    np.testing.assert_array_equal(b, (x + x) ** 2)
    np.testing.assert_array_equal(y, (x + x) ** 2 + x)


def _chain_outputs(x: np.ndarray, flip_b: bool = False) -> list[np.ndarray]:
    """The chain's probe outputs as numpy computes them (y, a, b), with ``b`` (the MUL) sign-flipped if asked,
    as a delegate that broke that op would hand them back."""
    a = x + x
    b = -(a * a) if flip_b else a * a
    return [b + x, a, b]


def test_the_probe_exposes_every_op_s_outputs_and_keeps_the_variant_s_graph(tmp_path: Path) -> None:
    data = chain(tmp_path / "chain.tflite").read_bytes()
    probe = culprit.make_probe(data)
    assert [t.name for t in probe.info.outputs] == ["y", "a", "b"]
    assert [probe.graph.tensors[t].name for t in probe.output_ids] == ["y", "a", "b"]
    assert probe.compared == frozenset(probe.output_ids) and probe.graph == read_graph(data)
    assert read_graph(probe.model).nodes == probe.graph.nodes


def test_a_file_that_is_no_model_makes_no_probe(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError):
        culprit.make_probe(b"not a flatbuffer")
    unmade = culprit.not_made("v.tflite", "corrupt")
    assert unmade.found is None and unmade.method == schema.CulpritMethod.EXPOSED_OUTPUTS
    assert unmade.note == "no probe model could be made from v.tflite: corrupt"


def test_the_verdict_from_given_arrays_names_the_first_op_that_drifted(tmp_path: Path) -> None:
    """The arrays may come from anywhere (a phone's app, benchmark_model's output files): the verdict needs
    nothing but them and the probe."""
    probe = culprit.make_probe(chain(tmp_path / "chain.tflite").read_bytes())
    xs = [RNG.normal(size=(1, 8)).astype(np.float32) for _ in range(3)]
    got = [_chain_outputs(x, flip_b=True) for x in xs]
    found = culprit.verdict(probe, got, [_chain_outputs(x) for x in xs], LIMIT, 2, 2)
    assert found.found is not None and (found.found.index, found.found.op, found.found.tensor) == (1, "MUL", "b")
    assert [(op.index, op.op) for op in found.after] == [(2, "ADD")]
    assert (found.samples, found.compared_ops, found.tolerance) == (3, 3, LIMIT)
    assert (found.probe_delegated_nodes, found.cell_delegated_nodes) == (2, 2) and found.note == ""


def test_the_verdict_on_agreeing_arrays_names_no_op_and_says_why(tmp_path: Path) -> None:
    probe = culprit.make_probe(chain(tmp_path / "chain.tflite").read_bytes())
    xs = [RNG.normal(size=(1, 8)).astype(np.float32) for _ in range(2)]
    found = culprit.verdict(probe, [_chain_outputs(x) for x in xs], [_chain_outputs(x) for x in xs], LIMIT)
    assert found.found is None and found.samples == 2
    assert found.note.startswith("no op's output drifts past 0.05 on the 2 probed samples; the largest is op")


@pytest.mark.parametrize("cut", ["a sample", "an output"])
def test_the_verdict_refuses_arrays_that_do_not_pair_up(tmp_path: Path, cut: str) -> None:
    probe = culprit.make_probe(chain(tmp_path / "chain.tflite").read_bytes())
    want = [_chain_outputs(np.ones((1, 8), np.float32)) for _ in range(2)]
    got = want[:1] if cut == "a sample" else [outputs[:2] for outputs in want]
    with pytest.raises(ValueError):
        culprit.verdict(probe, got, want, LIMIT)


def test_the_reference_half_runs_the_probe_on_this_machine_s_reference_kernels(tmp_path: Path) -> None:
    probe = culprit.make_probe(chain(tmp_path / "chain.tflite").read_bytes())
    inputs = InputSet([RNG.normal(size=(3, 1, 8)).astype(np.float32)], None, None)
    found = culprit.on_reference_kernels(load_runtime(), probe, inputs, 2)
    assert len(found) == 2
    for k, outputs in enumerate(found):
        for got, want in zip(outputs, _chain_outputs(inputs.sample(k)[0]), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_a_search_on_an_honest_delegate_names_no_op_and_says_why(tmp_path: Path) -> None:
    model = chain(tmp_path / "chain.tflite")
    inputs = InputSet([RNG.normal(size=(3, 1, 8)).astype(np.float32)], None, None)
    key = CellKey("fp32", "xnnpack", 1)
    found = culprit.search(load_runtime(), model, key, inputs, LIMIT, None)
    assert found.method == schema.CulpritMethod.EXPOSED_OUTPUTS and found.found is None
    assert (found.samples, found.compared_ops) == (3, 3)
    assert found.note.startswith("no op's output drifts past 0.05 on the 3 probed samples; the largest is op")
    assert found.line == f"culprit: none named ({found.note})"


def test_a_probe_that_cannot_run_names_no_op_and_says_why(tmp_path: Path) -> None:
    model = chain(tmp_path / "chain.tflite")
    inputs = InputSet([np.zeros((1, 1, 8), np.float32)], None, None)
    found = culprit.search(load_runtime(), model, CellKey("fp32", "gpu", 1), inputs, 0.1, None)
    assert found.found is None and found.method == schema.CulpritMethod.EXPOSED_OUTPUTS
    assert found.note == (
        "the probe model (every op's outputs exposed) did not run: gpu is not available through the Interpreter API "
        "here"
    )


@pytest.mark.parametrize("signature", [None, ["x"]])
def test_the_compiled_model_api_reads_every_exposed_output_signature_or_not(
    tmp_path: Path, signature: list[str] | None
) -> None:
    """A signature names the model's own outputs only: the probe drops it, and CompiledModel's default signature
    carries every output of the main subgraph."""
    model = chain(tmp_path / "chain.tflite", signature=signature)
    inputs = InputSet([RNG.normal(size=(2, 1, 8)).astype(np.float32)], None, None)
    found = culprit.search(load_runtime(), model, CellKey("fp32", "xnnpack", 1, "compiled"), inputs, 1e-6, None)
    assert found.method == schema.CulpritMethod.EXPOSED_OUTPUTS and found.compared_ops == 3 and found.found is None


# ---- the record and its line --------------------------------------------------------------------------------

FOUND = Culprit(
    method="exposed_outputs",
    found=OpDrift(6, "ADD", "add_1", 2.0),
    after=[OpDrift(7, "PRELU", "p_re_lu_2", 1.51), OpDrift(8, "CONV_2D", "conv2d_3", 1.45)],
    tolerance=0.05,
    samples=4,
    compared_ops=169,
    probe_delegated_nodes=26,
    cell_delegated_nodes=26,
)


def test_the_line_names_the_op_its_output_its_drift_and_the_ops_after_it() -> None:
    assert FOUND.line == (
        "culprit: op 6 ADD (output 'add_1') drifts 2 (tolerance 0.05, 4 samples); then 7 PRELU 1.51, 8 CONV_2D 1.45"
    )
    assert not FOUND.partitioning_changed


def test_a_probe_that_changed_the_partitioning_says_so() -> None:
    changed = dataclasses.replace(FOUND, probe_delegated_nodes=20)
    assert changed.partitioning_changed
    assert changed.line.endswith("; the probe delegated 20 nodes, the cell 26")


def test_a_cell_result_keeps_its_culprit_through_json_and_an_older_result_has_none() -> None:
    cell = CellResult("r", "fp32", "gpu", 1, Status.WRONG_OUTPUT, culprit=FOUND)
    assert schema.loads(CellResult, schema.dumps(cell), "cell.json") == cell
    older = schema.to_dict(cell) | {"schema_version": "1.6"}
    del older["culprit"]
    assert schema.build(CellResult, older, "old.json").culprit is None


def test_an_older_plan_searches_for_no_culprit() -> None:
    plan = schema.Plan("r", "m", [], "inputs.npz", measure=schema.Measurement(find_culprits=True))
    older = schema.to_dict(plan) | {"schema_version": "1.3"}
    del older["measure"]["find_culprits"]
    assert not schema.build(schema.Plan, older, "plan.json").measure.find_culprits


def test_an_older_plan_names_no_probe_for_the_app() -> None:
    plan = schema.Plan("r", "m", [schema.PlanVariant("fp32", "fp32.tflite", "s", probe="probe-fp32.tflite")], "i.npz")
    older = schema.to_dict(plan) | {"schema_version": "1.6"}
    del older["variants"][0]["probe"]
    assert schema.build(schema.Plan, older, "plan.json").variants[0].probe == ""


def test_the_run_row_and_the_report_carry_the_culprit_line() -> None:
    cell = CellResult("r", "fp32", "gpu", 1, Status.WRONG_OUTPUT, culprit=FOUND)
    assert METRICS["culprit"].get(Measured(cell, None, None, None, "fp32")) == FOUND.line
    assert METRICS["culprit"].get(Measured(dataclasses.replace(cell, culprit=None), None, None, None, "fp32")) == ""
    row = ComparisonRow("r", "2026-12-06", "pi4", "fp32", "gpu", "compiled", 1, "wrong_output", culprit=FOUND.line)
    assert row_notes([row]) == [f"pi4 × fp32 × gpu × compiled × 1t {FOUND.line}"]
