"""Every figure a cell result is flattened into, declared once: its name (the field of a row, and the key of
its JSON and CSV), its unit, how it is read from a cell beside its variant and its baseline, and how a
terminal or Markdown table prints it.

The run table (``report/table.py``), the report's rows (``report/analysis.py``), ``history --cells``
(``report/cells.py``) and the ``--json`` rows of each all read their figures from here: a metric added here
is read the same way everywhere, and a row names the metrics it carries rather than reading them again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from edgebench.report import marks
from edgebench.report.speedup import Speedup, Verdict, of_cells
from edgebench.report.why import why_slower
from edgebench_records import CellResult, Manifest, StoredRun, VariantRecord

BASELINE = "fp32"
GIVEN = "given"  # a .tflite source's own file: the baseline of a run that has no fp32
MISSING = "—"  # what a table prints where a figure was not measured


def baseline_of(variants: Iterable[str]) -> str:
    """What a run's speed-ups, size ratios and why lines divide by: fp32, else the given .tflite."""
    return BASELINE if BASELINE in set(variants) else GIVEN


@dataclass(frozen=True)
class Measured:
    """One cell result with what its figures are read against: its variant's conversion record, and the
    baseline cell (and record) of the same delegate, API and threads in the same run."""

    cell: CellResult
    record: VariantRecord | None
    base: CellResult | None
    base_record: VariantRecord | None
    base_name: str  # the run's baseline variant (baseline_of)
    run: StoredRun | None = None  # None: a run just measured, whose table names no run-level figure

    @property
    def stored(self) -> StoredRun:
        assert self.run is not None, "a run-level figure of a cell that belongs to no stored run"
        return self.run


def measured(cells: Iterable[CellResult], manifest: Manifest, run: StoredRun | None = None) -> Iterator[Measured]:
    """Each cell, in the order given, beside its variant record and its configuration's baseline."""
    cells = list(cells)
    variants = {v.name: v for v in manifest.variants}
    base_name = baseline_of(c.variant for c in cells)
    bases = {(c.delegate, c.api, c.threads): c for c in cells if c.variant == base_name}
    for cell in cells:
        base = bases.get((cell.delegate, cell.api, cell.threads))
        yield Measured(cell, variants.get(cell.variant), base, variants.get(base_name), base_name, run)


class Unit(StrEnum):
    TEXT = "text"
    TIMESTAMP = "timestamp"  # ISO 8601, UTC
    COUNT = "count"
    FLAG = "flag"
    MS = "ms"
    MB = "MB"
    KB = "KB"
    BYTES = "bytes"
    FRACTION = "fraction"  # 0..1, printed as a percentage
    POINTS = "percentage points"
    OUTPUT = "the output's own unit"  # an error on the model's outputs
    COSINE = "cosine similarity"
    SPEEDUP = "ratio with its interval"  # a Speedup: the baseline's time over the cell's
    SAMPLES = "ms per timed run"


_NUMBERS = {Unit.MS, Unit.MB, Unit.KB, Unit.POINTS, Unit.COSINE}


@dataclass(frozen=True)
class Metric:
    name: str  # the row's field; also its JSON and CSV key unless ``key`` says otherwise
    unit: Unit
    get: Callable[[Measured], Any]
    header: str = ""  # its column in the run table; "" where the table does not show it
    digits: int = 1  # after the point, for a unit printed as a number or a percentage
    show: Callable[[Any], str] | None = None  # how the value prints, where the unit's way does not fit
    instead: str = ""  # the metric printed in this one's place when this one has no value
    key: str = ""  # the JSON and CSV key, when two outputs already disagree on what the name holds

    @property
    def json_key(self) -> str:
        return self.key or self.name

    @property
    def left(self) -> bool:
        """Text reads from the left; figures line up on the right."""
        return self.unit in (Unit.TEXT, Unit.TIMESTAMP)

    def format(self, value: Any) -> str:
        """The value as a table cell shows it; MISSING when it was not measured."""
        if value is None or value == "":
            return MISSING
        if self.show is not None:
            return self.show(value)
        if self.unit is Unit.FRACTION:
            return f"{100 * value:.{self.digits}f}%"
        if self.unit is Unit.OUTPUT:
            return f"{value:.4g}"
        if self.unit is Unit.FLAG:
            return "yes" if value else "no"
        if self.unit in _NUMBERS:
            return f"{value:.{self.digits}f}"
        return str(value)


def _at(path: str) -> Callable[[Measured], Any]:
    """The attribute at a dotted path from the measured cell; None where a part on the way is missing (no
    timing in a cell that failed, no record of a variant the manifest does not list)."""

    def get(m: Measured) -> Any:
        value: Any = m
        for name in path.split("."):
            if value is None:
                return None
            value = getattr(value, name)
        return value

    return get


def _kb(path: str) -> Callable[[Measured], float | None]:
    size = _at(path)
    return lambda m: None if (found := size(m)) is None else found / 1024


