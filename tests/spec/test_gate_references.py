"""The paired gate's input set: both sides measured on the baseline's inputs, each side's cells held to its own
model's reference-kernel outputs under its paired variant name, so the runner's numerics check runs on both."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device_runner.inputs import InputSet, read_input_set, read_variant_reference, write_input_set
from edgebench.gate.paired import paired_input_set
from edgebench_records import Manifest

RNG = np.random.default_rng(3)


def converted(folder: Path, name: str, x: np.ndarray, kernels: np.ndarray) -> tuple[Manifest, Path]:
    """What the converter leaves for one side: its input set with fp32's outputs on the reference kernels."""
    folder.mkdir()
    inputs = InputSet([x], np.arange(len(x)) % 10, [RNG.random((len(x), 10), dtype=np.float32)])
    write_input_set(folder / "inputs.npz", inputs, {"fp32": [kernels]})
    return Manifest(name, name[0] * 64, "key", "inputs.npz", []), folder


def test_each_side_is_held_to_its_own_reference_on_the_baseline_s_inputs(tmp_path: Path) -> None:
    x = RNG.random((6, 4), dtype=np.float32)
    mine, theirs = RNG.random((6, 10), dtype=np.float32), RNG.random((6, 10), dtype=np.float32)
    sides = [converted(tmp_path / "a", "old", x, mine), converted(tmp_path / "b", "new", x.copy(), theirs)]
    assert paired_input_set(sides, ["fp32"], tmp_path / "inputs.npz") == []
    written = read_input_set(tmp_path / "inputs.npz")
    baseline = read_input_set(tmp_path / "a" / "inputs.npz")
    np.testing.assert_array_equal(written.inputs[0], x)
    assert written.labels is not None and baseline.labels is not None and baseline.reference is not None
    np.testing.assert_array_equal(written.labels, baseline.labels)
    assert written.reference is not None
    np.testing.assert_array_equal(written.reference[0], baseline.reference[0])  # the baseline's fp32: paired scores
    for side, expected in (("baseline", mine), ("candidate", theirs)):
        found = read_variant_reference(tmp_path / "inputs.npz", f"{side}.fp32")
        assert found is not None
        np.testing.assert_array_equal(found[0], expected)


def test_a_candidate_made_on_other_inputs_is_said_to_go_unchecked(tmp_path: Path) -> None:
    x = RNG.random((6, 4), dtype=np.float32)
    kernels = RNG.random((6, 10), dtype=np.float32)
    sides = [converted(tmp_path / "a", "old", x, kernels), converted(tmp_path / "b", "new", x + 1, kernels)]
    assert paired_input_set(sides, ["fp32"], tmp_path / "inputs.npz") == [
        "the candidate's outputs are not checked against its host reference: new's input set holds other inputs "
        "than the baseline's, which both sides are measured on (other input tensors?)"
    ]
    assert read_variant_reference(tmp_path / "inputs.npz", "baseline.fp32") is not None
    assert read_variant_reference(tmp_path / "inputs.npz", "candidate.fp32") is None
