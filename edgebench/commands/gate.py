"""``edgebench gate``: fail the release on a real regression, and only on a real one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgebench.commands.convert import resolve_inputs, variant_names
from edgebench.commands.groups import Output, grouped
from edgebench.commands.options import (
    conversion_options,
    delegate_list,
    flags_given,
    inventory_option,
    json_option,
    markdown_option,
    measurement_flag,
    note_no_data,
    output_file,
    quiet_option,
    store_option,
    workdir_option,
    write_markdown,
)
from edgebench.commands.progress import progress
from edgebench.gate.policy import (
    MIN_HISTORY,
    PAIRED_MAX_S,
    PAIRED_PRECISION,
    PAIRED_RUNS,
    Policy,
    Thresholds,
    load_policy,
)
from edgebench.output_files import write_output
from edgebench_records import Measurement
from edgebench_records.catalogue import Options

if TYPE_CHECKING:  # the statistics, the store and the converter load numpy, scipy, SQLAlchemy: only when a gate runs
    from edgebench.gate.compare import GateResult
    from edgebench.gate.paired import PairedRequest
    from edgebench.gate.stored import StoredGateRequest


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
Paired mode measures both models on one device in one job, interleaved A B B A in blocks, until the ratio's
95 % interval is within ±--precision or clears the floor (at least 10 blocks a side; --precision 0: --blocks
blocks of --runs as asked): latency is a one-sided Wilcoxon test on per-block log ratios with a Hodges-Lehmann
ratio (p < {alpha}, floor {floor}).
A .tflite is paired as given (variant `given`): give .tflite files for both models, or neither.
Both models are converted with the same conversion flags (--sparsity … --seed, as in convert). Without --data
both are measured on seeded synthetic inputs made from the baseline's input tensors: no accuracy verdicts.
Stored mode REF: a run id, `latest`, a tag KEY=VALUE (the latest matching run of each device), or a
run bundle file written elsewhere by `edgebench history --export REF --to FILE.json`.
Runs of unrelated models (neither name nor sha256 in common) are refused without --allow-different-models;
two runs of the very same model files are refused (gate a file against itself in paired mode).
Stored-mode latency: the ratio of medians, its interval carrying the noise within each run and the spread
between runs of that cell in the device's history (inconclusive with fewer than {MIN_HISTORY} earlier runs);
a regression only if the whole interval is past the floor ({floor}). p90/p99 warn only.
Every cell of both sides is held to its own model's host reference (wrong_output); a candidate cell that is
wrong_output, crashed or failed fails the gate whatever the baseline was: the gate cannot vouch for it.
Memory: {memory}. Size and gzip size: any growth past {size}. Accuracy: exact McNemar on the
same inputs, floor {points} points. Coverage: fewer delegated nodes, or ok -> failed, is a regression.
Exit code: 0 pass, 1 regression (or inconclusive, if the policy says so), 2 usage or infrastructure error.
"""


EPILOG = _epilog(Thresholds())
PAIRED_ONLY = (
    "--baseline-model",
    "--candidate-model",
    "--data",
    "--variants",
    "--delegates",
    "--blocks",
    "--runs",
    "--precision",
    "--max-secs",
)


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


@dataclass(frozen=True)
class StoredFlags:
    baseline: str | None  # REF
    candidate: str | None
    allow_different_models: bool


@dataclass(frozen=True)
class PairedFlags:
    baseline_model: Path | None
    candidate_model: Path | None
    data: Path | None
    variants: str
    delegates: str
    blocks: int
    runs: int
    precision: float  # adaptive: stop once the ratio's interval is within ±precision or clears the floor
    max_s: float

    def measurement(self) -> Measurement:
        """How both sides are timed: ABBA blocks of runs // blocks runs, no minimum seconds (the blocks are)."""
        return Measurement(
            delegates=delegate_list(self.delegates),
            runs=self.runs,
            blocks=self.blocks,
            min_s=0.0,
            precision=self.precision,
            max_s=self.max_s,
        )


@dataclass(frozen=True)
class Where:
    """Where paired mode measures and stores; stored mode reads the store, and gates only ``device``."""

    device: str | None
    inventory: str | None
    workdir: str
    store: str | None


