"""The gate and the report say, in one line, when what they compare was measured on CPUs with different
kernel-deciding features: their timings compare kernels as much as models then."""

from __future__ import annotations

import dataclasses
import io
import json

from rich.console import Console

from edgebench import cpu_features
from edgebench.gate.compare import compare
from edgebench.gate.policy import Policy
from edgebench.report import comparison, gate_view, html
from edgebench_records import CellResult, CpuFeature, DeviceFacts, Status
from tests.spec.test_gate_vouch import AFTER, BEFORE, cell, run

LINE = "local: baseline had AVX-512 VNNI, candidate did not: int8 timings are not comparable"


def on(found: CellResult, *features: CpuFeature) -> CellResult:
    facts = DeviceFacts("ai_edge_litert", "2.1", "3.11", "2.0", "x86_64", "Xeon", 2, "Debian", "6.1", None, None)
    return dataclasses.replace(found, device=dataclasses.replace(facts, cpu_features=list(features)))


def test_a_gate_across_cpus_with_different_features_names_the_difference_in_every_output() -> None:
    baseline = run("base", [on(cell("base", Status.OK), CpuFeature.AVX2, CpuFeature.AVX512_VNNI)], BEFORE)
    candidate = run("cand", [on(cell("cand", Status.OK), CpuFeature.AVX2)], AFTER)
    result = compare([baseline], [candidate], Policy(), {})
    assert result.notes == [LINE]
    console = Console(file=io.StringIO(), width=300)
    gate_view.render(result, Policy(), console)
    assert f"CPU features differ: {LINE}" in console.file.getvalue()  # type: ignore[attr-defined]
    assert f"CPU features differ: {LINE}" in gate_view.markdown(result, Policy())
    assert json.loads(json.dumps(gate_view.as_json(result, Policy())))["notes"] == [LINE]


def test_the_same_features_or_unread_ones_say_nothing() -> None:
    same = compare(
        [run("base", [on(cell("base", Status.OK), CpuFeature.DOTPROD)], BEFORE)],
        [run("cand", [on(cell("cand", Status.OK), CpuFeature.DOTPROD)], AFTER)],
        Policy(),
        {},
    )
    unread = compare(
        [run("base", [cell("base", Status.OK)], BEFORE)], [run("cand", [cell("cand", Status.OK)], AFTER)], Policy(), {}
    )
    assert same.notes == unread.notes == []
    assert "CPU features" not in gate_view.markdown(same, Policy())


def test_a_report_of_runs_on_cpus_with_different_features_names_each_difference_once() -> None:
    xeon = run("r1", [on(cell("r1", Status.OK), CpuFeature.AVX2, CpuFeature.AMX_INT8)], BEFORE)
    older = dataclasses.replace(run("r2", [on(cell("r2", Status.OK), CpuFeature.AVX2)], BEFORE), device="ci")
    unread = dataclasses.replace(run("r3", [cell("r3", Status.OK)], BEFORE), device="pi4")
    notes = cpu_features.across_runs([xeon, older, unread, xeon])
    assert notes == ["local (r1) had AMX int8, ci did not: int8 timings are not comparable"]
    assert cpu_features.across_runs([xeon, unread]) == []  # nothing known to compare with
    line = "CPU features differ: " + notes[0]
    assert f"- {line}" in comparison.markdown([], [], notes)
    console = Console(file=io.StringIO(), width=300)
    comparison.render([], [], console, notes)
    assert line in console.file.getvalue()  # type: ignore[attr-defined]
    assert line in html.render([], [], [], None, notes)
