"""The plan (host -> device) and the cell result (device -> host), as versioned JSON.

This module is the single definition of both records: the host and device_runner import it from here (it is
copied onto boards beside device_runner/, so standard library only), and android_app/ writes the same JSON.
Their versions and upgrade steps are declared here with ``edgebench_records.versioning``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from edgebench_records.options import option
from edgebench_records.tune import Search
from edgebench_records.versioning import RecordType


class Status(StrEnum):
    """How a cell ended, as its result's ``status`` says."""

    OK = "ok"
    DELEGATE_UNAVAILABLE = "delegate_unavailable"
    DELEGATE_FAILED = "delegate_failed"
    INCOMPATIBLE = "incompatible"
    CRASHED = "crashed"
    TIMEOUT = "timeout"
    WRONG_OUTPUT = "wrong_output"  # outputs far from the same variant on the host's reference kernels

    @property
    def failed(self) -> bool:
        # A delegate the device does not have is a fact about the device, not a failed measurement.
        return self not in (Status.OK, Status.DELEGATE_UNAVAILABLE)


# 1.1 (plans unchanged since 1.0). 1.2: numerics tolerances in `measure` (an older plan gets the defaults).
# 1.3: `task` (what the outputs mean; an older plan gets "auto", the guess its runner made anyway).
# 1.4: error tolerances, `labels_output` and `find_culprits` in `measure` (an older plan gets the defaults: no
# culprit search).
# 1.5: `precision` (adaptive stop), `max_s` as a flag, `interleave` (the variants of one delegate/API/threads
# configuration timed in one process, in alternating blocks), `stop_floor` and `stop_alpha` (a paired plan's
# decision threshold and significance).
# 1.6: `tune` (what an `edgebench tune` search was after) and per variant its `recipe` and the `settings` that
# made it (an older plan: no search, each variant its own recipe at the run's options).
# 1.7: per variant its `probe`, the probe model the host made beside it for the Android app's culprit search
# (an older plan names none).
PLAN_RECORD = RecordType("plan", "1.7")


@PLAN_RECORD.step("1.0", "1.1")
@PLAN_RECORD.step("1.1", "1.2")
def _plan_unchanged(data: dict[str, Any]) -> dict[str, Any]:
    """1.0 to 1.2 added nothing a default does not say; registered so that every older plan reaches the 1.4 step,
    which a plan that lacks ``interleave`` needs."""
    return data


@PLAN_RECORD.step("1.2", "1.3")
def _plan_1_2_to_1_3(data: dict[str, Any]) -> dict[str, Any]:
    """1.2 plans said nothing of the task: the runner guesses it from the outputs (the default)."""
    return data


@PLAN_RECORD.step("1.3", "1.4")
def _plan_1_3_to_1_4(data: dict[str, Any]) -> dict[str, Any]:
    """1.3 plans held outputs to cosine and top-1 alone and asked for no culprit search: the error tolerances
    take their defaults, ``find_culprits`` its default, off."""
    return data


@PLAN_RECORD.step("1.4", "1.5")
def _plan_1_4_to_1_5(data: dict[str, Any]) -> dict[str, Any]:
    """Plans before 1.5 timed each cell alone for a fixed duration: a resume of such a run keeps doing so (no
    precision, no interleaving), so the cells it adds are timed as the ones already stored were."""
    measure = data.get("measure")
    return data | {"measure": (measure if isinstance(measure, dict) else {}) | {"interleave": False}}


@PLAN_RECORD.step("1.5", "1.6")
def _plan_1_5_to_1_6(data: dict[str, Any]) -> dict[str, Any]:
    """1.5 plans came from `run`, `push` or the gate, never from a search: ``tune`` stays null, and each variant
    is its own recipe (an empty ``recipe``) at the run's options (no ``settings`` of its own)."""
    return data


@PLAN_RECORD.step("1.6", "1.7")
def _plan_1_6_to_1_7(data: dict[str, Any]) -> dict[str, Any]:
    """1.6 plans gave the app no probe model: ``probe`` stays empty, and an app asked for culprits says it has
    none (the runners that make their probes themselves never read it)."""
    return data


