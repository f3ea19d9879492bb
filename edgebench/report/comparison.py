"""The comparison table per device × delegate, for the terminal, as Markdown (CI job summaries) and as the
JSON of ``report --json``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from itertools import groupby

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgebench.report import ops
from edgebench.report.analysis import ComparisonRow, DeviceMatrix, Recommendation, device_matrix
from edgebench.report.build import Report
from edgebench.report.marks import (
    CONTENDED,
    CONTENDED_LABEL,
    FIDELITY_LEGEND,
    FIDELITY_MAX_ERROR,
    HEAD_WARNING,
    fidelity,
    head_cell,
)
from edgebench.report.metrics import text
from edgebench_records import Status

HEADERS = (
    "variant",
    "status",
    "top-1 %",
    "Δ pts",
    "agree",
    "worst head",
    "p50 ms",
    "p90 ms",
    "speed-up",
    "load MB",
    "peak MB",
    "KB",
    "gzip KB",
    "size −%",
    "deleg",
    "Pareto",
)


LEGEND = (
    f"{FIDELITY_LEGEND} · speed-up: fp32's time over the cell's (block by block when timed together), 95 % "
    "interval in brackets; ≈ same: the interval spans 1 · ⚠: measured under contention, timing not to be "
    "trusted · no labels: the input set has no labels, "
    f"so no top-1 · {HEAD_WARNING}: worst head past {FIDELITY_MAX_ERROR:.0%} of its spread"
)


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def cells(row: ComparisonRow) -> list[str]:
    delegated = (
        _fmt(row.coverage and 100 * row.coverage, ".0f") + "%"
        if row.coverage is not None
        else ({True: "full", False: "partial", None: "—"}[row.fully_accelerated])
    )
    top1 = row.top1_note if row.top1 is None and row.top1_note else _fmt(row.top1 and 100 * row.top1, ".1f")
    return [
        row.variant,
        f"{row.status} {CONTENDED}" if row.contended else row.status,
        top1,
        _fmt(row.top1_drop_points and -row.top1_drop_points, "+.1f"),
        fidelity(row.fp32_agreement, row.worst_output_cosine),
        head_cell(row.worst_head, row.worst_head_error, row.head_warning),
        text(row, "p50_ms"),
        text(row, "p90_ms"),
        text(row, "speedup"),
        text(row, "load_delta_mb"),
        text(row, "model_peak_mb"),
        text(row, "size_kb"),
        text(row, "gzip_kb"),
        _fmt(row.size_reduction and 100 * row.size_reduction, ".0f"),
        delegated,
        "★" if row.pareto else "",
    ]


def groups(rows: list[ComparisonRow]) -> Iterator[tuple[str, list[ComparisonRow]]]:
    """One table per run × delegate × API × threads, in a stable order."""

    def key(r: ComparisonRow) -> tuple[str, str, str, str, int]:
        return r.device, r.run_id, r.delegate, r.api, r.threads

    for (device, run_id, delegate, api, threads), members in groupby(sorted(rows, key=key), key=key):
        yield f"{device} · {delegate} · {api} · {threads} thr — run {run_id}", list(members)


MATRIX_NOTE = (
    "fastest ok configuration of each variant per device: p50 · top-1 (delegate); ★ fastest on that device;"
    " ⚠ measured under contention"
)


def matrix_cells(matrix: DeviceMatrix, variant: str) -> list[str]:
    out = []
    for device in matrix.devices:
        entry = matrix.entries.get((variant, device))
        if entry is None:
            out.append("—")
            continue
        row = entry.row
        top1 = f" · {100 * row.top1:.1f} %" if row.top1 is not None else f" · {row.top1_note}" if row.top1_note else ""
        contended = f" {CONTENDED}" if row.contended else ""
        out.append(f"{row.p50_ms:.3f} ms{top1} ({row.delegate}){contended}{' ★' if entry.best_on_device else ''}")
    return out


def contended_notes(rows: list[ComparisonRow]) -> list[str]:
    """One line per cell measured under contention, with the noise guard's reasons."""
    return [
        f"{CONTENDED} {r.device} × {r.variant} × {r.delegate} × {r.api} × {r.threads}t {CONTENDED_LABEL}: "
        f"{r.noise or 'flagged by the noise guard'}"
        + ("; every speed-up in this configuration is against its p50" if r.baseline else "")
        for r in rows
        if r.contended
    ]


def row_notes(rows: list[ComparisonRow]) -> list[str]:
    """What the cells cannot say, once each: why top-1 reads "not scored" on a device, which devices were
    emulated, the converter's warnings on a variant (the accuracy it lost on the host, and what to try) and its
    worst int8 layers against fp32."""
    seen = dict.fromkeys((r.device, r.labels_note) for r in rows if r.labels_note)
    emulated = dict.fromkeys((r.device, r.emulated) for r in rows if r.emulated)
    warned = dict.fromkeys((r.variant, r.warning) for r in rows if r.warning)
    heads = dict.fromkeys((r.variant, r.head_warning) for r in rows if r.head_warning)
    layers = dict.fromkeys((r.variant, r.worst_layers) for r in rows if r.worst_layers)
    return (
        [f"{HEAD_WARNING} {variant}: {warning}" for variant, warning in heads]
        + [f"top-1 not scored on {device}: {note}" for device, note in seen]
        + [f"{device} is emulated: {why}" for device, why in emulated]
        + [f"warning on {variant}: {warning}" for variant, warning in warned]
        + [f"{variant}: {line}" for variant, line in layers]
        + [f"{r.device} × {r.variant} × {r.delegate} × {r.api} × {r.threads}t {r.culprit}" for r in rows if r.culprit]
    )


