"""What LiteRT's `benchmark_model` prints, read into the results schema: its text is its only interface.

Three generations of output are accepted: today's `count=… p5=… median=… p95=…` with an
`Inference timings in us:` line; older builds' `count=… avg=… std=…` without percentiles; and the
oldest `Average inference timings in us: Warmup: …, Init: …, no stats: …`. A field a build did not
print is None and listed in `missing`; nothing is derived to fill it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from device_runner.schema import Coverage, Memory, Timing

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
    stats_lines: list[dict[str, float]] = field(default_factory=list)

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
        missing = ["rss_before_mb", "rss_after_load_mb"]
        missing += [n for n, v in (("load_delta_mb", self.init_delta_mb), ("peak_rss_mb", self.peak_mb)) if v is None]
        return Memory(
            rss_before_mb=None,
            rss_after_load_mb=None,
            load_delta_mb=self.init_delta_mb,
            peak_rss_mb=self.peak_mb,
            missing=sorted(missing),
        )

    def coverage(self, total_ops: int) -> Coverage:
        if self.delegated_nodes is None or self.total_nodes is None:
            return Coverage(0, total_ops)  # no "Replacing …" line: nothing was delegated
        return Coverage(self.delegated_nodes, self.total_nodes)


def parse(text: str) -> BenchmarkOutput:
    out = BenchmarkOutput()
    for raw in text.splitlines():
        line = raw.split("INFO: ", 1)[-1].strip()
        if match := _STATS.search(line):
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
        elif match := _MODEL_SIZE.search(line):
            out.model_size_mb = float(match.group(1))
    _read_stats(out)
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
