"""`edgebench gate`: a regression must be real (significant and past the floor) to fail the release."""

from __future__ import annotations

import math

import numpy as np
import pytest

from device_runner.intervals import hodges_lehmann
from edgebench.cli import invoke
from edgebench.gate import stats
from edgebench.gate.policy import MIN_HISTORY

RNG = np.random.default_rng(7)


def lognormal(n: int, scale: float = 1.0, sigma: float = 0.05) -> np.ndarray:
    return scale * RNG.lognormal(0.0, sigma, n)


def test_hodges_lehmann_is_the_median_of_walsh_averages() -> None:
    assert hodges_lehmann(np.array([1.0, 2.0, 3.0])) == 2.0  # 1, 1.5, 2, 2, 2.5, 3
    assert hodges_lehmann(np.array([0.0, 0.0, 10.0])) == 2.5  # 0, 0, 0, 5, 5, 10


def history(runs: int, sd: float) -> list[float]:
    """ln p50 of ``runs`` earlier runs of a cell, one run differing from the next by ``sd`` (exactly)."""
    values = RNG.normal(0.0, 1.0, runs)
    return list((values - values.mean()) / values.std(ddof=1) * sd)


QUIET = history(10, 0.005)  # a quiet device: runs of one file within half a percent of each other


def test_stored_latency_calls_a_real_slowdown_and_passes_noise() -> None:
    base = lognormal(400)
    assert stats.stored_latency(base, lognormal(400), 0.05, QUIET).verdict == stats.Outcome.PASS
    slow = stats.stored_latency(base, lognormal(400, 1.3), 0.05, QUIET)
    assert slow.verdict == stats.Outcome.REGRESSION and slow.low is not None and slow.low >= 1.05
    assert stats.stored_latency(base, lognormal(400, 0.7), 0.05, QUIET).verdict == stats.Outcome.IMPROVEMENT
    noisy = stats.stored_latency(lognormal(400, sigma=0.6), lognormal(400, 1.06, sigma=0.6), 0.05, QUIET)
    assert noisy.verdict == stats.Outcome.INCONCLUSIVE and "more runs in the history" in noisy.detail
    assert stats.stored_latency(base[:50], base[:50], 0.05, QUIET).verdict == stats.Outcome.INCONCLUSIVE


def test_stored_latency_with_too_little_history_is_inconclusive_saying_what_would_decide_it() -> None:
    base = lognormal(400)
    found = stats.stored_latency(base, lognormal(400, 1.4), 0.05, QUIET[:2])
    assert found.verdict == stats.Outcome.INCONCLUSIVE and found.low is None
    assert f"{MIN_HISTORY - 2} more runs of this cell in the history, or gate in paired mode" in found.detail
    assert "2 earlier runs" in found.detail and f"{found.estimate:.3f}" in found.detail


def test_the_stored_interval_carries_the_spread_between_runs() -> None:
    base, slower = lognormal(400), lognormal(400, 1.15)
    quiet = stats.stored_latency(base, slower, 0.05, QUIET)
    spread = stats.stored_latency(base, slower, 0.05, history(10, 0.05))  # runs 5 % apart
    assert quiet.verdict == stats.Outcome.REGRESSION
    assert spread.verdict == stats.Outcome.INCONCLUSIVE  # 15 % slower, but one run to the next moves 5 %
    assert quiet.low and quiet.high and spread.low and spread.high
    assert spread.low < quiet.low and spread.high > quiet.high
    # t(9) x 5 % x sqrt(2) = 0.16 in ln: the interval is at least that wide on each side
    assert math.log(spread.high / spread.estimate) >= 2.262 * 0.05 * math.sqrt(2)
    assert "run-to-run SD 5.0% over 10 earlier runs" in spread.detail


def test_paired_latency_uses_blocks_and_needs_enough_of_them() -> None:
    a = [lognormal(10) for _ in range(20)]
    same = stats.paired_latency(a, [lognormal(10) for _ in range(20)], alpha=0.005, floor=0.05)
    assert same.verdict == stats.Outcome.PASS
    slower = stats.paired_latency(a, [lognormal(10, 1.10) for _ in range(20)], alpha=0.005, floor=0.05)
    assert slower.verdict == stats.Outcome.REGRESSION and slower.p_value is not None and slower.p_value < 0.005
    small = stats.paired_latency(a, [lognormal(10, 1.03) for _ in range(20)], alpha=0.005, floor=0.05)
    assert small.verdict == stats.Outcome.PASS  # real but below the floor: not worth failing a release
    assert stats.paired_latency(a[:4], a[:4], alpha=0.005, floor=0.05).verdict == stats.Outcome.INCONCLUSIVE


def test_paired_accuracy_is_an_exact_mcnemar_on_the_inputs_that_changed() -> None:
    before = np.ones(1000, dtype=bool)
    after = before.copy()
    after[:20] = False  # 20 inputs now wrong, none now right: p = 2^-20
    found = stats.paired_accuracy(before, after, alpha=0.005, floor_points=0.5)
    assert found.verdict == stats.Outcome.REGRESSION and found.estimate == pytest.approx(-2.0)
    assert found.p_value == pytest.approx(2.0**-20)
    after[:20] = True
    after[:3] = False  # -0.3 points: below the floor
    assert stats.paired_accuracy(before, after, alpha=0.005, floor_points=0.5).verdict == stats.Outcome.PASS
    assert stats.binomial_tail(20, 22) == pytest.approx((231 + 22 + 1) / 2**22)  # C(22,20)+C(22,21)+C(22,22)


def test_memory_and_size_thresholds() -> None:
    assert stats.memory([50.0], [70.0], rel=0.02, abs_mb=16).verdict == stats.Outcome.REGRESSION  # +20 MB > 16 MB
    assert stats.memory([50.0], [60.0], rel=0.02, abs_mb=16).verdict == stats.Outcome.PASS
    assert stats.size(1000, 1011, rel=0.01).verdict == stats.Outcome.REGRESSION
    assert stats.size(1000, 1010, rel=0.01).verdict == stats.Outcome.PASS


def test_paired_and_stored_flags_do_not_mix(capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke(["gate", "--baseline", "latest", "--candidate-model", "x.keras"]) == 2
    assert "paired mode" in capsys.readouterr().err


def test_an_accuracy_drop_past_the_floor_but_not_significant_is_inconclusive() -> None:
    before = np.ones(360, dtype=bool)
    after = before.copy()
    after[:3] = False  # -0.83 points, past the 0.5 floor, but 3 flips: p = 1/8
    found = stats.paired_accuracy(before, after, alpha=0.005, floor_points=0.5)
    assert found.verdict == stats.Outcome.INCONCLUSIVE and found.p_value == pytest.approx(0.125)
