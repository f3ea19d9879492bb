"""One self-contained HTML file: tables and inline SVG plots, no script, no external reference."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime

from edgebench import __version__
from edgebench.report import ops, plots, tune_view
from edgebench.report.analysis import ComparisonRow, Recommendation, device_matrix
from edgebench.report.comparison import (
    HEADERS,
    LEGEND,
    MATRIX_NOTE,
    cells,
    contended_notes,
    cpu_features_notes,
    groups,
    matrix_cells,
    row_notes,
)
from edgebench.report.plots import Keyed
from edgebench.tune.front import RunFront
from edgebench_records import Status

# The page uses the window's width: tables keep their natural width, plots stretch to the full line.
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { font-size: 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:nth-child(-n+3), td:nth-child(-n+3) { text-align: left; } td.key { font-weight: bold; color: #555; }
tr.failed td { color: #b00; } tr.contended td { background: #fff6e0; }
table.ops th, table.ops td { text-align: right; } table.ops :is(th, td):first-child { text-align: left; }
p.legend { font-size: 0.85em; color: #555; }
.ship { background: #eef7ee; padding: 0.6em 1em; border-left: 4px solid #393; }
figure { margin: 1.5em 0; } figure svg { display: block; width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #555; }
"""


def _table(members: list[Keyed]) -> str:
    """A "#" column first: the number the plots use for the cell."""
    head = "<th>#</th>" + "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
    body = "".join(
        f"<tr class='{_row_class(row)}'><td class='key'>{number}</td>"
        + "".join(f"<td>{html.escape(c)}</td>" for c in cells(row))
        + "</tr>"
        for number, row in members
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _row_class(row: ComparisonRow) -> str:
    return ("ok" if row.status == Status.OK else "failed") + (" contended" if row.contended else "")


def keyed_groups(rows: list[ComparisonRow]) -> list[tuple[str, list[Keyed]]]:
    """The tables of one device, fp32 first in each, every cell numbered in reading order."""
    out: list[tuple[str, list[Keyed]]] = []
    number = 0
    for title, members in groups(rows):
        ordered = sorted(members, key=lambda r: not r.baseline)  # stable: the rest keep their order
        out.append((title, [(number := number + 1, row) for row in ordered]))
    return out


def _not_plotted(keyed: list[Keyed]) -> str:
    missing = [(n, r) for n, r in keyed if not (r.ok and r.top1 is not None)]
    if not missing:
        return ""
    listed = "; ".join(f"#{n} {r.variant} · {r.delegate}: {r.top1_note if r.ok else r.status}" for n, r in missing)
    return f"<figcaption>Not in this plot (no latency or no accuracy): {html.escape(listed)}.</figcaption>"


def _side_by_side(rows: list[ComparisonRow]) -> str:
    """Variant × device, when the report spans devices: how each variant does on each of them."""
    matrix = device_matrix(rows)
    if matrix is None:
        return ""
    head = "<th>variant</th>" + "".join(f"<th>{html.escape(d)}</th>" for d in matrix.devices)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in [v, *matrix_cells(matrix, v)]) + "</tr>"
        for v in matrix.variants
    )
    return (
        f"<h2>Devices side by side</h2><p>{html.escape(MATRIX_NOTE)}.</p>"
        f"<table class='matrix'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _ops_section(found: list[ops.OpsView]) -> str:
    """Op types per variant, op-time shares where profiled, and placement per cell, one run at a time."""
    parts = []
    for v in found:
        for title, (headers, rows) in ops.section_tables(v):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
            body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
            parts.append(
                f"<h3>{html.escape(title)}</h3>"
                f"<table class='ops'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            )
        parts += [f"<p class='legend'>{html.escape(note)}</p>" for note in v.profile_notes]
    return "<h2>What the variants are made of, and where they ran</h2>" + "".join(parts) if parts else ""


def render(
    rows: list[ComparisonRow],
    history: list[ComparisonRow],
    recommendations: list[Recommendation],
    ops_views: list[ops.OpsView] | None = None,
    cpu_notes: Sequence[str] = (),
    tunes: Sequence[RunFront] = (),
) -> str:
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>edgebench report</title>"
        f"<style>{STYLE}</style></head><body><h1>edgebench report</h1>"
        f"<p>Made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by edgebench {__version__}.</p>"
    ]
    for rec in recommendations:
        parts.append(
            f"<p class='ship'><strong>Ship on {html.escape(rec.device)}:</strong> {html.escape(rec.reason)}</p>"
        )
    parts += [tune_view.html_section(front, f"tune{index}") for index, front in enumerate(tunes, 1)]
    parts.append(_side_by_side(rows))
    parts += [f"<p class='legend'>{html.escape(note)}</p>" for note in cpu_features_notes(cpu_notes)]
    for index, device in enumerate(sorted({r.device for r in rows}), 1):
        tables = keyed_groups([r for r in rows if r.device == device])
        keyed = [k for _, members in tables for k in members]
        colours = plots.palette(r for _, r in keyed)
        parts.append(f"<h2>{html.escape(device)}</h2>")
        for title, members in tables:
            parts.append(f"<h3>{html.escape(title)}</h3>{_table(members)}")
        shown = [r for _, r in keyed]
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in contended_notes(shown) + row_notes(shown))
        parts.append(
            f"<p class='legend'>{html.escape(LEGEND)}.</p>" + (f"<ul class='contended'>{notes}</ul>" if notes else "")
        )
        figures = {
            "accuracy": plots.accuracy_vs_latency(keyed, colours),
            "distribution": plots.latency_distribution(keyed, colours),
            "speedup": plots.speedup(keyed, colours),
            "coverage": plots.coverage(keyed, colours),
            "over-time": plots.over_time([r for r in history if r.device == device], keyed, colours),
        }
        for name, svg in figures.items():
            caption = _not_plotted(keyed) if name == "accuracy" else ""
            parts.append(f"<figure>{plots.scope_ids(svg, f'd{index}-{name}')}{caption}</figure>")
    parts.append(_ops_section(ops_views or []))
    parts.append("</body></html>")
    return "\n".join(parts)
