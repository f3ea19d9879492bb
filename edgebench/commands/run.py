"""``edgebench run``: convert, measure every cell on a device, store, and print the table."""

from __future__ import annotations

import json
import os
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
from device_runner.engines import APIS
from device_runner.schema import CellResult, Measurement, Plan
from device_runner.sweep import CellDone
from edgebench.commands.convert import convert_with_progress, data_option, model_option, resolve_inputs, variant_names
from edgebench.commands.options import (
    FiniteFloat,
    accept_host_key_option,
    csv_list,
    delegate_list,
    flags_given,
    int_list,
    inventory_option,
    json_option,
    parse_tags,
    store_option,
    unique_list,
    workdir_option,
)
from edgebench.conversion import conversion_failed
from edgebench.devices import get_device
from edgebench.devices.base import Device
from edgebench.errors import EdgebenchError, ExitCode
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.inventory import Inventory, load_inventory
from edgebench.plan import build_plan, collect_results, stage
from edgebench.processes import stop_children
from edgebench.report import table
from edgebench.resume import RunFolder, RunRecord, check_resume_flags, settings
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
    given_flags: dict[str, object] = field(default_factory=dict)  # set on the command line: checked on resume


@dataclass(frozen=True)
class Job:
    """One run on one device: its folder, and what it measures."""

    device_name: str
    device: Device
    run: RunFolder
    plan: Plan
    manifest: Manifest
    tags: dict[str, str]


def execute(request: RunRequest, device_names: list[str]) -> list[RunOutcome | DeviceFailure]:
    """Convert once, then measure on every device at once, each in its own thread.

    The store is opened (created, migrated, checked writable) before anything is measured, and every
    device gets its run id up front, so an interrupted or failed run can always say how to resume it.
    """
    _check_workdir(request.workdir)
    url = store_url(request.store)
    with Store(url) as history:
        jobs = _resume_job(request, device_names, history) if request.resume else _new_jobs(request, device_names)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
    )
    pool = ThreadPoolExecutor(max_workers=len(jobs))
    outcomes: list[RunOutcome | DeviceFailure] = []
    with Progress(*columns, console=stderr) as progress:
        futures = {job.device_name: pool.submit(_measure, job, url, progress) for job in jobs}
        try:
            for name, future in futures.items():
                try:
                    outcomes.append(future.result())
                except EdgebenchError as exc:
                    outcomes.append(DeviceFailure(name, str(exc), exc.code))
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI turns it into one)
            stop_children()
            pool.shutdown(wait=False, cancel_futures=True)
            resumes = "; ".join(f"edgebench run --resume {job.run.run_id}" for job in jobs)
            raise EdgebenchError(f"interrupted; finished cells are kept: {resumes}") from None
    pool.shutdown()
    return outcomes


def _check_workdir(workdir: Path) -> None:
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EdgebenchError(f"--workdir {workdir}: cannot create it: {exc.strerror}") from exc
    if not os.access(workdir, os.W_OK):
        raise EdgebenchError(f"--workdir {workdir}: read-only; variants, plans and results are written there")


def _new_jobs(request: RunRequest, device_names: list[str]) -> list[Job]:
    devices = {name: get_device(name, request.inventory, request.accept_new_host_key) for name in device_names}
    manifest, manifest_dir = convert_with_progress(
        request.model, request.data, request.variants, request.workdir, Options(), request.force
    )
    if not manifest.ok_variants():
        failed = "; ".join(f"{v.name}: {v.message}" for v in manifest.variants)
        raise EdgebenchError(
            f"no variant of {request.model} could be made, nothing to measure ({failed})", ExitCode.FAILED
        )
    jobs = []
    for name, device in devices.items():
        run = RunFolder(request.workdir / "runs" / new_run_id())
        plan = build_plan(run.run_id, manifest, request.measure)
        stage(plan, manifest_dir, run.plan_path.parent)
        record = RunRecord(
            name, str(request.model.resolve()), str(request.data.resolve()), request.variants, request.tags
        )
        run.save(record, manifest)
        jobs.append(Job(name, device, run, plan, manifest, request.tags))
    return jobs


