"""The plan (host -> device) and the cell result (device -> host), as versioned JSON.

This module is the single definition of both records: the host imports it from here, and
android_app/ writes the same JSON. Standard library only, because it is copied onto boards.

Versioning: ``schema_version`` is "MAJOR.MINOR". A reader accepts any minor of its own major
(unknown fields from a newer minor are ignored) and refuses any other major with a message that
names the file and both versions.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import tempfile
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

# 1.1: timing/memory fields a runner could not measure are null, listed in `missing`; per-sample `agree`;
# p5/p95
SCHEMA_VERSION = "1.1"

STATUS_OK = "ok"
STATUS_DELEGATE_UNAVAILABLE = "delegate_unavailable"
STATUS_DELEGATE_FAILED = "delegate_failed"
STATUS_INCOMPATIBLE = "incompatible"
STATUS_CRASHED = "crashed"
STATUS_TIMEOUT = "timeout"
STATUSES = (
    STATUS_OK,
    STATUS_DELEGATE_UNAVAILABLE,
    STATUS_DELEGATE_FAILED,
    STATUS_INCOMPATIBLE,
    STATUS_CRASHED,
    STATUS_TIMEOUT,
)
# A delegate the device does not have is a fact about the device, not a failed measurement.
FAILED_STATUSES = frozenset(STATUSES) - {STATUS_OK, STATUS_DELEGATE_UNAVAILABLE}


class SchemaError(ValueError):
    """A plan or result file that this version cannot read."""


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class PlanVariant:
    name: str
    file: str  # relative to the plan's directory
    sha256: str


@dataclass(frozen=True)
class CellKey:
    variant: str
    delegate: str  # xnnpack | cpu | nnapi | gpu | npu | external:<path>[;key=value…]
    threads: int
    api: str = "interpreter"  # interpreter | compiled (LiteRT 2.x CompiledModel)

    @property
    def id(self) -> str:
        """File-name-safe identifier, stable across runs (used for resume)."""
        delegate = re.sub(r"[^A-Za-z0-9_-]+", "_", self.delegate).strip("_")
        if delegate != self.delegate:  # slugging can merge two specs: keep them apart by a hash
            delegate += "-" + hashlib.sha256(self.delegate.encode()).hexdigest()[:8]
        return f"{self.variant}.{delegate}.{self.api}.t{self.threads}"


@dataclass(frozen=True)
class Measurement:
    """What to sweep and how hard to measure; the timing bounds match or exceed LiteRT's benchmark_model."""

    delegates: list[str] = field(default_factory=lambda: ["xnnpack", "cpu"])
    threads: list[int] = field(default_factory=lambda: [1])
    apis: list[str] = field(default_factory=lambda: ["interpreter"])
    warmup_runs: int = 1
    warmup_min_s: float = 0.5
    runs: int = 50
    min_s: float = 1.0
    max_s: float = 150.0
    cell_timeout_s: float = 600.0
    runtime: str | None = None  # force ai_edge_litert or tflite_runtime; None: whichever is installed
    cpus: list[int] = field(default_factory=list)  # pin each cell to these CPUs; empty: no pinning
    cooldown_s: float = 0.0  # pause between cells so heat from one does not slow the next
    blocks: int = 20  # paired plans: ABBA blocks per side, runs // blocks timed runs each


@dataclass(frozen=True)
class Pair:
    """Two variants timed side by side in one process, interleaved A B B A A B B A …"""

    baseline: str
    candidate: str


@dataclass(frozen=True)
class Plan:
    run_id: str
    model_name: str
    variants: list[PlanVariant]
    input_set: str  # .npz beside the plan: x (inputs), y (labels, optional), ref (host fp32 outputs)
    measure: Measurement = field(default_factory=Measurement)
    pairs: list[Pair] = field(default_factory=list)  # a paired plan (the gate's) measures pairs, not cells
    schema_version: str = SCHEMA_VERSION

    def cells(self) -> list[CellKey]:
        m = self.measure
        names = [n for pair in self.pairs for n in (pair.baseline, pair.candidate)] or [v.name for v in self.variants]
        return [
            CellKey(name, delegate, threads, api)
            for name in names
            for api in m.apis
            for delegate in m.delegates
            for threads in m.threads
        ]

    def paired_cells(self) -> list[tuple[CellKey, CellKey]]:
        m = self.measure
        return [
            (CellKey(pair.baseline, delegate, threads, api), CellKey(pair.candidate, delegate, threads, api))
            for pair in self.pairs
            for api in m.apis
            for delegate in m.delegates
            for threads in m.threads
        ]

    def variant(self, name: str) -> PlanVariant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(name)


@dataclass(frozen=True)
class Timing:
    """device_runner and the app fill every field; benchmark_model prints fewer (older builds fewer still):
    what a runner did not measure is None and named in ``missing``, never estimated."""

    init_ms: float  # interpreter construction + allocate_tensors (+ delegate prepare)
    first_ms: float | None  # the first invoke, apart: it pays for lazy packing and cache misses
    warmup_runs: int
    samples_ms: list[float]  # every measured run, in order
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    mean_ms: float
    std_ms: float | None
    min_ms: float | None
    max_ms: float | None
    timer_overhead_ms: float | None  # median cost of reading the clock twice around nothing
    block_lengths: list[int] = field(default_factory=list)  # paired runs: samples_ms split into ABBA blocks
    missing: list[str] = field(default_factory=list)
    p5_ms: float | None = None  # with p95: what benchmark_model prints beside its median, for comparison
    p95_ms: float | None = None


