"""The 95 % intervals of timed blocks, and the rule that stops timing once they are narrow enough.

Runs on the device (numpy only). The gate's paired verdict (edgebench/gate/stats.py) reads the same paired
interval, so a paired run stops on the interval its verdict is drawn from. Blocks, not single runs, are the
units: neighbouring runs share clock frequency, caches and load, so single runs are not independent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgebench_records import Measurement, StopReason

TAIL = 0.025  # each side of a 95 % interval
PAIRED_DRAWS = 1000  # bootstrap resamples of a paired interval
# Blocks (a side) before an adaptive stop. Fewer would let the rule stop on an interval too few blocks make
# (a bootstrap over 6 blocks is far too narrow), and the gate's one-sided Wilcoxon test on fewer than 8 blocks
# cannot reach its alpha of 0.005 at all (its smallest p is 1 / 2^blocks): 10 leaves it 1 / 1024.
MIN_BLOCKS = 10


def hodges_lehmann(d: np.ndarray) -> float:
    """Median of the Walsh averages (d_i + d_j) / 2, i <= j: a robust centre for paired differences."""
    i, j = np.triu_indices(len(d))
    return float(np.median((d[i] + d[j]) / 2))


def paired_ratio_interval(d: np.ndarray, seed: int = 0, draws: int = PAIRED_DRAWS) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of exp(Hodges-Lehmann(d)) over blocks, d_k = ln median(B_k) - ln
    median(A_k): the paired gate's interval of the candidate's time over the baseline's."""
    rng = np.random.default_rng(seed)
    resampled = d[rng.integers(0, len(d), (draws, len(d)))]
    i, j = np.triu_indices(len(d))
    centres = np.median((resampled[:, i] + resampled[:, j]) / 2, axis=1)
    low, high = np.percentile(np.exp(centres), [100 * TAIL, 100 * (1 - TAIL)])
    return float(low), float(high)


def log_ratios(a_medians: Sequence[float], b_medians: Sequence[float]) -> np.ndarray:
    """d_k = ln B_k - ln A_k of two sides' block medians, block by block."""
    d: np.ndarray = np.log(np.asarray(b_medians, dtype=float)) - np.log(np.asarray(a_medians, dtype=float))
    return d


def mid_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values``, ties sharing their mean rank (as SciPy's rankdata)."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=float)
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def wilcoxon_greater(d: np.ndarray) -> float:
    """Exact one-sided p of the Wilcoxon signed-rank test that d lies above 0 (zeros dropped, ties at mid-ranks):
    the gate's test, without SciPy, for the runner to know whether a verdict is already reached."""
    d = d[d != 0]
    if len(d) == 0:
        return 1.0
    doubled = np.rint(2 * mid_ranks(np.abs(d))).astype(int)  # mid-ranks are halves: doubled, integers
    counts = np.zeros(int(doubled.sum()) + 1)
    counts[0] = 1.0
    for rank in doubled:  # the null distribution of the statistic: each rank in or out, equally likely
        counts[rank:] = counts[rank:] + counts[:-rank].copy()
    statistic = int(doubled[d > 0].sum())
    return float(counts[statistic:].sum() / 2.0 ** len(d))


def median_order_ranks(blocks: int) -> int:
    """The largest j with P(Binomial(blocks, 1/2) < j) <= 2.5 %: the median lies between the j-th smallest and
    the j-th largest of ``blocks`` independent values with at least 95 % probability (0: too few for that)."""
    below, j = 0, 0
    while True:
        below += math.comb(blocks, j)
        if below / 2**blocks > TAIL:
            return j
        j += 1


def median_interval(block_medians: Sequence[float]) -> tuple[float, float] | None:
    """A distribution-free 95 % interval of the median from block medians (order statistics: no seed, no
    assumption on the shape of the latencies); None with fewer than 6 blocks, which cannot give one."""
    j = median_order_ranks(len(block_medians))
    if j == 0:
        return None
    ordered = sorted(block_medians)
    return ordered[j - 1], ordered[len(ordered) - j]


def half_width(low: float, high: float, centre: float) -> float:
    """The interval's larger distance from its centre, as a fraction of the centre (±P)."""
    return max(high / centre - 1, 1 - low / centre)


def cell_half_width(block_medians: Sequence[float]) -> float | None:
    found = median_interval(block_medians)
    return None if found is None else half_width(*found, centre=float(np.median(block_medians)))


@dataclass(frozen=True)
class Verdict:
    """Where the rule stands after a round: why to stop (None: go on) and each side's interval half-width."""

    stop: StopReason | None
    half_widths: list[float | None]


@dataclass(frozen=True)
class StopRule:
    """When interleaved blocks stop. Fixed (precision 0): after ``rounds`` rounds. Adaptive: after at least
    MIN_BLOCKS rounds and ``min_s``, once every side's 95 % interval of its p50 is within ±precision, or (a pair
    with a ``floor``) the ratio's interval is within ±precision or the gate's verdict is reached (``_decided``);
    at ``max_s`` whatever the intervals say. Seconds are timed seconds per side."""

    precision: float
    min_s: float
    max_s: float
    rounds: int
    floor: float | None = None  # a pair's decision threshold: the gate's latency floor
    alpha: float = 0.005  # and the significance its regression needs

    @classmethod
    def of(cls, m: Measurement, sides: int) -> StopRule:
        rounds = m.blocks if sides > 1 or m.precision else 1  # one side timed as asked needs no blocks
        return cls(m.precision, m.min_s, m.max_s, rounds, m.stop_floor if sides == 2 else None, m.stop_alpha)

    def decide(self, rounds: int, elapsed_s: float, medians: Sequence[Sequence[float]]) -> Verdict:
        ratio = self._ratio_interval(medians)
        # A pair's precision is its ratio's.
        widths: list[float | None] = (
            [cell_half_width(m) for m in medians] if ratio is None else [half_width(*ratio)] * len(medians)
        )
        if not self.precision:
            return Verdict(StopReason.FIXED if rounds >= self.rounds else None, widths)
        if rounds >= MIN_BLOCKS and elapsed_s >= self.min_s:
            if ratio is not None and self._decided(ratio[0], ratio[1], medians):
                return Verdict(StopReason.DECIDED, widths)
            if all(w is not None and w <= self.precision for w in widths):
                return Verdict(StopReason.PRECISION, widths)
        return Verdict(StopReason.BOUND if elapsed_s >= self.max_s else None, widths)

    def _decided(self, low: float, high: float, medians: Sequence[Sequence[float]]) -> bool:
        """The gate's verdict is reached: the ratio's interval lies wholly short of the floor (no regression), or
        wholly past it with the slowdown significant at alpha (a regression: past the floor but not significant
        is inconclusive, so the pair measures on)."""
        if self.floor is None:
            return False
        if high < 1 + self.floor:
            return True
        return low > 1 + self.floor and wilcoxon_greater(log_ratios(medians[0], medians[1])) < self.alpha

    def _ratio_interval(self, medians: Sequence[Sequence[float]]) -> tuple[float, float, float] | None:
        """A pair with a floor: the interval of its ratio (low, high, Hodges-Lehmann centre); else None."""
        if self.floor is None or len(medians) != 2 or len(medians[0]) < 2:
            return None
        d = log_ratios(medians[0], medians[1])
        return (*paired_ratio_interval(d), math.exp(hodges_lehmann(d)))
