"""Timing loops bounded by count and seconds, and the statistics reported for them."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from edgebench_records import Timing

NS_PER_MS = 1e6


def timer_overhead_ns(reads: int = 20_000) -> float:
    """Median cost of two back-to-back clock reads: the floor under every sample."""
    clock = time.perf_counter_ns
    gaps = np.empty(reads, dtype=np.int64)
    for i in range(reads):
        start = clock()
        gaps[i] = clock() - start
    return float(np.median(gaps))


# Samples a chunk holds when no speed is known yet; a timed loop that outgrows its chunks adds one (no copy).
DEFAULT_CAPACITY = 4096


def _touched(capacity: int) -> np.ndarray:
    """An int64 array whose pages are resident now: writing a sample never faults a page in mid-loop, and the
    bytes it holds are exactly its size, so peak RSS can leave them out."""
    chunk = np.empty(capacity, dtype=np.int64)
    chunk.fill(0)
    return chunk


class Samples:
    """Per-run nanoseconds in preallocated, touched chunks instead of a growing Python list: the runner's own
    memory no longer grows with the number of runs (a list of ints cost ~36 bytes a sample, 8 here), and
    ``nbytes`` says exactly how much of the process's RSS is this buffer."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._chunks = [_touched(max(1, capacity))]
        self._used = 0  # samples in the last chunk
        self._full = 0  # samples in the chunks before it

    def __len__(self) -> int:
        return self._full + self._used

    @property
    def nbytes(self) -> int:
        return sum(chunk.nbytes for chunk in self._chunks)

    def array(self) -> np.ndarray:
        return np.concatenate([*self._chunks[:-1], self._chunks[-1][: self._used]])

    def since(self, start: int) -> np.ndarray:
        """The samples from index ``start`` on, copying only the chunks they lie in: a block's median is read
        after every block, and a copy of the whole run each time would make the peak grow with the run."""
        parts, offset = [], 0
        for chunk in self._chunks:
            used = self._used if chunk is self._chunks[-1] else len(chunk)  # every chunk but the last is full
            if offset + used > start:
                parts.append(chunk[max(0, start - offset) : used])
            offset += used
        return np.concatenate(parts) if parts else self._chunks[0][:0]

    def _room(self) -> tuple[np.ndarray, int]:
        """The chunk to write to and its first free index; a new chunk (as big as all before) when full."""
        chunk = self._chunks[-1]
        if self._used == len(chunk):
            self._full += self._used
            chunk, self._used = _touched(self._full), 0
            self._chunks.append(chunk)
        return chunk, self._used


def capacity_for(per_run_ns: float, min_runs: int, min_s: float, max_s: float) -> int:
    """Samples a timed loop will take at ``per_run_ns`` (the warm-up's speed), with room for a 2x speed-up after
    warm-up; never more than ``max_s`` allows. Too small is only a second chunk, not a wrong figure."""
    per_run_ns = max(per_run_ns, 1.0)
    expected = max(min_runs, min_s * 1e9 / per_run_ns)
    return int(min(2 * expected, max_s * 1e9 / per_run_ns) + 64)


def bounded_loop(
    fn: Callable[[], object], min_runs: int, min_s: float, max_s: float, into: Samples | None = None
) -> Samples:
    """Run ``fn`` until both ``min_runs`` and ``min_s`` are reached (or ``max_s`` passes).

    Same rule as benchmark_model's num_runs / min_secs / max_secs. Per-run nanoseconds are appended to
    ``into`` (a paired side's samples, block after block) or to a new buffer; returns that buffer.
    """
    samples = Samples() if into is None else into
    clock = time.perf_counter_ns
    runs = 0
    chunk, used = samples._room()
    begin = clock()
    min_ns, max_ns = min_s * 1e9, max_s * 1e9
    while True:
        start = clock()
        fn()
        end = clock()
        chunk[used] = end - start
        used += 1
        runs += 1
        elapsed = end - begin
        if elapsed >= max_ns or (runs >= min_runs and elapsed >= min_ns):
            samples._used = used
            return samples
        if used == len(chunk):
            samples._used = used
            chunk, used = samples._room()


def count_loop(fn: Callable[[], object], min_runs: int, min_s: float, max_s: float) -> tuple[int, float]:
    """The warm-up: the same stopping rule, keeping no samples; returns (runs, mean ns a run)."""
    clock = time.perf_counter_ns
    runs = 0
    begin = clock()
    min_ns, max_ns = min_s * 1e9, max_s * 1e9
    while True:
        fn()
        runs += 1
        elapsed = clock() - begin
        if elapsed >= max_ns or (runs >= min_runs and elapsed >= min_ns):
            return runs, elapsed / runs


def summarize(
    samples_ns: Samples | np.ndarray, *, init_ns: int, first_ns: int, warmup_runs: int, overhead_ns: float
) -> Timing:
    raw = samples_ns.array() if isinstance(samples_ns, Samples) else samples_ns
    ms = np.asarray(raw, dtype=np.float64) / NS_PER_MS
    p5, p50, p90, p95, p99 = np.percentile(ms, [5, 50, 90, 95, 99])
    return Timing(
        init_ms=init_ns / NS_PER_MS,
        first_ms=first_ns / NS_PER_MS,
        warmup_runs=warmup_runs,
        samples_ms=[round(float(v), 6) for v in ms],
        p50_ms=float(p50),
        p90_ms=float(p90),
        p99_ms=float(p99),
        mean_ms=float(ms.mean()),
        std_ms=float(ms.std(ddof=1)) if len(ms) > 1 else 0.0,
        min_ms=float(ms.min()),
        max_ms=float(ms.max()),
        timer_overhead_ms=overhead_ns / NS_PER_MS,
        p5_ms=float(p5),
        p95_ms=float(p95),
    )
