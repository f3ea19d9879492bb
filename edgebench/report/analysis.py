"""From stored runs to decisions: each cell against fp32, the Pareto front, the variant to ship.

fp32 is the baseline of the same run, delegate, API and thread count: a speed-up compares like with like.
Pareto-optimal: no other ok cell on the same device is at least as fast, as small and as accurate,
and better in one of the three.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from edgebench.report.metrics import baseline_of, measured, read, row_fields
from edgebench.report.speedup import Speedup
from edgebench.store import CellPoint
from edgebench_records import Status, StoredRun


@dataclass(frozen=True)
class ComparisonRow:
    """A stored cell beside its run's baseline; each field but ``pareto`` is the metric of that name
    (report/metrics.py), and the row's JSON (``report --json``) is its fields. A row read from the store's
    columns alone (history_rows) leaves the others at their defaults: not measured."""

    run_id: str
    created_at: str
    device: str
    variant: str
    delegate: str
    api: str
    threads: int
    status: str
    top1: float | None = None
    top1_drop_points: float | None = None  # fp32's top-1 minus this one's, in percentage points
    fp32_agreement: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    speedup: Speedup | None = None  # fp32 p50 / this p50, with its interval (edgebench/report/speedup.py)
    peak_rss_mb: float | None = None  # the process's: in the JSON, not the table
    size_kb: float | None = None
    gzip_kb: float | None = None
    size_reduction: float | None = None  # 1 - size / fp32 size
    coverage: float | None = None
    fully_accelerated: bool | None = None
    samples_ms: tuple[float, ...] = ()
    message: str = ""
    pareto: bool = False  # computed from the rows together (mark_pareto), not read from the cell
    why: str = ""  # why it is slower than fp32 here, when a figure says (edgebench/report/why.py)
    contended: bool | None = None  # measured under contention (the noise guard); None: not observed
    noise: str = ""  # the guard's reasons, one line
    top1_note: str = ""  # in top-1's place when it is None: "no labels", "MAE 0.0123", "not scored"
    labels_note: str = ""  # the runner's reason when top-1 is "not scored"
    worst_output_cosine: float | None = None  # fidelity where top-1 agreement does not apply (marks.py)
    emulated: str = ""  # why the device's timings mean nothing (an emulated board), from its facts
    warning: str = ""  # the converter's warnings on the variant (accuracy lost, calibrated on synthetic inputs)
    baseline: bool = False  # the cell the others of its configuration are compared with (baseline_of)
    worst_head: str = ""  # the output furthest from the host fp32 model (marks.worst_head)
    worst_head_error: float | None = None  # its RMS error as a share of its spread
    head_warning: str = ""  # one line when that is past marks.FIDELITY_MAX_ERROR
    culprit: str = ""  # the op that broke a wrong_output cell, when --find-culprits searched
    worst_layers: str = ""  # the variant's worst int8 layers against fp32 (converter.layer_error), one line
    load_delta_mb: float | None = None  # the model's own memory, as the table shows it (report/metrics.py)
    model_peak_mb: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == Status.OK and self.p50_ms is not None


_FIELDS = {f.name for f in dataclasses.fields(ComparisonRow)}


@dataclass(frozen=True)
class Constraints:
    max_accuracy_drop: float | None = None  # points below fp32
    max_size_mb: float | None = None
    max_p90_ms: float | None = None

    def describe(self) -> str:
        parts = []
        if self.max_accuracy_drop is not None:
            parts.append(f"top-1 drop ≤ {self.max_accuracy_drop:g} pts")
        if self.max_size_mb is not None:
            parts.append(f"size ≤ {self.max_size_mb:g} MB")
        if self.max_p90_ms is not None:
            parts.append(f"p90 ≤ {self.max_p90_ms:g} ms")
        return ", ".join(parts) or "no constraints"

    def violations(self, row: ComparisonRow) -> list[str]:
        out = []
        if self.max_accuracy_drop is not None and (
            row.top1_drop_points is None or row.top1_drop_points > self.max_accuracy_drop
        ):
            out.append(row.top1_note or f"top-1 drop {_fmt(row.top1_drop_points, '+.1f')} pts")
        if self.max_size_mb is not None and (row.size_kb is None or row.size_kb / 1024 > self.max_size_mb):
            out.append(f"size {_fmt(row.size_kb and row.size_kb / 1024, '.2f')} MB")
        if self.max_p90_ms is not None and (row.p90_ms is None or row.p90_ms > self.max_p90_ms):
            out.append(f"p90 {_fmt(row.p90_ms, '.3f')} ms")
        return out


@dataclass(frozen=True)
class Recommendation:
    device: str
    row: ComparisonRow | None
    reason: str


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _why(best: ComparisonRow, passing: int, constraints: Constraints) -> str:
    """ "int8 × xnnpack — fastest of 6 cells; no constraints given. p50 0.031 ms (1.30× fp32, 95 % CI …), …"."""
    cells = f"{passing} cell{'s' if passing != 1 else ''}"
    described = constraints.describe()
    among = f"{cells}; no constraints given" if described == "no constraints" else f"{cells} meeting {described}"
    if best.top1 is None and best.top1_note:
        accuracy = f"top-1: {best.top1_note}"
    else:
        change = _fmt(best.top1_drop_points and -best.top1_drop_points, "+.1f")
        accuracy = f"top-1 {_fmt(best.top1 and 100 * best.top1, '.1f')} % ({change} pts)"
    versus = best.speedup.versus_fp32() if best.speedup else "no fp32 to compare with"
    contended = f" Measured under contention ({best.noise}): its timing is not to be trusted." if best.contended else ""
    return (
        f"{best.variant} × {best.delegate} ({best.api}, {best.threads} thr) — fastest of {among}. "
        f"p50 {best.p50_ms:.3f} ms ({versus}), {_fmt(best.size_kb, '.1f')} KB, "
        f"{accuracy}.{contended}"
    )


def comparison_rows(runs: Iterable[StoredRun]) -> list[ComparisonRow]:
    """Every cell of every run beside its fp32; per run and configuration, fp32 first, then the variants
    in the order the converter lists them."""
    fields = row_fields(ComparisonRow, computed=["pareto"])
    rows: list[ComparisonRow] = []
    for run in runs:
        base_name = baseline_of(c.variant for c in run.cells)
        rank = {name: i for i, name in enumerate([base_name, *(v.name for v in run.manifest.variants)])}
        ordered = sorted(run.cells, key=lambda c: (c.delegate, c.api, c.threads, rank.get(c.variant, len(rank))))
        rows += [ComparisonRow(**read(m, fields)) for m in measured(ordered, run.manifest, run)]
    return mark_pareto(rows)


def history_rows(points: Iterable[CellPoint]) -> list[ComparisonRow]:
    """Rows for the plot over time from the store's columns alone: status, p50 and top-1 per cell and run.
    What needs a run's JSON or its fp32 (p90, samples, speed-up, sizes) is left empty; no Pareto is marked."""
    columns = [f.name for f in dataclasses.fields(CellPoint) if f.name in _FIELDS]
    return [ComparisonRow(**{name: getattr(p, name) for name in columns}) for p in points]