# 1.1: timing/memory fields a runner could not measure are null, listed in `missing`; per-sample `agree`;
# p5/p95. 1.2: `conditions` (what the machine was doing around the cell, and whether that spoils it).
# 1.3: `numerics` (the outputs against the same variant on the host's reference kernels), status wrong_output.
# 1.4: `placement` (which delegate partition ran each node, or plain kernels).
# 1.5: every output head: `accuracy.outputs` and `numerics.outputs` (per-output fidelity), `accuracy.task`,
# `top5`, `mae`, `labels_note`, `reference_note`; `numerics.agreement` null where the output is no class
# distribution.
# 1.6: `file_sha256`, the sha256 of the variant file the cell loaded; numerics judged in each output's own
# precision and scale: per output `rel_error`, `rms_diff`, `step`, `max_steps`, `near_ties`, `decisive`,
# `failure`; `cosine`, `min_cosine` and `snr_db` null for an output of fewer than a handful of values;
# `numerics.failure`, `numerics.state` and the error tolerances the cell was held to; `culprit` (the first op
# whose output drifts past tolerance in a wrong_output cell, when searched for); `device.cpu_features`, the CPU
# features that decide which kernels LiteRT/XNNPACK pick.
# 1.7: `schedule` (how the timed runs were scheduled and why they stopped: the interleaved group, the adaptive
# stop and the interval of p50 it reached); `memory.model_peak_mb`, the model's own peak (the process's peak above
# its RSS before the model was loaded), which the tables show beside `load_delta_mb`; the process's `peak_rss_mb`
# stays in the JSON.
# 1.8: `placement.node_keys`, each node's key beside its op (version, dtypes, shapes' class), which a placement
# forecast matches on from the store alone.
RESULT_RECORD = RecordType("cell result", "1.8")


@RESULT_RECORD.step("1.0", "1.1")
def _result_1_0_to_1_1(data: dict[str, Any]) -> dict[str, Any]:
    """1.0 runners measured every timing and memory field but neither p5/p95 nor per-sample agreement:
    say so in 1.1's terms rather than let the defaults pass for measured values."""
    upgraded = dict(data)
    if isinstance(data.get("timing"), dict):
        upgraded["timing"] = data["timing"] | {"p5_ms": None, "p95_ms": None, "missing": ["p5_ms", "p95_ms"]}
    if isinstance(data.get("memory"), dict):
        upgraded["memory"] = data["memory"] | {"missing": []}
    if isinstance(data.get("accuracy"), dict):
        upgraded["accuracy"] = data["accuracy"] | {"agree": []}
    return upgraded


@RESULT_RECORD.step("1.1", "1.2")
def _result_1_1_to_1_2(data: dict[str, Any]) -> dict[str, Any]:
    """1.1 runners did not look at the machine: ``conditions`` stays null (unknown, not quiet)."""
    return data


@RESULT_RECORD.step("1.2", "1.3")
def _result_1_2_to_1_3(data: dict[str, Any]) -> dict[str, Any]:
    """1.2 runners did not check numerics: ``numerics`` stays null (not checked, not passed)."""
    return data


@RESULT_RECORD.step("1.3", "1.4")
def _result_1_3_to_1_4(data: dict[str, Any]) -> dict[str, Any]:
    """1.3 runners did not record op placement: ``placement`` stays null (unknown)."""
    return data


@RESULT_RECORD.step("1.4", "1.5")
def _result_1_4_to_1_5(data: dict[str, Any]) -> dict[str, Any]:
    """1.4 runners scored the first output as a class distribution: say so in 1.5's terms (``task``
    classification), and leave the per-output lists empty (not measured, not perfect)."""
    upgraded = dict(data)
    if isinstance(data.get("accuracy"), dict):
        upgraded["accuracy"] = {"task": "classification"} | data["accuracy"]
    return upgraded


@RESULT_RECORD.step("1.5", "1.6")
def _result_1_5_to_1_6(data: dict[str, Any]) -> dict[str, Any]:
    """1.5 runners did not hash the file they measured: ``file_sha256`` stays null (the plan's sha256 is the
    file the host meant, checked before the sweep). They judged every output by cosine and top-1 alone: the
    error figures stay null (not measured), and a failed check keeps its class unnamed rather than guessed.
    They searched for no culprit: ``culprit`` stays null (not searched), and read no CPU features:
    ``device.cpu_features`` stays null (unknown, not none)."""
    return data