@dataclass(frozen=True)
class Memory:
    rss_before_mb: float | None
    rss_after_load_mb: float | None
    load_delta_mb: float | None  # RSS added by loading + preparing the model
    peak_rss_mb: float | None  # VmHWM of the cell's process
    missing: list[str] = field(default_factory=list)  # as in Timing


@dataclass(frozen=True)
class Accuracy:
    n: int
    top1: float | None  # against labels; None when the input set has none
    fp32_agreement: float | None  # top-1 agreement with the host fp32 outputs
    max_abs_diff: float | None  # against the host fp32 outputs, after dequantisation
    mean_abs_diff: float | None
    correct: list[bool] = field(default_factory=list)  # per sample, for paired tests
    agree: list[bool] = field(default_factory=list)  # per sample: same top-1 as the host fp32 model


@dataclass(frozen=True)
class Coverage:
    delegated_nodes: int
    total_nodes: int

    @property
    def fraction(self) -> float:
        return self.delegated_nodes / self.total_nodes if self.total_nodes else 0.0


@dataclass(frozen=True)
class DeviceFacts:
    runtime: str
    runtime_version: str
    python: str
    numpy: str
    machine: str
    cpu_model: str
    cores: int
    os: str
    kernel: str
    governor: str | None
    ram_mb: float | None


@dataclass(frozen=True)
class CellResult:
    run_id: str
    variant: str
    delegate: str
    threads: int
    status: str
    api: str = "interpreter"
    message: str = ""
    timing: Timing | None = None
    memory: Memory | None = None
    accuracy: Accuracy | None = None
    coverage: Coverage | None = None
    fully_accelerated: bool | None = None  # CompiledModel's own answer
    model_ops: list[str] = field(default_factory=list)  # "FULLY_CONNECTED v4", read from the flatbuffer
    pinned_cpus: list[int] = field(default_factory=list)
    device: DeviceFacts | None = None
    temperature_before_c: dict[str, float] = field(default_factory=dict)
    temperature_after_c: dict[str, float] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""
    schema_version: str = SCHEMA_VERSION

    @property
    def key(self) -> CellKey:
        return CellKey(self.variant, self.delegate, self.threads, self.api)

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


# ---------------------------------------------------------------------------------------------
# JSON <-> dataclasses

T = TypeVar("T")


def to_dict(record: Any) -> dict[str, Any]:
    return dataclasses.asdict(record)


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # slow (it evaluates annotations): once per record type


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build ``cls`` from parsed JSON, recursing into nested records; unknown keys are ignored."""
    hints = _hints(typing.cast(Any, cls))  # a class is hashable; mypy cannot see it through type[T]
    kwargs = {f.name: _convert(hints[f.name], data[f.name]) for f in dataclasses.fields(cls) if f.name in data}  # type: ignore[arg-type]
    return cls(**kwargs)


def _convert(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        if value is None or len(options) > 1:  # optional record, or a union of plain JSON scalars
            return value
        return _convert(options[0], value)
    if origin is list:
        (inner,) = typing.get_args(tp)
        if inner is float:  # raw samples: thousands of numbers, no records inside
            return [float(item) for item in value]
        if inner in (bool, int, str):
            return list(value)
        return [_convert(inner, item) for item in value]
    if origin is dict:
        _, inner = typing.get_args(tp)
        return {key: _convert(inner, item) for key, item in value.items()}
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value)  # type: ignore[arg-type]
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def check_version(data: dict[str, Any], source: str) -> None:
    version = str(data.get("schema_version", ""))
    major = version.split(".", 1)[0]
    ours = SCHEMA_VERSION.split(".", 1)[0]
    if not major.isdigit():
        raise SchemaError(f"{source}: no schema_version; not an edgebench file")
    if major != ours:
        raise SchemaError(
            f"{source}: schema version {version} cannot be read by this edgebench "
            f"(reads {ours}.x); use an edgebench release that writes {major}.x"
        )


def loads(cls: type[T], text: str, source: str) -> T:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise SchemaError(f"{source}: expected a JSON object")
    check_version(data, source)
    try:
        return from_dict(cls, data)
    except (TypeError, KeyError, ValueError) as exc:
        raise SchemaError(f"{source}: not a valid {cls.__name__}: {exc}") from exc


def dumps(record: Any) -> str:
    return json.dumps(to_dict(record), indent=1, sort_keys=True)


def read(cls: type[T], path: Path) -> T:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{path}: not a JSON file (byte {exc.start} is not UTF-8 text)") from exc
    return loads(cls, text, str(path))


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write via a temp file in the same directory + rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(path: Path, record: Any) -> None:
    write_atomic(path, dumps(record))