def _dominates(a: ComparisonRow, b: ComparisonRow) -> bool:
    """a is at least as fast, small and accurate as b, and better in one."""
    assert a.p50_ms is not None and b.p50_ms is not None
    a_key = (a.p50_ms, a.size_kb or 0.0, -(a.top1 or 0.0))
    b_key = (b.p50_ms, b.size_kb or 0.0, -(b.top1 or 0.0))
    return all(x <= y for x, y in zip(a_key, b_key, strict=True)) and a_key != b_key


def mark_pareto(rows: list[ComparisonRow]) -> list[ComparisonRow]:
    """Each row with ``pareto`` set against the ok rows of its own run (so, its own device)."""
    rivals: dict[str, list[ComparisonRow]] = {}
    for row in rows:
        if row.ok:
            rivals.setdefault(row.run_id, []).append(row)
    return [
        dataclasses.replace(
            row, pareto=row.ok and not any(_dominates(r, row) for r in rivals[row.run_id] if r is not row)
        )
        for row in rows
    ]


def recommend(rows: list[ComparisonRow], constraints: Constraints) -> list[Recommendation]:
    """Per device: the fastest cell that meets every constraint (ties: smaller, then more accurate)."""
    out = []
    for device in sorted({r.device for r in rows}):
        candidates = [r for r in rows if r.device == device and r.ok]
        passing = [r for r in candidates if not constraints.violations(r)]
        if not passing:
            nearest = min(candidates, key=lambda r: len(constraints.violations(r)), default=None)
            detail = (
                f"; nearest: {nearest.variant} × {nearest.delegate} ({', '.join(constraints.violations(nearest))})"
                if nearest
                else "; no cell was measured ok"
            )
            out.append(Recommendation(device, None, f"nothing meets {constraints.describe()}{detail}"))
            continue
        best = min(passing, key=lambda r: (r.p50_ms, r.size_kb or 0.0, -(r.top1 or 0.0)))
        out.append(Recommendation(device, best, _why(best, len(passing), constraints)))
    return out


@dataclass(frozen=True)
class MatrixEntry:
    row: ComparisonRow  # the fastest ok configuration of this variant on this device
    best_on_device: bool  # the fastest variant in this device's column


@dataclass(frozen=True)
class DeviceMatrix:
    """Variant × device: how each variant does on each of the devices a report spans."""

    devices: list[str]
    variants: list[str]  # fp32 first, as in the rows
    entries: dict[tuple[str, str], MatrixEntry]  # (variant, device)


def device_matrix(rows: list[ComparisonRow]) -> DeviceMatrix | None:
    """None unless the rows span two devices or more."""
    devices = sorted({r.device for r in rows})
    if len(devices) < 2:
        return None
    variants = list(dict.fromkeys(r.variant for r in rows))
    fastest: dict[tuple[str, str], ComparisonRow] = {}
    for row in rows:
        key = (row.variant, row.device)
        if row.ok and (key not in fastest or (row.p50_ms or 0.0) < (fastest[key].p50_ms or 0.0)):
            fastest[key] = row
    best = {
        device: min((r for (_, d), r in fastest.items() if d == device), key=lambda r: r.p50_ms or 0.0, default=None)
        for device in devices
    }
    entries = {key: MatrixEntry(row, best[key[1]] is row) for key, row in fastest.items()}
    return DeviceMatrix(devices, variants, entries)
