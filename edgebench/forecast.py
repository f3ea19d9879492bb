"""Placement forecast: which ops of a model will fall off each delegate on a device, predicted from where the
same kind of op ran in that device's stored cells, before anything is pushed.

An op's kind is its key: op type, version, the dtypes of its inputs and outputs, and its shapes' class (the
ranks of its data tensors, and whether any dimension is dynamic). Each stored placement carries every node's key
beside its op (cell result 1.8, device_runner/coverage.node_key), so the history is read from the store alone.
A cell stored before that keeps only each node's op and the model's op versions: its keys are read from its
variant's file where that is still on this machine (under the workdir, by its sha256), else they are the op and
its version. A forecast uses the most specific key the history has seen the op under, backing off to fewer
fields (down to the op type alone), and says which it used and on how many stored nodes it rests; an op never
seen under any key is "no history", not a guess. A forecast is printed beside the measured placement where one
exists, and is never written into a stored result.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from device_runner.coverage import node_key
from device_runner.flatbuffer import Graph, ModelFormatError, read_graph, read_model_info
from edgebench.errors import EdgebenchError
from edgebench.store import Store
from edgebench_records import CellResult, Manifest, StoredRun, sha256_file

NO_DELEGATE = "cpu"  # plain kernels asked for: nothing can fall off anything


class Fate(StrEnum):
    DELEGATED = "delegated"
    FELL_OFF = "falls off"
    NO_HISTORY = "no history"


class Level(StrEnum):
    """How much of an op's key a forecast matched on, most specific first."""

    FULL = "op+version+dtypes+shapes"
    DTYPES = "op+version+dtypes"
    VERSION = "op+version"
    OP = "op"


@dataclass(frozen=True)
class OpKey:
    """What decides whether a delegate takes an op; None where it is not known (the store alone has no dtypes)."""

    op: str
    version: int | None = None
    dtypes: str | None = None  # "float32,float32->bool": inputs (omitted optional ones left out), then outputs
    shapes: str | None = None  # "4,1->4", with " dynamic" when a data tensor has a dimension fixed only when fed

    def levels(self) -> list[tuple[Level, tuple[object, ...]]]:
        """The key at each level it is known to, most specific first."""
        found: list[tuple[Level, tuple[object, ...]]] = []
        if self.version is not None and self.dtypes is not None and self.shapes is not None:
            found.append((Level.FULL, (self.op, self.version, self.dtypes, self.shapes)))
        if self.version is not None and self.dtypes is not None:
            found.append((Level.DTYPES, (self.op, self.version, self.dtypes)))
        if self.version is not None:
            found.append((Level.VERSION, (self.op, self.version)))
        found.append((Level.OP, (self.op,)))
        return found

    @classmethod
    def read(cls, op: str, text: str) -> OpKey | None:
        """``op``'s key from its text beside it (device_runner/coverage.node_key, the one spelling of it); None
        for a text that is not one (a hand-edited store), which the caller reads as no key stored."""
        version, _, rest = text.partition(" ")
        dtypes, _, shapes = rest.partition(" ")
        number = version.removeprefix("v")
        if not (version.startswith("v") and number.isdigit() and "->" in dtypes and "->" in shapes):
            return None
        return cls(op, int(number), dtypes, shapes)

    @property
    def label(self) -> str:
        parts = [self.op, f"v{self.version}" if self.version is not None else "", self.dtypes or "", self.shapes or ""]
        return " ".join(p for p in parts if p)


def key_of(graph: Graph, index: int) -> OpKey:
    key = OpKey.read(graph.nodes[index].op.name, node_key(graph, index))
    assert key is not None  # node_key always writes what read takes
    return key


def keys_of(graph: Graph) -> list[OpKey]:
    return [key_of(graph, k) for k in range(len(graph.nodes))]


def _model_ops(cell: CellResult) -> dict[str, set[int]]:
    """The versions of each op code the model holds (``model_ops`` lists "FULLY_CONNECTED v4" once per code)."""
    versions: dict[str, set[int]] = {}
    for entry in cell.model_ops:
        op, _, version = entry.rpartition(" v")
        if version.isdigit():
            versions.setdefault(op, set()).add(int(version))
    return versions


def node_ops(cell: CellResult) -> list[str]:
    """The placement's op of each node named as the flatbuffer names it: the runtime lists a custom op by its
    own name, the flatbuffer (and a forecast's keys) as "CUSTOM:name"."""
    assert cell.placement is not None
    custom = {op.removeprefix("CUSTOM:") for op in _model_ops(cell) if op.startswith("CUSTOM:")}
    return [f"CUSTOM:{op}" if op in custom else op for op in cell.placement.node_ops]


def version_keys(cell: CellResult) -> list[OpKey]:
    """Each placed node's key from what a cell stored before result 1.8 says: its op type, and its version where
    the model holds that op in one version only."""
    known = {op: next(iter(v)) for op, v in _model_ops(cell).items() if len(v) == 1}
    return [OpKey(op, known.get(op)) for op in node_ops(cell)]


