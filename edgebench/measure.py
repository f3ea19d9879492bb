"""Measuring a model on devices (the work behind `run` and `push`): convert once, then measure on
every device at once, store each device's run, and say how to resume one that was cut off.

The store is opened (created, migrated, checked writable) before anything is measured, and every
device gets its run id up front, so an interrupted or failed run can always say how to resume it.
"""

from __future__ import annotations

import errno
import os
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from device_runner.sweep import CellDone
from edgebench.conversion import ConvertRequest, conversion_failed, convert_reporting
from edgebench.devices import get_device
from edgebench.devices.base import Device
from edgebench.errors import EdgebenchError, ExitCode
from edgebench.inventory import Inventory
from edgebench.plan import build_plan, collect_results, stage
from edgebench.processes import stop_children
from edgebench.progress import Listener, Task
from edgebench.resume import RunFolder, check_resume_flags, settings
from edgebench.run_lock import RunLock
from edgebench.store import Store, store_url
from edgebench_records import CellResult, Manifest, Measurement, Plan, RunRecord
from edgebench_records.catalogue import Options


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
    data: Path | None  # None: synthetic inputs from the model's own input tensors
    variants: list[str]
    measure: Measurement
    workdir: Path
    store: str | None
    inventory: Inventory
    options: Options = field(default_factory=Options)  # how the variants are converted
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
    lock: RunLock  # held from the job's creation until measure() returns
    plan: Plan
    manifest: Manifest
    tags: dict[str, str]

    @property
    def cell_count(self) -> int:
        return len(self.plan.cells())


def measure(request: RunRequest, device_names: list[str], listener: Listener) -> list[RunOutcome | DeviceFailure]:
    """Convert once, then measure on every device at once, each in its own thread; one device failing
    does not stop the others."""
    _check_workdir(request.workdir)
    url = store_url(request.store)
    with Store(url) as history:
        if request.resume:
            jobs = _resume_job(request, device_names, history)
        else:
            jobs = _new_jobs(request, device_names, listener)
    pool = ThreadPoolExecutor(max_workers=len(jobs))
    futures = {
        job.device_name: pool.submit(
            _measure, job, url, listener.task(f"Measuring on {job.device_name}", job.cell_count)
        )
        for job in jobs
    }
    outcomes: list[RunOutcome | DeviceFailure] = []
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
    finally:
        for job in jobs:
            job.lock.release()
    pool.shutdown()
    return outcomes


def _check_workdir(workdir: Path) -> None:
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EdgebenchError(f"--workdir {workdir}: cannot create it: {exc.strerror}") from exc
    if not os.access(workdir, os.W_OK):
        raise EdgebenchError(f"--workdir {workdir}: read-only; variants, plans and results are written there")


def _new_jobs(request: RunRequest, device_names: list[str], listener: Listener) -> list[Job]:
    devices = {name: get_device(name, request.inventory, request.accept_new_host_key) for name in device_names}
    conversion = ConvertRequest(
        request.model, request.data, request.variants, request.workdir, request.options, force=request.force
    )
    manifest, manifest_dir = convert_reporting(conversion, listener)
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
        data = None if request.data is None else str(request.data.resolve())
        record = RunRecord(name, str(request.model.resolve()), data, request.variants, request.tags, request.options)
        run.save(record, manifest)
        jobs.append(Job(name, device, run, RunLock.take(run.path, run.run_id), plan, manifest, request.tags))
    return jobs


def _resume_job(request: RunRequest, device_names: list[str], history: Store) -> list[Job]:
    """The run's own plan, manifest and device: only the flags that agree with them may be given."""
    assert request.resume is not None
    if len(device_names) > 1:
        raise EdgebenchError("--resume continues one run on one device; give a single --device")
    run = RunFolder(request.workdir / "runs" / request.resume)
    record, manifest, plan = run.load()
    lock = RunLock.take(run.path, run.run_id)
    try:
        check_resume_flags(run.run_id, request.given_flags, settings(record, plan.measure))
        if history.has_run(run.run_id):
            raise EdgebenchError(f"run {run.run_id} is complete and stored in {history.safe_url()}: nothing to resume")
        device = get_device(record.device, request.inventory, request.accept_new_host_key)
    except EdgebenchError:
        lock.release()
        raise
    return [Job(record.device, device, run, lock, plan, manifest, record.tags)]


# Less free space than this where the run's results go, after a failure: the disk filled up.
NEARLY_FULL = 1 << 20


def _measure(job: Job, url: str, task: Task) -> RunOutcome:
    try:
        return _measure_and_store(job, url, task)
    except EdgebenchError as exc:
        if job.run.run_id in str(exc):
            raise
        raise EdgebenchError(f"run {job.run.run_id}: {exc}", exc.code) from exc


def _sweep(job: Job, task: Task) -> list[CellResult]:
    """The device's sweep and its results; a work folder that filled up meanwhile is said to be full, with how
    to finish the run (the runner, writing and logging there, may have died without a word of why)."""

    def on_cell(event: CellDone) -> None:
        task.step(f"{event.cell}: {'kept from before' if event.skipped else event.status}", done=event.index)

    run_id = job.run.run_id
    try:
        job.device.run(job.run.plan_path, job.run.results, on_cell)
        return collect_results(job.plan, job.run.results, job.device_name)
    except OSError as exc:  # the results or the runner's log, written into the run's folder
        if exc.errno == errno.ENOSPC or _disk_full(job.run.path):
            raise EdgebenchError(_disk_full_message(run_id, Path(exc.filename or job.run.path))) from exc
        raise EdgebenchError(f"run {run_id}: {exc.filename or job.run.path}: {exc.strerror}; {_kept(run_id)}") from exc
    except EdgebenchError as exc:
        if _disk_full(job.run.path):
            raise EdgebenchError(_disk_full_message(run_id, job.run.path)) from exc
        raise


def _disk_full(path: Path) -> bool:
    try:
        usage = os.statvfs(path)
    except OSError:
        return False
    return usage.f_bavail * usage.f_frsize < NEARLY_FULL


def _disk_full_message(run_id: str, path: Path) -> str:
    return f"run {run_id}: {os.strerror(errno.ENOSPC)} (disk full at {path}?); {_kept(run_id)}"


def _kept(run_id: str) -> str:
    return f"what was measured is kept: finish it with edgebench run --resume {run_id}"


def _measure_and_store(job: Job, url: str, task: Task) -> RunOutcome:
    cells = _sweep(job, task)
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
    task.finish()
    return RunOutcome(job.run.run_id, job.device_name, url, job.manifest, cells)
