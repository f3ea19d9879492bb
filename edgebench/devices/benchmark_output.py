"""What LiteRT's `benchmark_model` prints, read into the results schema: its text is its only interface.

Three generations of output are accepted: today's `count=… p5=… median=… p95=…` with an
`Inference timings in us:` line; older builds' `count=… avg=… std=…` without percentiles; and the
oldest `Average inference timings in us: Warmup: …, Init: …, no stats: …`. A field a build did not
print is None and listed in `missing`; nothing is derived to fill it.

Placement comes from the delegate's own lines ("Replacing 15 out of 16 node(s) with delegate
(TfLiteXNNPackDelegate) node, yielding 1 partitions", or the tool's "Explicitly applied GPU delegate,
and the model graph will be partially executed by the delegate w/ 3 delegate kernels") and, finer, from
the per-op profile (`--enable_op_profiling`, read by ``parse_op_profile``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from device_runner.coverage import placement_from_counts, placement_from_partitions
from device_runner.flatbuffer import Graph
from edgebench_records import Coverage, Memory, OpProfile, OpTime, Placement, RanOn, Timing

_NUMBER = r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_STATS = re.compile(r"count=(\d+)(?P<rest>.*)")
_FIELD = re.compile(r"(\w+)=" + _NUMBER)
_TIMINGS = re.compile(r"Inference timings in us: (.*)")
_OLDEST = re.compile(r"Average inference timings in us: (.*)")
_LABELLED = re.compile(r"([A-Za-z][A-Za-z ()]*?): " + _NUMBER)
_INIT_SESSION = re.compile(r"Initialized session in " + _NUMBER + "ms")
_MEMORY_DELTA = re.compile(
    r"Memory footprint delta from the start of the tool \(MB\): init=" + _NUMBER + " overall=" + _NUMBER
)
_PEAK = re.compile(r"Overall peak memory footprint \(MB\) via periodic monitoring: " + _NUMBER)
_REPLACING = re.compile(r"Replacing (\d+) out of (\d+) node\(s\) with delegate \(([^)]*)\)")
_YIELDING = re.compile(r"yielding (\d+) partitions")
_KERNELS = re.compile(r"partially executed by the delegate w/ (\d+) delegate kernels")
_COMPLETELY = "the model graph will be completely executed by the delegate"  # older GPU builds: no "Replacing"
_MODEL_SIZE = re.compile(r"The input model file size \(MB\): " + _NUMBER)


@dataclass
class BenchmarkOutput:
    init_ms: float | None = None
    first_ms: float | None = None
    warmup_runs: int | None = None
    warmup_avg_ms: float | None = None
    runs: int | None = None
    mean_ms: float | None = None
    std_ms: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    p5_ms: float | None = None
    median_ms: float | None = None
    p95_ms: float | None = None
    init_delta_mb: float | None = None
    overall_delta_mb: float | None = None
    peak_mb: float | None = None
    model_size_mb: float | None = None
    delegated_nodes: int | None = None
    total_nodes: int | None = None
    delegate_name: str | None = None
    partitions: int | None = None  # as the delegate or the tool counted them
    whole_graph: bool = False  # the tool said the delegate runs every node
    stats_lines: list[dict[str, float]] = field(default_factory=list)
    profile: ProfileTable | None = None  # --enable_op_profiling's run-order table, when printed

    def timing(self, warmup_runs: int) -> Timing | None:
        """The schema's Timing, or None when not even a mean was printed (the run did not finish)."""
        if self.mean_ms is None or self.init_ms is None:
            return None
        values = {
            "first_ms": self.first_ms,
            "p50_ms": self.median_ms,
            "std_ms": self.std_ms,
            "min_ms": self.min_ms,
            "max_ms": self.max_ms,
            "p5_ms": self.p5_ms,
            "p95_ms": self.p95_ms,
        }
        # benchmark_model never prints raw samples, p90, p99 or its timer's overhead.
        missing = ["samples_ms", "p90_ms", "p99_ms", "timer_overhead_ms"]
        missing += [name for name, value in values.items() if value is None]
        return Timing(
            init_ms=self.init_ms,
            first_ms=self.first_ms,
            warmup_runs=self.warmup_runs if self.warmup_runs is not None else warmup_runs,
            samples_ms=[],
            p50_ms=self.median_ms,
            p90_ms=None,
            p99_ms=None,
            mean_ms=self.mean_ms,
            std_ms=self.std_ms,
            min_ms=self.min_ms,
            max_ms=self.max_ms,
            timer_overhead_ms=None,
            missing=sorted(missing),
            p5_ms=self.p5_ms,
            p95_ms=self.p95_ms,
        )

    def memory(self) -> Memory | None:
        """init= is the ru_maxrss delta of loading the model (our load cost); peak includes the tool."""
        if self.init_delta_mb is None and self.peak_mb is None:
            return None
        missing = ["rss_before_mb", "rss_after_load_mb", "model_peak_mb"]  # no RSS before the load to subtract
        missing += [n for n, v in (("load_delta_mb", self.init_delta_mb), ("peak_rss_mb", self.peak_mb)) if v is None]
        return Memory(
            rss_before_mb=None,
            rss_after_load_mb=None,
            load_delta_mb=self.init_delta_mb,
            peak_rss_mb=self.peak_mb,
            missing=sorted(missing),
        )

    @property
    def applied_delegate(self) -> bool:
        """A delegate took nodes, by any line the tool or the delegate printed."""
        return self.delegated_nodes is not None or self.whole_graph or bool(self.partitions)

    def coverage(self, total_nodes: int) -> Coverage:
        if self.delegated_nodes is not None and self.total_nodes is not None:
            return Coverage(self.delegated_nodes, self.total_nodes)
        if self.whole_graph:
            return Coverage(total_nodes, total_nodes)
        return Coverage(0, total_nodes)  # no line of a delegate: nothing was delegated

    def placement(self, graph: Graph) -> Placement | None:
        """Which node ran where: from the profile's rows (plain-kernel nodes by index, or by the tensors they
        output where the tool prints no index), else from the counts alone (all or nothing delegated); None
        when neither says (``coverage.placement_unknown`` says why)."""
        table = self.profile
        if table is not None:
            found = _placement_from_rows(graph, table.rows)
            if found is not None:
                return found
        if self.delegated_nodes is not None and self.total_nodes is not None:
            return placement_from_counts(graph, self.delegated_nodes, self.total_nodes, self.partitions)
        if self.whole_graph:
            return placement_from_counts(graph, len(graph.nodes), len(graph.nodes), 1)
        if self.applied_delegate or (table is not None and any(r.ran_on is RanOn.DELEGATE for r in table.rows)):
            return None  # a delegate ran, but neither its lines nor the rows say which nodes it took
        return placement_from_counts(graph, 0, len(graph.nodes), None)  # no line of a delegate: none delegated


