"""Running a plan on a remote device over any link (SSH, ADB): push what changed, start the runner
detached, follow it, pull each result as it appears. One mechanism for every transport; what runs the
cells on the device (device_runner/, the Android app, benchmark_model) is a `Runner`.

Remote layout under the device's work directory W:
  W/blobs/<sha256>             variants, input sets, the app or binary: content-addressed (sent into an
                               incoming folder, then renamed into place)
  W/runner/<digest>/           a copy of device_runner/ and edgebench_records/, one per runner version
  W/runs/<run_id>/plan/        plan.json and hard links to the blobs it names
  W/runs/<run_id>/results/     one JSON per finished cell (written atomically by the runner)
  W/runs/<run_id>/runner.{log,pid}
Nothing edgebench stored on the device is deleted by it (only its own empty incoming folders).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shlex
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import edgebench_records as schema
from device_runner import PACKAGES
from device_runner.sweep import PACKAGE_PARENT, CellDone
from edgebench.devices import provision
from edgebench.errors import EdgebenchError, LinkLost
from edgebench.plan import PLAN_NAME
from edgebench.processes import stopping
from edgebench_records import CellResult, Plan, sha256_file

POLL_S = 0.5


class Link(Protocol):
    """What a transport offers: commands, and files both ways."""

    def run(self, command: str) -> tuple[int, str, str]: ...
    def put(self, local: Path, remote: str) -> None: ...
    def put_all(self, files: list[tuple[Path, str]], remote_dir: str) -> None:
        """Send each (local file, name on the device) into the existing ``remote_dir`` (in one call where the
        transport allows: each round trip to a phone costs a process start and a shell)."""
        ...

    def get(self, remote: str, local: Path) -> None: ...
    def listdir(self, remote: str) -> list[str]: ...
    def close(self) -> None: ...


@dataclass
class Transfer:
    """Bytes of content-addressed files (variants, input sets) sent: what `push what changed` is measured by."""

    variant_bytes: int = 0


def runner_files() -> list[Path]:
    """What a board runs, relative to the folder holding device_runner/ and edgebench_records/ (PACKAGES)."""
    files = (p for package in PACKAGES for p in (PACKAGE_PARENT / package).rglob("*.py"))
    return sorted(p.relative_to(PACKAGE_PARENT) for p in files if "__pycache__" not in p.parts)


def runner_digest() -> str:
    digest = hashlib.sha256()
    for path in runner_files():
        digest.update(str(path).encode())
        digest.update((PACKAGE_PARENT / path).read_bytes())
    return digest.hexdigest()[:16]


OnCell = Callable[[CellDone], None]


@dataclass(frozen=True)
class Job:
    """One plan on one device: its files on both sides, and who hears of each finished cell."""

    plan: Plan
    plan_dir: Path  # host: the plan and the files it names
    run_dir: str  # device: W/runs/<run_id>
    results_dir: Path  # host: one JSON per finished cell
    on_cell: OnCell


class Runner(Protocol):
    """What measures the cells on the device: device_runner/, the Android app, or benchmark_model."""

    def prepare(self, device: RemoteDevice, link: Link, work: str) -> None:
        """Make the runner ready (copy it, install it), raising with the fix when the device cannot run it."""
        ...

    def measure(self, device: RemoteDevice, link: Link, job: Job) -> None:
        """Measure the plan's cells not yet in ``results_dir``, bringing each result there as it finishes."""
        ...

    def facts(self, device: RemoteDevice, link: Link, work: str) -> dict[str, object]: ...


