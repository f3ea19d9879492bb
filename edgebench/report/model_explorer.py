"""Per-op figures of stored cells, and a placement forecast, as node-data files for Google's Model Explorer graph
viewer (``ai-edge-model-explorer``, the ``[explorer]`` extra): open a variant's ``.tflite`` in it and load a file
to see each op coloured by its figure.

Node ids: Model Explorer's TFLite adapter (its flatbuffer-to-graph converter) names each op node by the op's
index in its subgraph's operator list ("0", "1", …) and gives the graph's inputs, constants and outputs the ids
after those; a result may also be keyed by one of an op's output tensor names, which the viewer maps to the op.
Every figure edgebench stores is of the main subgraph (subgraph 0), and indexed the same way: a placement's
nodes, a profile row's node index, a culprit's op index. The files are graph-level node data (``results`` at
the top, no graph id): the viewer applies such a file to the graph on screen, which is the main subgraph when a
model opens. (The graph's id is its subgraph's name, else its signature key, neither of which the history
keeps, so keying by it would guess.)

Nothing is estimated: an op with no figure of its own has no entry. A delegate partition's time is the
partition's, never split over its ops: it is named in the placement overlay's label of each of its ops.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from edgebench.errors import EdgebenchError
from edgebench.forecast import DelegateForecast, Fate, ModelForecast
from edgebench.output_files import write_output
from edgebench.report import ops
from edgebench_records import DRIFT_CAP, CellResult, Culprit, OpProfile, Placement, RanOn, Status, StoredRun

PACKAGE = "model_explorer"  # ai-edge-model-explorer's import name
EXTRA = "edgebench[explorer]"
PLAIN_KERNELS = "plain kernels"
# Partition colours, cycled (Material 200s: dark text stays readable); plain kernels in amber, what fell off.
PARTITION_COLOURS = ("#90caf9", "#a5d6a7", "#ce93d8", "#80deea", "#c5e1a5", "#b39ddb")
PLAIN_COLOUR = "#ffb74d"
WITHIN_TOLERANCE = "#c8e6c9"
PAST_TOLERANCE = "#e53935"
LOW, HIGH = "#fff8e1", "#d84315"  # op time and layer error: white-ish to deep orange
# A forecast in the placement overlay's colours: delegated as a partition, falls off as plain kernels.
FORECAST_COLOURS = {Fate.DELEGATED: PARTITION_COLOURS[0], Fate.FELL_OFF: PLAIN_COLOUR, Fate.NO_HISTORY: "#e0e0e0"}


class Overlay(StrEnum):
    """What a node-data file shows; its value is the file name's suffix."""

    OP_TIME = "op_time_ms"  # per-op time where a profiler measured it
    PLACEMENT = "placement"  # delegate partition or plain kernels
    DRIFT = "drift"  # a culprit search's per-op drift from the reference kernels
    LAYER_ERROR = "layer_error"  # per-layer quantisation error against fp32
    FORECAST = "forecast"  # `edgebench forecast`'s predicted placement, beside the measured one where stored


@dataclass(frozen=True)
class NodeValue:
    """One node's entry: Model Explorer's ``NodeDataResult`` (value, and a colour where no scale gives one)."""

    value: float | str
    bgColor: str | None = None  # Model Explorer's field name (camelCase)


@dataclass(frozen=True)
class Threshold:
    """Model Explorer's ``ThresholdItem``: values up to ``value`` take ``bgColor``."""

    value: float
    bgColor: str


@dataclass(frozen=True)
class Gradient:
    """Model Explorer's ``GradientItem``: a stop from 0 (the smallest value) to 1 (the largest)."""

    stop: float
    bgColor: str


@dataclass(frozen=True)
class GraphNodeData:
    """One overlay, in Model Explorer's graph-level node-data format (``node_data_builder.GraphNodeData``)."""

    name: str
    results: dict[str, NodeValue]  # node id (the op's index) or an output tensor name -> its value
    thresholds: list[Threshold] = field(default_factory=list)
    gradient: list[Gradient] = field(default_factory=list)

    def to_json(self) -> str:
        data = asdict(self)
        data["results"] = {k: {n: v for n, v in r.items() if v is not None} for k, r in data["results"].items()}
        return json.dumps({k: v for k, v in data.items() if v != []}, indent=1)


