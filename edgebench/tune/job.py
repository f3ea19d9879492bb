"""A tune as a run: its folder (run.json, the plan and manifest that grow a variant per candidate, the results,
the study's journal), ``--resume``, the budget, the history, ``--out``.

The run is stored in the history once the search ends with a candidate to recommend; until then (the budget
spent before any candidate, no candidate within the drop, a device lost, Ctrl-C) everything measured stays in the
run's folder and ``edgebench tune --resume RUN`` continues the search from it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import edgebench_records as schema
from edgebench.conversion import warm_tensorflow
from edgebench.devices import get_device
from edgebench.devices.base import Device
from edgebench.errors import EdgebenchError, ExitCode
from edgebench.inventory import Inventory
from edgebench.measure import git_commit, new_run_id
from edgebench.processes import stop_children
from edgebench.progress import Listener, Task
from edgebench.resume import RUN_RECORD_NAME, RunFolder, check_resume_flags, settings
from edgebench.run_lock import RunLock
from edgebench.store import Store, store_url
from edgebench.tune.candidates import RunBench, RunState, Source
from edgebench.tune.front import BASELINE, RunFront, closest_miss, is_beside, run_front
from edgebench.tune.limits import Limits
from edgebench.tune.search import Loop, Progress, Stop, open_study, run, start_from_the_defaults
from edgebench.tune.space import Candidate, SearchSpace
from edgebench_records import CellResult, RunRecord
from edgebench_records.options import declared
from edgebench_records.tune import Search

JOURNAL_NAME = "study.journal"


@dataclass(frozen=True)
class TuneRequest:
    source: Source
    device: str
    space: SearchSpace
    limits: Limits
    store: str | None
    inventory: Inventory
    accept_new_host_key: bool = False
    resume: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    given_flags: dict[str, object] = field(default_factory=dict)  # set on the command line: checked on resume
    out: Path | None = None


@dataclass(frozen=True)
class Started:
    """A tune's run as this invocation takes it up: new, or resumed from its folder."""

    folder: RunFolder
    record: RunRecord
    source: Source
    space: SearchSpace
    state: RunState | None  # None: nothing made yet


@dataclass(frozen=True)
class TuneOutcome:
    run_id: str
    store: str
    front: RunFront
    stop: Stop
    measured_now: int  # candidates measured by this invocation
    passed_over: int  # candidates it did not make: they could not beat the best within the drop
    notes: list[str]  # candidates that gave no point, and why
    wall_s: float  # this invocation's
    device_s: float  # the cells' own time on the device, over the whole run
    out: Path | None


def tune(request: TuneRequest, listener: Listener, clock: Callable[[], float] = time.monotonic) -> TuneOutcome:
    """Measure fp32, then search until the limits; store the run and write ``--out`` when a candidate is found."""
    started = clock()
    url = store_url(request.store)
    # A new tune's device is found before its run exists (a misspelt name leaves nothing to resume).
    device = None if request.resume else get_device(request.device, request.inventory, request.accept_new_host_key)
    with Store(url) as history:  # created, migrated and checked before anything is measured
        tuning = _resumed(request, history) if request.resume else _new(request)
    lock = RunLock.take(tuning.folder.path, tuning.folder.run_id)
    task = listener.task(f"Tuning {tuning.source.model.name} on {tuning.record.device}", request.limits.trials)
    found = Progress([])
    try:
        device = device or get_device(tuning.record.device, request.inventory, request.accept_new_host_key)
        bench, stop = _search(tuning, device, request.limits, task, found, clock, started)
    except EdgebenchError as exc:
        raise EdgebenchError(f"tune {tuning.folder.run_id}: {exc}; {_kept(tuning.folder)}", exc.code) from exc
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI turns it into one)
        stop_children()
        raise EdgebenchError(f"tune {tuning.folder.run_id}: interrupted; {_kept(tuning.folder)}") from None
    finally:
        lock.release()
    task.finish(stop.value)
    return _conclude(request, url, tuning, bench, found, stop, clock() - started)


def _search(
    tuning: Started,
    device: Device,
    limits: Limits,
    task: Task,
    found: Progress,
    clock: Callable[[], float],
    started: float,
) -> tuple[RunBench, Stop]:
    """fp32 and the candidates known from an earlier invocation measured, then the study run to its limits; one
    TensorFlow import is kept warm for all of the search's conversions."""
    with warm_tensorflow():
        bench = RunBench(
            tuning.source, tuning.folder, device, lambda note: task.step(note, done=found.measured), tuning.state
        )
        _baseline_and_known(bench, tuning, found)
        study = open_study(tuning.folder.path / JOURNAL_NAME, tuning.folder.run_id, tuning.source.options.seed)
        start_from_the_defaults(study, tuning.space, tuning.source.options)
        return bench, run(Loop(study, tuning.space, bench, tuning.source.aim, limits, task, clock, started), found)


def _new(request: TuneRequest) -> Started:
    workdir = request.source.workdir
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EdgebenchError(f"--workdir {workdir}: cannot create it: {exc.strerror}") from exc
    folder = RunFolder(workdir / "runs" / new_run_id())
    folder.path.mkdir(parents=True)
    s = request.source
    data = None if s.data is None else str(s.data.resolve())
    record = RunRecord(
        request.device, str(s.model.resolve()), data, list(request.space.recipes), request.tags, s.options
    )
    schema.write(folder.path / RUN_RECORD_NAME, record)
    return Started(folder, record, s, request.space, None)