class RemoteDevice:
    def __init__(self, name: str, connect: Callable[[], Link], workdir: str, runner: Runner) -> None:
        self.name = name
        self._connect = connect
        self.workdir = workdir
        self.runner = runner
        self.transfer = Transfer()

    def run(self, plan_path: Path, results_dir: Path, on_cell: OnCell) -> None:
        plan = schema.read(Plan, plan_path)
        link = self._open()
        try:
            work = self._workdir(link)
            self.runner.prepare(self, link, work)
            run_dir = f"{work}/runs/{plan.run_id}"
            self.push_plan(link, work, run_dir, plan_path)
            self.runner.measure(self, link, Job(plan, plan_path.parent, run_dir, results_dir, on_cell))
        except LinkLost as exc:
            raise EdgebenchError(
                f"device {self.name}: link lost ({exc}); finished cells are kept: rerun with --resume {plan.run_id}"
            ) from exc
        finally:
            link.close()

    def check(self) -> dict[str, object]:
        """Reachability, the runner, free space and the device's facts (raises with the fix)."""
        link = self._open()
        try:
            work = self._workdir(link)
            self.sh(link, f"mkdir -p {shlex.quote(work)}", "creating the work folder")
            facts = self.runner.facts(self, link, work)
            free = self.sh(link, f"df -Pk {shlex.quote(work)} | tail -n 1", "reading free disk").split()
        except LinkLost as exc:
            raise EdgebenchError(f"device {self.name}: link lost ({exc})") from exc
        finally:
            link.close()
        return {**facts, "workdir": work, "free_disk_mb": int(free[3]) / 1024}

    def setup(self, runtime: provision.Runtime | None, offline: bool) -> provision.Setup:
        """A venv with numpy and a LiteRT runtime in the work folder, which `run` then uses (see PythonRunner)."""
        link = self._open()
        try:
            return provision.setup(link, self.name, self._workdir(link), runtime, offline)
        except LinkLost as exc:
            raise EdgebenchError(f"device {self.name}: link lost ({exc})") from exc
        finally:
            link.close()

    # -- steps shared by every runner ------------------------------------------------------------

    def _open(self) -> Link:
        try:
            return self._connect()
        except LinkLost as exc:  # the link broke while it was being set up
            raise EdgebenchError(f"device {self.name}: cannot connect ({exc})") from exc

    def sh(self, link: Link, command: str, what: str) -> str:
        code, out, err = link.run(command)
        if code != 0:
            detail = (err.strip() or out.strip() or f"exit {code}").splitlines()[-1]
            raise EdgebenchError(f"device {self.name}: {what} failed: {detail}")
        return out

    def store_blobs(self, link: Link, work: str, paths: list[Path]) -> list[str]:
        """Each path as W/blobs/<sha256>; only what the device lacks is sent, into a fresh incoming folder
        first and then renamed into place, so a cut transfer never leaves a partial blob under a valid name."""
        q = shlex.quote
        blobs = f"{work}/blobs"
        incoming = f"{blobs}/.incoming-{secrets.token_hex(4)}"
        with ThreadPoolExecutor(max_workers=1) as pool:  # hash here while the device lists its blobs
            hashing = pool.submit(lambda: [sha256_file(path) for path in paths])
            listing = self.sh(link, f"mkdir -p {q(incoming)} && ls -1a {q(blobs)}", "listing the device's blobs")
            digests = hashing.result()
        present = set(listing.split())
        missing = {digest: path for digest, path in zip(digests, paths, strict=True) if digest not in present}
        if missing:
            link.put_all([(path, digest) for digest, path in missing.items()], incoming)
            self.transfer.variant_bytes += sum(path.stat().st_size for path in missing.values())
        move = f"mv -f {q(incoming)}/* {q(blobs)}/ && " if missing else ""
        self.sh(link, f"{move}rmdir {q(incoming)}", "storing the sent files")
        return [f"{blobs}/{digest}" for digest in digests]

    def _workdir(self, link: Link) -> str:
        if self.workdir.startswith("/"):
            return self.workdir.rstrip("/")
        home = self.sh(link, "cd && pwd", "finding the home directory").strip()
        return f"{home}/{self.workdir}".rstrip("/")

    def push_plan(self, link: Link, work: str, run_dir: str, plan_path: Path) -> None:
        """Send only the blobs the device lacks, then link them into the run's plan folder."""
        q = shlex.quote
        self.sh(link, f"mkdir -p {q(run_dir + '/plan')} {q(run_dir + '/results')}", "creating the run folders")
        files = [p for p in sorted(plan_path.parent.iterdir()) if p.is_file() and p.name != PLAN_NAME]
        blobs = self.store_blobs(link, work, files)
        links = [f"ln -f {q(blob)} {q(f'{run_dir}/plan/{p.name}')}" for blob, p in zip(blobs, files, strict=True)]
        if links:
            self.sh(link, " && ".join(links), "linking the plan's files")
        link.put(plan_path, f"{run_dir}/plan/{PLAN_NAME}")

    def run_detached(self, link: Link, job: Job, start_command: str, results: str) -> None:
        """Start the runner in the background unless it is still running (a resumed run), then follow it
        as it writes each cell's JSON into ``results`` on the device."""
        self.sh(link, f"mkdir -p {shlex.quote(results)}", "creating the results folder")
        if not self._runner_alive(link, job.run_dir):
            self.sh(link, start_command, "starting the runner")
        self._follow(link, job, results)

    def _runner_alive(self, link: Link, run_dir: str) -> bool:
        pid_file = shlex.quote(f"{run_dir}/runner.pid")
        code, _, _ = link.run(f'test -f {pid_file} && kill -0 "$(cat {pid_file})" 2>/dev/null')
        return code == 0

    def _follow(self, link: Link, job: Job, results: str) -> None:
        run_dir, plan, results_dir, on_cell = job.run_dir, job.plan, job.results_dir, job.on_cell
        results_dir.mkdir(parents=True, exist_ok=True)
        total = len(plan.cells())
        pulled = {p.name for p in results_dir.glob("*.json")}
        for index, name in enumerate(sorted(pulled), start=1):
            on_cell(self._event(results_dir / name, index, total, skipped=True))
        while len(pulled) < total:
            if stopping():  # the board's sweep goes on detached; a resume collects what it measures
                return
            alive = self._runner_alive(link, run_dir)  # before listing, so the last results are seen
            for name in sorted(set(self._result_names(link, results)) - pulled):
                temp = results_dir / f".{name}.partial"
                link.get(f"{results}/{name}", temp)
                if not plan.owns(schema.read(CellResult, temp)):  # another plan's, left in a reused run folder:
                    temp.unlink()  # the runner measures it again under this plan, and the next poll brings it
                    continue
                temp.replace(results_dir / name)
                pulled.add(name)
                on_cell(self._event(results_dir / name, len(pulled), total, skipped=False))
            if not alive and len(pulled) < total:
                _, log, _ = link.run(f"tail -n 3 {shlex.quote(run_dir + '/runner.log')}")
                last = log.strip().splitlines()[-1] if log.strip() else "no log"
                raise EdgebenchError(
                    f"device {self.name}: runner stopped with {total - len(pulled)} cells "
                    f"unmeasured: {last}; rerun with --resume {plan.run_id}"
                )
            if len(pulled) < total:
                time.sleep(POLL_S)

    def _result_names(self, link: Link, results: str) -> list[str]:
        return [n for n in link.listdir(results) if n.endswith(".json") and not n.startswith(".")]

    def _event(self, path: Path, index: int, total: int, skipped: bool) -> CellDone:
        result = schema.read(CellResult, path)
        return CellDone(result.key.id, result.status, index, total, skipped)


