"""A cell's speed-up over fp32 with its 95 % interval, and what that allows a reader to be told.

One implementation for every table, the JSON and the plots. The method: a percentile bootstrap
(``scipy.stats.bootstrap``) of the ratio of medians, fp32's median over the cell's, resampling *blocks*
of consecutive runs rather than single runs. Why:
- the median, because it is the p50 the tables print, and latency samples are skewed by preemptions
  that would pull a mean around;
- blocks, because neighbouring runs share clock frequency, caches and thermal state: resampling single
  runs treats them as independent and gives an interval too narrow to trust (the gate's stored mode
  resamples blocks for the same reason). It also keeps the cost the same for 50 runs or 50,000;
- paired where the two cells were timed together (interleaved blocks in one process, ``CellResult.timed_with``):
  block k of one ran beside block k of the other, so the ratio is read block by block, as the paired gate
  reads it (device_runner/intervals.py): exp of the Hodges-Lehmann centre of ln(fp32's block median / the
  cell's), its interval a bootstrap over block pairs. Dividing the two sides' overall medians instead throws
  the pairing away: this machine's vCPU switches between two speeds 58 % apart several times a second
  (docs/measuring.md), each side's samples are then a mixture of two modes, and a block that straddles a
  switch can put one side's median in the fast mode and the other's in the slow one, moving the ratio by tens
  of percent while every block pair agrees. Two independent samples otherwise (cells of runs before
  interleaving, or of the Android app, each timed alone: no run of one side belongs with a run of the
  other), where the ratio of the p50s and a bootstrap of each side's blocks apart is all there is;
- percentile rather than BCa: BCa's jackknife is ill-behaved for a median and fails outright when block
  medians tie (coarse timers), while 20 blocks leave little bias for it to correct.
A fixed seed makes a report reproducible: the same stored runs give the same intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from device_runner.intervals import hodges_lehmann, log_ratios, paired_ratio_interval
from edgebench_records import CellResult

BLOCKS = 20  # consecutive-run blocks per side (fewer when a side has fewer runs: one run a block)
MIN_RUNS = 5  # per side: below this an interval would only restate the few runs there are
RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 0


class Verdict(StrEnum):
    """What the interval allows the report to say, as ``--json`` spells it."""

    FASTER = "faster"  # the whole interval above 1
    SLOWER = "slower"  # the whole interval below 1
    SAME = "same"  # the interval spans 1: no speed-up or slow-down can be claimed
    NO_INTERVAL = "no interval"  # the samples cannot give one (``note`` says why)
    BASELINE = "baseline"  # fp32 itself


@dataclass(frozen=True)
class Speedup:
    ratio: float  # fp32's time over this cell's (block by block when paired, else the p50s): above 1 is faster
    low: float | None  # the 95 % interval; None without one
    high: float | None
    verdict: Verdict
    note: str = ""  # why there is no interval: "summaries only", "3 runs"
    base: str = "fp32"  # what it divides by: fp32, or the given .tflite in a run without one
    paired: bool = False  # read block pair by block pair (the two were timed together), else from the two p50s

    def text(self) -> str:
        """ "2.01× (1.95–2.08)", "≈ same (0.90–2.80×)", "1.60×, no interval (summaries only)", "fp32"."""
        if self.verdict == Verdict.BASELINE:
            return self.base
        if self.low is None or self.high is None:
            return f"{self.ratio:.2f}×, no interval ({self.note})"
        if self.verdict == Verdict.SAME:
            return f"≈ same ({self.low:.2f}–{self.high:.2f}×)"
        return f"{self.ratio:.2f}× ({self.low:.2f}–{self.high:.2f})"

    def versus_fp32(self) -> str:
        """In a sentence: "1.30× fp32, 95 % CI 1.25–1.35", "≈ same as fp32: 0.90–2.80×", "fp32 itself"."""
        if self.verdict == Verdict.BASELINE:
            return f"{self.base} itself"
        if self.low is None or self.high is None:
            return f"{self.ratio:.2f}× {self.base}, no interval ({self.note})"
        if self.verdict == Verdict.SAME:
            return f"≈ same as {self.base}: {self.low:.2f}–{self.high:.2f}×"
        return f"{self.ratio:.2f}× {self.base}, {100 * CONFIDENCE:.0f} % CI {self.low:.2f}–{self.high:.2f}"


def speedup(
    p50_ms: float,
    fp32_p50_ms: float,
    samples_ms: Sequence[float],
    fp32_samples_ms: Sequence[float],
    paired_blocks: tuple[Sequence[int], Sequence[int]] | None = None,
) -> Speedup:
    """fp32's time over the cell's with its 95 % interval, from the raw samples of both cells: block by block
    when ``paired_blocks`` (the cell's and fp32's block lengths) says the two were timed together, else the
    ratio of the two p50s with each side's blocks resampled apart."""
    ratio = float(fp32_p50_ms / p50_ms)
    if len(samples_ms) == 0 or len(fp32_samples_ms) == 0:
        return Speedup(ratio, None, None, Verdict.NO_INTERVAL, "summaries only")  # e.g. benchmark_model
    fewest = min(len(samples_ms), len(fp32_samples_ms))
    if fewest < MIN_RUNS:
        return Speedup(ratio, None, None, Verdict.NO_INTERVAL, f"{fewest} run{'s' if fewest != 1 else ''}")
    if paired_blocks is not None:
        ratio, low, high = paired(samples_ms, fp32_samples_ms, paired_blocks)
    else:
        low, high = interval(samples_ms, fp32_samples_ms)
    verdict = Verdict.FASTER if low > 1 else Verdict.SLOWER if high < 1 else Verdict.SAME
    return Speedup(ratio, low, high, verdict, paired=paired_blocks is not None)


