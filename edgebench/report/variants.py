"""The conversion table (the seeds' comparison): accuracy, size and gzip size, each against fp32 (or, for a
.tflite source, against the given file, which every variant is then made from)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgebench.report import marks
from edgebench_records import Manifest, VariantRecord, VariantState


@dataclass(frozen=True)
class VariantRow:
    variant: str
    status: str
    top1: float | None
    top1_delta_points: float | None  # against fp32, in percentage points
    fp32_agreement: float | None
    size_kb: float | None
    size_ratio: float | None  # variant / fp32
    gzip_kb: float | None
    gzip_ratio: float | None
    sparsity: float | None
    max_unique_weights: int | None
    params: int | None  # stored weight elements, all dtypes
    mflops: float | None  # per inference, from the flatbuffer (2 × MACs + element-wise)
    nodes: int | None
    finetune_s: float | None
    message: str
    worst_output_cosine: float | None = None  # fidelity where top-1 agreement does not apply (marks.py)
    notes: tuple[str, ...] = ()  # how it was made (repairs, warnings), and a host that could not run it


def baseline(manifest: Manifest) -> VariantRecord | None:
    """What the ratios divide by: fp32 when it was made, else the given .tflite."""
    made = [manifest.variant(name) for name in ("fp32", "given")]
    return next((v for v in made if v is not None and v.status == VariantState.OK), None)


def rows(manifest: Manifest) -> list[VariantRow]:
    base = baseline(manifest)
    out = []
    for v in manifest.variants:

        def ratio(value: int | None, reference: int | None) -> float | None:
            return value / reference if value is not None and reference else None

        delta = (
            100 * (v.host_top1 - base.host_top1)
            if base and v.host_top1 is not None and base.host_top1 is not None
            else None
        )
        out.append(
            VariantRow(
                variant=v.name,
                status=v.status,
                top1=v.host_top1,
                top1_delta_points=delta,
                fp32_agreement=v.host_fp32_agreement,
                size_kb=v.size_bytes / 1024 if v.size_bytes is not None else None,
                size_ratio=ratio(v.size_bytes, base.size_bytes if base else None),
                gzip_kb=v.gzip_bytes / 1024 if v.gzip_bytes is not None else None,
                gzip_ratio=ratio(v.gzip_bytes, base.gzip_bytes if base else None),
                sparsity=v.sparsity,
                max_unique_weights=v.max_unique_weights,
                params=v.figures.total_params if v.figures else None,
                mflops=v.figures.flops / 1e6 if v.figures else None,
                nodes=sum(v.figures.ops.values()) if v.figures else None,
                finetune_s=v.finetune_s,
                message=v.message,
                worst_output_cosine=marks.worst_output_cosine(v.host_accuracy),
                notes=tuple(v.notes)
                + ((f"host reference {v.host_reference}",) if v.host_reference.startswith("unavailable") else ())
                + ((v.layer_error_line(),) if v.layer_error_line() else ()),
            )
        )
    return out


def _fmt(value: float | int | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def data_notes(manifest: Manifest) -> list[str]:
    return list(manifest.data_notes)  # e.g. synthetic inputs, calibration on the validation inputs


def render(table_rows: list[VariantRow], title: str, console: Console, notes: list[str] | None = None) -> None:
    base = "the given file" if not any(r.variant == "fp32" and r.size_kb for r in table_rows) else "fp32"
    table = Table(
        title=title,
        caption=f"× columns: ratio to {base} · Δ: top-1 change in points · agree: with {base}, %; "
        "cos: worst output's cosine similarity where no output is a class distribution",
    )
    for name in (
        "variant",
        "status",
        "top-1",
        "Δ pts",
        "agree",
        "KB",
        "×",
        "gzip KB",
        "×",
        "sparsity",
        "max uniq",
        "params",
        "MFLOPs",
        "nodes",
        "tune s",
    ):
        table.add_column(name, justify="left" if name in ("variant", "status") else "right", no_wrap=True)
    for row in table_rows:
        status = row.status if row.status == VariantState.OK else f"[bold red]{row.status}[/]"
        table.add_row(
            row.variant,
            status,
            _fmt(row.top1 and 100 * row.top1, ".1f"),
            _fmt(row.top1_delta_points, "+.1f"),
            marks.fidelity(row.fp32_agreement, row.worst_output_cosine),
            _fmt(row.size_kb, ".1f"),
            _fmt(row.size_ratio, ".2f"),
            _fmt(row.gzip_kb, ".1f"),
            _fmt(row.gzip_ratio, ".2f"),
            _fmt(row.sparsity, ".2f"),
            _fmt(row.max_unique_weights, "d"),
            _fmt(row.params, ",d"),
            _fmt(row.mflops, ".2f"),
            _fmt(row.nodes, "d"),
            _fmt(row.finetune_s, ".1f"),
        )
    console.print(table)
    for note in notes or []:
        console.print(note, markup=False, highlight=False)
    for row in table_rows:
        if row.status != VariantState.OK:
            console.print(f"[red]{row.variant}[/]: {row.status}: {escape(row.message)}")
        for note in row.notes:
            console.print(f"[cyan]{row.variant}[/]: {escape(note)}", highlight=False)


def as_json(table_rows: list[VariantRow]) -> list[dict[str, Any]]:
    return [asdict(row) for row in table_rows]