def detached_start(program: str, cwd: str, run_dir: str) -> str:
    """Start ``program`` detached (setsid + nohup): a dropped link does not stop the sweep on the device.

    Only the program itself goes to the background, with every descriptor redirected: a background
    `cd … && …` list would run in a subshell holding the channel open until the sweep ends, and the
    host could not follow (it would pull every result at the end)."""
    q = shlex.quote
    return (
        f"cd {q(cwd)} || exit 1; nohup setsid {program} >> {q(run_dir + '/runner.log')} 2>&1 < /dev/null & "
        f"echo $! > {q(run_dir + '/runner.pid')}"
    )


class PythonRunner:
    """device_runner/ and edgebench_records/ copied onto the board (once per version) and run by the board's
    Python: the one the inventory names, else the venv `edgebench devices setup` made in the work folder, else
    python3."""

    def __init__(self, python: str | None) -> None:
        self.asked = python
        self.python = python or "python3"
        self._runner = ""

    def prepare(self, device: RemoteDevice, link: Link, work: str) -> None:
        if self.asked is None:
            venv = f"{work}/{provision.VENV}/bin/python"
            self.python = venv if link.run(f"test -x {shlex.quote(venv)}")[0] == 0 else "python3"
        self._check_python(device, link)
        self._runner = self._push_runner(device, link, work)

    def measure(self, device: RemoteDevice, link: Link, job: Job) -> None:
        q = shlex.quote
        results = f"{job.run_dir}/results"
        program = f"{q(self.python)} -m device_runner run {q(job.run_dir + '/plan/plan.json')} --results {q(results)}"
        device.run_detached(link, job, detached_start(program, self._runner, job.run_dir), results)

    def facts(self, device: RemoteDevice, link: Link, work: str) -> dict[str, object]:
        self.prepare(device, link, work)
        facts = device.sh(
            link,
            f"cd {shlex.quote(self._runner)} && {shlex.quote(self.python)} -m device_runner facts",
            "reading device facts (is ai-edge-litert or tflite-runtime installed?)",
        )
        parsed: dict[str, object] = json.loads(facts)
        return parsed

    def _check_python(self, device: RemoteDevice, link: Link) -> None:
        code, _, err = link.run(f"{shlex.quote(self.python)} -c 'import numpy'")
        if code == 127 or "No such file" in err or "not found" in err:
            raise EdgebenchError(
                f"device {device.name}: python {self.python} not found on the device "
                '(set python = "/path/to/python" in the inventory)'
            )
        if code != 0:
            last = err.strip().splitlines()[-1] if err.strip() else f"exit {code}"
            raise EdgebenchError(
                f"device {device.name}: {self.python} cannot import numpy ({last}); "
                f"run `edgebench devices setup {device.name}` or install numpy and ai-edge-litert there"
            )

    def _push_runner(self, device: RemoteDevice, link: Link, work: str) -> str:
        """device_runner/ and edgebench_records/ once per version: an unchanged runner costs one `test -f`."""
        runner = f"{work}/runner/{runner_digest()}"
        code, _, _ = link.run(f"test -f {shlex.quote(runner + '/.complete')}")
        if code != 0:
            folders = {f"{runner}/{path.parent}" for path in runner_files()}
            device.sh(
                link, "mkdir -p " + " ".join(shlex.quote(f) for f in sorted(folders)), "creating the runner folder"
            )
            for path in runner_files():
                link.put(PACKAGE_PARENT / path, f"{runner}/{path}")
            device.sh(link, f"touch {shlex.quote(runner + '/.complete')}", "marking the runner complete")
        return runner
