"""Stored mode: compare two sets of runs from the history, cell by cell, metric by metric.

Cells are matched by device × variant × delegate × API × threads. A cell that was ``ok`` and is
now anything else is a regression; cells found on one side only are listed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgebench import cpu_features
from edgebench.errors import EdgebenchError, ExitCode
from edgebench.gate import stats
from edgebench.gate.policy import Policy, Thresholds
from edgebench.store import Store
from edgebench_records import CellResult, Status, StoredRun, is_bundle_ref, read_bundle

CellKey = tuple[str, str, str, str, int]  # device, variant, delegate, api, threads
# The run-to-run spread is the device's as it is now (not as it was years of history ago), at a cost that does
# not grow with the store: the newest runs per device suffice for an SD, as the report's plot over time.
HISTORY_RUNS = 50
# A candidate cell in one of these states has no outputs the gate could vouch for, whatever the baseline was.
UNVOUCHED = frozenset(status for status in Status if status.failed)


@dataclass(frozen=True)
class Verdict:
    cell: CellKey
    metric: str
    verdict: stats.Outcome
    baseline: float | None
    candidate: float | None
    detail: str
    gating: bool = True  # p90/p99 (and fp32 agreement of results without per-sample agreement) only warn

    @property
    def cell_name(self) -> str:
        device, variant, delegate, api, threads = self.cell
        return f"{device} · {variant} · {delegate} · {api} · {threads}t"


@dataclass(frozen=True)
class GateResult:
    baseline: list[str]
    candidate: list[str]
    verdicts: list[Verdict]
    only_baseline: list[CellKey]
    only_candidate: list[CellKey]
    notes: list[str] = field(default_factory=list)  # what the verdicts cannot show: CPU features that differed

    def exit_code(self, policy: Policy) -> ExitCode:
        bad = {stats.Outcome.REGRESSION} | ({stats.Outcome.INCONCLUSIVE} if policy.inconclusive_fails else set())
        failed = any(v.gating and v.verdict in bad for v in self.verdicts)
        return ExitCode.FAILED if failed else ExitCode.OK


def resolve(store: Store, ref: str, device: str | None) -> list[StoredRun]:
    """A run id, ``latest``, a tag ``key=value`` (the latest matching run of each device), or a bundle file."""
    if is_bundle_ref(ref):
        bundled = [run for run in read_bundle(Path(ref)) if device is None or run.device == device]
        if not bundled:
            raise EdgebenchError(f"run bundle {ref} holds no run" + (f" on device {device}" if device else ""))
        for name in {run.device for run in bundled}:
            # cells are matched per device: a second run there would silently replace the first one's
            ids = [run.run_id for run in bundled if run.device == name]
            if len(ids) > 1:
                raise EdgebenchError(
                    f"run bundle {ref} holds {len(ids)} runs on device {name} ({', '.join(ids)}): "
                    "gate against one run per device (export it with `edgebench history --export RUN_ID`)"
                )
        return bundled
    if ref != "latest" and "=" not in ref:
        return [store.load_run(ref)]
    key, _, value = ref.partition("=")
    latest = store.latest_run_ids(device=device, tags={key: value} if value else None)
    if not latest:
        raise EdgebenchError(f"no run matches {ref!r}" + (f" on device {device}" if device else ""))
    return [store.load_run(run_id) for run_id in latest]


def different_models(baseline: list[StoredRun], candidate: list[StoredRun]) -> list[str]:
    """The runs, device by device, whose models share neither name nor content (sha256). A new version
    of a model keeps its name, a renamed copy its content; with neither, cells would be matched by
    variant name alone and the gate would compare two unrelated models. The two sides of one paired
    gate (same ``gate`` tag) are models the user chose to compare."""
    found = []
    for a, b in itertools.product(baseline, candidate):
        ours, theirs = a.manifest, b.manifest
        paired = "gate" in a.tags and a.tags.get("gate") == b.tags.get("gate")
        unrelated = ours.model_name != theirs.model_name and ours.model_sha256 != theirs.model_sha256
        if a.device == b.device and unrelated and not paired:
            found.append(
                f"{a.device}: baseline run {a.run_id} is model {ours.model_name} (sha256 {ours.model_sha256[:12]}), "
                f"candidate run {b.run_id} is {theirs.model_name} (sha256 {theirs.model_sha256[:12]})"
            )
    return found


def cell_key(run: StoredRun, cell: CellResult) -> CellKey:
    return run.device, cell.variant, cell.delegate, cell.api, cell.threads


def history(store: Store, runs: Iterable[StoredRun], exclude: set[str]) -> dict[CellKey, list[float]]:
    """ln p50 of each cell of ``runs`` in the newest HISTORY_RUNS stored runs of the same device and models
    (``exclude`` aside), oldest first: the cell's earlier runs, read from the store's columns (no past run is
    loaded). Only cells measured ok and not under contention: a flagged run's spread is the other work's."""
    keys: dict[tuple[str, str], CellKey] = {}
    models: dict[str, set[str]] = {}
    for run in runs:
        models.setdefault(run.device, set()).add(run.manifest.model_name)
        keys.update({(run.device, cell.key.id): cell_key(run, cell) for cell in run.cells})
    found: dict[CellKey, list[float]] = {}
    for device, names in sorted(models.items()):
        cell_ids = {cell_id for (where, cell_id) in keys if where == device}
        points = store.cell_points(device, names, limit=HISTORY_RUNS, cell_ids=cell_ids, exclude=exclude)
        for point in points:
            if point.status == Status.OK and point.p50_ms and not point.contended:
                found.setdefault(keys[device, point.cell_id], []).append(math.log(point.p50_ms))
    return found


def compare(
    baseline: list[StoredRun], candidate: list[StoredRun], policy: Policy, earlier: dict[CellKey, list[float]]
) -> GateResult:
    """The verdicts of every cell on both sides; ``earlier`` holds ln p50 of each cell's earlier runs (stored
    mode's run-to-run spread; paired mode times both sides together and needs none)."""
    a_cells = {cell_key(r, c): (r, c) for r in baseline for c in r.cells}
    b_cells = {cell_key(r, c): (r, c) for r in candidate for c in r.cells}
    matched = sorted(set(a_cells) & set(b_cells))
    if not matched:
        raise EdgebenchError(
            "nothing to compare: no cell (device × variant × delegate × API × threads) is on both sides"
        )
    verdicts = []
    for key in matched:
        (a_run, a), (b_run, b) = a_cells[key], b_cells[key]
        thresholds = policy.for_cell(key[0], key[1])
        verdicts += [
            v
            for v in _cell_verdicts(key, a_run, a, b_run, b, thresholds, earlier.get(key, []))
            if v.metric not in policy.ignore
        ]
    worst_first = (
        stats.Outcome.REGRESSION,
        stats.Outcome.INCONCLUSIVE,
        stats.Outcome.WARNING,
        stats.Outcome.IMPROVEMENT,
        stats.Outcome.PASS,
    )
    order = {outcome: rank for rank, outcome in enumerate(worst_first)}
    verdicts.sort(key=lambda v: (order[v.verdict], v.cell, v.metric))
    return GateResult(
        [r.run_id for r in baseline],
        [r.run_id for r in candidate],
        verdicts,
        sorted(set(a_cells) - set(b_cells)),
        sorted(set(b_cells) - set(a_cells)),
        _feature_notes([(key[0], a_cells[key][1], b_cells[key][1]) for key in matched]),
    )