def _placement_from_rows(graph: Graph, rows: list[ProfileRow]) -> Placement | None:
    producer = {t.name: index for index, node in enumerate(graph.nodes) for t in node.outputs}
    plain = set()
    for row in rows:
        if row.ran_on is RanOn.CPU:
            node = row.node if row.node is not None else next((producer[t] for t in row.outputs if t in producer), None)
            if node is None or node >= len(graph.nodes):
                return None  # a row that names no node of this graph
            plain.add(node)
    return placement_from_partitions(graph, plain, [r.outputs for r in rows if r.ran_on is RanOn.DELEGATE])


def parse(text: str) -> BenchmarkOutput:
    out = BenchmarkOutput()
    for raw in text.splitlines():
        line = raw.split("INFO: ", 1)[-1].strip()
        if match := _STATS.match(line):  # at the start: the profile's "Timings (microseconds): count=…" is not one
            numbers = {k: float(v) for k, v in _FIELD.findall(line)}
            out.stats_lines.append(numbers)
        elif match := _TIMINGS.search(line):
            labelled = {k.strip(): float(v) for k, v in _LABELLED.findall(match.group(1))}
            out.init_ms = _ms(labelled.get("Init"))
            out.first_ms = _ms(labelled.get("First inference"))
            out.warmup_avg_ms = _ms(labelled.get("Warmup (avg)"))
            out.mean_ms = _ms(labelled.get("Inference (avg)"))
        elif match := _OLDEST.search(line):
            labelled = {k.strip(): float(v) for k, v in _LABELLED.findall(match.group(1))}
            out.init_ms = _ms(labelled.get("Init"))
            out.warmup_avg_ms = _ms(labelled.get("Warmup"))
            out.mean_ms = _ms(labelled.get("no stats"))
        elif match := _INIT_SESSION.search(line):
            out.init_ms = out.init_ms if out.init_ms is not None else float(match.group(1))
        elif match := _MEMORY_DELTA.search(line):
            out.init_delta_mb, out.overall_delta_mb = float(match.group(1)), float(match.group(2))
        elif match := _PEAK.search(line):
            out.peak_mb = float(match.group(1))
        elif match := _REPLACING.search(line):
            out.delegated_nodes, out.total_nodes = int(match.group(1)), int(match.group(2))
            out.delegate_name = match.group(3)
            found = _YIELDING.search(line)
            out.partitions = int(found.group(1)) if found else None
        elif match := _KERNELS.search(line):
            out.partitions = int(match.group(1))
        elif _COMPLETELY in line:
            out.whole_graph = True
        elif match := _MODEL_SIZE.search(line):
            out.model_size_mb = float(match.group(1))
    _read_stats(out)
    out.profile = parse_op_profile(text)
    return out