def _resumed(request: TuneRequest, history: Store) -> Started:
    """The run's own model, data, options, measurement and aim: flags given must agree with them."""
    assert request.resume is not None
    folder = RunFolder(request.source.workdir / "runs" / request.resume)
    record, manifest, plan = folder.load()
    if plan.tune is None:
        raise EdgebenchError(f"--resume {folder.run_id}: a run of `edgebench run`, not a tune: resume it with run")
    stored = settings(record, plan.measure) | tune_settings(plan.tune)
    check_resume_flags(folder.run_id, request.given_flags, stored)
    if history.has_run(folder.run_id):
        raise EdgebenchError(
            f"tune {folder.run_id} is complete and stored in {history.safe_url()}: nothing to resume "
            "(a new tune reuses every conversion made)"
        )
    data = None if record.data is None else Path(record.data)
    source = Source(Path(record.model), data, request.source.workdir, record.options, plan.measure, plan.tune)
    return Started(folder, record, source, SearchSpace(tuple(record.variants)), RunState(plan, manifest))


def tune_settings(aim: Search) -> dict[str, object]:
    """The aim's flags with the run's values, for a resume to agree with (the drop's flag is the conversion
    option's, with the value the tune held candidates to)."""
    return {spec.flag: getattr(aim, spec.name) for spec in declared(Search)} | {
        "--max-accuracy-drop": aim.max_accuracy_drop
    }


def _baseline_and_known(bench: RunBench, tuning: Started, found: Progress) -> None:
    """fp32 first (the baseline every candidate is compared with), then what earlier invocations measured (a
    candidate whose cells were cut off is finished)."""
    baseline = bench.measure(Candidate(BASELINE))
    if baseline.point is None:
        raise EdgebenchError(f"fp32 of {tuning.source.model.name}: {baseline.note}; nothing to compare candidates with")
    found.points.append(baseline.point)
    earlier = [] if tuning.state is None else tuning.state.plan.variants
    for variant in earlier:
        if variant.name != BASELINE and not is_beside(variant.name):
            candidate = Candidate.stored(variant.made_by, variant.settings)
            measured = bench.measure(candidate)
            if measured.point is not None:
                found.points.append(measured.point)
                found.points_of[candidate] = measured.point
                found.made.add(variant.made_by)


def _kept(folder: RunFolder) -> str:
    return f"what was measured is kept: continue with edgebench tune --resume {folder.run_id}"


def _conclude(
    request: TuneRequest, url: str, tuning: Started, bench: RunBench, found: Progress, stop: Stop, wall_s: float
) -> TuneOutcome:
    """Store the run and write ``--out`` when a candidate is within the drop; refuse (resumably) otherwise."""
    assert bench.state is not None
    plan, manifest, cells, folder = bench.state.plan, bench.state.manifest, bench.cells(), tuning.folder
    front = run_front(folder.run_id, tuning.record.device, plan, manifest, cells)
    assert front is not None  # fp32 was measured, or the search would have stopped before
    if front.recommendation is None:
        raise EdgebenchError(_no_candidate(front, tuning.source.aim, folder), ExitCode.FAILED)
    with Store(url) as history:
        history.save_run(
            device=tuning.record.device,
            plan=plan,
            manifest=manifest,
            git_commit=git_commit(),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            cells=cells,
            tags=tuning.record.tags,
        )
    if request.out is not None:
        chosen = next(v for v in plan.variants if v.name == front.recommendation.point.name)
        shutil.copyfile(bench.plan_dir / chosen.file, request.out)
    return TuneOutcome(
        folder.run_id,
        url,
        front,
        stop,
        found.measured,
        found.passed_over,
        found.notes,
        wall_s,
        device_seconds(cells),
        request.out,
    )


def _no_candidate(front: RunFront, aim: Search, folder: RunFolder) -> str:
    """Why nothing is recommended: the best candidate within the drop is no better than fp32 on the objective,
    or none is within the drop (the closest named)."""
    base = front.baseline
    within = [p for p in front.points if p.name != BASELINE and base.accuracy - p.accuracy <= aim.max_accuracy_drop]
    if within:
        best = min(within, key=lambda p: p.value)
        why = f"the best within it, {best.name}, is {base.value / best.value:.2f}x fp32's {aim.objective}"
    else:
        miss = closest_miss(front.points, base)
        why = "nothing measured" if miss is None else f"closest: {miss.name} at {miss.accuracy - base.accuracy:+.1f}"
    return (
        f"tune {folder.run_id}: no candidate beats fp32 within --max-accuracy-drop {aim.max_accuracy_drop:g} "
        f"({why}); {_kept(folder)} and a larger --budget"
    )


def device_seconds(cells: list[CellResult]) -> float:
    """The cells' own time on the device (started to finished), summed."""
    total = 0.0
    for cell in cells:
        try:
            total += (
                datetime.fromisoformat(cell.finished_at) - datetime.fromisoformat(cell.started_at)
            ).total_seconds()
        except ValueError:  # a cell that failed before it was timed carries no times
            continue
    return total