def _feature_notes(pairs: list[tuple[str, CellResult, CellResult]]) -> list[str]:
    """One line per device whose baseline and candidate were measured on CPUs with different features."""
    notes = {device: cpu_features.difference(a.device, b.device, "baseline", "candidate") for device, a, b in pairs}
    return [f"{device}: {line}" for device, line in notes.items() if line]


def _cell_verdicts(
    key: CellKey,
    a_run: StoredRun,
    a: CellResult,
    b_run: StoredRun,
    b: CellResult,
    t: Thresholds,
    earlier: list[float],
) -> list[Verdict]:
    out = [_size(key, a_run, b_run, "size", t), _size(key, a_run, b_run, "gzip_size", t)]
    if a.status != Status.OK or b.status != Status.OK:
        return [*out, _status(key, a, b)]
    out.append(Verdict(key, "status", stats.Outcome.PASS, None, None, "ok → ok"))
    assert a.timing and b.timing and a.memory and b.memory
    spoiled = contention(a, b)
    if spoiled:  # a flagged side's timing says nothing either way: never a regression, never a pass
        found = stats.Finding(stats.Outcome.INCONCLUSIVE, math.nan, None, None, None, spoiled)
    elif not (a.timing.samples_ms and b.timing.samples_ms):
        found = stats.Finding(
            stats.Outcome.INCONCLUSIVE,
            math.nan,
            None,
            None,
            None,
            "no raw samples on one side (benchmark_model prints summaries only): measure with the app runner",
        )
    elif _timed_together(a_run, b_run):  # paired mode: timed side by side in ABBA blocks
        unpaired = _unpaired(a, b)
        found = (
            stats.paired_latency(_blocks(a), _blocks(b), t.alpha, t.latency_floor)
            if unpaired is None
            else stats.Finding(stats.Outcome.INCONCLUSIVE, math.nan, None, None, None, unpaired)
        )
    else:
        found = stats.stored_latency(
            np.asarray(a.timing.samples_ms), np.asarray(b.timing.samples_ms), t.latency_floor, earlier
        )
    out.append(Verdict(key, "latency_p50", found.verdict, a.timing.p50_ms, b.timing.p50_ms, found.detail))
    for metric, before, after in (
        ("latency_p90", a.timing.p90_ms, b.timing.p90_ms),
        ("latency_p99", a.timing.p99_ms, b.timing.p99_ms),
    ):
        if before is None or after is None:
            continue  # not printed by this runner: nothing to warn about
        ratio = after / before if before else 1.0
        tail = stats.Outcome.WARNING if ratio >= 1 + t.latency_floor else stats.Outcome.PASS
        out.append(
            Verdict(
                key,
                metric,
                stats.Outcome.INCONCLUSIVE if spoiled else tail,
                before,
                after,
                f"ratio {ratio:.3f} (tails warn only)",
                gating=False,
            )
        )
    for metric, before, after in (
        ("peak_memory", a.memory.peak_rss_mb, b.memory.peak_rss_mb),
        ("load_memory", a.memory.load_delta_mb, b.memory.load_delta_mb),
    ):
        if before is None or after is None:
            out.append(Verdict(key, metric, stats.Outcome.INCONCLUSIVE, before, after, "not measured on one side"))
            continue
        found = stats.memory([before], [after], t.memory_pct, t.memory_mb)
        out.append(Verdict(key, metric, found.verdict, before, after, found.detail))
    out += _accuracy(key, a, b, t)
    if a.coverage and b.coverage:
        fewer = b.coverage.delegated_nodes < a.coverage.delegated_nodes
        more = b.coverage.delegated_nodes > a.coverage.delegated_nodes
        out.append(
            Verdict(
                key,
                "coverage",
                stats.Outcome.REGRESSION if fewer else stats.Outcome.IMPROVEMENT if more else stats.Outcome.PASS,
                a.coverage.delegated_nodes,
                b.coverage.delegated_nodes,
                f"{b.coverage.delegated_nodes}/{b.coverage.total_nodes} nodes delegated, was "
                f"{a.coverage.delegated_nodes}/{a.coverage.total_nodes}",
            )
        )
    return out


