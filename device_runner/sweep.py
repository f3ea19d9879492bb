"""Runs every cell of a plan, each in its own process, writing one result file per cell.

A cell whose file already exists, and is this plan's (``Plan.owns``), is skipped (that is resume); another plan's
result under the same name is measured again. The cells of a unit (a gate's pair, the variants
of one delegate/API/threads configuration) are timed in one process in alternating blocks and written when
that process ends: a sweep cut off mid-unit has written none of its cells, and a resume times the unit's
missing cells together again, each exactly once. A cell process that dies or hangs becomes a ``crashed`` /
``timeout`` result written here, and the sweep goes on; in a unit of several cells, which cell killed it is
unknown, so each is then measured again alone, and only the one at fault is recorded as such. A cell process that
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


def existing_result(path: Path, plan: Plan) -> CellResult | None:
    """A finished cell's result, or None when the cell still has to run: no file, or one that is not this plan's."""
    if not path.exists():
        return None
    try:
        result = schema.read(CellResult, path)
    except schema.SchemaError:
        return None  # cannot happen with atomic writes unless edited by hand: measure again
    return result if plan.owns(result) else None


def run_plan(
    plan_path: Path,
    results_dir: Path,
    runtime: str | None = None,
    on_cell: Callable[[CellDone], None] | None = None,
) -> list[CellResult]:
    plan = schema.read(Plan, plan_path)
    check_cpus(plan.measure.cpus)
    check_variant_files(plan, plan_path.parent)
    units = plan.units()
    total = sum(len(unit) for unit in units)
    results: list[CellResult] = []
    measured_before = False
    for unit in units:
        found = {key: existing_result(result_path(results_dir, key), plan) for key in unit}
        todo = tuple(key for key, result in found.items() if result is None)
        for key in todo:  # another plan's result under this name: gone before the cell is measured
            result_path(results_dir, key).unlink(missing_ok=True)
        if todo:
            if measured_before and plan.measure.cooldown_s > 0:
                time.sleep(plan.measure.cooldown_s)
            found |= _measure_unit(plan, plan_path, todo, results_dir, runtime or plan.measure.runtime)
            measured_before = True
        for key in unit:
            result = found[key]
            assert result is not None  # every cell of the unit has its result now
            results.append(result)
            if on_cell:
                on_cell(CellDone(result.key.id, result.status, len(results), total, key not in todo))
    return results


def _measure_unit(
    plan: Plan, plan_path: Path, keys: tuple[CellKey, ...], results_dir: Path, runtime: str | None
) -> dict[CellKey, CellResult]:
    """The cells timed together; if their process died (a crash or a hang takes every cell with it), each
    cell alone, so the one at fault is the one recorded. A gate's pair is never split: a side timed alone has
    no blocks to pair, so both keep the pair's crash."""
    outs = [result_path(results_dir, key) for key in keys]
    died = _spawn(plan, plan_path, keys, outs, runtime)
    if died is not None and len(keys) > 1 and not plan.pairs:
        return {
            key: existing_result(out, plan) or _measure_unit(plan, plan_path, (key,), results_dir, runtime)[key]
            for key, out in zip(keys, outs, strict=True)
        }
    return {
        key: existing_result(out, plan)
        or _write_failure(plan, key, out, died or Died(Status.CRASHED, "no result", now_iso()))
        for key, out in zip(keys, outs, strict=True)
    }


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


@dataclass(frozen=True)
class Died:
    """How a cell process ended without writing its results."""

    status: Status
    message: str
    started: str


def _spawn(
    plan: Plan, plan_path: Path, unit: tuple[CellKey, ...], outs: list[Path], runtime: str | None
) -> Died | None:
    """The cells' process; None when it wrote every result. Cells timed together share the timeout of them all."""
    command = [sys.executable, "-m", "device_runner", "cell", str(plan_path), *(key.id for key in unit)]
    for out in outs:
        command += ["--out", str(out)]
    if runtime:
        command += ["--runtime", runtime]
    started = now_iso()
    timeout = plan.measure.cell_timeout_s * len(unit)
    try:
        proc = subprocess.run(command, env=_child_env(), capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return Died(
            Status.TIMEOUT, f"cell exceeded --cell-timeout {plan.measure.cell_timeout_s:g}s; {_tail(stderr)}", started
        )
    if all(out.exists() for out in outs):
        return None
    if proc.returncode == INFRASTRUCTURE_EXIT:
        raise SweepStopped(_tail(proc.stderr).splitlines()[-1])
    return Died(Status.CRASHED, f"cell process {_describe_exit(proc.returncode)}: {crash_cause(proc.stderr)}", started)


def _write_failure(plan: Plan, key: CellKey, out: Path, died: Died) -> CellResult:
    result = CellResult(
        run_id=plan.run_id,
        variant=key.variant,
        delegate=key.delegate,
        threads=key.threads,
        api=key.api,
        status=died.status,
        message=died.message.strip(),
        started_at=died.started,
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
