"""No file is measured under a name it does not have: a variant's bytes are checked against the sha256 its manifest
and plan record, when the host stages it and again on the device before the sweep measures anything."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

import edgebench_records as schema
from edgebench.errors import EdgebenchError
from edgebench.plan import stage
from edgebench_records import Measurement, Plan, PlanVariant

INT8 = b"the int8 variant's bytes"
FP32 = b"fp32's bytes, copied over int8"


def plan_of(folder: Path) -> Plan:
    """A plan naming int8.tflite with the hash of the int8 bytes; the folder holds fp32's bytes under that name."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "int8.tflite").write_bytes(FP32)
    (folder / "inputs.npz").write_bytes(b"")
    variant = PlanVariant("int8", "int8.tflite", hashlib.sha256(INT8).hexdigest())
    return Plan("r1", "m", [variant], "inputs.npz", measure=Measurement(delegates=["cpu"]))


def test_the_host_refuses_to_stage_a_variant_whose_bytes_are_not_the_recorded_ones(tmp_path: Path) -> None:
    plan = plan_of(tmp_path / "made")
    with pytest.raises(EdgebenchError) as refused:
        stage(plan, tmp_path / "made", tmp_path / "staged")
    now = hashlib.sha256(FP32).hexdigest()[:12]
    recorded = hashlib.sha256(INT8).hexdigest()[:12]
    assert str(refused.value) == (
        f"variant file {tmp_path / 'made' / 'int8.tflite'} is not the int8 its manifest names "
        f"(sha256 {now}, recorded {recorded}); refusing to measure it under that name"
    )
    assert not (tmp_path / "staged").exists()


def test_the_device_refuses_to_measure_a_variant_whose_bytes_are_not_the_planned_ones(tmp_path: Path) -> None:
    plan = plan_of(tmp_path / "plan")
    schema.write(tmp_path / "plan" / "plan.json", plan)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "device_runner",
            "run",
            str(tmp_path / "plan" / "plan.json"),
            "--results",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert f"variant file {tmp_path / 'plan' / 'int8.tflite'} does not have the sha256 the plan records" in proc.stderr
    assert not list(tmp_path.glob("r/*.json"))  # nothing measured, nothing recorded
