"""The gate's statistics (docs/design.md): every test returns the figures that justify its verdict.

A regression must be both significant and larger than a floor; a change too noisy to call is
``inconclusive``, never a silent pass or a false alarm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from device_runner.intervals import hodges_lehmann, log_ratios, paired_ratio_interval
from edgebench.gate.policy import MIN_HISTORY

BOOTSTRAP = 10_000


class Outcome(StrEnum):
    """A gate's call on one metric of one cell, as reports and --json spell it."""

    PASS = "pass"
    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    INCONCLUSIVE = "inconclusive"
    WARNING = "warning"  # past a threshold on a metric that only warns (p90/p99, unpaired agreement)


@dataclass(frozen=True)
class Finding:
    verdict: Outcome
    estimate: float  # ratio (latency, memory, size) or difference in points (accuracy)
    low: float | None  # confidence interval, where the test has one
    high: float | None
    p_value: float | None
    detail: str


def paired_latency(
    a_blocks: list[np.ndarray], b_blocks: list[np.ndarray], alpha: float, floor: float, seed: int = 0
) -> Finding:
    """Interleaved blocks of A and B: d_k = ln median(B_k) - ln median(A_k); one-sided Wilcoxon on d_k,
    ratio = exp(Hodges-Lehmann(d)), CI by bootstrap over blocks (device_runner/intervals.py: the interval an
    adaptive paired run stops on)."""
    from scipy import stats  # imported here: `edgebench --help` should not pay for SciPy

    d = log_ratios([float(np.median(a)) for a in a_blocks], [float(np.median(b)) for b in b_blocks])
    if len(d) < 6:
        return Finding(
            Outcome.INCONCLUSIVE,
            math.exp(float(np.median(d))) if len(d) else 1.0,
            None,
            None,
            None,
            f"only {len(d)} blocks: measure more runs (at least 6 blocks)",
        )
    ratio = math.exp(hodges_lehmann(d))
    low, high = paired_ratio_interval(d, seed)
    slower = float(stats.wilcoxon(d, alternative="greater").pvalue) if np.any(d) else 1.0
    faster = float(stats.wilcoxon(d, alternative="less").pvalue) if np.any(d) else 1.0
    if ratio >= 1 + floor:
        verdict = Outcome.REGRESSION if slower < alpha else Outcome.INCONCLUSIVE
    elif ratio <= 1 / (1 + floor) and faster < alpha:
        verdict = Outcome.IMPROVEMENT
    else:
        verdict = Outcome.PASS
    advice = "; rerun with twice the blocks" if verdict == Outcome.INCONCLUSIVE else ""
    return Finding(
        verdict,
        ratio,
        low,
        high,
        slower if ratio >= 1 else faster,
        f"ratio {ratio:.3f} (95% CI {low:.3f}–{high:.3f}), Wilcoxon p={min(slower, faster):.2g} over "
        f"{len(d)} blocks, floor {floor:.0%}{advice}",
    )


def block_medians(samples: np.ndarray, blocks: int) -> np.ndarray:
    """Medians of consecutive blocks: neighbouring runs share clock and thermal state, so blocks,
    not single runs, are the independent units a bootstrap may resample."""
    return np.array([np.median(block) for block in np.array_split(samples, blocks)])


def between_runs(log_p50s: list[float]) -> tuple[float, int]:
    """SD of ln p50 over earlier runs of a cell, and its degrees of freedom."""
    return float(np.std(log_p50s, ddof=1)), len(log_p50s) - 1