@dataclass(frozen=True)
class Written:
    files: list[Path]
    notes: list[str]  # what was not written and why, one line each


LayerKey = int | str  # an op's index in the main subgraph, or one of its output tensor names


def node_id(op_index: int) -> str:
    """The id Model Explorer's TFLite adapter gives the op at ``op_index`` of its subgraph's operator list."""
    return str(op_index)


def _key(key: LayerKey) -> str:
    return node_id(key) if isinstance(key, int) else key


def _scale() -> list[Gradient]:
    return [Gradient(0.0, LOW), Gradient(1.0, HIGH)]


def op_time_overlay(profile: OpProfile, name: str) -> GraphNodeData | None:
    """Average ms of each op the profiler timed as a node of its own on plain kernels, by its node index; None
    when no row names a node (a partition's row is the partition's: it goes in the placement overlay)."""
    results = {
        node_id(op.node): NodeValue(round(op.avg_ms, 6))
        for op in profile.ops
        if op.ran_on is RanOn.CPU and op.node is not None
    }
    return GraphNodeData(name, results, gradient=_scale()) if results else None


def partition_times(profile: OpProfile | None) -> list[float]:
    """Each delegate partition's average ms, by partition number: the profiler's partition rows in run order,
    which is how placement numbers partitions."""
    if profile is None:
        return []
    return [op.avg_ms for op in profile.ops if op.ran_on is RanOn.DELEGATE]


def placement_overlay(placement: Placement, delegate: str, times: Sequence[float], name: str) -> GraphNodeData:
    """Each node's place, "xnnpack partition 0 (0.94 ms)" or "plain kernels", one colour per partition."""
    results = {}
    for index, partition in enumerate(placement.node_partition):
        if partition < 0:
            results[node_id(index)] = NodeValue(PLAIN_KERNELS, PLAIN_COLOUR)
            continue
        timed = f" ({times[partition]:.3g} ms)" if partition < len(times) else ""
        colour = PARTITION_COLOURS[partition % len(PARTITION_COLOURS)]
        results[node_id(index)] = NodeValue(f"{delegate} partition {partition}{timed}", colour)
    return GraphNodeData(name, results)


def drift_overlay(culprit: Culprit, name: str) -> GraphNodeData | None:
    """The drift of the ops a culprit search reports (the culprit and the ops after it), green within the
    search's tolerance and red past it; None when it named no op."""
    if culprit.found is None:
        return None
    results = {node_id(op.index): NodeValue(op.drift) for op in [culprit.found, *culprit.after]}
    return GraphNodeData(
        name,
        results,
        thresholds=[Threshold(culprit.tolerance, WITHIN_TOLERANCE), Threshold(DRIFT_CAP, PAST_TOLERANCE)],
    )


def layer_error_overlay(errors: Iterable[tuple[LayerKey, float]], name: str) -> GraphNodeData | None:
    """Per-layer quantisation error from (op index or output tensor name, error) pairs, e.g. a variant record's
    per-layer errors against fp32; None when there are none."""
    results = {_key(key): NodeValue(value) for key, value in errors}
    return GraphNodeData(name, results, gradient=_scale()) if results else None


def forecast_overlay(found: DelegateForecast, name: str) -> GraphNodeData:
    """Each op's forecast on one delegate, labelled as predicted, with the measured place beside it where the
    store has the same file's placement."""
    results = {}
    for p in found.predictions:
        measured = ""
        if found.measured is not None:
            measured = f"; measured {'delegated' if found.measured.delegated[p.index] else 'fell off'}"
        results[node_id(p.index)] = NodeValue(f"{p.fate} (predicted){measured}", FORECAST_COLOURS[p.fate])
    return GraphNodeData(name, results)