@RESULT_RECORD.step("1.6", "1.7")
def _result_1_6_to_1_7(data: dict[str, Any]) -> dict[str, Any]:
    """1.6 runners timed each cell alone (a pair: in its ABBA blocks) for a fixed duration: ``schedule`` stays
    null, which reads as exactly that. They measured the process's peak and its RSS before the model was loaded
    the same way as now: the model's own peak is their difference where both were measured, else listed as
    missing (not zero)."""
    memory = data.get("memory")
    if not isinstance(memory, dict):
        return data
    peak, before = memory.get("peak_rss_mb"), memory.get("rss_before_mb")
    if peak is not None and before is not None:
        return data | {"memory": memory | {"model_peak_mb": peak - before}}
    missing = [*memory.get("missing", []), "model_peak_mb"]
    return data | {"memory": memory | {"model_peak_mb": None, "missing": missing}}


@RESULT_RECORD.step("1.7", "1.8")
def _result_1_7_to_1_8(data: dict[str, Any]) -> dict[str, Any]:
    """1.7 runners stored each placed node's op alone: ``placement.node_keys`` stays empty (unknown), and a
    forecast keys those nodes on what the cell says of them (op, and version where the model has one)."""
    return data


# ---------------------------------------------------------------------------------------------
# Records


class Task(StrEnum):
    """What a model's outputs mean, which decides how they are scored (converter's ``--task``)."""

    AUTO = "auto"  # guessed per output (device_runner/accuracy.py, ``class_counts``)
    CLASSIFICATION = "classification"
    REGRESSION = "regression"
    OTHER = "other"