@dataclass(frozen=True)
class Reports:
    """The files the verdicts are also written to, for CI."""

    junit_path: Path | None
    markdown_path: str | None


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
    "--blocks",
    type=click.IntRange(min=6),
    default=20,
    show_default=True,
    help="Paired mode: ABBA blocks per side (adaptive: blocks of --runs / --blocks runs, as many as it needs).",
)
@click.option(
    "--runs",
    type=click.IntRange(min=6),
    default=PAIRED_RUNS,
    show_default=True,
    help="Paired mode: timed runs per side, spread over the blocks.",
)
@measurement_flag("precision", default=PAIRED_PRECISION)
@measurement_flag("max_s", default=PAIRED_MAX_S)
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
@grouped(StoredFlags, "stored")
@grouped(PairedFlags, "pair")
@grouped(Where, "where")
@grouped(Reports, "reports")
@grouped(Output, "output")
def gate(
    ctx: click.Context,
    stored: StoredFlags,
    pair: PairedFlags,
    where: Where,
    conversion: Options,
    policy_path: Path | None,
    reports: Reports,
    output: Output,
) -> int:
    """Fail the release on a real regression: paired mode measures both models now, side by side;
    stored mode compares two runs from the history. Exit 1 on a regression."""
    from edgebench.gate.paired import PairedRequest
    from edgebench.gate.run import GateRequest, run_gate

    policy = load_policy(policy_path)
    mode = _mode(ctx, stored, pair, where, conversion)
    measuring = isinstance(mode, PairedRequest)
    with progress(output.quiet or not measuring, as_json=output.as_json) as listener:
        outcome = run_gate(GateRequest(mode, policy), listener)
    if isinstance(mode, PairedRequest) and mode.data is None:
        note_no_data(conversion.synthetic_samples)
    for warning in outcome.warnings:
        click.echo(f"edgebench: warning: {warning}", err=True)
    _write(outcome.result, policy, reports, output)
    return int(outcome.result.exit_code(policy))


def _mode(
    ctx: click.Context, stored: StoredFlags, pair: PairedFlags, where: Where, conversion: Options
) -> PairedRequest | StoredGateRequest:
    """The request of the one mode the flags ask for; both modes, or neither, is a usage error."""
    from edgebench.gate.paired import PairedRequest
    from edgebench.gate.stored import StoredGateRequest
    from edgebench.inventory import load_inventory
    from edgebench.store import store_url

    paired_mode = pair.baseline_model is not None and pair.candidate_model is not None
    stored_mode = stored.baseline is not None and stored.candidate is not None
    if paired_mode == stored_mode or (pair.baseline_model is None) != (pair.candidate_model is None):
        raise click.UsageError(
            "give --baseline-model and --candidate-model (paired mode), or --baseline and --candidate (stored mode)"
        )
    if pair.baseline_model is not None and pair.candidate_model is not None:
        _, data = resolve_inputs(pair.baseline_model, pair.data)
        return PairedRequest(
            pair.baseline_model,
            pair.candidate_model,
            data,
            variant_names(pair.variants),
            pair.measurement(),
            where.device or "local",
            load_inventory(where.inventory),
            Path(where.workdir),
            store_url(where.store),
            conversion,
        )
    refuse_paired_flags(ctx)
    assert stored.baseline is not None and stored.candidate is not None
    return StoredGateRequest(
        store_url(where.store), stored.baseline, stored.candidate, where.device, stored.allow_different_models
    )


def _write(result: GateResult, policy: Policy, reports: Reports, output: Output) -> None:
    """The verdicts to the report files asked for, and to stdout: JSON, or the table (unless Markdown is there)."""
    from edgebench.report import gate_view
    from edgebench.report.table import console_for_stdout

    if reports.junit_path:
        write_output(reports.junit_path, gate_view.junit(result))
    if reports.markdown_path:
        write_markdown(reports.markdown_path, gate_view.markdown(result, policy))
    if output.as_json:
        click.echo(json.dumps(gate_view.as_json(result, policy), indent=1))
    elif reports.markdown_path != "-":
        gate_view.render(result, policy, console_for_stdout())