def write_forecast(forecast: ModelForecast, folder: Path) -> list[Path]:
    """One file per delegate: ``folder/<model file's stem>.<delegate>.forecast.json``."""
    require_model_explorer()
    return [
        _write(
            folder / f"{forecast.model.stem}.{_file_safe(found.delegate)}.{Overlay.FORECAST}.json",
            forecast_overlay(found, f"forecast · {found.delegate} on {forecast.device}"),
        )
        for found in forecast.delegates
    ]


def _file_safe(delegate: str) -> str:
    """A delegate spec as part of a file name ("external:/lib/x.so;k=v" has a path in it)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", delegate).strip("_")


def cell_name(cell: CellResult) -> str:
    return f"{cell.variant} · {cell.delegate} · {cell.api} · {cell.threads}t"


def cell_overlays(cell: CellResult) -> tuple[dict[Overlay, GraphNodeData], list[str]]:
    """The overlays one stored cell supports, and a line for each it does not, saying why."""
    name, found, notes = cell_name(cell), {}, []
    if cell.placement is not None:
        times = partition_times(cell.op_profile)
        found[Overlay.PLACEMENT] = placement_overlay(cell.placement, cell.delegate, times, f"placement · {name}")
    elif cell.status is Status.OK:
        notes.append(f"{name}: no placement overlay ({ops.placement_of(cell).note})")
    if cell.op_profile is not None and (timed := op_time_overlay(cell.op_profile, f"op time ms · {name}")):
        found[Overlay.OP_TIME] = timed
    elif cell.op_profile is not None and cell.op_profile.note:
        notes.append(f"{name}: no per-op time ({cell.op_profile.note})")
    if cell.culprit is not None and (drifted := drift_overlay(cell.culprit, f"drift · {name}")):
        found[Overlay.DRIFT] = drifted
    elif cell.culprit is not None:
        notes.append(f"{name}: no drift overlay ({cell.culprit.line})")
    return found, notes


def require_model_explorer() -> None:
    """One line naming the extra when Model Explorer is not installed: the files are for its viewer."""
    if importlib.util.find_spec(PACKAGE) is None:
        raise EdgebenchError(f"--model-explorer: Model Explorer is not installed: pip install '{EXTRA}'")


def write_run(run: StoredRun, folder: Path) -> Written:
    """Every overlay of ``run``'s cells, as ``folder/<run id>/<cell id>.<overlay>.json``."""
    out = folder / run.run_id
    files: list[Path] = []
    notes: list[str] = []
    for cell in run.cells:
        overlays, why_not = cell_overlays(cell)
        notes += [f"run {run.run_id}: {line}" for line in why_not]
        for overlay, data in overlays.items():
            files.append(_write(out / f"{cell.key.id}.{overlay}.json", data))
    for variant in run.manifest.variants:
        # what each op adds (converter/layer_error.py): the error it inherits grows down the graph on its own
        written = write_layer_errors(run, folder, variant.name, ((e.index, e.added) for e in variant.layer_errors))
        files += [] if written is None else [written]
    return Written(files, notes)


def write_layer_errors(
    run: StoredRun, folder: Path, variant: str, errors: Iterable[tuple[LayerKey, float]]
) -> Path | None:
    """One variant's per-layer quantisation error as ``folder/<run id>/<variant>.layer_error.json``; None when
    it has none (``write_run`` calls it with each variant record's per-layer errors against fp32)."""
    data = layer_error_overlay(errors, f"int8 error each op adds · {variant}")
    if data is None:
        return None
    return _write(folder / run.run_id / f"{variant}.{Overlay.LAYER_ERROR}.json", data)


def _write(path: Path, data: GraphNodeData) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EdgebenchError(f"--model-explorer: cannot create {path.parent}: {exc.strerror or exc}") from exc
    write_output(path, data.to_json())
    return path


def write_runs(runs: list[StoredRun], folder: Path) -> Written:
    require_model_explorer()
    files: list[Path] = []
    notes: list[str] = []
    for run in runs:
        written = write_run(run, folder)
        files += written.files
        notes += written.notes
    return Written(files, notes)
