"""The report's work, below the command: which runs, their comparison with fp32, what to ship, and the
history over time (for the HTML page), read from the store."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgebench import cpu_features
from edgebench.errors import EdgebenchError
from edgebench.report import ops
from edgebench.report.analysis import (
    ComparisonRow,
    Constraints,
    Recommendation,
    comparison_rows,
    history_rows,
    recommend,
)
from edgebench.store import Store
from edgebench.tune.front import RunFront, run_front
from edgebench_records import StoredRun

HISTORY_RUNS = 50  # per device and model, for the plots over time


@dataclass(frozen=True)
class ReportRequest:
    store_url: str
    run_ids: list[str]  # empty: the latest run of every device (of ``devices``, when given)
    constraints: Constraints
    with_history: bool = False
    devices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    run_ids: list[str]
    rows: list[ComparisonRow]
    recommendations: list[Recommendation]
    history: list[ComparisonRow]
    ops: list[ops.OpsView] = field(default_factory=list)  # op types per variant, op time, placement per run
    cpu_notes: list[str] = field(default_factory=list)  # runs measured on CPUs with different features
    runs: list[StoredRun] = field(default_factory=list)  # as loaded: the per-op overlays are drawn from them
    tunes: list[RunFront] = field(default_factory=list)  # the runs `edgebench tune` made: their fronts


def build_report(request: ReportRequest) -> Report:
    with Store(request.store_url, must_exist=True) as store:
        ids = request.run_ids or _latest(store, request.devices)
        if not ids:
            raise EdgebenchError(f"store {store.safe_url()} holds no runs yet: measure with `edgebench run`")
        runs = [store.load_run(run_id) for run_id in ids]
        elsewhere = [f"{r.run_id} ({r.device})" for r in runs if request.devices and r.device not in request.devices]
        if elsewhere:
            raise EdgebenchError(f"--device {','.join(request.devices)}: run {elsewhere[0]} is on another device")
        history = history_of(store, runs) if request.with_history else []
    rows = comparison_rows(runs)
    fronts = [run_front(r.run_id, r.device, r.plan, r.manifest, r.cells) for r in runs]
    return Report(
        ids,
        rows,
        recommend(rows, request.constraints),
        history,
        ops.views(runs),
        cpu_features.across_runs(runs),
        runs=runs,
        tunes=[front for front in fronts if front is not None],
    )


def _latest(store: Store, devices: list[str]) -> list[str]:
    if not devices:
        return store.latest_run_ids()
    ids = []
    for device in devices:
        latest = store.latest_run_ids(device=device)
        if not latest:
            raise EdgebenchError(f"--device {device}: no run of that device in store {store.safe_url()}")
        ids += latest
    return ids


def history_of(store: Store, runs: list[StoredRun]) -> list[ComparisonRow]:
    """The plot over time: the cells of the newest HISTORY_RUNS runs per device and model, read from the
    store's columns (p50, top-1, status); only the runs shown are loaded whole."""
    wanted = {(run.device, run.manifest.model_name) for run in runs}
    return history_rows(
        point for device, model in sorted(wanted) for point in store.cell_points(device, [model], limit=HISTORY_RUNS)
    )