def stored_keys(cell: CellResult) -> list[OpKey] | None:
    """Each placed node's full key as the cell stored it (result 1.8 on); None where it stored none, or not one
    per node."""
    assert cell.placement is not None
    keys = [OpKey.read(op, text) for op, text in zip(node_ops(cell), cell.placement.node_keys, strict=False)]
    if len(keys) != len(cell.placement.node_ops) or None in keys:
        return None
    return [k for k in keys if k is not None]


class KeySource(StrEnum):
    """Where a placement's keys came from, most complete first."""

    STORED = "stored"  # with the placement (result 1.8 on): the full key
    FILE = "variant file"  # read from the variant's file still on this machine: the full key
    CELL = "op and version"  # an older cell's ops and the model's op versions alone


@dataclass(frozen=True)
class Placed:
    """One measured placement: a variant's nodes on one delegate, each key with whether the delegate took it."""

    model: str
    variant: str
    delegate: str
    keys: list[OpKey]
    delegated: list[bool]
    source: KeySource


def _graph_matches(cell: CellResult, graph: Graph) -> bool:
    """``graph`` is the cell's variant's: the same ops in the same order."""
    return [n.op.name for n in graph.nodes] == node_ops(cell)


def placed(model: str, cell: CellResult, graph: Graph | None) -> Placed | None:
    """The cell's placement with each node's key: as stored with it, else from ``graph`` when that is the
    variant's, else from the rest of the stored cell; None for a cell with no placement or no delegate asked for."""
    placement = cell.placement
    if placement is None or cell.delegate == NO_DELEGATE:
        return None
    keys, source = stored_keys(cell), KeySource.STORED
    if keys is None and graph is not None and _graph_matches(cell, graph):
        keys, source = keys_of(graph), KeySource.FILE
    if keys is None:
        keys, source = version_keys(cell), KeySource.CELL
    return Placed(model, cell.variant, cell.delegate, keys, [p >= 0 for p in placement.node_partition], source)


@dataclass
class Tally:
    delegated: int = 0
    fell_off: int = 0


@dataclass
class History:
    """Per delegate and key (at every level each node's key is known to), how often the delegate took it."""

    tallies: dict[str, dict[tuple[object, ...], Tally]] = field(default_factory=dict)
    models: set[str] = field(default_factory=set)

    def add(self, found: Placed) -> None:
        self.models.add(found.model)
        table = self.tallies.setdefault(found.delegate, {})
        for key, taken in zip(found.keys, found.delegated, strict=True):
            for _, level_key in key.levels():
                tally = table.setdefault(level_key, Tally())
                if taken:
                    tally.delegated += 1
                else:
                    tally.fell_off += 1

    @property
    def delegates(self) -> list[str]:
        return sorted(self.tallies)


def history_of(placements: Iterable[Placed]) -> History:
    history = History()
    for found in placements:
        history.add(found)
    return history


@dataclass(frozen=True)
class Prediction:
    index: int
    key: OpKey
    fate: Fate
    level: Level | None  # the key level matched; None: no history
    delegated: int  # stored nodes under that key the delegate took
    fell_off: int  # and left on plain kernels

    @property
    def basis(self) -> str:
        if self.level is None:
            return "never seen on this device"
        return f"{self.level}: {self.delegated} delegated, {self.fell_off} fell off"


def predict(history: History, delegate: str, keys: Sequence[OpKey]) -> list[Prediction]:
    """Each op's forecast on ``delegate``: the majority at its most specific key the history has; a tie is
    "falls off", since a node the delegate has been seen to leave is the one to check before pushing."""
    table = history.tallies.get(delegate, {})
    out = []
    for index, key in enumerate(keys):
        for level, level_key in key.levels():
            tally = table.get(level_key)
            if tally is not None:
                fate = Fate.DELEGATED if tally.delegated > tally.fell_off else Fate.FELL_OFF
                out.append(Prediction(index, key, fate, level, tally.delegated, tally.fell_off))
                break
        else:
            out.append(Prediction(index, key, Fate.NO_HISTORY, None, 0, 0))
    return out


# -- accuracy: leave one model out ---------------------------------------------------------------------------


@dataclass
class Score:
    """Forecasts against measured placement, on one delegate."""

    nodes: int = 0
    covered: int = 0  # had some history
    right: int = 0  # of those covered
    fell_off: int = 0  # measured off the delegate (covered)
    fell_off_caught: int = 0  # and forecast so
    forecast_off: int = 0  # forecast to fall off (covered)
    by_level: Counter[Level] = field(default_factory=Counter)

    def add(self, predictions: Sequence[Prediction], delegated: Sequence[bool]) -> None:
        for prediction, taken in zip(predictions, delegated, strict=True):
            self.nodes += 1
            if prediction.level is None:
                continue
            self.covered += 1
            self.by_level[prediction.level] += 1
            predicted_taken = prediction.fate is Fate.DELEGATED
            self.right += predicted_taken == taken
            self.fell_off += not taken
            self.fell_off_caught += not taken and not predicted_taken
            self.forecast_off += not predicted_taken