def _top1_drop(m: Measured) -> float | None:
    """The baseline's top-1 minus this one's, in percentage points."""
    top1, base = m.cell.accuracy, m.base.accuracy if m.base else None
    if top1 is None or top1.top1 is None or base is None or base.top1 is None:
        return None
    return 100 * (base.top1 - top1.top1)


def _speedup(m: Measured) -> Speedup | None:
    """The baseline's time over the cell's, with the interval their raw samples give; None without both p50s."""
    cell, base = m.cell, m.base
    if base is None or cell.timing is None or base.timing is None:
        return None
    p50, base_p50 = cell.timing.p50_ms, base.timing.p50_ms
    if not p50 or not base_p50:
        return None
    if cell is base:
        return Speedup(1.0, None, None, Verdict.BASELINE, base=base.variant)
    found = of_cells(cell, base)
    return dataclasses.replace(found, base=base.variant)


def _size_reduction(m: Measured) -> float | None:
    """1 - size / the baseline's size."""
    size = m.record.size_bytes if m.record else None
    base = m.base_record.size_bytes if m.base_record else None
    return 1 - size / base if size is not None and base else None


def _warning(m: Measured) -> str:
    """The converter's warnings on the variant (accuracy lost, calibrated on synthetic inputs), one line."""
    notes = m.record.notes if m.record else []
    return "; ".join(n.removeprefix("warning: ") for n in notes if n.startswith("warning: "))


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        # what the cell belongs to
        Metric("run_id", Unit.TEXT, _at("stored.run_id")),
        Metric("created_at", Unit.TIMESTAMP, _at("stored.created_at")),
        Metric("device", Unit.TEXT, _at("stored.device")),
        Metric("model", Unit.TEXT, _at("stored.manifest.model_name")),
        Metric("git_commit", Unit.TEXT, _at("stored.git_commit")),
        Metric("tags", Unit.TEXT, lambda m: ";".join(f"{k}={v}" for k, v in m.stored.tags.items())),
        # the cell's configuration and how it ended
        Metric("variant", Unit.TEXT, _at("cell.variant"), header="variant"),
        Metric("delegate", Unit.TEXT, _at("cell.delegate"), header="delegate"),
        Metric("api", Unit.TEXT, _at("cell.api"), header="api"),
        Metric("threads", Unit.COUNT, _at("cell.threads"), header="thr"),
        Metric("status", Unit.TEXT, lambda m: str(m.cell.status), header="status"),
        Metric("message", Unit.TEXT, _at("cell.message")),
        Metric("culprit", Unit.TEXT, lambda m: m.cell.culprit.line if m.cell.culprit else ""),
        Metric("baseline", Unit.FLAG, lambda m: m.cell.variant == m.base_name),
        Metric("contended", Unit.FLAG, lambda m: marks.contended(m.cell)),
        Metric("noise", Unit.TEXT, lambda m: marks.noise(m.cell)),
        Metric("emulated", Unit.TEXT, lambda m: (m.cell.device.emulated or "") if m.cell.device else ""),
        Metric("why", Unit.TEXT, lambda m: why_slower(m.cell, m.base, m.record, m.base_record)),
        # latency
        Metric("p50_ms", Unit.MS, _at("cell.timing.p50_ms"), header="p50 ms", digits=3),
        Metric("p90_ms", Unit.MS, _at("cell.timing.p90_ms"), header="p90 ms", digits=3),
        Metric("p99_ms", Unit.MS, _at("cell.timing.p99_ms"), digits=3),
        Metric("p5_ms", Unit.MS, _at("cell.timing.p5_ms"), digits=3),
        Metric("p95_ms", Unit.MS, _at("cell.timing.p95_ms"), digits=3),
        Metric("mean_ms", Unit.MS, _at("cell.timing.mean_ms"), digits=3),
        Metric("std_ms", Unit.MS, _at("cell.timing.std_ms"), digits=3),
        Metric("min_ms", Unit.MS, _at("cell.timing.min_ms"), digits=3),
        Metric("max_ms", Unit.MS, _at("cell.timing.max_ms"), digits=3),
        Metric("init_ms", Unit.MS, _at("cell.timing.init_ms"), header="init ms"),
        Metric("first_ms", Unit.MS, _at("cell.timing.first_ms"), digits=3),
        Metric("timed_runs", Unit.COUNT, lambda m: len(m.cell.timing.samples_ms) if m.cell.timing else None),
        Metric(
            "samples_ms",
            Unit.SAMPLES,
            lambda m: tuple(m.cell.timing.samples_ms) if m.cell.timing else (),
            show=lambda samples: f"{len(samples)} runs",
        ),
        Metric("speedup", Unit.SPEEDUP, _speedup, header="speed-up", show=Speedup.text),
        # memory: the tables show the model's own cost; the process's peak (Python, the runtime, the input set
        # and all, a floor of tens of MB whatever the model) stays in the JSON
        Metric("load_delta_mb", Unit.MB, _at("cell.memory.load_delta_mb"), header="load MB"),
        Metric("model_peak_mb", Unit.MB, _at("cell.memory.model_peak_mb"), header="peak MB"),
        Metric("peak_rss_mb", Unit.MB, _at("cell.memory.peak_rss_mb")),
        # accuracy and fidelity
        Metric("top1", Unit.FRACTION, _at("cell.accuracy.top1"), header="top-1", instead="top1_note"),
        Metric("top1_note", Unit.TEXT, lambda m: marks.top1_note(m.cell)),
        Metric("top1_drop_points", Unit.POINTS, _top1_drop),
        Metric("top5", Unit.FRACTION, _at("cell.accuracy.top5")),
        Metric("mae", Unit.OUTPUT, _at("cell.accuracy.mae")),
        Metric("labels_note", Unit.TEXT, lambda m: marks.labels_note(m.cell)),
        # the runner's own note, "no labels" included: what `history --cells` has always written under this key
        Metric(
            "runner_labels_note",
            Unit.TEXT,
            lambda m: m.cell.accuracy.labels_note if m.cell.accuracy else "",
            key="labels_note",
        ),
        Metric(
            "fp32_agreement",
            Unit.FRACTION,
            _at("cell.accuracy.fp32_agreement"),
            header="agree",
            instead="worst_output_cosine",
        ),
        Metric(
            "worst_output_cosine",
            Unit.COSINE,
            lambda m: marks.worst_output_cosine(m.cell.accuracy),
            show=lambda cosine: f"cos {cosine:.4f}",
        ),
        Metric(
            "worst_head",
            Unit.TEXT,
            lambda m: marks.worst_head_name(m.cell.accuracy),
            header="worst head",
        ),
        Metric("worst_head_error", Unit.FRACTION, lambda m: marks.worst_head_error(m.cell.accuracy)),
        Metric("head_warning", Unit.TEXT, lambda m: marks.head_warning(m.cell.accuracy)),
        Metric("max_abs_diff", Unit.OUTPUT, _at("cell.accuracy.max_abs_diff")),
        Metric("mean_abs_diff", Unit.OUTPUT, _at("cell.accuracy.mean_abs_diff")),
        Metric("scored_inputs", Unit.COUNT, _at("cell.accuracy.n")),
        # where the nodes ran
        Metric("coverage", Unit.FRACTION, _at("cell.coverage.fraction"), header="deleg", instead="fully_accelerated"),
        Metric("delegated_nodes", Unit.COUNT, _at("cell.coverage.delegated_nodes")),
        Metric("total_nodes", Unit.COUNT, _at("cell.coverage.total_nodes")),
        Metric(
            "fully_accelerated",
            Unit.FLAG,
            _at("cell.fully_accelerated"),
            show=lambda full: "full" if full else "partial",
        ),
        # the variant's file
        Metric("size_kb", Unit.KB, _kb("record.size_bytes"), header="KB"),
        Metric("gzip_kb", Unit.KB, _kb("record.gzip_bytes"), header="gzip KB"),
        Metric("size_bytes", Unit.BYTES, _at("record.size_bytes")),
        Metric("gzip_bytes", Unit.BYTES, _at("record.gzip_bytes")),
        Metric("size_reduction", Unit.FRACTION, _size_reduction, digits=0),
        Metric("warning", Unit.TEXT, _warning),
        # the int8 layers that lost the most against fp32 on the host, or why none were compared
        Metric("worst_layers", Unit.TEXT, lambda m: m.record.layer_error_line() if m.record else ""),
        # the device and the clock
        Metric("runtime", Unit.TEXT, _at("cell.device.runtime")),
        Metric("runtime_version", Unit.TEXT, _at("cell.device.runtime_version")),
        Metric("machine", Unit.TEXT, _at("cell.device.machine")),
        Metric("cpu_model", Unit.TEXT, _at("cell.device.cpu_model")),
        Metric("started_at", Unit.TIMESTAMP, _at("cell.started_at")),
        Metric("finished_at", Unit.TIMESTAMP, _at("cell.finished_at")),
    )
}


def read(m: Measured, names: Iterable[str]) -> dict[str, Any]:
    """The named metrics of one cell, by name: what a row is built from."""
    return {name: METRICS[name].get(m) for name in names}


def text(row: object, name: str) -> str:
    """A row's metric as a table prints it, or the metric that stands in its place when it has none
    (top-1's "no labels", agreement's cosine, coverage's full/partial)."""
    metric = METRICS[name]
    value = getattr(row, name)
    if value is None and metric.instead:
        return METRICS[metric.instead].format(getattr(row, metric.instead))
    return metric.format(value)


def row_fields(row_type: type[Any], *, computed: Iterable[str] = ()) -> tuple[str, ...]:
    """The fields of a row dataclass that are metrics, read from the cell: all of them but the ``computed``
    ones, which the row's module works out from the rows together (the Pareto front)."""
    skipped = set(computed)
    return tuple(f.name for f in dataclasses.fields(row_type) if f.name not in skipped)
