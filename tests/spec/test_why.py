"""The "why slower" line: only when the speed-up's interval lies below 1, and only figures that differ."""

from __future__ import annotations

import math
import re

from edgebench.report.why import why_slower
from edgebench_records import CellResult, Placement, Status, Timing

DELEGATED = Placement(["CONV_2D", "QUANTIZE", "CONV_2D", "SOFTMAX"], [0, 0, 0, 0])
SPLIT = Placement(["CONV_2D", "QUANTIZE", "CONV_2D", "SOFTMAX"], [0, -1, 1, -1])
SOFTMAX_APART = Placement(["CONV_2D", "QUANTIZE", "CONV_2D", "SOFTMAX"], [0, 0, 0, -1])


def cell(variant: str, scale: float, placement: Placement, *, spread: float = 0.01, runs: int = 100) -> CellResult:
    """A cell whose samples wobble by ``spread`` around ``scale`` ms, in a fixed pattern (no randomness)."""
    samples = [scale * (1 + spread * math.sin(7 * i)) for i in range(runs)]
    p50 = sorted(samples)[runs // 2]
    timing = Timing(1.0, 1.0, 1, samples, p50, p50, p50, p50, 0.0, min(samples), max(samples), 0.0)
    return CellResult("r", variant, "xnnpack", 1, Status.OK, timing=timing, placement=placement)


def test_a_slower_variant_names_its_interval_and_only_the_partitions_and_ops_that_differ() -> None:
    why = why_slower(cell("int8", 2.0, SPLIT), cell("fp32", 1.0, DELEGATED), None, None)
    assert re.fullmatch(
        r"int8: 2\.00× fp32's time \(95 % CI 1\.9\d–2\.0\d\); 2 xnnpack partitions \(fp32: 1\); "
        r"2 more ops on plain kernels than fp32 \(1 QUANTIZE, 1 SOFTMAX\)",
        why,
    ), why
    # SOFTMAX on plain kernels in both cells is not why one of them is slower: only QUANTIZE is named.
    why = why_slower(cell("int8", 2.0, SPLIT), cell("fp32", 1.0, SOFTMAX_APART), None, None)
    assert why.endswith("; 2 xnnpack partitions (fp32: 1); 1 more op on plain kernels than fp32 (1 QUANTIZE)")


def test_nothing_is_said_when_nothing_differs_or_the_interval_does_not_exclude_1() -> None:
    fp32 = cell("fp32", 1.0, SOFTMAX_APART)
    assert why_slower(cell("int8", 2.0, SOFTMAX_APART), fp32, None, None) == ""  # slower, but the same placement
    assert why_slower(cell("int8", 1.02, SPLIT, spread=0.3), cell("fp32", 1.0, DELEGATED, spread=0.3), None, None) == ""
    assert why_slower(cell("int8", 0.5, SPLIT), cell("fp32", 1.0, DELEGATED), None, None) == ""  # faster
    assert why_slower(cell("int8", 2.0, SPLIT, runs=3), cell("fp32", 1.0, DELEGATED, runs=3), None, None) == ""
    assert why_slower(cell("int8", 2.0, SPLIT), cell("fp32", 1.0, DELEGATED), None, None).startswith("int8: ")
