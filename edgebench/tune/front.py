"""A tune's outcome from its records: each candidate as a point (accuracy, the objective on the device), the
Pareto front of the two, and the one candidate to ship, said as a sentence. Read from the plan, manifest and
cells alone, so the search and the report draw the same front from the same run."""

from __future__ import annotations

from dataclasses import dataclass

from edgebench.report import speedup
from edgebench.tune.space import Candidate
from edgebench_records import CellResult, Manifest, Plan, PlanVariant, Status, VariantRecord
from edgebench_records.tune import Objective, Search

BASELINE = "fp32"
# Latency: fp32 is timed again beside each candidate, under this name, so the candidate's p50 is read against a
# baseline of the same minutes (a device's speed changes under a search: docs/measuring.md, docs/tune.md).
BESIDE = f"{BASELINE}@"
_UNITS = {Objective.LATENCY: "ms", Objective.SIZE: "MB", Objective.MEMORY: "MB"}
_BETTER = {Objective.LATENCY: "faster", Objective.SIZE: "smaller", Objective.MEMORY: "less peak memory"}


@dataclass(frozen=True)
class Point:
    """One measured candidate: its accuracy in percent and its objective figure (ms or MB), and where from."""

    name: str  # the variant's name in the run: pruned_int8-s70
    description: str  # pruned_int8 with 70 % sparsity
    accuracy: float  # host top-1 on the labels, or top-1 agreement with fp32 without labels, in percent
    value: float  # the objective, in its unit
    cell: str = ""  # the cell the figure is of (latency, memory): its fastest or leanest ok cell


@dataclass(frozen=True)
class Recommendation:
    point: Point
    baseline: Point
    objective: Objective
    device: str

    @property
    def ratio(self) -> float:
        """How many times better than fp32 on the objective (2.0: twice as fast, half the size)."""
        return self.baseline.value / self.point.value if self.point.value > 0 else float("inf")

    @property
    def drop(self) -> float:
        """Points of accuracy lost against fp32 (negative: gained)."""
        return self.baseline.accuracy - self.point.accuracy

    def sentence(self) -> str:
        """``pruned_int8 with 70 % sparsity: 1.9x faster than fp32 at -0.6 points on pixel``."""
        return (
            f"{self.point.description}: {self.ratio:.1f}x {_BETTER[self.objective]} than fp32 "
            f"at {-self.drop:+.1f} points on {self.device}"
        )


def unit(objective: Objective) -> str:
    return _UNITS[objective]


def pareto(points: list[Point]) -> list[Point]:
    """The points no other point beats on both accuracy and the objective, fastest (smallest) first."""
    front = [
        p
        for p in points
        if not any(
            q.value <= p.value and q.accuracy >= p.accuracy and (q.value < p.value or q.accuracy > p.accuracy)
            for q in points
        )
    ]
    return sorted(front, key=lambda p: (p.value, -p.accuracy))


def recommend(points: list[Point], baseline: Point, aim: Search, device: str) -> Recommendation | None:
    """The best candidate on the objective within ``aim.max_accuracy_drop`` of fp32, when one beats fp32 on it;
    None when none does (fp32 itself is then the answer, which is no tune's outcome)."""
    within = [
        p
        for p in points
        if p.name != BASELINE and baseline.accuracy - p.accuracy <= aim.max_accuracy_drop and p.value < baseline.value
    ]
    if not within:
        return None
    best = min(within, key=lambda p: (p.value, -p.accuracy))
    return Recommendation(best, baseline, Objective(aim.objective), device)


def closest_miss(points: list[Point], baseline: Point) -> Point | None:
    """The candidate that lost least accuracy, to name when none is within the drop."""
    others = [p for p in points if p.name != BASELINE]
    return max(others, key=lambda p: (p.accuracy, -p.value)) if others else None


def beside(name: str) -> str:
    """The name fp32 is timed under beside the candidate ``name``."""
    return BESIDE + name


def is_beside(name: str) -> bool:
    return name.startswith(BESIDE)