@dataclass(frozen=True)
class PlanVariant:
    name: str
    file: str  # relative to the plan's directory
    sha256: str
    # A tune's candidate (``pruned_int8-s70``): the recipe that made it and the options it set for it; "" and {}:
    # the variant is its recipe, made at the run's options.
    recipe: str = ""
    settings: dict[str, float | int] = field(default_factory=dict)
    # The probe model beside the variant (every op's outputs exposed, device_runner/culprit.py), relative to the
    # plan's directory: made by the host for the Android app when --find-culprits asks; "": none.
    probe: str = ""

    @property
    def made_by(self) -> str:
        return self.recipe or self.name


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
    """What to sweep and how hard to measure; the timing bounds match or exceed LiteRT's benchmark_model.
    Each field declared with ``option`` is a flag of run and push, in ``--help``'s order."""

    delegates: list[str] = option(
        ["xnnpack", "cpu"],
        help="Comma-separated: xnnpack, cpu, external:/path/lib.so[;key=value…]; on Android also "
        "nnapi[:accelerator], gpu[:fp32]; CompiledModel also gpu[:fp32], npu (gpu:fp32: fp32 forced).",
    )
    threads: list[int] = option([1], at_least=1, help="Comma-separated thread counts (or ranges like 1-4) to sweep.")
    apis: list[str] = option(
        ["interpreter"],
        flag="--api",
        choices=("interpreter", "compiled"),  # as device_runner.delegates.APIS (a spec holds them equal)
        help="LiteRT API per cell: interpreter, compiled (LiteRT 2.x CompiledModel), or both.",
    )
    runtime: str | None = option(  # None: whichever is installed
        None,
        choices=("ai_edge_litert", "tflite_runtime"),  # as device_runner.runtime.RUNTIMES names (a spec holds them)
        help="Force the device's runtime. [default: whichever is installed, ai_edge_litert first]",
    )
    cpus: list[int] = option(  # empty: no pinning
        [], at_least=0, metavar="LIST", help="Pin each cell to these CPUs, e.g. 0-1 or 4,5,6,7."
    )
    cooldown_s: float = option(0.0, at_least=0, help="Pause between cells so one cell's heat does not slow the next.")
    runs: int = option(50, at_least=1, help="Measured runs per cell (at least; see --min-secs).")
    min_s: float = option(1.0, flag="--min-secs", at_least=0, help="Measure for at least this long per cell.")
    warmup_runs: int = option(1, at_least=0)
    warmup_min_s: float = option(0.5, flag="--warmup-secs", at_least=0)
    cell_timeout_s: float = option(
        600.0, flag="--cell-timeout", at_least=1, help="Seconds before a cell is stopped and recorded as timeout."
    )
    # A cell whose outputs agree less with the same variant on the host's reference kernels is wrong_output.
    # int8 under XNNPACK vs reference kernels on the bundled example: 99.7 % agreement, cosine 0.99994.
    numerics_min_agreement: float = option(  # top-1 agreement, of each output that is a class distribution
        0.97,
        at_least=0,
        at_most=1,
        help="A cell whose top-1 agrees less often with the same variant on the host's reference kernels "
        "is wrong_output.",
    )
    numerics_min_cosine: float = option(  # mean per-sample cosine similarity of each dequantised output
        0.99,
        at_least=-1,
        at_most=1,
        help="A cell whose outputs' mean cosine similarity with that reference is lower is wrong_output.",
    )
    # Error relative to the reference's spread (RMS of the difference / standard deviation of the reference's
    # values): it sees an offset cosine is blind to. Measured on the real models (docs/trust.md): float arithmetic
    # under XNNPACK differs from the reference kernels by about 1e-6 of the spread, integer arithmetic by up to 0.3.
    numerics_max_error: float = option(
        0.05,
        at_least=0,
        help="A cell whose output's RMS error, as a fraction of the reference's spread, is larger is wrong_output "
        "(variants that compute in floats).",
    )
    numerics_max_error_quantized: float = option(
        0.5,
        at_least=0,
        help="As --numerics-max-error, for variants that compute in integers (int8 activations or weights).",
    )
    numerics_max_steps: float = option(
        3.0,
        at_least=0,
        help="Error always allowed on a quantised output, in its quantisation steps (RMS, after dequantisation); "
        "also the top-1 margin below which a disagreement is a near-tie.",
    )
    labels_output: str = option(  # "": the class-distribution head (device_runner/accuracy.py's rule)
        "",
        metavar="NAME",
        help="The output the labels score (its name, tensor name or index). [default: the class-distribution output]",
    )
    find_culprits: bool = option(
        False,
        help="For each wrong_output cell, find the first op whose output drifts past tolerance under the "
        "cell's delegate (probe models run on the device; see docs/trust.md).",
    )
    # Adaptive mode (docs/measuring.md): 0 times --runs / --min-secs as asked; P stops a cell once the 95 % interval
    # of its p50 is within ±P (a paired plan: of the ratio), at least --min-secs, at most --max-secs.
    precision: float = option(
        0.0,
        at_least=0,
        below=1,
        help="Stop timing a cell once the 95 % interval of its p50 is within ±this fraction (0.02: ±2 %; a paired "
        "gate: of the ratio, or once that clears the latency floor), after --min-secs and at most --max-secs; 0 "
        "times --runs/--min-secs as asked.",
    )
    max_s: float = option(
        150.0, flag="--max-secs", above=0, help="Stop timing a cell after this long whatever the other bounds say."
    )
    blocks: int = 20  # timed blocks per cell when interleaved or adaptive (a pair's ABBA blocks: the gate's --blocks)
    # The variants of one delegate/API/threads configuration timed in one process in alternating blocks, so the
    # ratios within a table share one time base (plans before 1.5: each cell alone).
    interleave: bool = True
    # A paired plan's adaptive stop also ends once the ratio's 95 % interval lies wholly above or below
    # 1 + stop_floor (the gate's latency floor): the verdict is then decided, however wide the interval.
    stop_floor: float | None = None
    stop_alpha: float = 0.005  # and the significance a regression needs there (the gate's alpha)


@dataclass(frozen=True)
class Pair:
    """Two variants timed side by side in one process, interleaved A B B A A B B A …"""

    baseline: str
    candidate: str


