"""Plans for one model file and an input set of the test's making (the example's conversion not involved)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

import edgebench_records as schema
from device_runner import accuracy
from device_runner.engines import InterpreterEngine
from device_runner.flatbuffer import read_model_file
from device_runner.inputs import InputSet, synthetic_inputs, write_input_set
from device_runner.runtime import load_runtime
from edgebench_records import Measurement, Plan, PlanVariant, sha256_file
from tests.conftest import QUICK


def stage(
    tmp_path: Path,
    model: Path,
    inputs: InputSet | dict[str, Any],  # Any: numpy's stub of savez takes no typed **kwargs
    variant_reference: list[np.ndarray] | None = None,
    settings: Measurement = QUICK,
    task: str = "auto",
) -> Path:
    """A plan measuring ``model`` as variant fp32 on ``inputs`` (an InputSet, or raw arrays as an older
    converter wrote them), with fp32's outputs on the host's reference kernels when given."""
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    shutil.copy(model, plan_dir / "fp32.tflite")
    if isinstance(inputs, InputSet):
        write_input_set(plan_dir / "inputs.npz", inputs, {"fp32": variant_reference} if variant_reference else {})
    else:
        np.savez(plan_dir / "inputs.npz", **inputs)
    plan = Plan(
        run_id="models",
        model_name=model.stem,
        variants=[PlanVariant("fp32", "fp32.tflite", sha256_file(model))],
        input_set="inputs.npz",
        measure=settings,
        task=task,
    )
    schema.write(plan_dir / "plan.json", plan)
    return plan_dir / "plan.json"


def host_outputs(model: Path, inputs: list[np.ndarray], delegate: str) -> list[np.ndarray]:
    """What the converter computes on the host: fp32 outputs (xnnpack), reference-kernel outputs (cpu)."""
    engine = InterpreterEngine(load_runtime(), model, read_model_file(model), delegate, threads=1)
    return accuracy.predict(engine, inputs)


def synthetic(model: Path, n: int = 6) -> InputSet:
    """A seeded synthetic input set for ``model``, without labels or references."""
    return InputSet(synthetic_inputs(read_model_file(model).inputs, n, seed=0, shapes={}), None, None, synthetic=True)
