"""``edgebench gate``: fail the release on a real regression, and only on a real one."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgebench.commands.convert import resolve_inputs, variant_names
from edgebench.commands.options import (
    conversion_options,
    delegate_list,
    flags_given,
    inventory_option,
    json_option,
    markdown_option,
    note_no_data,
    output_file,
    quiet_option,
    store_option,
    workdir_option,
    write_markdown,
)
from edgebench.commands.progress import progress
from edgebench.gate.policy import Policy, Thresholds, load_policy
from edgebench_records import Measurement
from edgebench_records.catalogue import Options

if TYPE_CHECKING:  # the statistics and the store load numpy, scipy and SQLAlchemy: only when a gate runs
    from edgebench.gate.compare import GateResult


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g} %"


def _epilog(limits: Thresholds) -> str:
    """The help's closing text; its numbers are the policy's defaults, so the two cannot drift apart."""
    alpha, floor, points = f"{limits.alpha:g}", _percent(limits.latency_floor), f"{limits.accuracy_points:g}"
    memory, size = f"max({_percent(limits.memory_pct)}, {limits.memory_mb:g} MB)", _percent(limits.size_pct)
    return f"""\b
Examples:
  edgebench gate --baseline-model v4.1.keras --candidate-model v4.2.keras --data d.npz   # paired, the CI default
  edgebench gate --baseline-model old.keras --candidate-model new.keras --data d.npz --device pi4
  edgebench gate --baseline-model old.keras --candidate-model new.keras --data d.npz --variants int8 --float-io
  edgebench gate --baseline-model old.tflite --candidate-model new.tflite   # no --data: latency, memory, fidelity
  edgebench gate --baseline release=4.1 --candidate latest
  edgebench gate --baseline 20261120T101500Z-aa11bb --candidate 20261124T081500Z-1a2b3c --policy gate.toml
  edgebench gate --baseline release=4.1 --candidate latest --junit-xml gate.xml --markdown - >> "$GITHUB_STEP_SUMMARY"
  edgebench gate --baseline baseline-4.1.json --candidate latest   # a bundle exported on the lab machine