@dataclass(frozen=True)
class Plan:
    RECORD: ClassVar[RecordType] = PLAN_RECORD

    run_id: str
    model_name: str
    variants: list[PlanVariant]
    input_set: str  # .npz beside the plan (device_runner/inputs.py): inputs, labels, references
    task: str = Task.AUTO.value  # what the outputs mean (converter's --task), for scoring them
    measure: Measurement = field(default_factory=Measurement)
    pairs: list[Pair] = field(default_factory=list)  # a paired plan (the gate's) measures pairs, not cells
    tune: Search | None = None  # a tune's plan: what its search was after; None: not a search
    schema_version: str = PLAN_RECORD.version

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

    def units(self) -> list[tuple[CellKey, ...]]:
        """What one process times: a pair (ABBA blocks), the variants of one delegate/API/threads configuration
        (interleaved), or one cell (a plan before 1.5)."""
        if self.pairs:
            return list(self.paired_cells())
        if not self.measure.interleave:
            return [(key,) for key in self.cells()]
        m = self.measure
        names = [v.name for v in self.variants]
        return [
            tuple(CellKey(name, delegate, threads, api) for name in names)
            for api in m.apis
            for delegate in m.delegates
            for threads in m.threads
        ]

    def variant(self, name: str) -> PlanVariant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(name)

    def owns(self, result: CellResult) -> bool:
        """Whether ``result`` is a cell of this plan: of its run and, where both are hashed, of the file this plan
        names. A result left under the same name by another plan (a run folder reused for another model) is not,
        and is measured again rather than stored as this plan's."""
        if result.run_id != self.run_id:
            return False
        try:
            expected = self.variant(result.variant).sha256
        except KeyError:  # a cell of a variant this plan does not have
            return False
        return not (result.file_sha256 and expected) or result.file_sha256 == expected


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
    # 1.7: the model's own cost, as the tables show it
    model_peak_mb: float | None = None  # peak_rss_mb less rss_before_mb: the peak above the runner's baseline


@dataclass(frozen=True)
class OutputFidelity:
    """One output head against a reference: the host fp32 model's outputs (``Accuracy.outputs``) or the same
    variant on the host's reference kernels (``Numerics.outputs``)."""

    index: int  # in the model's output order
    name: str  # the model's name for it: its signature key where the model has a signature, else the tensor's name
    # Cosine and SNR are None for an output of fewer than SMALL_OUTPUT values a sample, where one step of one
    # value swings them to their extremes (device_runner/accuracy.py).
    cosine: float | None  # mean per-sample cosine similarity (NaN or inf outputs count as 0)
    min_cosine: float | None  # the worst sample's
    snr_db: float | None  # 10 log10(reference energy / difference energy), capped at ±SNR_CAP_DB (identical outputs)
    max_abs_diff: float  # after dequantisation
    mean_abs_diff: float
    classes: int | None  # the class count when the output is a class distribution, else None
    agreement: float | None  # top-1 agreement (over decisive samples in numerics); None unless a class distribution
    rms_diff: float | None = None  # RMS of the difference, in the output's own unit; None: older runner
    rel_error: float | None = None  # rms_diff / the reference's spread (its standard deviation; its RMS if constant)
    step: float | None = None  # the output's quantisation step after dequantisation; None: a float output
    max_steps: float | None = None  # max_abs_diff in those steps
    decisive: int | None = None  # samples whose reference top-1 margin exceeds the near-tie margin
    near_ties: int = 0  # top-1 disagreements on the other samples: reported apart, not counted in ``agreement``
    failure: str = ""  # a FailureClass when the output failed its check, else ""


SNR_CAP_DB = 300.0  # JSON has no infinity: identical outputs (no difference at all) read as this
SMALL_OUTPUT = 5  # fewer values a sample than this: no cosine, no SNR; absolute and quantisation-step error only


class FailureClass(StrEnum):
    """Why an output failed the numerics check, as a wrong_output message names it."""

    NOT_FINITE = "NaN/inf"  # NaN or infinite values where the reference has finite ones
    ALL_ZEROS = "all zeros"  # nothing but zeros where the reference has values
    SATURATED = "saturated"  # most values stuck at the quantised range's ends, where the reference's are not
    DRIFT = "drift"  # finite, alive, but further from the reference than its tolerance


@dataclass(frozen=True)
class Accuracy:
    """Scores of one cell's outputs. The single-figure fields describe the *scored output*: the first output
    that is a class distribution, or output 0 when none is; ``outputs`` holds every head."""

    n: int
    top1: float | None  # the scored output against class-id labels; None (and ``labels_note``) otherwise
    fp32_agreement: float | None  # its top-1 agreement with the host fp32 outputs; None unless a class distribution
    max_abs_diff: float | None  # its |diff| against the host fp32 outputs, after dequantisation
    mean_abs_diff: float | None
    correct: list[bool] = field(default_factory=list)  # per sample, for paired tests
    agree: list[bool] = field(default_factory=list)  # per sample: same top-1 as the host fp32 model
    task: str = Task.AUTO.value  # the task scored: classification | regression | other (auto: not resolved)
    top5: float | None = None  # against class-id labels when the scored output has at least 5 classes
    mae: float | None = None  # regression: mean |output - label| over the output matching the labels' size
    labels_note: str = ""  # why top1 / mae are None ("no labels", …); empty when they are measured
    reference_note: str = ""  # why the comparisons with the host fp32 outputs are None; empty when measured
    outputs: list[OutputFidelity] = field(default_factory=list)  # every output against the host fp32 outputs


