"""``edgebench run``: convert, measure every cell on a device, store, and print the table."""

from __future__ import annotations

import json
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from converter.manifest import VARIANT_OK, Manifest
from converter.recipes import Options
from device_runner import schema
from device_runner.engines import APIS
from device_runner.schema import CellResult, Measurement, Plan
from device_runner.sweep import CellDone
from edgebench.commands.convert import convert_with_progress, data_option, model_option, resolve_inputs, variant_names
from edgebench.commands.options import (
    accept_host_key_option,
    csv_list,
    int_list,
    inventory_option,
    json_option,
    parse_tags,
    store_option,
    workdir_option,
)
from edgebench.conversion import conversion_failed
from edgebench.devices import get_device
from edgebench.devices.base import Device
from edgebench.errors import EdgebenchError, ExitCode
from edgebench.inventory import Inventory, load_inventory
from edgebench.plan import PLAN_NAME, build_plan, collect_results, stage
from edgebench.report import table
from edgebench.store import Store, store_url

stderr = Console(stderr=True)


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    device: str
    store: str
    manifest: Manifest
    cells: list[CellResult]

    @property
    def exit_code(self) -> ExitCode:
        failed = conversion_failed(self.manifest) or any(cell.failed for cell in self.cells)
        return ExitCode.FAILED if failed else ExitCode.OK


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def git_commit() -> str | None:
    """The user's project commit, when edgebench runs inside a git work tree."""
    try:
        proc = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


@dataclass(frozen=True)
class DeviceFailure:
    """A device whose run could not finish; the others go on."""

    device: str
    message: str
    exit_code: ExitCode


@dataclass(frozen=True)
class RunRequest:
    model: Path
    data: Path
    variants: list[str]
    measure: Measurement
    workdir: Path
    store: str | None
    inventory: Inventory
    accept_new_host_key: bool = False
    resume: str | None = None
    force: bool = False
    tags: dict[str, str] = field(default_factory=dict)


def execute(request: RunRequest, device_names: list[str]) -> list[RunOutcome | DeviceFailure]:
    """Convert once, then measure on every device at once, each in its own thread."""
    devices = {name: get_device(name, request.inventory, request.accept_new_host_key) for name in device_names}
    if request.resume and len(devices) > 1:
        raise EdgebenchError("--resume continues one run on one device; give a single --device")
    manifest, manifest_dir = convert_with_progress(
        request.model, request.data, request.variants, request.workdir, Options(), request.force
    )
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
    )
    with Progress(*columns, console=stderr) as progress, ThreadPoolExecutor(max_workers=len(devices)) as pool:
        futures = {
            name: pool.submit(_measure_on, name, device, manifest, manifest_dir, request, progress)
            for name, device in devices.items()
        }
        outcomes: list[RunOutcome | DeviceFailure] = []
        for name, future in futures.items():
            try:
                outcomes.append(future.result())
            except EdgebenchError as exc:
                outcomes.append(DeviceFailure(name, str(exc), exc.code))
    return outcomes


def _measure_on(
    name: str, device: Device, manifest: Manifest, manifest_dir: Path, request: RunRequest, progress: Progress
) -> RunOutcome:
    run_id = request.resume or new_run_id()
    run_dir = request.workdir / "runs" / run_id
    plan_path = run_dir / "plan" / PLAN_NAME
    if request.resume:
        if not plan_path.exists():
            raise EdgebenchError(f"cannot resume run {request.resume}: no plan at {plan_path}")
        plan = schema.read(Plan, plan_path)  # the original settings win: cells must stay comparable
    else:
        plan = build_plan(run_id, manifest, request.measure)
        stage(plan, manifest_dir, plan_path.parent)
    task = progress.add_task(f"Measuring on {name}", total=len(plan.cells()), last="")

    def on_cell(event: CellDone) -> None:
        note = "kept from before" if event.skipped else event.status
        progress.update(task, completed=event.index, last=f"{event.cell}: {note}")

    device.run(plan_path, run_dir / "results", on_cell)
    cells = collect_results(plan, run_dir / "results", name)
    url = store_url(request.store)
    with Store(url) as history:
        history.save_run(
            device=name,
            plan=plan,
            manifest=manifest,
            git_commit=git_commit(),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            cells=cells,
            tags=request.tags,
        )
    return RunOutcome(run_id, name, url, manifest, cells)