def _status(key: CellKey, a: CellResult, b: CellResult) -> Verdict:
    """Either side not ok. A candidate that crashed, failed or gave wrong outputs fails the gate whatever the
    baseline was: both sides wrong is not "nothing changed", it is a release nobody can vouch for."""
    said = (b.message or a.message).strip().splitlines()
    why = f": {said[0]}" if said else ""
    if b.status in UNVOUCHED:
        detail = f"candidate {b.status} (baseline {a.status}): the gate cannot vouch for it{why}"
        return Verdict(key, "status", stats.Outcome.REGRESSION, None, None, detail)
    if b.status == Status.OK:
        verdict = stats.Outcome.IMPROVEMENT
    elif a.status == Status.OK:
        verdict = stats.Outcome.REGRESSION  # ok → the delegate unavailable
    else:
        verdict = stats.Outcome.PASS  # the delegate absent on both sides: a fact of the device
    return Verdict(key, "status", verdict, None, None, f"{a.status} → {b.status}{why}")


def contention(a: CellResult, b: CellResult) -> str:
    """Why the timing of either side was measured under contention (device_runner's noise guard), or ""."""
    parts = [
        f"{side} measured under contention: {'; '.join(cell.conditions.reasons)}"
        for side, cell in (("baseline", a), ("candidate", b))
        if cell.conditions is not None and cell.conditions.contended
    ]
    return " · ".join(parts)