@dataclass(frozen=True)
class Coverage:
    delegated_nodes: int
    total_nodes: int

    @property
    def fraction(self) -> float:
        return self.delegated_nodes / self.total_nodes if self.total_nodes else 0.0


@dataclass(frozen=True)
class Placement:
    """Where each node of the model ran, as the runtime reports it (the Interpreter's node list)."""

    node_ops: list[str]  # each original node's op, in execution order
    node_partition: list[int]  # the delegate partition that ran it (0, 1, …), or -1: LiteRT's plain kernels
    # each node's key beside its op ("v1 float32,int32->float32 4->2", device_runner/coverage.node_key); empty
    # where the runner could not match the runtime's nodes to the model's graph, or wrote result 1.7 or older
    node_keys: list[str] = field(default_factory=list)

    @property
    def partitions(self) -> int:
        return len({p for p in self.node_partition if p >= 0})

    def on_plain_kernels(self) -> list[str]:
        return [op for op, p in zip(self.node_ops, self.node_partition, strict=True) if p < 0]


class RanOn(StrEnum):
    """Where a profiled node ran."""

    CPU = "cpu"  # LiteRT's plain kernels
    DELEGATE = "delegate"  # a whole delegate partition, as one fused node
    INSIDE_DELEGATE = (
        "inside_delegate"  # one op within a partition, as its delegate reports it (its time is in the partition's)
    )


@dataclass(frozen=True)
class OpTime:
    """One row of a per-op profile, as the runtime's profiler measured it (never apportioned by us)."""

    node: int | None  # the node's index in the execution plan; None where the profiler does not print it
    op: str  # CONV_2D; a partition's kernel (TfLiteXNNPackDelegate); a delegate's own op ("Convolution (NHWC, F32)")
    avg_ms: float  # mean per inference
    percent: float  # of the profiled run's total op time
    ran_on: RanOn
    delegate: str = ""  # the delegate's kernel name where ran_on is not cpu


@dataclass(frozen=True)
class OpProfile:
    """Per-op time of one cell, where the runtime has a profiler; else no rows and ``note`` says why."""

    source: str  # what measured it: "benchmark_model --enable_op_profiling (run order table)", or the runtime
    ops: list[OpTime] = field(default_factory=list)  # in run order
    note: str = ""  # why there are no rows, or what the rows lack ("no node indices in this generation")


@dataclass(frozen=True)
class Numerics:
    """The cell's outputs against the host running the same variant on LiteRT's reference kernels: both
    carry the variant's quantisation loss, so what differs is the delegate's or the driver's doing."""

    n: int
    output: str  # the output the figures are of, the worst one: "0 Identity" (index and the model's name for it)
    agreement: float | None  # its top-1 agreement; None when it is no class distribution
    cosine: float | None  # its mean per-sample cosine similarity; None for an output of fewer than SMALL_OUTPUT values
    min_cosine: float | None  # its worst sample's
    max_abs_diff: float  # after dequantisation
    min_agreement_allowed: float  # the tolerances the cell was held to
    min_cosine_allowed: float
    passed: bool  # every output held to the tolerances
    outputs: list[OutputFidelity] = field(default_factory=list)  # every output compared
    failure: str = ""  # the worst output's FailureClass when the check failed
    max_error_allowed: float | None = None  # its RMS error allowed, as a fraction of the reference's spread
    max_steps_allowed: float | None = None  # the error always allowed a quantised output, in its steps
    # How a model with state (resource variables) was compared: "" for a model without state.
    state: str = ""


class CulpritMethod(StrEnum):
    """How a culprit search probed the model."""

    # One probe model: the variant with every op's outputs added to the main subgraph's outputs, run under the
    # cell's delegate and on LiteRT's reference kernels, compared tensor by tensor in execution order.
    EXPOSED_OUTPUTS = "exposed_outputs"


@dataclass(frozen=True)
class OpDrift:
    """One op of the main subgraph and how far its outputs drifted from the reference kernels'."""

    index: int  # its position in the subgraph's operator list: the execution order
    op: str  # its builtin name, "ADD" (a custom op: "CUSTOM:name")
    tensor: str  # the output the figure is of (the worst of its outputs)
    drift: float  # RMS of (delegate - reference) over the reference's standard deviation; capped at DRIFT_CAP


