"""Numbers you can trust: a cell's outputs are held to the same variant on the host's reference kernels
(wrong numbers are wrong_output, whatever the delegate claims), and an accelerator that is not on the device
is delegate_unavailable with a sentence, whatever the CompiledModel API says."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import edgebench_records as schema
from device_runner import accuracy
from device_runner.engines import InterpreterEngine
from device_runner.flatbuffer import read_model_file
from device_runner.inputs import read_input_set, read_variant_reference
from device_runner.runtime import load_runtime
from device_runner.sweep import run_plan
from edgebench.cli import invoke
from edgebench_records import CellResult, Manifest, Status
from tests.conftest import QUICK, make_plan
from tests.support.real_models import MULTI_HEAD, STATEFUL, real_model

Converted = tuple[Manifest, Path]


def sweep(tmp_path: Path, converted: Converted, **settings: Any) -> dict[str, CellResult]:
    _, plan_path = make_plan(tmp_path, converted, dataclasses.replace(QUICK, **settings))
    results = run_plan(plan_path, tmp_path / "results")
    return {f"{r.variant}/{r.delegate.split('/')[-1]}/{r.api}": r for r in results}


@pytest.mark.slow
def test_the_input_set_holds_each_variant_s_outputs_on_reference_kernels(converted: Converted, tmp_path: Path) -> None:
    manifest, manifest_dir = converted
    plan, plan_path = make_plan(tmp_path, converted)
    inputs = read_input_set(plan_path.parent / plan.input_set).inputs
    for variant in manifest.ok_variants():
        assert variant.file
        model = manifest_dir / variant.file
        engine = InterpreterEngine(load_runtime(), model, read_model_file(model), "cpu", threads=1)
        reference = read_variant_reference(plan_path.parent / plan.input_set, variant.name)  # staged beside the plan
        assert reference is not None
        for want, got in zip(reference, accuracy.predict(engine, inputs), strict=True):
            np.testing.assert_array_equal(want.reshape(got.shape), got)


@pytest.mark.slow
def test_a_delegate_that_corrupts_the_outputs_makes_the_cell_wrong_output_with_the_figures(
    tmp_path: Path, converted: Converted, corrupting_delegate: Path
) -> None:
    results = sweep(tmp_path, converted, delegates=[f"external:{corrupting_delegate}"])
    for variant in ("fp32", "int8"):
        result = results[f"{variant}/{corrupting_delegate.name}/interpreter"]
        assert result.status == Status.WRONG_OUTPUT and result.failed
        assert result.coverage and result.coverage.fraction == 1.0  # it claimed every node: only numbers tell
        numerics = result.numerics
        assert numerics and not numerics.passed and numerics.n == 360
        assert numerics.agreement is not None and numerics.agreement < 0.5
        assert numerics.cosine is not None and numerics.cosine < 0.9 and numerics.max_abs_diff > 0.1
        assert numerics.output.startswith("0")
        assert result.timing and result.accuracy  # still measured: the figures show how wrong
        assert "\n" not in result.message and "reference kernels" in result.message
        assert f"top-1 agreement {numerics.agreement:.1%}" in result.message


@pytest.mark.slow
def test_honest_cells_of_the_example_pass_the_check_with_room_to_spare(tmp_path: Path, converted: Converted) -> None:
    results = sweep(tmp_path, converted, delegates=["xnnpack", "cpu"], apis=["interpreter", "compiled"])
    for name, result in results.items():
        assert result.status == Status.OK, f"{name}: {result.message}"
        numerics = result.numerics
        assert numerics and numerics.passed, name
        assert numerics.agreement is not None and numerics.agreement >= 0.99, name
        assert numerics.cosine is not None and numerics.cosine >= 0.999, name  # the defaults: 0.97 and 0.99
    # Reference kernels on the device are the reference itself: any difference would be the runner's.
    assert results["int8/cpu/interpreter"].numerics.max_abs_diff == 0.0  # type: ignore[union-attr]


@pytest.mark.slow
def test_the_plan_s_tolerances_decide(tmp_path: Path, converted: Converted) -> None:
    """int8 under XNNPACK differs from reference kernels in a few samples: an exact-agreement plan says so."""
    results = sweep(tmp_path, converted, delegates=["xnnpack"], numerics_min_agreement=1.0)
    strict = results["int8/xnnpack/interpreter"]
    assert strict.status == Status.WRONG_OUTPUT
    assert strict.numerics and strict.numerics.min_agreement_allowed == 1.0
    assert strict.numerics.agreement is not None and strict.numerics.agreement < 1.0
    assert results["fp32/xnnpack/interpreter"].status == Status.OK  # fp32: the same top-1 on every sample


@pytest.mark.slow
@pytest.mark.parametrize("accelerator", ["npu", "gpu"])
def test_an_accelerator_this_host_lacks_is_unavailable_with_a_sentence(
    tmp_path: Path, converted: Converted, accelerator: str
) -> None:
    """ai_edge_litert registers its NPU and GPU accelerators here and, given CPU fallback, runs the model on the
    CPU and calls it fully accelerated: the runner must not believe that."""
    results = sweep(tmp_path, converted, delegates=[accelerator], apis=["compiled"])
    for variant in ("fp32", "int8"):
        result = results[f"{variant}/{accelerator}/compiled"]
        assert result.status == Status.DELEGATE_UNAVAILABLE, result.message
        assert result.timing is None and result.fully_accelerated is None
        message = result.message
        assert message.startswith(f"{accelerator} is not available on this device: ") and message.endswith(".")
        assert "\n" not in message and "litert_compiled_model.h" not in message  # a reason, not a source location


def run_real(model: Path, workdir: Path, *flags: str) -> list[CellResult]:
    """``edgebench run`` on a real .tflite, briefly, under both delegates and APIs: every cell's result."""
    argv = ["run", "--model", str(model), "--delegates", "cpu,xnnpack", "--api", "interpreter,compiled"]
    argv += ["--runs", "3", "--min-secs", "0", "--warmup-secs", "0.05", "--workdir", str(workdir), "--quiet"]
    argv += ["--store", str(workdir / "h.sqlite"), *flags]
    invoke(argv)
    return [schema.read(CellResult, p) for p in sorted(workdir.glob("runs/*/results/*.json"))]


