"""scripts/bench_compression.py's table and target checks, on made-up results (no conversion, no TensorFlow)."""

from __future__ import annotations

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

from bench_compression import Result, int8_check, mixed_check, pruned_check, table


def result(variant: str, top1: float | None, p50_ms: float | None, gzip_bytes: int | None) -> Result:
    status = "ok" if gzip_bytes else "not_applicable"
    return Result(variant, status, top1, "device", p50_ms, None if gzip_bytes is None else 2 * gzip_bytes, gzip_bytes)


FP32 = result("fp32", 0.99, 0.100, 100_000)


def test_the_best_int8_variant_is_the_smallest_download_within_the_accuracy_limit() -> None:
    results = [
        FP32,
        result("int8", 0.99, 0.05, 30_000),
        result("channel_pruned_int8", 0.95, 0.03, 10_000),  # smallest, but 4 points down: not eligible
        result("pcqat_int8", 0.980, 0.05, 19_000),  # 1.0 point down, 5.26× smaller
        result("pruned", 0.99, 0.1, 15_000),  # smaller, but not an int8 variant
    ]
    check = int8_check(results)
    assert check.passed
    assert check.figures == "pcqat_int8: -1.0 pts, gzip 5.26× smaller, p50 0.50× fp32's"


def test_int8_fails_when_no_int8_variant_is_accurate_enough_and_says_what_they_lost() -> None:
    check = int8_check([FP32, result("int8", 0.97, 0.05, 30_000)])
    assert not check.passed
    assert check.figures.startswith("no int8 variant within 1.5 points (int8: -2.0 pts")


def test_channel_pruned_must_be_both_fast_and_accurate() -> None:
    assert pruned_check([FP32, result("channel_pruned", 0.985, 0.069, 40_000)]).passed
    assert not pruned_check([FP32, result("channel_pruned", 0.975, 0.050, 40_000)]).passed  # -1.5 points
    assert not pruned_check([FP32, result("channel_pruned", 0.99, 0.071, 40_000)]).passed  # 0.71× fp32's p50
    assert pruned_check([FP32]).figures == "no channel_pruned variant"


def test_a_speed_up_is_taken_within_each_round_then_the_median_of_those() -> None:
    # the machine slowed down for fp32 in round 2 and for channel_pruned in round 3: within a round the ratio holds
    base = Result("fp32", "ok", 0.99, "device", 0.050, 2, 1, round_p50s=(0.050, 0.060, 0.050))
    pruned = Result("channel_pruned", "ok", 0.99, "device", 0.036, 2, 1, round_p50s=(0.030, 0.036, 0.040))
    assert pruned_check([base, pruned]).passed
    assert pruned_check([base, pruned]).figures.endswith("p50 0.60× fp32's")  # the medians apart: 0.72×


def test_table_rows_show_drop_speed_up_and_reduction_against_fp32_and_dashes_for_what_was_not_made() -> None:
    lines = table("example", [FP32, result("int8", 0.98, 0.05, 25_000), result("distilled", None, None, None)])
    assert lines[0] == (
        "**example** — top-1 from the device results; p50 under XNNPACK, 1 thread; "
        "0 cells measured while other processes were busy (edgebench's noise guard)"
    )
    assert lines[4] == "| fp32 | ok | 99.0 | +0.0 | 0.1000 | 1.00× | 200,000 | 100,000 | 1.00× |"
    assert lines[5] == "| int8 | ok | 98.0 | -1.0 | 0.0500 | 2.00× | 50,000 | 25,000 | 4.00× |"
    assert lines[6] == "| distilled | not_applicable | — | — | — | — | — | — | — |"


def test_mixed_passes_when_it_wins_back_half_of_int8_s_drop_at_a_size_near_int8_s() -> None:
    results = [FP32, result("int8", 0.90, 0.05, 30_000), result("mixed_int8", 0.96, 0.06, 33_000)]
    check = mixed_check(results)
    assert check.passed
    assert (
        check.figures
        == "int8 -9.0 pts, mixed_int8 -3.0 pts: 67% of the drop recovered at 1.10× int8's size; p50 1.20× int8's"
    )


def test_mixed_fails_on_a_model_int8_does_not_hurt_or_when_it_is_too_large() -> None:
    assert not mixed_check([FP32, result("int8", 0.985, 0.05, 30_000), result("mixed_int8", 0.99, 0.05, 30_000)]).passed
    assert not mixed_check([FP32, result("int8", 0.90, 0.05, 30_000), result("mixed_int8", 0.99, 0.05, 40_000)]).passed