DRIFT_CAP = 1e6  # a non-finite output, or any change to a constant one, drifts this far (JSON has no infinity)


@dataclass(frozen=True)
class Culprit:
    """Which op broke a wrong_output cell: the first, in execution order, whose output drifts past ``tolerance``.
    ``found`` None with ``note`` saying why: no op drifted that far, or the runner cannot search."""

    method: str  # a CulpritMethod, or "" where no search ran
    found: OpDrift | None = None
    after: list[OpDrift] = field(default_factory=list)  # the next few ops in execution order, with their drift
    tolerance: float = 0.0  # the drift an op's output may have: the cosine budget of the numerics check
    samples: int = 0  # inputs the probes ran on
    compared_ops: int = 0
    # The probe's own delegated node count beside the cell's: exposing outputs may split a partition.
    probe_delegated_nodes: int | None = None
    cell_delegated_nodes: int | None = None
    note: str = ""

    @property
    def partitioning_changed(self) -> bool:
        probe, cell = self.probe_delegated_nodes, self.cell_delegated_nodes
        return probe is not None and cell is not None and probe != cell

    @property
    def line(self) -> str:
        """One line for the cell's message and the run table's note."""
        if self.found is None:
            return f"culprit: none named ({self.note})" if self.note else "culprit: none named"
        op = self.found
        after = ", ".join(f"{o.index} {o.op} {o.drift:.3g}" for o in self.after)
        changed = (
            f"; the probe delegated {self.probe_delegated_nodes} nodes, the cell {self.cell_delegated_nodes}"
            if self.partitioning_changed
            else ""
        )
        return (
            f"culprit: op {op.index} {op.op} (output {op.tensor!r}) drifts {op.drift:.3g} "
            f"(tolerance {self.tolerance:.3g}, {self.samples} samples){f'; then {after}' if after else ''}{changed}"
        )


class CpuFeature(StrEnum):
    """The CPU features that decide which kernels LiteRT/XNNPACK run, one vocabulary for x86 and ARM: an
    int8 model's speed against fp32 turns on the int8 dot products (VNNI, AMX, dotprod, i8mm). ``label`` is
    how tables name them (device_runner/facts.py maps /proc/cpuinfo's spellings onto them)."""

    AVX2 = "avx2"
    AVX512F = "avx512f"
    AVX512BW = "avx512bw"
    AVX512VL = "avx512vl"
    AVX512_VNNI = "avx512_vnni"
    AVX_VNNI = "avx_vnni"
    AMX_TILE = "amx_tile"
    AMX_INT8 = "amx_int8"
    AMX_BF16 = "amx_bf16"
    DOTPROD = "dotprod"
    I8MM = "i8mm"
    BF16 = "bf16"
    FP16 = "fp16"
    SVE = "sve"
    SVE2 = "sve2"
    SME = "sme"

    @property
    def label(self) -> str:
        return _FEATURE_LABELS[self]

    @property
    def int8(self) -> bool:
        """An int8 dot-product or matrix instruction: it moves int8 timings, not float ones."""
        return self in _INT8_FEATURES


_FEATURE_LABELS = {
    CpuFeature.AVX2: "AVX2", CpuFeature.AVX512F: "AVX-512F", CpuFeature.AVX512BW: "AVX-512BW",
    CpuFeature.AVX512VL: "AVX-512VL", CpuFeature.AVX512_VNNI: "AVX-512 VNNI", CpuFeature.AVX_VNNI: "AVX-VNNI",
    CpuFeature.AMX_TILE: "AMX tiles", CpuFeature.AMX_INT8: "AMX int8", CpuFeature.AMX_BF16: "AMX bf16",
    CpuFeature.DOTPROD: "int8 dot product", CpuFeature.I8MM: "int8 matrix multiply (i8mm)",
    CpuFeature.BF16: "bf16", CpuFeature.FP16: "fp16 arithmetic", CpuFeature.SVE: "SVE", CpuFeature.SVE2: "SVE2",
    CpuFeature.SME: "SME",
}  # fmt: skip
_INT8_FEATURES = {CpuFeature.AVX512_VNNI, CpuFeature.AVX_VNNI, CpuFeature.AMX_INT8, CpuFeature.DOTPROD, CpuFeature.I8MM}


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
    # Added in 1.5 without a bump (absent: not looked at). An ARM board's own words and cores, e.g.
    # "Raspberry Pi 4 Model B Rev 1.4" and "4× Cortex-A72"; why its timings mean nothing when emulated.
    board_model: str | None = None
    cpu_cores: str | None = None
    emulated: str | None = None
    # 1.7 (None: not read). What decides kernel choice, so two devices' int8 timings can be told apart.
    cpu_features: list[CpuFeature] | None = None