def stored_latency(
    a: np.ndarray, b: np.ndarray, floor: float, history: list[float], seed: int = 0, blocks: int = 20
) -> Finding:
    """Two runs from the history, each one run of its side. The interval of the ratio of medians carries both
    the noise within each run (a bootstrap resampling blocks of consecutive runs) and how much one run's p50
    differs from the next: ``history`` holds ln p50 of the cell's earlier runs, whose SD s gives the spread of
    the difference of two runs, t(n - 1) x s x sqrt(2) (Student's t, as s is estimated from n runs). With
    fewer than MIN_HISTORY earlier runs that spread is unknown: inconclusive, saying what would decide it.
    A regression only when the whole interval lies past the floor."""
    from scipy import stats  # imported here: `edgebench --help` should not pay for SciPy

    ratio = float(np.median(b) / np.median(a)) if len(a) and len(b) else 1.0
    if min(len(a), len(b)) < 5 * blocks:
        return Finding(
            Outcome.INCONCLUSIVE,
            ratio,
            None,
            None,
            None,
            f"{min(len(a), len(b))} samples on one side: measure more runs (at least {5 * blocks})",
        )
    if len(history) < MIN_HISTORY:
        more = MIN_HISTORY - len(history)
        return Finding(
            Outcome.INCONCLUSIVE,
            ratio,
            None,
            None,
            None,
            f"ratio of medians {ratio:.3f} (stored mode), but {len(history)} earlier runs of this cell in the "
            f"history say too little of how much one run differs from the next: {more} more run{'s' * (more > 1)} "
            "of this cell in the history, or gate in paired mode",
        )
    a_blocks, b_blocks = block_medians(a, blocks), block_medians(b, blocks)
    rng = np.random.default_rng(seed)
    draws = BOOTSTRAP // 5
    ratios = np.median(b_blocks[rng.integers(0, blocks, (draws, blocks))], axis=1) / np.median(
        a_blocks[rng.integers(0, blocks, (draws, blocks))], axis=1
    )
    within = float(np.diff(np.log(np.percentile(ratios, [2.5, 97.5])))[0]) / 2
    sd, df = between_runs(history)
    between = float(stats.t.ppf(0.975, df)) * sd * math.sqrt(2)
    half = math.hypot(within, between)
    low, high = ratio * math.exp(-half), ratio * math.exp(half)
    if low >= 1 + floor:
        verdict = Outcome.REGRESSION
    elif high <= 1 / (1 + floor):
        verdict = Outcome.IMPROVEMENT
    elif ratio >= 1 + floor or high - low > 2 * floor:
        verdict = Outcome.INCONCLUSIVE  # slower than the floor but not surely, or too noisy to tell
    else:
        verdict = Outcome.PASS
    advice = "; more runs in the history, or gate in paired mode" if verdict == Outcome.INCONCLUSIVE else ""
    return Finding(
        verdict,
        ratio,
        low,
        high,
        None,
        f"ratio of medians {ratio:.3f} (95% CI {low:.3f}–{high:.3f}, run-to-run SD {sd:.1%} over {df + 1} "
        f"earlier runs), floor {floor:.0%} (stored mode: weaker than paired){advice}",
    )


def binomial_tail(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2), exactly (McNemar's exact test on n discordant pairs)."""
    if n == 0:
        return 1.0
    return float(sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n)


def paired_accuracy(
    a_correct: np.ndarray, b_correct: np.ndarray, alpha: float, floor_points: float, what: str = "top-1"
) -> Finding:
    """Same inputs on both sides: exact one-sided McNemar on the discordant pairs (of correctness against the
    labels, or of agreement with the host fp32 model)."""
    n = len(a_correct)
    b = int(np.sum(a_correct & ~b_correct))  # right before, wrong now
    c = int(np.sum(~a_correct & b_correct))
    drop = 100 * (b - c) / n
    half = 100 * 1.96 * math.sqrt(max(b + c - (b - c) ** 2 / n, 0.0)) / n
    p = binomial_tail(b, b + c)
    if p < alpha and drop >= floor_points:
        verdict = Outcome.REGRESSION
    elif drop >= floor_points:
        verdict = Outcome.INCONCLUSIVE
    elif -drop >= floor_points and binomial_tail(c, b + c) < alpha:
        verdict = Outcome.IMPROVEMENT
    else:
        verdict = Outcome.PASS
    return Finding(
        verdict,
        -drop,
        -drop - half,
        -drop + half,
        p,
        f"{what} {-drop:+.2f} pts (95% CI {-drop - half:+.2f}–{-drop + half:+.2f}); {b} inputs now wrong, "
        f"{c} now right of {n}; McNemar p={p:.2g}; floor {floor_points:g} pts",
    )


def memory(a_peaks_mb: list[float], b_peaks_mb: list[float], rel: float, abs_mb: float) -> Finding:
    """Regression if every candidate peak exceeds every baseline peak by the margin."""
    margin = max(rel * max(a_peaks_mb), abs_mb)
    worst_a, best_b = max(a_peaks_mb), min(b_peaks_mb)
    ratio = best_b / worst_a if worst_a else 1.0
    verdict = (
        Outcome.REGRESSION
        if best_b > worst_a + margin
        else Outcome.IMPROVEMENT
        if best_b + margin < min(a_peaks_mb)
        else Outcome.PASS
    )
    return Finding(
        verdict,
        ratio,
        None,
        None,
        None,
        f"peak {best_b:.1f} MB vs {worst_a:.1f} MB (margin {margin:.1f} MB = max({rel:.0%}, {abs_mb:g} MB))",
    )


def size(a_bytes: int, b_bytes: int, rel: float) -> Finding:
    """Deterministic: any growth past the threshold."""
    ratio = b_bytes / a_bytes if a_bytes else 1.0
    verdict = Outcome.REGRESSION if ratio > 1 + rel else Outcome.IMPROVEMENT if ratio < 1 - rel else Outcome.PASS
    return Finding(
        verdict, ratio, None, None, None, f"{b_bytes:,} vs {a_bytes:,} bytes ({ratio - 1:+.1%}, threshold {rel:.0%})"
    )
