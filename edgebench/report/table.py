"""The comparison table: one row per cell, joined with the variant's conversion figures."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgebench.report import marks
from edgebench.report.analysis import baseline_of
from edgebench.report.why import why_slower
from edgebench_records import CellResult, Manifest, Status


@dataclass(frozen=True)
class Row:
    variant: str
    delegate: str
    api: str
    threads: int
    status: str
    p50_ms: float | None
    p90_ms: float | None
    init_ms: float | None
    peak_rss_mb: float | None
    top1: float | None
    fp32_agreement: float | None
    coverage: float | None
    fully_accelerated: bool | None
    size_kb: float | None
    gzip_kb: float | None
    message: str
    contended: bool | None = None  # the noise guard's flag; None: the runner did not look
    noise: str = ""  # its reasons, one line
    why: str = ""  # why it is slower than fp32 in the same configuration, when a figure says
    top1_note: str = ""  # in top-1's place when it is None: "no labels", "MAE 0.0123", "not scored"
    worst_output_cosine: float | None = None  # fidelity where top-1 agreement does not apply (marks.py)
    emulated: str = ""  # why the device's timings mean nothing (an emulated board), from its facts


def rows(cells: list[CellResult], manifest: Manifest) -> list[Row]:
    variants = {v.name: v for v in manifest.variants}
    base_name = baseline_of(c.variant for c in cells)
    fp32 = {(c.delegate, c.api, c.threads): c for c in cells if c.variant == base_name}
    out = []
    for cell in cells:
        record = variants.get(cell.variant)
        base = fp32.get((cell.delegate, cell.api, cell.threads))
        out.append(
            Row(
                variant=cell.variant,
                delegate=cell.delegate,
                api=cell.api,
                threads=cell.threads,
                status=cell.status,
                p50_ms=cell.timing.p50_ms if cell.timing else None,
                p90_ms=cell.timing.p90_ms if cell.timing else None,
                init_ms=cell.timing.init_ms if cell.timing else None,
                peak_rss_mb=cell.memory.peak_rss_mb if cell.memory else None,
                top1=cell.accuracy.top1 if cell.accuracy else None,
                fp32_agreement=cell.accuracy.fp32_agreement if cell.accuracy else None,
                coverage=cell.coverage.fraction if cell.coverage else None,
                fully_accelerated=cell.fully_accelerated,
                size_kb=record.size_bytes / 1024 if record and record.size_bytes is not None else None,
                gzip_kb=record.gzip_bytes / 1024 if record and record.gzip_bytes is not None else None,
                message=cell.message,
                contended=marks.contended(cell),
                noise=marks.noise(cell),
                why=why_slower(cell, base, record, variants.get(base_name)),
                top1_note=marks.top1_note(cell),
                worst_output_cosine=marks.worst_output_cosine(cell.accuracy),
                emulated=(cell.device.emulated or "") if cell.device else "",
            )
        )
    return out


def _num(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _delegated(row: Row) -> str:
    """Node coverage where the API reports nodes; CompiledModel only says whether it was full."""
    if row.coverage is None and row.fully_accelerated is not None:
        return "full" if row.fully_accelerated else "partial"
    return _pct(row.coverage)


def render(table_rows: list[Row], title: str, console: Console) -> None:
    table = Table(
        title=title,
        caption=f"{marks.FIDELITY_LEGEND} · deleg: nodes delegated"
        f" · {marks.CONTENDED}: {marks.CONTENDED_LABEL}, timing not to be trusted"
        f" · {marks.NO_LABELS}: the input set has no labels, so no top-1",
    )
    for name in (
        "variant",
        "delegate",
        "api",
        "thr",
        "status",
        "p50 ms",
        "p90 ms",
        "init ms",
        "RSS MB",
        "top-1",
        "agree",
        "deleg",
        "KB",
        "gzip KB",
    ):
        table.add_column(
            name, justify="left" if name in ("variant", "delegate", "api", "status") else "right", no_wrap=True
        )
    for row in table_rows:
        status = row.status if row.status == Status.OK else f"[bold red]{row.status}[/]"
        if row.contended:
            status += f" [bold yellow]{marks.CONTENDED}[/]"
        table.add_row(
            row.variant,
            row.delegate,
            row.api,
            str(row.threads),
            status,
            _num(row.p50_ms, 3),
            _num(row.p90_ms, 3),
            _num(row.init_ms, 1),
            _num(row.peak_rss_mb, 1),
            row.top1_note if row.top1 is None and row.top1_note else _pct(row.top1),
            _pct(row.fp32_agreement)
            if row.fp32_agreement is not None
            else marks.fidelity(None, row.worst_output_cosine),
            _delegated(row),
            _num(row.size_kb, 1),
            _num(row.gzip_kb, 1),
        )
    console.print(table)
    for row in table_rows:
        if row.status != Status.OK:
            console.print(
                f"[red]{row.variant} × {row.delegate} × {row.api}[/]: {row.status}: {row.message.splitlines()[0]}"
            )
    for row in table_rows:
        if row.why:
            console.print(f"[cyan]why slower — {row.delegate} × {row.api} × {row.threads}t[/]: {row.why}")
    for why in dict.fromkeys(row.emulated for row in table_rows if row.emulated):
        console.print(f"[bold yellow]emulated device[/]: {escape(why)}")
    for row in table_rows:
        if row.contended:
            console.print(
                f"[yellow]{marks.CONTENDED} {row.variant} × {row.delegate} × {row.api} × {row.threads}t[/]: "
                f"{marks.CONTENDED_LABEL}: {escape(row.noise)}"
            )


def console_for_stdout() -> Console:
    """Rich narrows to 80 columns when stdout is a pipe; a log or CI page has room for the whole table."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def as_json(table_rows: list[Row]) -> list[dict[str, Any]]:
    return [asdict(row) for row in table_rows]
