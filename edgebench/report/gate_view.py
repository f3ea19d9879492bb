"""The gate's verdicts as the terminal, CI test reports (JUnit XML), a job summary (Markdown) and
``--json`` show them: every check that did not pass unchanged, and whether the gate failed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import asdict

from rich.console import Console
from rich.table import Table

from edgebench.gate import stats
from edgebench.gate.compare import GateResult
from edgebench.gate.policy import Policy

STYLES = {
    stats.Outcome.REGRESSION: "bold red",
    stats.Outcome.INCONCLUSIVE: "yellow",
    stats.Outcome.WARNING: "yellow",
    stats.Outcome.IMPROVEMENT: "green",
}


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def render(result: GateResult, policy: Policy, console: Console) -> None:
    table = Table(title=f"gate: baseline {', '.join(result.baseline)} → candidate {', '.join(result.candidate)}")
    for column in ("verdict", "cell", "metric", "baseline", "candidate", "why"):
        table.add_column(column, no_wrap=column != "why")
    for v in result.verdicts:
        if v.verdict == stats.Outcome.PASS:
            continue
        table.add_row(
            v.verdict,
            v.cell_name,
            v.metric,
            _number(v.baseline),
            _number(v.candidate),
            v.detail,
            style=STYLES.get(v.verdict),
        )
    console.print(table)
    passed = sum(v.verdict == stats.Outcome.PASS for v in result.verdicts)
    console.print(f"{passed} of {len(result.verdicts)} checks passed unchanged.")
    for side, keys in (("baseline", result.only_baseline), ("candidate", result.only_candidate)):
        for key in keys:
            console.print(f"[yellow]only in {side}:[/] {' · '.join(map(str, key))}")
    for note in result.notes:
        console.print(f"[yellow]CPU features differ[/]: {note}")
    code = result.exit_code(policy)
    console.print("[bold red]GATE FAILED[/]" if code else "[bold green]gate passed[/]")


def junit(result: GateResult) -> str:
    suite = ET.Element(
        "testsuite",
        name="edgebench gate",
        tests=str(len(result.verdicts)),
        failures=str(sum(v.verdict == stats.Outcome.REGRESSION for v in result.verdicts)),
    )
    for v in result.verdicts:
        case = ET.SubElement(suite, "testcase", classname=v.cell_name, name=v.metric)
        if v.verdict == stats.Outcome.REGRESSION:
            ET.SubElement(case, "failure", message=v.detail).text = v.detail
        elif v.verdict != stats.Outcome.PASS:
            ET.SubElement(case, "system-out").text = f"{v.verdict}: {v.detail}"
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def markdown(result: GateResult, policy: Policy) -> str:
    status = "❌ regression" if result.exit_code(policy) else "✅ pass"
    lines = [
        f"## edgebench gate: {status}",
        "",
        "| verdict | cell | metric | baseline | candidate | why |",
        "|---|---|---|---:|---:|---|",
    ]
    lines += [
        f"| {v.verdict} | {v.cell_name} | {v.metric} | {_number(v.baseline)} | {_number(v.candidate)} | {v.detail} |"
        for v in result.verdicts
        if v.verdict != stats.Outcome.PASS
    ]
    lines += ["", *(f"CPU features differ: {note}" for note in result.notes)] if result.notes else []
    return "\n".join(lines) + "\n"


def as_json(result: GateResult, policy: Policy) -> dict[str, object]:
    return {
        "exit_code": int(result.exit_code(policy)),
        "baseline": result.baseline,
        "candidate": result.candidate,
        "verdicts": [{**asdict(v), "cell": v.cell_name} for v in result.verdicts],
        "only_baseline": [list(k) for k in result.only_baseline],
        "only_candidate": [list(k) for k in result.only_candidate],
        "notes": result.notes,
    }
