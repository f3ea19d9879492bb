"""The report's plots, drawn with matplotlib as inline SVG: the page needs no script and no network."""

from __future__ import annotations

import io
from datetime import datetime

import matplotlib

matplotlib.use("Agg")  # no display; SVG is written by savefig whatever the backend
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from edgebench.report.analysis import ComparisonRow

matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "edgebench", "font.size": 9})


def _label(row: ComparisonRow) -> str:
    return f"{row.variant} · {row.delegate} · {row.api} · {row.threads}t"


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def latency_distribution(rows: list[ComparisonRow]) -> str:
    measured = [r for r in rows if r.samples_ms]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(measured) + 1.2))
    ax.boxplot(
        [list(r.samples_ms) for r in measured], orientation="horizontal", showfliers=True, flierprops={"markersize": 2}
    )
    ax.set_yticks(range(1, len(measured) + 1), [_label(r) for r in measured])
    ax.set_xscale("log")
    ax.set_xlabel("latency per run, ms (log scale)")
    ax.set_title("Latency distribution per cell")
    return _svg(fig)


def accuracy_vs_latency(rows: list[ComparisonRow]) -> str:
    ok = [r for r in rows if r.ok and r.top1 is not None and r.p50_ms is not None]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    largest = max((r.size_kb or 0.0 for r in ok), default=1.0) or 1.0
    for row in ok:
        ax.scatter(
            row.p50_ms or 0.0,
            100 * (row.top1 or 0.0),
            s=30 + 400 * (row.size_kb or 0.0) / largest,
            alpha=0.5,
            edgecolors="black" if row.pareto else "none",
            linewidths=1.5,
        )
        ax.annotate(
            f"{row.variant}/{row.delegate}",
            (row.p50_ms or 0.0, 100 * (row.top1 or 0.0)),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    front = sorted((r for r in ok if r.pareto), key=lambda r: r.p50_ms or 0.0)
    if front:
        ax.plot(
            [r.p50_ms or 0.0 for r in front],
            [100 * (r.top1 or 0.0) for r in front],
            "k--",
            linewidth=1,
            label="Pareto front (latency, size, accuracy)",
        )
        ax.legend(loc="lower right")
    ax.set_xscale("log")
    ax.set_xlabel("p50 latency, ms (log scale)")
    ax.set_ylabel("top-1 accuracy, %")
    ax.set_title("Accuracy vs latency (marker area ∝ file size; outlined: Pareto-optimal)")
    return _svg(fig)


def over_time(history: list[ComparisonRow]) -> str:
    fig, (latency, accuracy) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
    series: dict[str, list[ComparisonRow]] = {}
    for row in sorted((r for r in history if r.ok), key=lambda r: r.created_at):
        series.setdefault(_label(row), []).append(row)
    for label, points in series.items():
        when = [datetime.fromisoformat(p.created_at) for p in points]
        latency.plot(when, [p.p50_ms or 0.0 for p in points], marker="o", label=label)
        accuracy.plot(when, [100 * (p.top1 or 0.0) for p in points], marker="o", label=label)
    latency.set_ylabel("p50 ms")
    latency.set_title("Latency and accuracy over time")
    accuracy.set_ylabel("top-1 %")
    if series:
        latency.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.autofmt_xdate()
    return _svg(fig)


def coverage(rows: list[ComparisonRow]) -> str:
    shown = [r for r in rows if r.coverage is not None]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(shown) + 1.2))
    ax.barh([_label(r) for r in shown], [100 * (r.coverage or 0.0) for r in shown])
    ax.set_xlim(0, 100)
    ax.set_xlabel("nodes run by the delegate, %")
    ax.set_title("Delegate coverage per variant")
    return _svg(fig)
