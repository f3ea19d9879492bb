"""The run table: one row per cell of a run just measured, joined with the variant's conversion figures."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgebench.report import marks
from edgebench.report.metrics import METRICS, measured, read, row_fields, text
from edgebench.report.speedup import Speedup
from edgebench_records import CellResult, Manifest, Status


@dataclass(frozen=True)
class Row:
    """A cell of a run just measured; each field is the metric of that name (report/metrics.py), and the
    row's JSON (``run --json``) is its fields."""

    variant: str
    delegate: str
    api: str
    threads: int
    status: str
    p50_ms: float | None
    p90_ms: float | None
    init_ms: float | None
    peak_rss_mb: float | None  # the process's: in the JSON, not the table
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
    worst_head: str = ""  # the output furthest from the host fp32 model (marks.worst_head)
    worst_head_error: float | None = None  # its RMS error as a share of its spread
    head_warning: str = ""  # one line when that is past marks.FIDELITY_MAX_ERROR
    culprit: str = ""  # the op that broke a wrong_output cell, when --find-culprits searched (also in its message)
    speedup: Speedup | None = None  # fp32's time over this one's, with its 95 % interval (paired when interleaved)
    load_delta_mb: float | None = None  # the model's own memory, as the table shows it (report/metrics.py)
    model_peak_mb: float | None = None


# The run table's columns, in order: each one's header, alignment and print come from its metric.
COLUMNS = (
    "variant",
    "delegate",
    "api",
    "threads",
    "status",
    "p50_ms",
    "speedup",
    "p90_ms",
    "init_ms",
    "load_delta_mb",
    "model_peak_mb",
    "top1",
    "fp32_agreement",
    "worst_head",
    "coverage",
    "size_kb",
    "gzip_kb",
)


def rows(cells: list[CellResult], manifest: Manifest) -> list[Row]:
    """One row per cell, in the order given, each field read through its metric."""
    fields = row_fields(Row)
    return [Row(**read(m, fields)) for m in measured(cells, manifest)]


def _cell(row: Row, name: str) -> str:
    if name == "status":
        return _status(row)
    if name == "worst_head":
        return marks.head_cell(row.worst_head, row.worst_head_error, row.head_warning)
    return text(row, name)


def _status(row: Row) -> str:
    status = row.status if row.status == Status.OK else f"[bold red]{row.status}[/]"
    return f"{status} [bold yellow]{marks.CONTENDED}[/]" if row.contended else status


def render(table_rows: list[Row], title: str, console: Console) -> None:
    table = Table(
        title=title,
        caption=f"{marks.FIDELITY_LEGEND} · deleg: nodes delegated"
        f" · {marks.CONTENDED}: {marks.CONTENDED_LABEL}, timing not to be trusted"
        f" · {marks.NO_LABELS}: the input set has no labels, so no top-1"
        f" · {marks.HEAD_WARNING}: worst head past {marks.FIDELITY_MAX_ERROR:.0%} of its spread",
    )
    for name in COLUMNS:
        metric = METRICS[name]
        table.add_column(metric.header, justify="left" if metric.left else "right", no_wrap=True)
    for row in table_rows:
        table.add_row(*(_cell(row, name) for name in COLUMNS))
    console.print(table)
    for row in table_rows:
        if row.status != Status.OK:
            console.print(
                f"[red]{row.variant} × {row.delegate} × {row.api}[/]: {row.status}: {row.message.splitlines()[0]}"
            )
    for row in table_rows:
        if row.head_warning:
            where = f"{marks.HEAD_WARNING} {row.variant} × {row.delegate} × {row.api}"
            console.print(f"[bold yellow]{where}[/]: {escape(row.head_warning)}")
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
