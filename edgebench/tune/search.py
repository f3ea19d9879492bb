"""The search: an Optuna study asks for candidates, the bench measures them, the front is kept.

The sampler is Optuna's multi-objective TPE (``TPESampler`` with two directions and a constraint): it models each
recipe's settings apart (``group``), learns from few trials, which is all a device in the loop affords, and steers
away from candidates past the accuracy drop (each trial's constraint). NSGA-II needs a population of tens per
generation before it learns anything and a fixed search space, where ours is conditional on the recipe. The study
lives in a journal file in the run's folder, so ``--resume`` continues it; what was measured lives in the run's
plan and results, so a candidate asked for twice is read back, never measured again.

A candidate whose model keeps all of one measured already (wider, the same otherwise but for how long it
recovers), when that one is no better on the objective than the best within the drop, is passed over: it could
only be as fast (small) or slower (larger), so it cannot change the recommendation, and its conversion (minutes of
fine-tuning) goes to a candidate that can. The study is told it was pruned, so TPE learns to avoid the region.
"""

from __future__ import annotations

import random
import statistics
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from edgebench.errors import EdgebenchError
from edgebench.progress import Task
from edgebench.tune.front import Point, pareto, unit
from edgebench.tune.limits import Limits, show_duration
from edgebench.tune.space import Candidate, SearchSpace, setting_name
from edgebench_records.catalogue import VARIANT_SPECS, Options
from edgebench_records.tune import Objective, Search

STARTUP_TRIALS = 6  # random candidates before TPE models the rest: a search affords tens of them, not hundreds
_CONSTRAINT = "drop_past_limit"  # a trial's constraint: points past --max-accuracy-drop (<= 0: within)


@dataclass(frozen=True)
class Measured:
    """What the bench made of one candidate."""

    point: Point | None  # None: not made, or no cell measured it (``note`` says why)
    note: str = ""
    fresh: bool = True  # measured now; False: read back from the run, at no cost
    unusable: bool = False  # its recipe cannot be made from this model at all: never asked for again


class Bench(Protocol):
    def measure(self, candidate: Candidate) -> Measured: ...


class Stop(StrEnum):
    BUDGET = "the budget was spent"
    TRIALS = "--trials candidates were measured"
    EXHAUSTED = "every candidate in the space that could still win was measured"


class OutOfBudget(EdgebenchError):
    """The budget ran out before a single candidate could be measured."""


@dataclass
class Progress:
    """What the search has found so far, and how it got there."""

    points: list[Point]  # every candidate measured in the run, fp32 first (earlier invocations' included)
    durations: list[float] = field(default_factory=list)  # of each candidate measured now, seconds
    notes: list[str] = field(default_factory=list)  # candidates that gave no point, and why
    unusable: set[str] = field(default_factory=set)  # recipes that cannot be made from this model at all
    made: set[str] = field(default_factory=set)  # recipes made at some setting: "not applicable" is then the setting's
    points_of: dict[Candidate, Point] = field(default_factory=dict)  # each candidate measured or read back
    passed_over: int = 0  # candidates this invocation did not make: they could not beat the best within the drop

    @property
    def measured(self) -> int:
        """Candidates measured by this invocation."""
        return len(self.durations)

    @property
    def front(self) -> list[Point]:
        return pareto(self.points)


@dataclass(frozen=True)
class Loop:
    """One invocation's search: the study, what it searches, how it measures, and its limits."""

    study: optuna.Study
    space: SearchSpace
    bench: Bench
    aim: Search
    limits: Limits
    task: Task
    clock: Callable[[], float]
    started: float  # by ``clock``: the budget counts from here (the baseline's measuring included)