@pytest.mark.slow
def test_a_stateful_model_is_compared_from_its_initial_state_and_never_wrong_against_itself(tmp_path: Path) -> None:
    """okay_nabu keeps resource variables: the warm-up and timed runs advance them, the scored outputs do not."""
    results = run_real(real_model(STATEFUL), tmp_path, "--variants", "weight_int8")
    # its weights are int8 already: weight_int8 is not_applicable, the given file is measured in 4 cells
    assert {r.variant for r in results} == {"given"} and len(results) == 4
    for result in results:
        assert result.status == Status.OK, f"{result.key.id}: {result.message}"
        numerics = result.numerics
        assert numerics and numerics.passed and numerics.state.startswith("fresh interpreter")
        (head,) = numerics.outputs
        assert head.name == "dense_1" and head.cosine is None and head.snr_db is None  # one value: no cosine
        assert head.step == 1 / 256 and head.max_steps is not None and head.max_steps <= 1
        if result.delegate == "cpu":
            assert numerics.max_abs_diff == 0.0  # the reference kernels against themselves


@pytest.mark.slow
def test_heads_keep_their_names_and_labels_score_the_class_head_only(tmp_path: Path) -> None:
    """face_detection_back: regressors [1,896,16] and classificators [1,896,1], named as the model names them
    (names, not figures: 8 synthetic inputs do)."""
    flags = ("--variants", "weight_int8", "--labels-output", "nothing", "--synthetic-samples", "8")
    results = run_real(real_model(MULTI_HEAD), tmp_path, *flags)
    for result in results:
        assert result.status == Status.OK, f"{result.key.id}: {result.message}"
        assert result.numerics and [o.name for o in result.numerics.outputs] == ["regressors", "classificators"]
        assert result.accuracy and [o.name for o in result.accuracy.outputs] == ["regressors", "classificators"]
        assert all(o.rel_error is not None for o in result.numerics.outputs)
        assert result.accuracy.labels_note.startswith("--labels-output nothing names no output")