\b
Paired mode measures both models on one device in one job, interleaved A B B A in --blocks blocks:
latency is a one-sided Wilcoxon test on per-block log ratios with a Hodges-Lehmann ratio (p < {alpha}, floor {floor}).
A .tflite is paired as given (variant `given`): give .tflite files for both models, or neither.
Both models are converted with the same conversion flags (--sparsity … --seed, as in convert). Without --data
both are measured on seeded synthetic inputs made from the baseline's input tensors: no accuracy verdicts.
Stored mode REF: a run id, `latest`, a tag KEY=VALUE (the latest matching run of each device), or a
run bundle file written elsewhere by `edgebench history --export REF --to FILE.json`.
Runs of unrelated models (neither name nor sha256 in common) are refused without --allow-different-models.
Stored-mode latency: bootstrap CI of the ratio of medians; a regression only if the whole CI is past the floor
({floor}, raised to 3x the run-to-run noise the history shows for that cell). p90/p99 warn only.
Memory: {memory}. Size and gzip size: any growth past {size}. Accuracy: exact McNemar on the
same inputs, floor {points} points. Coverage: fewer delegated nodes, or ok -> failed, is a regression.
Exit code: 0 pass, 1 regression (or inconclusive, if the policy says so), 2 usage or infrastructure error.
"""


EPILOG = _epilog(Thresholds())
PAIRED_ONLY = ("--baseline-model", "--candidate-model", "--data", "--variants", "--delegates", "--blocks", "--runs")


def refuse_paired_flags(ctx: click.Context) -> None:
    """Stored mode compares runs measured earlier: a flag for converting or measuring now would be ignored,
    so it is refused rather than let the user believe it was applied."""
    from edgebench.resume import CONVERSION_FLAGS

    ignored = [flag for flag in flags_given(ctx) if flag in PAIRED_ONLY or flag in CONVERSION_FLAGS.values()]
    if ignored:
        raise click.UsageError(
            f"{', '.join(ignored)}: paired mode only (stored mode compares runs already measured); "
            "drop it, or give --baseline-model and --candidate-model"
        )


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def render(result: GateResult, policy: Policy) -> None:
    from rich.table import Table

    from edgebench.gate import stats
    from edgebench.report.table import console_for_stdout

    console = console_for_stdout()
    table = Table(title=f"gate: baseline {', '.join(result.baseline)} → candidate {', '.join(result.candidate)}")
    for column in ("verdict", "cell", "metric", "baseline", "candidate", "why"):
        table.add_column(column, no_wrap=column != "why")
    styles = {
        stats.Outcome.REGRESSION: "bold red",
        stats.Outcome.INCONCLUSIVE: "yellow",
        stats.Outcome.WARNING: "yellow",
        stats.Outcome.IMPROVEMENT: "green",
    }
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
            style=styles.get(v.verdict),
        )
    console.print(table)
    passed = sum(v.verdict == stats.Outcome.PASS for v in result.verdicts)
    console.print(f"{passed} of {len(result.verdicts)} checks passed unchanged.")
    for side, keys in (("baseline", result.only_baseline), ("candidate", result.only_candidate)):
        for key in keys:
            console.print(f"[yellow]only in {side}:[/] {' · '.join(map(str, key))}")
    code = result.exit_code(policy)
    console.print("[bold red]GATE FAILED[/]" if code else "[bold green]gate passed[/]")


def junit(result: GateResult) -> str:
    from edgebench.gate import stats

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
    from edgebench.gate import stats

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
    return "\n".join(lines) + "\n"


@click.command(epilog=EPILOG)
@click.option("--baseline", metavar="REF", help="Stored mode: what the candidate is compared with.")
@click.option("--candidate", metavar="REF", help="Stored mode: what is about to be released.")
@click.option(
    "--baseline-model",
    type=click.Path(path_type=Path),
    help="Paired mode: the released model, measured now beside the candidate.",
)
@click.option("--candidate-model", type=click.Path(path_type=Path), help="Paired mode: the model to release.")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="Paired mode: calibration and accuracy data (.npz or image folder) for both models "
    "[default: synthetic inputs, so no accuracy].",
)
@click.option("--variants", default="fp32,int8", show_default=True, help="Paired mode: variants to compare.")
@click.option("--delegates", default="xnnpack", show_default=True, help="Paired mode: delegates to compare on.")
@click.option(
    "--blocks", type=click.IntRange(min=6), default=20, show_default=True, help="Paired mode: ABBA blocks per side."
)
@click.option(
    "--runs",
    type=click.IntRange(min=6),
    default=200,
    show_default=True,
    help="Paired mode: timed runs per side, spread over the blocks.",
)
@click.option("--device", help="Paired mode: where to measure [default: local]. Stored mode: only this device.")
@conversion_options
@inventory_option
@workdir_option
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Thresholds, per-device/variant overrides, ignored metrics (TOML).",
)
@click.option(
    "--junit-xml",
    "junit_path",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=output_file,
    help="Also write the verdicts as JUnit XML for CI test reports.",
)
@click.option(
    "--allow-different-models",
    is_flag=True,
    help="Stored mode: gate runs of models that share neither name nor sha256 (refused otherwise), with a warning.",
)
@markdown_option
@store_option
@json_option
@quiet_option
@click.pass_context
def gate(
    ctx: click.Context,
    baseline: str | None,
    candidate: str | None,
    baseline_model: Path | None,
    candidate_model: Path | None,
    data: Path | None,
    variants: str,
    delegates: str,
    blocks: int,
    runs: int,
    device: str | None,
    conversion: Options,
    inventory: str | None,
    workdir: str,
    policy_path: Path | None,
    junit_path: Path | None,
    markdown_path: str | None,
    allow_different_models: bool,
    store: str | None,
    as_json: bool,
    quiet: bool,
) -> int:
    """Fail the release on a real regression: paired mode measures both models now, side by side;
    stored mode compares two runs from the history. Exit 1 on a regression."""
    from edgebench.gate import paired
    from edgebench.gate.compare import compare
    from edgebench.gate.stored import StoredGateRequest, stored_gate
    from edgebench.inventory import load_inventory
    from edgebench.store import store_url

    policy = load_policy(policy_path)
    paired_mode = baseline_model is not None and candidate_model is not None
    stored_mode = baseline is not None and candidate is not None
    if paired_mode == stored_mode or (baseline_model is None) != (candidate_model is None):
        raise click.UsageError(
            "give --baseline-model and --candidate-model (paired mode), or --baseline and --candidate (stored mode)"
        )
    if baseline_model is not None and candidate_model is not None:
        _, data = resolve_inputs(baseline_model, data)
        request = paired.PairedRequest(
            baseline_model,
            candidate_model,
            data,
            variant_names(variants),
            Measurement(delegates=delegate_list(delegates), runs=runs, blocks=blocks, min_s=0.0),
            device or "local",
            load_inventory(inventory),
            Path(workdir),
            store_url(store),
            conversion,
        )
        with progress(quiet, as_json=as_json) as listener:
            before_run, after_run = paired.measure(request, listener)
        if data is None:
            note_no_data(conversion.synthetic_samples)
        result = compare([before_run], [after_run], policy, {})
    else:
        refuse_paired_flags(ctx)
        assert baseline is not None and candidate is not None
        outcome = stored_gate(
            StoredGateRequest(store_url(store), baseline, candidate, device, policy, allow_different_models)
        )
        for warning in outcome.warnings:
            click.echo(f"edgebench: warning: {warning}", err=True)
        result = outcome.result
    if junit_path:
        junit_path.write_text(junit(result), encoding="utf-8")
    if markdown_path:
        write_markdown(markdown_path, markdown(result, policy))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "exit_code": int(result.exit_code(policy)),
                    "baseline": result.baseline,
                    "candidate": result.candidate,
                    "verdicts": [{**asdict(v), "cell": v.cell_name} for v in result.verdicts],
                    "only_baseline": [list(k) for k in result.only_baseline],
                    "only_candidate": [list(k) for k in result.only_candidate],
                },
                indent=1,
            )
        )
    elif markdown_path != "-":
        render(result, policy)
    return int(result.exit_code(policy))