def open_study(journal: Path, name: str, seed: int) -> optuna.Study:
    """The run's study, created or continued from its journal; a trial an interrupted invocation left running is
    failed (its candidate, if measured, is read back when asked for again)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our progress says what each trial did
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    storage = JournalStorage(JournalFileBackend(str(journal)))
    sampler = optuna.samplers.TPESampler(
        seed=seed,
        multivariate=True,
        group=True,
        n_startup_trials=STARTUP_TRIALS,
    )
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=sampler, directions=["minimize", "minimize"], load_if_exists=True
    )
    if study.trials:  # a resume: the seed's first draws were the first session's candidates
        sampler.reseed_rng()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(trial.number, state=TrialState.FAIL)
    return study


def start_from_the_defaults(study: optuna.Study, space: SearchSpace, base: Options) -> None:
    """A new study first measures each recipe at the run's options (the defaults, or a searched flag the user
    gave): the schemes that fine-tune nothing first, cheap to make, then the others. The front they draw is what
    `run` would have found; the search goes on from there, so what it finds is never worse."""
    if study.trials:
        return
    cheap_first = sorted(space.recipes, key=lambda recipe: VARIANT_SPECS[recipe].trains)
    for recipe in cheap_first:
        start: dict[str, Any] = {"recipe": recipe}
        for r in space.ranges(recipe):
            value = getattr(base, r.option)
            if r.low <= value <= r.high:  # outside the declared range: left to the sampler
                start[setting_name(recipe, r)] = value
        study.enqueue_trial(start)


def run(loop: Loop, found: Progress) -> Stop:
    """Ask, measure, tell, until the budget, the trial count or the space's candidates run out."""
    budget_s, baseline = loop.limits.budget_s, found.points[0]
    asked = _asked(loop)
    rng = random.Random(len(loop.study.trials))  # reproducible, and afresh on a resume
    while True:
        if found.measured >= loop.limits.trials:
            return Stop.TRIALS
        elapsed = loop.clock() - loop.started
        expected = statistics.fmean(found.durations) if found.durations else 0.0
        if elapsed + expected > budget_s:
            if len(found.points) == 1 and not found.notes:
                raise OutOfBudget(
                    f"--budget {loop.limits.budget} ran out before any candidate was measured "
                    f"(fp32 alone took {show_duration(elapsed)})"
                )
            return Stop.BUDGET
        trial = loop.study.ask()
        candidate = loop.space.suggest(trial)
        asked.add(candidate)
        unmade = None  # the trial's state when the candidate is not made
        if candidate.recipe in found.unusable:
            unmade = TrialState.FAIL
        elif (beaten := _beaten(candidate, found, loop.aim)) is not None:
            unmade = TrialState.PRUNED
            found.passed_over += 1
            loop.task.step(f"{candidate.name}: passed over: {beaten}", done=found.measured)
        if unmade is not None:
            loop.study.tell(trial, state=unmade)
            if not _steer(loop, asked, found, rng):
                return Stop.EXHAUSTED
            continue
        began = loop.clock()
        measured = loop.bench.measure(candidate)
        if measured.fresh:
            found.durations.append(loop.clock() - began)
        _tell(loop, trial, measured, baseline)
        _record(loop, found, candidate, measured)
        if not measured.fresh and not _steer(loop, asked, found, rng):
            return Stop.EXHAUSTED


def _asked(loop: Loop) -> set[Candidate]:
    """The candidates the study's finished trials asked for (an earlier invocation's too, from the journal)."""
    done = loop.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED))
    return {loop.space.suggest(optuna.trial.FixedTrial(t.params)) for t in done if "recipe" in t.params}


def _steer(loop: Loop, asked: set[Candidate], found: Progress, rng: random.Random) -> bool:
    """After the sampler asked again for a candidate it already had, the next trial asks for one it has not
    (TPE keeps returning to a good region, and a recipe without settings, such as int8, is one candidate
    however often it is asked for); False when the space holds none left."""
    left = [
        c
        for c in loop.space.grid()
        if c not in asked and c.recipe not in found.unusable and _beaten(c, found, loop.aim) is None
    ]
    if not left:
        return False
    loop.study.enqueue_trial(loop.space.params(rng.choice(left)))
    return True


def _beaten(candidate: Candidate, found: Progress, aim: Search) -> str | None:
    """Why ``candidate`` cannot beat the best within the drop (its model keeps all of one measured no better than
    that best), or None when it might."""
    baseline = found.points[0]
    best = min(p.value for p in found.points if baseline.accuracy - p.accuracy <= aim.max_accuracy_drop)
    for made, point in found.points_of.items():
        if made != candidate and point.value >= best and candidate.keeps_all_of(made):
            what = unit(Objective(aim.objective))
            return (
                f"it keeps all of {made.name}'s model, which at {point.value:.3g} {what} is no better than the best "
                f"within the drop ({best:.3g} {what})"
            )
    return None


def _tell(loop: Loop, trial: optuna.Trial, measured: Measured, baseline: Point) -> None:
    if measured.point is None:
        loop.study.tell(trial, state=TrialState.FAIL)
        return
    drop = baseline.accuracy - measured.point.accuracy
    trial.set_constraint(_CONSTRAINT, drop - loop.aim.max_accuracy_drop)
    loop.study.tell(trial, [measured.point.value, drop])


def _record(loop: Loop, found: Progress, candidate: Candidate, measured: Measured) -> None:
    """Keep the point and say what it did to the front (or why there is none)."""
    if measured.unusable and candidate.recipe not in found.made:  # channel_ratio 1.0 removes nothing; 0.6 did
        found.unusable.add(candidate.recipe)
    if measured.point is None:
        found.notes.append(f"{candidate.name}: {measured.note}")
        loop.task.step(f"{candidate.name}: {measured.note}", done=found.measured)
        return
    found.made.add(candidate.recipe)
    found.points_of[candidate] = measured.point
    before = found.front
    if measured.fresh:
        found.points.append(measured.point)
    said = describe_point(measured.point, found.points[0], Objective(loop.aim.objective))
    if not measured.fresh:
        said += " (measured before)"
    if found.front != before:
        said += "; front: " + ", ".join(p.name for p in found.front)
    loop.task.step(said, done=found.measured)


def describe_point(point: Point, baseline: Point, objective: Objective) -> str:
    """``int8: 0.21 ms (1.9x), -0.6 points``: the candidate against fp32, in one progress note."""
    ratio = baseline.value / point.value if point.value > 0 else float("inf")
    drop = baseline.accuracy - point.accuracy
    return f"{point.name}: {point.value:.3g} {unit(objective)} ({ratio:.2f}x), {-drop:+.1f} points"
