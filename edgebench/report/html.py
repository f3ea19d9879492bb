"""One self-contained HTML file: tables and inline SVG plots, no script, no external reference."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from device_runner.schema import Status
from edgebench import __version__
from edgebench.report import plots
from edgebench.report.analysis import ComparisonRow, Recommendation
from edgebench.report.comparison import HEADERS, cells, groups

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { font-size: 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child, td:nth-child(2) { text-align: left; }
tr.failed td { color: #b00; } .ship { background: #eef7ee; padding: 0.6em 1em; border-left: 4px solid #393; }
figure { margin: 1em 0; } svg { max-width: 100%; height: auto; }
"""


def _table(members: list[ComparisonRow]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
    body = "".join(
        f"<tr class='{'ok' if row.status == Status.OK else 'failed'}'>"
        + "".join(f"<td>{html.escape(c)}</td>" for c in cells(row))
        + "</tr>"
        for row in members
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(rows: list[ComparisonRow], history: list[ComparisonRow], recommendations: list[Recommendation]) -> str:
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>edgebench report</title>"
        f"<style>{STYLE}</style></head><body><h1>edgebench report</h1>"
        f"<p>Made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by edgebench {__version__}.</p>"
    ]
    for rec in recommendations:
        parts.append(
            f"<p class='ship'><strong>Ship on {html.escape(rec.device)}:</strong> {html.escape(rec.reason)}</p>"
        )
    for device in sorted({r.device for r in rows}):
        mine = [r for r in rows if r.device == device]
        parts.append(f"<h2>{html.escape(device)}</h2>")
        for title, members in groups(mine):
            parts.append(f"<h3>{html.escape(title)}</h3>{_table(members)}")
        figures = [
            plots.accuracy_vs_latency(mine),
            plots.latency_distribution(mine),
            plots.coverage(mine),
            plots.over_time([r for r in history if r.device == device]),
        ]
        parts += [f"<figure>{svg}</figure>" for svg in figures]
    parts.append("</body></html>")
    return "\n".join(parts)