def _read_stats(out: BenchmarkOutput) -> None:
    """The last `count=` line is the timed runs; one before it, if any, the warm-up."""
    if not out.stats_lines:
        return
    timed = out.stats_lines[-1]
    if len(out.stats_lines) > 1:
        out.warmup_runs = int(out.stats_lines[-2]["count"])
    out.runs = int(timed["count"])
    out.mean_ms = _ms(timed.get("avg")) if out.mean_ms is None else out.mean_ms
    out.std_ms = _ms(timed.get("std"))
    out.min_ms = _ms(timed.get("min"))
    out.max_ms = _ms(timed.get("max"))
    out.p5_ms = _ms(timed.get("p5"))
    out.median_ms = _ms(timed.get("median"))
    out.p95_ms = _ms(timed.get("p95"))
    if out.first_ms is None and len(out.stats_lines) > 1:
        out.first_ms = _ms(out.stats_lines[-2].get("first"))  # the warm-up's first run is the first inference


def _ms(microseconds: float | None) -> float | None:
    return None if microseconds is None else microseconds / 1000.0


# -- the per-op profile ------------------------------------------------------------------------------
#
# benchmark_model --enable_op_profiling=true prints, after its timings, TensorFlow's StatsCalculator tables:
# "Run Order", "Top by Computation Time", "Summary by node type". Generations read here:
#   1. TF 1.x: no section titles; columns [node type] [start] [first] [avg ms] [%] [cdf%] [mem KB]
#      [times called] [Name]; a node named by its output tensors only ("[conv/Relu]"); partitions "DELEGATE".
#   2. TF 2.0-2.4: "Profiling Info for Benchmark Initialization:" then "Operator-wise Profiling Info for
#      Regular Benchmark Runs:"; names "[out1, out2]:<node index>"; kernels named TfLiteXNNPackDelegate, ….
#   3. TF 2.5 on and LiteRT: no [start] column; "Primary graph (name: main) profile:" / "Subgraph (index: 1,
#      …)" when a model has several subgraphs; rows of ops inside a partition when the delegate profiles them
#      ("Delegate/Convolution (NHWC, F32) IGEMM:0", also under "Delegate internal:"); a wider type column.
#   4. --op_profiling_output_mode=csv: the same columns, comma-separated ("node type, first, avg_ms, …").
# Cells are tab-separated; a log pasted through a terminal may have spaces instead (two or more split).

_SECTION_INIT = "Profiling Info for Benchmark Initialization"
_SECTION_RUN = "Operator-wise Profiling Info for Regular Benchmark Runs"
_TITLE = re.compile(r"^=+ (.+?) =+$")
_SUBGRAPH = re.compile(r"^Subgraph \(index: (\d+)")
_LOGCAT = re.compile(r"^\d\d-\d\d [\d:.]+\s+\d+\s+\d+ [VDIWEF] [^:]*: ")
_NODE_NAME = re.compile(r"^(\[.*\])(?::(\d+))?$")
_INSIDE_NAME = re.compile(r"^Delegate/(.+):(\d+)$")
_DELEGATE_KERNEL = re.compile(r"delegate", re.IGNORECASE)  # TfLiteXNNPackDelegate, TfLiteGpuDelegateV2, DELEGATE…
_CELL_SPLIT = re.compile(r"\t+| {2,}")


@dataclass(frozen=True)
class ProfileRow:
    node: int | None
    op: str
    avg_ms: float
    percent: float
    ran_on: RanOn
    outputs: list[str]  # the node's output tensors, as the row names them (a partition's: what it produces)


@dataclass
class ProfileTable:
    """The run-order table of the regular runs' profile, primary graph and delegate-internal rows."""

    rows: list[ProfileRow] = field(default_factory=list)
    indexed: bool = True  # the rows carry node indices (generation 1 does not)
    other_subgraphs: int = 0  # rows of other subgraphs (control flow bodies), left out

    def op_profile(self) -> OpProfile:
        kernels = {r.op for r in self.rows if r.ran_on is RanOn.DELEGATE}
        inside = next(iter(kernels)) if len(kernels) == 1 else ""  # whose ops the inside rows are, when one says
        notes = []
        if not self.indexed:
            notes.append("this benchmark_model prints no node indices: rows in run order")
        if self.other_subgraphs:
            notes.append(f"{self.other_subgraphs} rows of other subgraphs left out")
        ops = [OpTime(r.node, r.op, r.avg_ms, r.percent, r.ran_on, _delegate_of(r, inside)) for r in self.rows]
        return OpProfile(source="benchmark_model --enable_op_profiling", ops=ops, note="; ".join(notes))