EPILOG = """\b
Examples:
  edgebench run                                   # bundled example on this machine
  edgebench run --model my.keras --data my.npz --delegates xnnpack,cpu --threads 1,2
  edgebench run --api interpreter,compiled --cpus 0 --cooldown-s 5   # both LiteRT APIs, pinned
  edgebench run --json > results.json             # rows for machines, progress on stderr
  edgebench run --resume 20261124T081500Z-1a2b3c  # finish a run that was cut off
  edgebench push --device pi4                     # the same on a board named in the inventory
  edgebench push --device pi4,pi5,local           # several devices at once; exit code is the worst
  edgebench push --device pixel --delegates xnnpack,gpu,nnapi:qti-dsp   # an Android phone (kind = "adb")
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
@click.option(
    "--delegates",
    default="xnnpack,cpu",
    show_default=True,
    help="Comma-separated: xnnpack, cpu, external:/path/lib.so[;key=value…]; on Android also nnapi[:accelerator], gpu.",
)
@click.option("--threads", default="1", show_default=True, help="Comma-separated thread counts to sweep.")
@click.option(
    "--api",
    "apis",
    default="interpreter",
    show_default=True,
    help="LiteRT API per cell: interpreter, compiled (LiteRT 2.x CompiledModel), or both.",
)
@click.option(
    "--runtime",
    type=click.Choice(["ai_edge_litert", "tflite_runtime"]),
    default=None,
    help="Force the device's runtime. [default: whichever is installed, ai_edge_litert first]",
)
@click.option("--cpus", default="", metavar="LIST", help="Pin each cell to these CPUs, e.g. 0-1 or 4,5,6,7.")
@click.option(
    "--cooldown-s",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Pause between cells so one cell's heat does not slow the next.",
)
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Measured runs per cell (at least; see --min-secs).",
)
@click.option(
    "--min-secs",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Measure for at least this long per cell.",
)
@click.option("--warmup-runs", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--warmup-secs", type=click.FloatRange(min=0), default=0.5, show_default=True)
@click.option(
    "--cell-timeout",
    type=click.FloatRange(min=1),
    default=600.0,
    show_default=True,
    help="Seconds before a cell is stopped and recorded as timeout.",
)
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
def run(
    model: Path | None,
    data: Path | None,
    device_name: str,
    variants: str,
    delegates: str,
    threads: str,
    apis: str,
    runtime: str | None,
    cpus: str,
    cooldown_s: float,
    runs: int,
    min_secs: float,
    warmup_runs: int,
    warmup_secs: float,
    cell_timeout: float,
    resume: str | None,
    tags: tuple[str, ...],
    force: bool,
    inventory: str | None,
    accept_new_host_key: bool,
    workdir: str,
    store: str | None,
    as_json: bool,
) -> int:
    """Convert a model, measure each variant × delegate × API × threads on a device, store and print results.

    Each cell runs in its own process on the device, so a delegate that crashes costs one cell.
    Exit code: 0 all cells measured, 1 a cell or variant failed, 2 bad input or infrastructure.
    """
    model, data = resolve_inputs(model, data)
    unknown_apis = set(csv_list(apis)) - set(APIS)
    if unknown_apis:
        raise click.BadParameter(f"unknown API {', '.join(sorted(unknown_apis))}", param_hint="--api")
    measure = Measurement(
        apis=csv_list(apis),
        runtime=runtime,
        cpus=int_list(cpus, "--cpus"),
        cooldown_s=cooldown_s,
        delegates=csv_list(delegates),
        threads=int_list(threads, "--threads"),
        warmup_runs=warmup_runs,
        warmup_min_s=warmup_secs,
        runs=runs,
        min_s=min_secs,
        cell_timeout_s=cell_timeout,
    )
    request = RunRequest(
        model=model,
        data=data,
        variants=variant_names(variants),
        measure=measure,
        workdir=Path(workdir),
        store=store,
        inventory=load_inventory(inventory),
        accept_new_host_key=accept_new_host_key,
        resume=resume,
        force=force,
        tags=parse_tags(tags),
    )
    outcomes = execute(request, csv_list(device_name))
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
    for variant in manifest.variants if manifest else []:
        if variant.status != VARIANT_OK:
            stderr.print(f"[red]variant {variant.name}: {variant.status}[/]: {variant.message}")
    return worst