@dataclass(frozen=True)
class TimeBase:
    """fp32's cells, and fp32's cells timed beside the candidate: what turns the candidate's p50 into the p50 it
    would have had in the minutes fp32 was first measured: fp32's first p50 over the candidate's speed-up on the
    fp32 timed beside it, per configuration (read block pair by block pair, as the run table reads it)."""

    baseline: list[CellResult]
    beside: list[CellResult]

    def on_base(self, cell: CellResult, p50: float) -> float:
        """``p50`` as measured where either fp32 cell of ``cell``'s configuration has no p50 (a run before fp32
        was timed beside each candidate)."""
        first, again = (_of_config(cells, cell) for cells in (self.baseline, self.beside))
        first_p50 = _cell(Objective.LATENCY, first) if first else None
        if first_p50 is None or again is None:
            return p50
        return first_p50 / speedup.of_cells(cell, again).ratio


def _of_config(cells: list[CellResult], like: CellResult) -> CellResult | None:
    """The ok, timed cell of ``like``'s delegate, API and threads among ``cells``."""
    config = (like.delegate, like.api, like.threads)
    return next((c for c in cells if (c.delegate, c.api, c.threads) == config and _cell(Objective.LATENCY, c)), None)


def figure(
    objective: Objective, record: VariantRecord, cells: list[CellResult], base: TimeBase | None = None
) -> tuple[float, str] | None:
    """The objective's figure of one candidate and the cell it is of: the file's size, or the best ok cell's
    p50 (on fp32's time base, given one) or peak RSS on the device; None when no cell measured it."""
    if objective is Objective.SIZE:
        return (record.size_bytes / 1e6, "") if record.size_bytes is not None else None
    figures = [
        (base.on_base(cell, value) if base and objective is Objective.LATENCY else value, cell.key.id)
        for cell in cells
        if (value := _cell(objective, cell)) is not None
    ]
    return min(figures) if figures else None


def _cell(objective: Objective, cell: CellResult) -> float | None:
    if cell.status is not Status.OK:
        return None
    if objective is Objective.LATENCY:
        return cell.timing.p50_ms if cell.timing else None
    return cell.memory.peak_rss_mb if cell.memory else None


def accuracy(record: VariantRecord, labelled: bool) -> float | None:
    """A candidate's accuracy in percent: host top-1 with labels, else its top-1 agreement with fp32."""
    share = record.host_top1 if labelled else record.host_fp32_agreement
    return None if share is None else 100 * share


def point(
    variant: PlanVariant, record: VariantRecord, cells: list[CellResult], objective: Objective, labelled: bool
) -> Point | None:
    """A candidate as a point, or None when it has no accuracy or no figure (no ok cell). ``cells``: the run's,
    the candidate's own read with fp32's and fp32's beside it (TimeBase)."""

    def of(name: str) -> list[CellResult]:
        return [c for c in cells if c.variant == name]

    own, base = of(variant.name), TimeBase(of(BASELINE), of(beside(variant.name)))
    score, measured = accuracy(record, labelled), figure(objective, record, own, base)
    if score is None or measured is None:
        return None
    return Point(variant.name, describe(variant), score, measured[0], measured[1])


def describe(variant: PlanVariant) -> str:
    return Candidate.stored(variant.made_by, variant.settings).describe()


@dataclass(frozen=True)
class RunFront:
    """A stored tune run's points, front and recommendation (what `report` shows of it)."""

    run_id: str
    device: str
    aim: Search
    baseline: Point
    points: list[Point]
    front: list[Point]
    recommendation: Recommendation | None


def run_front(run_id: str, device: str, plan: Plan, manifest: Manifest, cells: list[CellResult]) -> RunFront | None:
    """The front of a tune's run; None for a run no search made, or one whose fp32 measured nothing."""
    if plan.tune is None:
        return None
    objective = Objective(plan.tune.objective)
    base_record = manifest.variant(BASELINE)
    labelled = base_record is not None and base_record.host_top1 is not None
    points = []
    for variant in plan.variants:
        record = manifest.variant(variant.name)
        if record is not None and not is_beside(variant.name):
            measured = point(variant, record, cells, objective, labelled)
            points += [measured] if measured else []
    baseline = next((p for p in points if p.name == BASELINE), None)
    if baseline is None:
        return None
    return RunFront(
        run_id, device, plan.tune, baseline, points, pareto(points), recommend(points, baseline, plan.tune, device)
    )