def of_cells(cell: CellResult, base: CellResult) -> Speedup:
    """``speedup`` of two measured cells (each with its p50): paired when they were timed together."""
    timing, base_timing = cell.timing, base.timing
    assert timing is not None and base_timing is not None
    p50, base_p50 = timing.p50_ms, base_timing.p50_ms
    assert p50 and base_p50
    blocks = timing.block_lengths, base_timing.block_lengths
    together = cell.timed_with(base) and len(blocks[0]) == len(blocks[1]) > 1
    return speedup(p50, base_p50, timing.samples_ms, base_timing.samples_ms, blocks if together else None)


def block_medians(samples: Sequence[float], lengths: Sequence[int] = ()) -> np.ndarray:
    """Medians of the blocks the runner timed (``lengths``), else of up to BLOCKS runs of consecutive samples."""
    values = np.asarray(samples, dtype=float)
    blocks = np.split(values, np.cumsum(lengths)[:-1]) if lengths else np.array_split(values, min(BLOCKS, len(values)))
    return np.array([np.median(block) for block in blocks])


def paired(
    samples_ms: Sequence[float], fp32_samples_ms: Sequence[float], lengths: tuple[Sequence[int], Sequence[int]]
) -> tuple[float, float, float]:
    """fp32's time over the cell's read block pair by block pair, with its 95 % interval: the paired gate's
    estimate (exp of the Hodges-Lehmann centre of the blocks' log ratios, bootstrap over block pairs)."""
    d = log_ratios(block_medians(samples_ms, lengths[0]).tolist(), block_medians(fp32_samples_ms, lengths[1]).tolist())
    low, high = paired_ratio_interval(d, SEED, RESAMPLES)
    return math.exp(hodges_lehmann(d)), low, high


def interval(samples_ms: Sequence[float], fp32_samples_ms: Sequence[float]) -> tuple[float, float]:
    """The 95 % percentile-bootstrap interval of median(fp32) / median(cell) over each side's blocks of runs,
    resampled apart (the two cells were not timed together)."""
    from scipy import stats  # here: `edgebench --help` and the run table should not pay for SciPy

    def ratio_of_medians(fp32: np.ndarray, cell: np.ndarray, axis: int) -> np.ndarray:
        return np.asarray(np.median(fp32, axis=axis) / np.median(cell, axis=axis))

    result = stats.bootstrap(
        (block_medians(fp32_samples_ms), block_medians(samples_ms)),
        ratio_of_medians,
        n_resamples=RESAMPLES,
        vectorized=True,
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=np.random.default_rng(SEED),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)
