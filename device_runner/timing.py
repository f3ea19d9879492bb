"""Timing loops bounded by count and seconds, and the statistics reported for them."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from device_runner.schema import Timing

NS_PER_MS = 1e6


def timer_overhead_ns(reads: int = 20_000) -> float:
    """Median cost of two back-to-back clock reads: the floor under every sample."""
    clock = time.perf_counter_ns
    gaps = np.empty(reads, dtype=np.int64)
    for i in range(reads):
        start = clock()
        gaps[i] = clock() - start
    return float(np.median(gaps))


def bounded_loop(fn: Callable[[], object], min_runs: int, min_s: float, max_s: float) -> list[int]:
    """Run ``fn`` until both ``min_runs`` and ``min_s`` are reached (or ``max_s`` passes).

    Same rule as benchmark_model's num_runs / min_secs / max_secs. Returns per-run nanoseconds.
    """
    clock = time.perf_counter_ns
    samples: list[int] = []
    begin = clock()
    min_ns, max_ns = min_s * 1e9, max_s * 1e9
    while True:
        start = clock()
        fn()
        end = clock()
        samples.append(end - start)
        elapsed = end - begin
        if elapsed >= max_ns or (len(samples) >= min_runs and elapsed >= min_ns):
            return samples


def summarize(samples_ns: list[int], *, init_ns: int, first_ns: int, warmup_runs: int, overhead_ns: float) -> Timing:
    ms = np.asarray(samples_ns, dtype=np.float64) / NS_PER_MS
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