def _delegate_of(row: ProfileRow, inside: str) -> str:
    return {RanOn.DELEGATE: row.op, RanOn.INSIDE_DELEGATE: inside}.get(row.ran_on, "")


def _clean(raw: str) -> str:
    line = _LOGCAT.sub("", raw.rstrip("\r\n"))
    return line.split("INFO: ", 1)[-1] if line.lstrip().startswith("INFO: ") else line


@dataclass(frozen=True)
class _Header:
    columns: list[str]  # normalised: "node type", "avg ms", "%", "name" …
    csv: bool


def _header(line: str) -> _Header | None:
    """A run-order table's header, or None if the line is none."""
    if "node type" not in line.lower():
        return None
    csv = "[" not in line
    cells = line.split(",") if csv else _CELL_SPLIT.split(line.strip())
    return _Header([c.strip().strip("[]").lower().replace("_", " ") for c in cells if c.strip()], csv)


def _row(line: str, header: _Header) -> dict[str, str] | None:
    columns = header.columns
    if header.csv:
        cells = [c.strip() for c in line.split(", ", len(columns) - 1)]
    else:
        cells = [c.strip() for c in _CELL_SPLIT.split(line.strip()) if c.strip()]
        if len(cells) > len(columns):  # a name holding a run of spaces: put it back together
            cells = [*cells[: len(columns) - 1], " ".join(cells[len(columns) - 1 :])]
    return dict(zip(columns, cells, strict=True)) if len(cells) == len(columns) else None


def _profile_row(cells: dict[str, str]) -> ProfileRow | None:
    """A node's row, or None for the tool's other events (AllocateTensors/0, Invoke/0 …)."""
    kind, name = cells.get("node type", ""), cells.get("name", "")
    try:
        avg_ms, percent = float(cells["avg ms"]), float(cells["%"].rstrip("%"))
    except (KeyError, ValueError):
        return None
    if inside := _INSIDE_NAME.match(name):
        op = inside.group(1) if kind == "DelegateOpInvoke" else kind
        return ProfileRow(None, op, avg_ms, percent, RanOn.INSIDE_DELEGATE, [])
    node = _NODE_NAME.match(name)
    if node is None:
        return None
    op = kind.split("/", 1)[0]  # "CONV_2D/<the kernel's own description>"
    outputs = [t.strip() for t in node.group(1)[1:-1].split(", ") if t.strip()]
    ran_on = RanOn.DELEGATE if _DELEGATE_KERNEL.search(op) else RanOn.CPU
    return ProfileRow(int(node.group(2)) if node.group(2) else None, op, avg_ms, percent, ran_on, outputs)


def parse_op_profile(text: str) -> ProfileTable | None:
    """The regular runs' run-order table (every generation above), or None when the tool printed none."""
    lines = [_clean(raw) for raw in text.splitlines()]
    has_sections = any(_SECTION_RUN in line for line in lines)
    section = "" if has_sections else "run"
    subgraph: int | None = 0
    header: _Header | None = None
    reading = False
    table: ProfileTable | None = None
    for line in lines:
        stripped = line.strip()
        if _SECTION_INIT in stripped:
            section, subgraph, reading = "init", 0, False
        elif _SECTION_RUN in stripped:
            section, subgraph, reading = "run", 0, False
        elif stripped.startswith("Delegate internal:"):
            subgraph, reading = None, False
        elif (found := _SUBGRAPH.match(stripped)) and stripped.endswith(":"):
            subgraph, reading = int(found.group(1)), False
        elif stripped.startswith("Primary graph") and stripped.endswith(":"):
            subgraph, reading = 0, False
        elif title := _TITLE.match(stripped):
            reading, header = section == "run" and title.group(1) == "Run Order", None
        elif reading and header is None:
            header = _header(line)
            reading = header is not None
        elif reading and header is not None:
            if not stripped:
                reading = False
                continue
            cells = _row(line, header)
            row = _profile_row(cells) if cells else None
            if row is None:
                continue
            table = table or ProfileTable()
            if subgraph is None or subgraph == 0:
                table.rows.append(row)
                table.indexed = table.indexed and (row.node is not None or row.ran_on is RanOn.INSIDE_DELEGATE)
            else:
                table.other_subgraphs += 1
    return table