def _timed_together(a_run: StoredRun, b_run: StoredRun) -> bool:
    """The two sides of one paired gate (same ``gate`` tag): measured in one plan, meant to be interleaved.
    Blocks of two different sessions are no pairs, so only these are compared block by block."""
    return "gate" in a_run.tags and a_run.tags.get("gate") == b_run.tags.get("gate")


def _unpaired(a: CellResult, b: CellResult) -> str | None:
    """Why two sides of one paired gate have no blocks to pair, or None. Never a silent fallback to stored-mode
    statistics: a runner that timed the pair as two ordinary cells lost what paired mode is for."""
    assert a.timing is not None and b.timing is not None
    counts = len(a.timing.block_lengths), len(b.timing.block_lengths)
    if counts[0] and counts[0] == counts[1]:
        return None
    return (
        f"paired mode, but the results carry {counts[0]} and {counts[1]} ABBA blocks: the runner timed the two "
        "models as ordinary cells (an app older than paired timing?), so no paired comparison; update the runner, "
        "or gate in stored mode (`edgebench gate --baseline REF --candidate REF`)"
    )


def _blocks(cell: CellResult) -> list[np.ndarray]:
    assert cell.timing is not None
    edges = np.cumsum([0, *cell.timing.block_lengths])
    samples = np.asarray(cell.timing.samples_ms)
    return [samples[start:end] for start, end in itertools.pairwise(edges)]


def _size(key: CellKey, a_run: StoredRun, b_run: StoredRun, metric: str, t: Thresholds) -> Verdict:
    a_record, b_record = a_run.manifest.variant(key[1]), b_run.manifest.variant(key[1])
    field = "size_bytes" if metric == "size" else "gzip_bytes"
    before = getattr(a_record, field, None) if a_record else None
    after = getattr(b_record, field, None) if b_record else None
    if before is None or after is None:
        return Verdict(key, metric, stats.Outcome.PASS, before, after, "not recorded on both sides")
    found = stats.size(before, after, t.size_pct)
    return Verdict(key, metric, found.verdict, before, after, found.detail)


def _accuracy(key: CellKey, a: CellResult, b: CellResult, t: Thresholds) -> list[Verdict]:
    if not (a.accuracy and b.accuracy):
        return []
    out = []
    if a.accuracy.top1 is None or b.accuracy.top1 is None:  # an input set without labels (synthetic inputs)
        detail = "no labels on both sides: accuracy not measured"
        out.append(Verdict(key, "accuracy", stats.Outcome.PASS, a.accuracy.top1, b.accuracy.top1, detail))
    elif a.accuracy.correct and len(a.accuracy.correct) == len(b.accuracy.correct):
        found = stats.paired_accuracy(
            np.asarray(a.accuracy.correct), np.asarray(b.accuracy.correct), t.alpha, t.accuracy_points
        )
        out.append(Verdict(key, "accuracy", found.verdict, a.accuracy.top1, b.accuracy.top1, found.detail))
    else:
        out.append(
            Verdict(
                key,
                "accuracy",
                stats.Outcome.INCONCLUSIVE,
                a.accuracy.top1,
                b.accuracy.top1,
                "the two sides were not measured on the same inputs: no paired test possible",
            )
        )
    if a.accuracy.agree and len(a.accuracy.agree) == len(b.accuracy.agree):
        found = stats.paired_accuracy(
            np.asarray(a.accuracy.agree), np.asarray(b.accuracy.agree), t.alpha, t.accuracy_points, "fp32 agreement"
        )
        out.append(
            Verdict(
                key, "fp32_agreement", found.verdict, a.accuracy.fp32_agreement, b.accuracy.fp32_agreement, found.detail
            )
        )
    elif a.accuracy.fp32_agreement is not None and b.accuracy.fp32_agreement is not None:
        drop = 100 * (a.accuracy.fp32_agreement - b.accuracy.fp32_agreement)
        out.append(
            Verdict(
                key,
                "fp32_agreement",
                stats.Outcome.WARNING if drop >= t.accuracy_points else stats.Outcome.PASS,
                a.accuracy.fp32_agreement,
                b.accuracy.fp32_agreement,
                f"agreement {-drop:+.2f} pts (results without per-sample agreement, schema < 1.1: warns only)",
                gating=False,
            )
        )
    return out
