"""``edgebench run`` (and ``push``): parse the flags into a request, measure, print the tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgebench.commands.convert import data_option, model_option, resolve_inputs, variant_names
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
    from edgebench.measure import DeviceFailure, RunOutcome

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
def run(
    ctx: click.Context,
    model: Path | None,
    data: Path | None,
    device_name: str,
    variants: str,
    measure: Measurement,
    conversion: Options,
    resume: str | None,
    tags: tuple[str, ...],
    force: bool,
    inventory: str | None,
    accept_new_host_key: bool,
    workdir: str,
    store: str | None,
    as_json: bool,
    quiet: bool,
) -> int:
    """Convert a model, measure each variant × delegate × API × threads on a device, store and print results.

    Each cell runs in its own process on the device, so a delegate that crashes costs one cell.
    Exit code: 0 all cells measured, 1 a cell or variant failed, 2 bad input or infrastructure.
    """
    from edgebench import measure as work
    from edgebench.commands.progress import progress
    from edgebench.inventory import load_inventory
    from edgebench.resume import settings
    from edgebench_records import RunRecord

    device_names = unique_list(device_name, "--device")
    variant_list, tag_map = variant_names(variants), parse_tags(tags)
    given: dict[str, object] = {}
    if resume:  # the run's own model, data and options; flags given must agree with them (edgebench.resume)
        record = RunRecord(
            "", str(Path(model or "").resolve()), str(Path(data or "").resolve()), variant_list, tag_map, conversion
        )
        parsed = {**settings(record, measure), "--device": device_names}
        given = {flag: parsed[flag] for flag in flags_given(ctx) if flag in parsed}
        model, data = model or EXAMPLE_MODEL, data or EXAMPLE_DATA
    else:
        model, data = resolve_inputs(model, data)
    request = work.RunRequest(
        model=model,
        data=data,
        variants=variant_list,
        measure=measure,
        workdir=Path(workdir),
        store=store,
        inventory=load_inventory(inventory),
        options=conversion,
        accept_new_host_key=accept_new_host_key,
        resume=resume,
        force=force,
        tags=tag_map,
        given_flags=given,
    )
    with progress(quiet, as_json=as_json) as listener:
        outcomes = work.measure(request, device_names, listener)
    if data is None and not resume:
        note_no_data(conversion.synthetic_samples)
    return render(outcomes, as_json)


def render(outcomes: list[RunOutcome | DeviceFailure], as_json: bool) -> int:
    """The tables (or JSON), each failed device's line and each variant that could not be made."""
    from edgebench.measure import DeviceFailure, RunOutcome
    from edgebench.report import table

    worst = max(int(o.exit_code) for o in outcomes)
    if as_json:
        reports = [
            {"device": o.device, "exit_code": int(o.exit_code), "error": o.message}
            if isinstance(o, DeviceFailure)
            else {
                "device": o.device,
                "run_id": o.run_id,
                "model": o.manifest.model_name,
                "exit_code": int(o.exit_code),
                "rows": table.as_json(table.rows(o.cells, o.manifest)),
            }
            for o in outcomes
        ]
        click.echo(json.dumps({"exit_code": worst, "runs": reports}, indent=1))
    for outcome in outcomes:
        if isinstance(outcome, DeviceFailure):
            click.echo(f"edgebench: {outcome.message}", err=True)
        elif not as_json:
            title = f"{outcome.manifest.model_name} on {outcome.device} — run {outcome.run_id}"
            table.render(table.rows(outcome.cells, outcome.manifest), title, table.console_for_stdout())
    manifest = next((o.manifest for o in outcomes if isinstance(o, RunOutcome)), None)
    made = manifest.ok_variants() if manifest else []
    for variant in [v for v in manifest.variants if v not in made] if manifest else []:
        click.echo(f"variant {variant.name}: {variant.status}: {variant.message}", err=True)
    return worst
