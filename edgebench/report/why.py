"""Why a variant is slower than fp32 (or the given .tflite, in a run without fp32) on the same delegate, API
and threads, said from what was measured and read — node counts and types from the flatbuffer, partitions
and plain-kernel ops from the runtime's placement, FLOPs — never typed by hand. Nothing is said when
nothing was found."""

from __future__ import annotations

from collections import Counter

from edgebench_records import CellResult, Placement, Status, VariantRecord

SLOWER = 1.05  # past the run-to-run noise of one cell: below it "slower" would be noise


def why_slower(
    cell: CellResult, fp32: CellResult | None, variant: VariantRecord | None, fp32_variant: VariantRecord | None
) -> str:
    """ "qat_int8: 42 nodes vs 16 in fp32 (+13 MUL, +13 ADD), 1 xnnpack partition" — or "" when the cell is
    not slower than fp32's, or no figure explains it."""
    if not _slower(cell, fp32):
        return ""
    assert fp32 is not None and cell.timing is not None and fp32.timing is not None
    ratio = (cell.timing.p50_ms or 0.0) / (fp32.timing.p50_ms or 1.0)
    reasons = _node_change(variant, fp32_variant, fp32.variant)
    reasons += _placement_notes(cell.placement, fp32.placement, cell.delegate, fp32.variant)
    reasons += _flops_change(variant, fp32_variant)
    if not reasons:
        return ""
    return f"{cell.variant}: {ratio:.2f}× {fp32.variant}'s p50; " + "; ".join(reasons)


def _slower(cell: CellResult, fp32: CellResult | None) -> bool:
    if fp32 is None or cell.variant == fp32.variant:
        return False
    p50 = cell.timing.p50_ms if cell.status == Status.OK and cell.timing else None
    base = fp32.timing.p50_ms if fp32.status == Status.OK and fp32.timing else None
    return p50 is not None and base is not None and base > 0 and p50 > SLOWER * base


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
    if placement is None or delegate == "cpu":
        return []
    notes = []
    base_partitions = fp32.partitions if fp32 else None
    if placement.partitions > 1 or (base_partitions is not None and placement.partitions != base_partitions):
        notes.append(f"{placement.partitions} {delegate} partitions ({base}: {base_partitions if fp32 else '?'})")
    plain = Counter(placement.on_plain_kernels())
    if plain:
        listed = ", ".join(f"{n} {op}" for op, n in plain.most_common(3))
        count = sum(plain.values())
        notes.append(f"{count} op{'s' if count != 1 else ''} on plain kernels ({listed})")
    return notes


def _flops_change(variant: VariantRecord | None, fp32: VariantRecord | None) -> list[str]:
    if not (variant and fp32 and variant.figures and fp32.figures and fp32.figures.flops):
        return []
    ours, theirs = variant.figures.flops, fp32.figures.flops
    if abs(ours - theirs) <= 0.1 * theirs:
        return []
    return [f"{ours / 1e6:.2f} MFLOPs vs {theirs / 1e6:.2f}"]