def leave_one_model_out(placements: Sequence[Placed], full_keys: bool = True) -> dict[str, Score]:
    """Per delegate: each model's placements forecast from every other model's alone. ``full_keys`` False
    strips dtypes and shapes first: the forecast from what the store keeps on its own."""
    if not full_keys:
        placements = [_stripped(p) for p in placements]
    scores: dict[str, Score] = {}
    for model in sorted({p.model for p in placements}):
        history = history_of(p for p in placements if p.model != model)
        for held in (p for p in placements if p.model == model):
            scores.setdefault(held.delegate, Score()).add(predict(history, held.delegate, held.keys), held.delegated)
    return scores


def _stripped(found: Placed) -> Placed:
    keys = [OpKey(k.op, k.version) for k in found.keys]
    return dataclasses.replace(found, keys=keys, source=KeySource.CELL)


# -- from the store ------------------------------------------------------------------------------------------


def variant_graph(workdir: Path, manifest: Manifest, variant: str) -> Graph | None:
    """The variant's graph, read from its file under ``workdir`` when it is still there unchanged (conversion
    folders end in the first 12 characters of the manifest's cache key); None otherwise."""
    record = manifest.variant(variant)
    if record is None or not record.file or not record.sha256:
        return None
    for folder in sorted((workdir / "variants").glob(f"*-{manifest.cache_key[:12]}")):
        path = folder / record.file
        try:
            if path.is_file() and sha256_file(path) == record.sha256:
                return read_graph(path.read_bytes())
        except (OSError, ModelFormatError):
            continue  # unreadable: this copy says nothing
    return None


def placements_of(run: StoredRun, workdir: Path | None) -> list[Placed]:
    """The run's placements, each keyed as fully as the store, else ``workdir``'s variant files, allow."""
    graphs: dict[str, Graph | None] = {}
    found = []
    for cell in run.cells:
        keyless = cell.placement is not None and stored_keys(cell) is None
        if keyless and workdir and cell.variant not in graphs:  # a cell stored before 1.8: its file, if still here
            graphs[cell.variant] = variant_graph(workdir, run.manifest, cell.variant)
        one = placed(run.manifest.model_name, cell, graphs.get(cell.variant))
        if one is not None:
            found.append(one)
    return found


@dataclass(frozen=True)
class Measured:
    """A stored placement of the very file forecast: shown beside the forecast, never replaced by it."""

    run_id: str
    delegate: str
    delegated: list[bool]


def measured_for(runs: Iterable[StoredRun], sha256: str, delegate: str) -> Measured | None:
    """The newest stored placement on ``delegate`` of a variant whose file is ``sha256``."""
    newest: Measured | None = None
    for run in sorted(runs, key=lambda r: (r.created_at, r.run_id)):
        shas = {v.name: v.sha256 for v in run.manifest.variants}
        for cell in run.cells:
            if cell.delegate == delegate and cell.placement and shas.get(cell.variant) == sha256:
                newest = Measured(run.run_id, delegate, [p >= 0 for p in cell.placement.node_partition])
    return newest


# -- one model, from a device's history ----------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastRequest:
    store_url: str
    device: str
    model: Path
    delegates: list[str]  # empty: every delegate the device's history has placements on
    workdir: Path | None  # where variant files may still be: the full keys of cells stored before result 1.8


@dataclass(frozen=True)
class DelegateForecast:
    delegate: str
    predictions: list[Prediction]
    measured: Measured | None  # the same file's stored placement on this delegate, if any

    def count(self, fate: Fate) -> int:
        return sum(p.fate is fate for p in self.predictions)


@dataclass(frozen=True)
class ModelForecast:
    model: Path
    device: str
    models_seen: list[str]  # the models the device's history holds placements of
    delegates: list[DelegateForecast]


def model_graph(path: Path) -> Graph:
    try:
        data = path.read_bytes()
        read_model_info(data)  # checks the file identifier, which the graph reader takes on trust
        return read_graph(data)
    except OSError as exc:
        raise EdgebenchError(f"--model {path}: cannot read it: {exc.strerror or exc}") from exc
    except ModelFormatError as exc:
        raise EdgebenchError(f"--model {path}: not a LiteRT model: {exc}") from exc


def forecast_model(request: ForecastRequest) -> ModelForecast:
    graph = model_graph(request.model)
    with Store(request.store_url, must_exist=True) as store:
        runs = [store.load_run(r.run_id) for r in store.list_runs(device=request.device)]
        where = store.safe_url()
    found = [p for run in runs for p in placements_of(run, request.workdir)]
    if not found:
        raise EdgebenchError(
            f"--device {request.device}: no stored cell of it in store {where} has a per-node placement to forecast "
            "from: measure some models there with `edgebench run` first"
        )
    history = history_of(found)
    unknown = [d for d in request.delegates if d not in history.tallies]
    if unknown:
        raise EdgebenchError(
            f"--delegates {unknown[0]}: no placement on it in {request.device}'s history "
            f"(it has {', '.join(history.delegates)})"
        )
    keys, sha256 = keys_of(graph), sha256_file(request.model)
    return ModelForecast(
        request.model,
        request.device,
        sorted(history.models),
        [
            DelegateForecast(d, predict(history, d, keys), measured_for(runs, sha256, d))
            for d in request.delegates or history.delegates
        ],
    )
