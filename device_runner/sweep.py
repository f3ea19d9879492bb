"""Runs every cell of a plan, each in its own process, writing one result file per cell.

A cell whose file already exists is skipped (that is resume). A cell process that dies or hangs
becomes a ``crashed`` / ``timeout`` result written here, and the sweep goes on. A cell process that
could not do its job for reasons outside the model (no space for its result, a plan it cannot read,
no runtime) is not a measurement: the sweep stops with that reason and writes nothing for the cell,
so a resume measures it again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import edgebench_records as schema
from device_runner.cell import now_iso
from device_runner.lifecycle import child_env
from edgebench_records import CellKey, CellResult, Plan, Status, altered_file

STDERR_TAIL_CHARS = 2000
PACKAGE_PARENT = Path(__file__).resolve().parent.parent
INFRASTRUCTURE_EXIT = 2  # what device_runner exits with when the device, not the model, is at fault


class SweepStopped(Exception):
    """The device cannot go on measuring (e.g. its disk is full); finished cells are kept."""


@dataclass(frozen=True)
class CellDone:
    """One progress event: printed as a JSON line so the host can follow the sweep."""

    cell: str
    status: str
    index: int
    total: int
    skipped: bool


def result_path(results_dir: Path, key: CellKey) -> Path:
    return results_dir / f"{key.id}.json"


def existing_result(path: Path) -> CellResult | None:
    """A finished cell's result, or None when the cell still has to run."""
    if not path.exists():
        return None
    try:
        return schema.read(CellResult, path)
    except schema.SchemaError:
        return None  # cannot happen with atomic writes unless edited by hand: measure again


def run_plan(
    plan_path: Path,
    results_dir: Path,
    runtime: str | None = None,
    on_cell: Callable[[CellDone], None] | None = None,
) -> list[CellResult]:
    plan = schema.read(Plan, plan_path)
    check_cpus(plan.measure.cpus)
    check_variant_files(plan, plan_path.parent)
    # A unit is measured in one process: one cell, or a baseline/candidate pair timed side by side.
    units: list[tuple[CellKey, ...]] = list(plan.paired_cells()) if plan.pairs else [(k,) for k in plan.cells()]
    total = sum(len(unit) for unit in units)
    results: list[CellResult] = []
    measured_before = False
    for unit in units:
        outs = [result_path(results_dir, key) for key in unit]
        found = [existing_result(out) for out in outs]
        skipped = all(r is not None for r in found)
        if skipped:
            unit_results = [r for r in found if r is not None]
        else:
            if measured_before and plan.measure.cooldown_s > 0:
                time.sleep(plan.measure.cooldown_s)
            unit_results = _run_isolated(plan, plan_path, unit, outs, runtime or plan.measure.runtime)
            measured_before = True
        for result in unit_results:
            results.append(result)
            if on_cell:
                on_cell(CellDone(result.key.id, result.status, len(results), total, skipped))
    return results


def check_variant_files(plan: Plan, folder: Path) -> None:
    """Each variant file is the one the host made: the plan carries its sha256, checked here on the device too
    (a file damaged in transfer or replaced on the board is measured under no name)."""
    altered = altered_file(folder, ((v.file, v.sha256) for v in plan.variants))
    if altered:
        raise schema.SchemaError(
            f"variant file {folder / altered[0]} does not have the sha256 the plan records for it "
            f"(now {altered[1][:12]}); refusing to measure it under that name"
        )


def check_cpus(cpus: list[int]) -> None:
    """``--cpus`` names CPUs of the device, so only the device can check them."""
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    unknown = [cpu for cpu in cpus if cpu not in usable]
    if cpus and unknown:
        raise schema.SchemaError(
            f"--cpus {','.join(map(str, cpus))}: this device has no usable CPU {','.join(map(str, unknown))} "
            f"(usable: {','.join(map(str, usable)) or 'none known'})"
        )


def _child_env() -> dict[str, str]:
    env = child_env()  # a cell never outlives its sweep: a killed sweep cannot leave a cell measuring
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get("PYTHONPATH")]))
    return env


def _run_isolated(
    plan: Plan, plan_path: Path, unit: tuple[CellKey, ...], outs: list[Path], runtime: str | None
) -> list[CellResult]:
    command = [sys.executable, "-m", "device_runner", "cell", str(plan_path), *(key.id for key in unit)]
    for out in outs:
        command += ["--out", str(out)]
    if runtime:
        command += ["--runtime", runtime]
    started = now_iso()
    try:
        proc = subprocess.run(
            command, env=_child_env(), capture_output=True, text=True, timeout=plan.measure.cell_timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        status, message = (
            Status.TIMEOUT,
            f"cell exceeded --cell-timeout {plan.measure.cell_timeout_s:g}s; {_tail(stderr)}",
        )
    else:
        if proc.returncode == INFRASTRUCTURE_EXIT and not all(out.exists() for out in outs):
            raise SweepStopped(_tail(proc.stderr).splitlines()[-1])
        status, message = Status.CRASHED, f"cell process {_describe_exit(proc.returncode)}: {crash_cause(proc.stderr)}"
    return [
        existing_result(out) or _write_failure(plan, key, out, status, message, started)
        for key, out in zip(unit, outs, strict=True)
    ]


def _write_failure(plan: Plan, key: CellKey, out: Path, status: Status, message: str, started: str) -> CellResult:
    result = CellResult(
        run_id=plan.run_id,
        variant=key.variant,
        delegate=key.delegate,
        threads=key.threads,
        api=key.api,
        status=status,
        message=message.strip(),
        started_at=started,
        finished_at=now_iso(),
    )
    schema.write(out, result)
    return result


def _describe_exit(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


def crash_cause(stderr: str) -> str:
    """What a dead cell said last, first: a traceback's first line says nothing and its last names the
    exception, which is what a one-line status shows; the tail follows for whoever reads the whole message."""
    said = [line for line in stderr.splitlines() if line.strip() and not line[0].isspace()]
    tail = _tail(stderr)
    return tail if not said or tail == said[-1] else f"{said[-1]}\n{tail}"


def _tail(text: str) -> str:
    text = text.strip()
    return text[-STDERR_TAIL_CHARS:] if text else "no stderr"


def progress_line(event: CellDone) -> str:
    return json.dumps({"event": "cell", **event.__dict__})
