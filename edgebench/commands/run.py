"""``edgebench run`` (and ``push``): parse the flags into a request, measure, print the tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgebench.commands.convert import data_option, model_option, resolve_inputs, variant_names
from edgebench.commands.groups import Inputs, Output, grouped
from edgebench.commands.options import (
    accept_host_key_option,
    conversion_options,
    flags_given,
    inventory_option,
    json_option,
    measurement_options,
    note_no_data,
    parse_tags,
    quiet_option,
    store_option,
    unique_list,
    workdir_option,
)
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records import Measurement
from edgebench_records.catalogue import Options

if TYPE_CHECKING:  # the work's modules load SQLAlchemy and numpy: only when a run starts, not for --help
    from edgebench.measure import DeviceFailure, RunOutcome, RunRequest


@dataclass(frozen=True)
class Lab:
    """Which devices, and how they are reached: --device (a list), --inventory, --accept-new-host-key."""

    device_name: str
    inventory: str | None
    accept_new_host_key: bool


@dataclass(frozen=True)
class Continuity:
    """How this run stands to the others: one to finish (--resume), its labels (--tag), a fresh conversion."""

    resume: str | None
    tags: tuple[str, ...]
    force: bool


EPILOG = """\b
Examples:
  edgebench run                                   # bundled example on this machine
  edgebench run --model my.keras --data my.npz --delegates xnnpack,cpu --threads 1,2
  edgebench run --model face.tflite               # no --data: latency, memory, output fidelity; no accuracy
  edgebench run --model m.keras --data d.npz --variants pruned,qat_int8 --sparsity 0.75 --epochs 5 --lr 1e-3
  edgebench run --api interpreter,compiled --cpus 0 --cooldown-s 5   # both LiteRT APIs, pinned
  edgebench run --json > results.json             # rows for machines, progress on stderr
  edgebench run --resume 20261124T081500Z-1a2b3c  # finish a run that was cut off
  edgebench push --device pi4                     # the same on a board named in the inventory
  edgebench push --device pi4,pi5,local           # several devices at once; exit code is the worst
  edgebench push --device pixel --delegates xnnpack,gpu,nnapi:qti-dsp   # an Android phone (kind = "adb")
  edgebench push --device pi4 --model seg.tflite --input-shape input:1x256x256x3   # a dynamic input's shape

\b
The conversion flags (--sparsity … --seed) are convert's: what is tuned there is what gets measured.
Without --data a seeded synthetic input set is made from the model's own input tensors
(--synthetic-samples of them): latency, memory, coverage and output fidelity against the host fp32
outputs are measured, accuracy is not.
"""


@click.command(epilog=EPILOG)
@model_option
@data_option
@click.option(
    "--device",
    "device_name",
    default="local",
    show_default=True,
    help="Device(s) to measure on, comma-separated: measured at once, one failing does not stop the rest.",
)
@click.option("--variants", default="fp32,int8", show_default=True, help="Comma-separated variants to make.")
@measurement_options
@conversion_options
@click.option("--resume", metavar="RUN_ID", help="Finish an interrupted run: finished cells are kept, not rerun.")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    help="Label the run in the history, e.g. --tag release=4.2; repeatable.",
)
@click.option("--force", is_flag=True, help="Convert again even when a cached conversion matches.")
@inventory_option
@accept_host_key_option
@workdir_option
@store_option
@json_option
@quiet_option
@click.pass_context
@grouped(Inputs, "inputs")
@grouped(Lab, "lab")
@grouped(Continuity, "continuity")
@grouped(Output, "output")
def run(
    ctx: click.Context,
    inputs: Inputs,
    lab: Lab,
    measure: Measurement,
    conversion: Options,
    continuity: Continuity,
    workdir: str,
    store: str | None,
    output: Output,
) -> int:
    """Convert a model, measure each variant × delegate × API × threads on a device, store and print results.

    Each cell runs in its own process on the device, so a delegate that crashes costs one cell.
    Exit code: 0 all cells measured, 1 a cell or variant failed, 2 bad input or infrastructure.
    """
    from edgebench import measure as work
    from edgebench.commands.progress import progress

    device_names = unique_list(lab.device_name, "--device")
    request = _request(ctx, inputs, lab, measure, conversion, continuity, device_names, Path(workdir), store)
    with progress(output.quiet, as_json=output.as_json) as listener:
        outcomes = work.measure(request, device_names, listener)
    if request.data is None and not request.resume:
        note_no_data(conversion.synthetic_samples)
    return render(outcomes, output.as_json)


def _request(
    ctx: click.Context,
    inputs: Inputs,
    lab: Lab,
    measure: Measurement,
    conversion: Options,
    continuity: Continuity,
    device_names: list[str],
    workdir: Path,
    store: str | None,
) -> RunRequest:
    """The work's request from the flags."""
    from edgebench.inventory import load_inventory
    from edgebench.measure import RunRequest

    variants, tags = variant_names(inputs.variants), parse_tags(continuity.tags)
    given, (model, data) = {}, resolve_inputs(inputs.model, inputs.data)
    if continuity.resume:  # the run's own model, data and options; flags given must agree (edgebench.resume)
        given = _given_on_resume(ctx, inputs, variants, tags, conversion, measure, device_names)
        model, data = inputs.model or EXAMPLE_MODEL, inputs.data or EXAMPLE_DATA
    return RunRequest(
        model=model,
        data=data,
        variants=variants,
        measure=measure,
        workdir=workdir,
        store=store,
        inventory=load_inventory(lab.inventory),
        options=conversion,
        accept_new_host_key=lab.accept_new_host_key,
        resume=continuity.resume,
        force=continuity.force,
        tags=tags,
        given_flags=given,
    )


def _given_on_resume(
    ctx: click.Context,
    inputs: Inputs,
    variants: list[str],
    tags: dict[str, str],
    conversion: Options,
    measure: Measurement,
    device_names: list[str],
) -> dict[str, object]:
    """The flags given on the command line with their parsed values, for the resumed run to check against
    its own model, data and options (edgebench.resume)."""
    from edgebench.resume import settings
    from edgebench_records import RunRecord

    model, data = str(Path(inputs.model or "").resolve()), str(Path(inputs.data or "").resolve())
    parsed = {**settings(RunRecord("", model, data, variants, tags, conversion), measure), "--device": device_names}
    return {flag: parsed[flag] for flag in flags_given(ctx) if flag in parsed}


def render(outcomes: list[RunOutcome | DeviceFailure], as_json: bool) -> int:
    """The tables (or JSON), each failed device's line and each variant that could not be made."""
    from edgebench.measure import DeviceFailure
    from edgebench.report import run_view
    from edgebench.report.table import console_for_stdout

    if as_json:
        click.echo(json.dumps(run_view.as_json(outcomes), indent=1))
    for outcome in outcomes:
        if isinstance(outcome, DeviceFailure):
            click.echo(f"edgebench: {outcome.message}", err=True)
        elif not as_json:
            run_view.render(outcome, console_for_stdout())
    for variant in run_view.unmade(outcomes):
        click.echo(f"variant {variant.name}: {variant.status}: {variant.message}", err=True)
    return run_view.worst(outcomes)