@dataclass(frozen=True)
class Activity:
    """What the machine was doing over one window (device_runner/noise.py reads it)."""

    window_s: float
    load_avg_1m: float | None  # /proc/loadavg
    busy_cores: float | None  # CPU time of every process on the usable CPUs / window (/proc/stat, steal included)
    others_busy_cores: float | None  # the same less this process's own CPU time: the competition
    cpu_mhz: dict[str, float] = field(default_factory=dict)  # scaling_cur_freq per usable CPU, where cpufreq reads
    throttled: str | None = None  # `vcgencmd get_throttled` (Raspberry Pi), e.g. "0x0"; None where absent
    thermal: list[str] = field(default_factory=list)  # zones past a passive trip point, CPU cooling engaged


@dataclass(frozen=True)
class Conditions:
    """The noise guard: a cell measured under contention is still stored, flagged, with the reasons."""

    available_cores: int  # os.sched_getaffinity: the CPUs the cell could run on
    threads: int
    governor: str | None
    before: Activity  # a short window just before the timed loop
    during: Activity  # the timed loop itself (a pair: both sides' interleaved blocks)
    after: Activity  # a short window just after it
    contended: bool
    reasons: list[str] = field(default_factory=list)


class StopReason(StrEnum):
    """Why a cell's timed runs stopped."""

    FIXED = "fixed"  # the runs and seconds asked, no precision asked
    PRECISION = "precision"  # the 95 % interval reached the precision asked
    DECIDED = "decided"  # a pair: the ratio's interval cleared the gate's threshold on one side
    BOUND = "bound"  # --max-secs passed first


@dataclass(frozen=True)
class Schedule:
    """How a cell's timed runs were scheduled and why they stopped (1.7). Cells of one ``group`` were timed in one
    process in alternating blocks (``Timing.block_lengths``): their block k ran side by side, one time base."""

    group: str  # a token shared by the cells timed together; "" when timed alone
    group_size: int  # cells in the group (1 alone)
    rounds: int  # blocks this cell was timed in
    stop: StopReason
    precision: float  # asked: 0 for fixed
    half_width: float | None  # relative half-width of the 95 % interval at the stop (p50, or a pair's ratio)
    timed_s: float  # seconds this cell's timed runs took


@dataclass(frozen=True)
class CellResult:
    RECORD: ClassVar[RecordType] = RESULT_RECORD

    run_id: str
    variant: str
    delegate: str
    threads: int
    status: Status
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
    conditions: Conditions | None = None  # None: not observed (failed before timing, or an older runner)
    numerics: Numerics | None = None  # None: not checked (no reference for this variant, or an older runner)
    placement: Placement | None = None  # None: the runtime gives no per-node placement (CompiledModel, older)
    # Added in 1.5 without a bump (absent: not looked at): per-op time where the runtime has a profiler
    # (benchmark_model --enable_op_profiling); an empty profile whose note says none exists (ai_edge_litert).
    op_profile: OpProfile | None = None
    file_sha256: str | None = None  # the variant file as the cell loaded it; None: not hashed (older, or failed early)
    culprit: Culprit | None = None  # None: not searched (no --find-culprits, the cell not wrong_output, or older)
    # ---- timing schedule (1.7) ----
    schedule: Schedule | None = None  # None: timed alone for a fixed duration (1.6 and older runners)
    schema_version: str = RESULT_RECORD.version

    @property
    def key(self) -> CellKey:
        return CellKey(self.variant, self.delegate, self.threads, self.api)

    @property
    def failed(self) -> bool:
        return self.status.failed

    def timed_with(self, other: CellResult) -> bool:
        """Both timed in one process, block k of one beside block k of the other: a paired comparison holds."""
        mine, theirs = self.schedule, other.schedule
        return bool(mine and theirs and mine.group and mine.group == theirs.group)
