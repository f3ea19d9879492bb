"""What differs where a variant is slower than fp32 (or the given .tflite, in a run without fp32) on the same
delegate, API and threads, said from what was measured and read — node counts and types from the flatbuffer,
partitions and plain-kernel ops from the runtime's placement, FLOPs — never typed by hand.

Two rules keep it from naming a cause the figures do not show: the line appears only when the speed-up's 95 %
interval lies wholly below 1 (the interval report/speedup.py gives every table), and it names only figures
that differ from the baseline's: an op on plain kernels in both cells cannot be why one of them is slower.
Nothing is said when nothing differs."""

from __future__ import annotations

from collections import Counter

from edgebench.report.speedup import Speedup, Verdict, of_cells
from edgebench_records import CellResult, Placement, Status, VariantRecord


def why_slower(
    cell: CellResult, fp32: CellResult | None, variant: VariantRecord | None, fp32_variant: VariantRecord | None
) -> str:
    """ "qat_int8: 2.10× fp32's time (95 % CI 2.02–2.19); 42 nodes vs 16 in fp32 (+13 MUL, +13 ADD)" — or ""
    when the cell is not slower than fp32's beyond doubt, or no figure differs."""
    slower = _slower(cell, fp32)
    if slower is None or slower.low is None or slower.high is None or fp32 is None:
        return ""
    reasons = _node_change(variant, fp32_variant, fp32.variant)
    reasons += _placement_notes(cell.placement, fp32.placement, cell.delegate, fp32.variant)
    reasons += _flops_change(variant, fp32_variant)
    if not reasons:
        return ""
    # The speed-up is fp32's time over the cell's (speedup.py); the line says how many times fp32's time the cell took.
    times = f"{1 / slower.ratio:.2f}× {fp32.variant}'s time (95 % CI {1 / slower.high:.2f}–{1 / slower.low:.2f})"
    return f"{cell.variant}: {times}; " + "; ".join(reasons)


def _slower(cell: CellResult, fp32: CellResult | None) -> Speedup | None:
    """The cell's speed-up over fp32 where its interval lies wholly below 1; None otherwise."""
    if fp32 is None or cell.variant == fp32.variant or cell.status != Status.OK or fp32.status != Status.OK:
        return None
    if cell.timing is None or fp32.timing is None or not cell.timing.p50_ms or not fp32.timing.p50_ms:
        return None
    found = of_cells(cell, fp32)
    return found if found.verdict == Verdict.SLOWER else None


def _node_change(variant: VariantRecord | None, fp32: VariantRecord | None, base: str) -> list[str]:
    if not (variant and fp32 and variant.figures and fp32.figures):
        return []
    ours, theirs = Counter(variant.figures.ops), Counter(fp32.figures.ops)
    if ours == theirs:
        return []
    more = sorted((ours - theirs).items(), key=lambda kv: (-kv[1], kv[0]))
    fewer = sorted((theirs - ours).items(), key=lambda kv: (-kv[1], kv[0]))
    changes = [f"+{n} {op}" for op, n in more[:4]] + [f"−{n} {op}" for op, n in fewer[:2]]
    return [f"{sum(ours.values())} nodes vs {sum(theirs.values())} in {base} ({', '.join(changes)})"]


def _placement_notes(placement: Placement | None, fp32: Placement | None, delegate: str, base: str) -> list[str]:
    """Partitions and plain-kernel ops where they differ from the baseline's; nothing where its placement is
    unknown (what is not known to differ is not said)."""
    if placement is None or fp32 is None or delegate == "cpu":
        return []
    notes = []
    if placement.partitions != fp32.partitions:
        notes.append(f"{placement.partitions} {delegate} partitions ({base}: {fp32.partitions})")
    plain = Counter(placement.on_plain_kernels()) - Counter(fp32.on_plain_kernels())
    if plain:
        listed = ", ".join(f"{n} {op}" for op, n in plain.most_common(3))
        count = sum(plain.values())
        notes.append(f"{count} more op{'s' if count != 1 else ''} on plain kernels than {base} ({listed})")
    return notes


def _flops_change(variant: VariantRecord | None, fp32: VariantRecord | None) -> list[str]:
    if not (variant and fp32 and variant.figures and fp32.figures and fp32.figures.flops):
        return []
    ours, theirs = variant.figures.flops, fp32.figures.flops
    if abs(ours - theirs) <= 0.1 * theirs:
        return []
    return [f"{ours / 1e6:.2f} MFLOPs vs {theirs / 1e6:.2f}"]