def _resume_job(request: RunRequest, device_names: list[str], history: Store) -> list[Job]:
    """The run's own plan, manifest and device: only the flags that agree with them may be given."""
    assert request.resume is not None
    if len(device_names) > 1:
        raise EdgebenchError("--resume continues one run on one device; give a single --device")
    run = RunFolder(request.workdir / "runs" / request.resume)
    record, manifest, plan = run.load()
    check_resume_flags(run.run_id, request.given_flags, settings(record, plan.measure))
    if history.has_run(run.run_id):
        raise EdgebenchError(f"run {run.run_id} is complete and stored in {history.safe_url()}: nothing to resume")
    device = get_device(record.device, request.inventory, request.accept_new_host_key)
    return [Job(record.device, device, run, plan, manifest, record.tags)]


def _measure(job: Job, url: str, progress: Progress) -> RunOutcome:
    try:
        return _measure_and_store(job, url, progress)
    except EdgebenchError as exc:
        if job.run.run_id in str(exc):
            raise
        raise EdgebenchError(f"run {job.run.run_id}: {exc}", exc.code) from exc


def _measure_and_store(job: Job, url: str, progress: Progress) -> RunOutcome:
    task = progress.add_task(f"Measuring on {job.device_name}", total=len(job.plan.cells()), last="")

    def on_cell(event: CellDone) -> None:
        note = "kept from before" if event.skipped else event.status
        progress.update(task, completed=event.index, last=f"{event.cell}: {note}")

    job.device.run(job.run.plan_path, job.run.results, on_cell)
    cells = collect_results(job.plan, job.run.results, job.device_name)
    try:
        with Store(url) as history:
            history.save_run(
                device=job.device_name,
                plan=job.plan,
                manifest=job.manifest,
                git_commit=git_commit(),
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                cells=cells,
                tags=job.tags,
            )
    except EdgebenchError as exc:
        raise EdgebenchError(
            f"{exc}; the measurements are kept: store them with edgebench run --resume {job.run.run_id}"
        ) from exc
    return RunOutcome(job.run.run_id, job.device_name, url, job.manifest, cells)


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
    type=FiniteFloat(min=0),
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
    type=FiniteFloat(min=0),
    default=1.0,
    show_default=True,
    help="Measure for at least this long per cell.",
)
@click.option("--warmup-runs", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--warmup-secs", type=FiniteFloat(min=0), default=0.5, show_default=True)
@click.option(
    "--cell-timeout",
    type=FiniteFloat(min=1),
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
@click.pass_context
def run(
    ctx: click.Context,
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
    unknown_apis = set(csv_list(apis)) - set(APIS)
    if unknown_apis:
        raise click.BadParameter(f"unknown API {', '.join(sorted(unknown_apis))}", param_hint="--api")
    measure = Measurement(
        apis=unique_list(apis, "--api"),
        runtime=runtime,
        cpus=int_list(cpus, "--cpus", allow_empty=True),
        cooldown_s=cooldown_s,
        delegates=delegate_list(delegates),
        threads=int_list(threads, "--threads", minimum=1),
        warmup_runs=warmup_runs,
        warmup_min_s=warmup_secs,
        runs=runs,
        min_s=min_secs,
        cell_timeout_s=cell_timeout,
    )
    device_names = unique_list(device_name, "--device")
    variant_list, tag_map = variant_names(variants), parse_tags(tags)
    given: dict[str, object] = {}
    if resume:  # the run's own model and data; flags given must agree with it (edgebench.resume)
        record = RunRecord("", str(Path(model or "").resolve()), str(Path(data or "").resolve()), variant_list, tag_map)
        parsed = {**settings(record, measure), "--device": device_names}
        given = {flag: parsed[flag] for flag in flags_given(ctx) if flag in parsed}
        model, data = model or EXAMPLE_MODEL, data or EXAMPLE_DATA
    else:
        model, data = resolve_inputs(model, data)
    request = RunRequest(
        model=model,
        data=data,
        variants=variant_list,
        measure=measure,
        workdir=Path(workdir),
        store=store,
        inventory=load_inventory(inventory),
        accept_new_host_key=accept_new_host_key,
        resume=resume,
        force=force,
        tags=tag_map,
        given_flags=given,
    )
    outcomes = execute(request, device_names)
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