def cpu_features_notes(cpu_notes: Sequence[str]) -> list[str]:
    """The report's runs measured on CPUs with different kernel-deciding features (cpu_features.across_runs)."""
    return [f"CPU features differ: {note}" for note in cpu_notes]


def render(
    rows: list[ComparisonRow], recommendations: list[Recommendation], console: Console, cpu_notes: Sequence[str] = ()
) -> None:
    for title, members in groups(rows):
        table = Table(title=title, title_justify="left")
        for header in HEADERS:
            table.add_column(header, justify="left" if header in ("variant", "status") else "right", no_wrap=True)
        for row in members:
            table.add_row(*cells(row), style=None if row.status == Status.OK else "red")
        console.print(table)
    console.print(LEGEND, style="dim", highlight=False)
    matrix = device_matrix(rows)
    if matrix:
        table = Table(title="devices side by side", title_justify="left", caption=MATRIX_NOTE)
        for header in ["variant", *matrix.devices]:
            table.add_column(header, justify="left" if header == "variant" else "right", no_wrap=True)
        for variant in matrix.variants:
            table.add_row(variant, *matrix_cells(matrix, variant))
        console.print(table)
    for row in rows:
        if row.why:
            console.print(f"[cyan]why slower on {row.device} × {row.delegate}[/]: {row.why}")
    for note in contended_notes(rows):
        console.print(f"[yellow]{escape(note)}[/]", highlight=False)
    for note in [*row_notes(rows), *cpu_features_notes(cpu_notes)]:
        console.print(note, markup=False, highlight=False)
    for rec in recommendations:
        console.print(f"[bold]Ship on {rec.device}:[/] {rec.reason}")


def markdown(rows: list[ComparisonRow], recommendations: list[Recommendation], cpu_notes: Sequence[str] = ()) -> str:
    lines = ["# edgebench report", ""]
    for rec in recommendations:
        lines.append(f"- **Ship on {rec.device}:** {rec.reason}")
    for row in rows:
        if row.why:
            lines.append(f"- why slower on {row.device} × {row.delegate}: {row.why}")
    lines += [f"- {note}" for note in contended_notes(rows) + row_notes(rows) + cpu_features_notes(cpu_notes)]
    for title, members in groups(rows):
        lines += [
            "",
            f"## {title}",
            "",
            "| " + " | ".join(HEADERS) + " |",
            "|" + "|".join("---" if h in ("variant", "status") else "---:" for h in HEADERS) + "|",
        ]
        lines += ["| " + " | ".join(cells(row)) + " |" for row in members]
    lines += ["", LEGEND]
    matrix = device_matrix(rows)
    if matrix:
        lines += ["", "## Devices side by side", "", MATRIX_NOTE, ""]
        lines += ["| variant | " + " | ".join(matrix.devices) + " |", "|---|" + "---:|" * len(matrix.devices)]
        lines += ["| " + " | ".join([v, *matrix_cells(matrix, v)]) + " |" for v in matrix.variants]
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> dict[str, object]:
    return {
        "runs": report.run_ids,
        "rows": [row_json(r) for r in report.rows],
        "devices_side_by_side": matrix_json(device_matrix(report.rows)),
        "ops": ops.as_json(report.ops),
        "cpu_features_differ": report.cpu_notes,
        "recommendations": [
            {
                "device": r.device,
                "variant": r.row.variant if r.row else None,
                "delegate": r.row.delegate if r.row else None,
                "reason": r.reason,
            }
            for r in report.recommendations
        ],
    }


def row_json(row: ComparisonRow) -> dict[str, object]:
    """A row without its raw samples; the speed-up as its ratio, interval, verdict and the words the tables
    print (``"≈ same (0.90–2.80×)"``)."""
    out = {k: v for k, v in asdict(row).items() if k != "samples_ms"}
    if row.speedup is not None:
        out["speedup"] = asdict(row.speedup) | {"text": row.speedup.text()}
    return out


def matrix_json(matrix: DeviceMatrix | None) -> list[dict[str, object]] | None:
    """One object per variant × device: the fastest ok configuration there, and whether it is the device's best."""
    if matrix is None:
        return None
    return [
        {
            "variant": variant,
            "device": device,
            "delegate": entry.row.delegate,
            "api": entry.row.api,
            "threads": entry.row.threads,
            "p50_ms": entry.row.p50_ms,
            "top1": entry.row.top1,
            "best_on_device": entry.best_on_device,
        }
        for (variant, device), entry in matrix.entries.items()
    ]
