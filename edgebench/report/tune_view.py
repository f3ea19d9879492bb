"""What `tune` and `report` show of a tune's run: the recommendation as one sentence, the candidates with the
Pareto front marked (a table on a terminal, in Markdown and in the HTML page) and, in the page, the front as a
plot of accuracy against the objective."""

from __future__ import annotations

import html
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgebench.tune.front import Point, RunFront, unit
from edgebench_records.tune import Objective

HEADERS = ("", "candidate", "settings", "accuracy %", "vs fp32, points", "objective", "vs fp32", "cell")
FRONT_MARK = "◆"  # on the front: no other candidate is both as accurate and better on the objective


def sentence(front: RunFront) -> str:
    rec = front.recommendation
    if rec is None:
        return f"no candidate beats fp32 within {front.aim.max_accuracy_drop:g} points on {front.device}"
    return rec.sentence()


def _rows(front: RunFront) -> list[tuple[str, ...]]:
    objective = Objective(front.aim.objective)
    on_front = {p.name for p in front.front}
    base = front.baseline
    ordered = sorted(front.points, key=lambda p: (p.value, -p.accuracy))
    return [
        (
            FRONT_MARK if p.name in on_front else "",
            p.name,
            p.description,
            f"{p.accuracy:.1f}",
            f"{p.accuracy - base.accuracy:+.1f}",
            f"{p.value:.3g} {unit(objective)}",
            f"{base.value / p.value:.2f}x" if p.value > 0 else "",
            p.cell,
        )
        for p in ordered
    ]


def _title(front: RunFront) -> str:
    aim = front.aim
    return (
        f"tune {front.run_id} on {front.device}: {aim.objective} within {aim.max_accuracy_drop:g} points of fp32, "
        f"{len(front.points) - 1} candidates"
    )


def render(front: RunFront, console: Console) -> None:
    table = Table(title=escape(_title(front)), title_justify="left")
    for header in HEADERS:
        table.add_column(header, justify="right" if header in ("accuracy %", "objective") else "left")
    for row in _rows(front):
        table.add_row(*map(escape, row))
    console.print(table)
    console.print(f"{FRONT_MARK} on the Pareto front of accuracy × {front.aim.objective}")
    console.print(f"[bold]Ship:[/bold] {escape(sentence(front))}")


def markdown(front: RunFront) -> str:
    lines = [f"### {_title(front)}", "", f"**Ship:** {sentence(front)}", ""]
    lines += ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(front)]
    return "\n".join([*lines, "", f"{FRONT_MARK} on the Pareto front.", ""])


def as_json(front: RunFront) -> dict[str, Any]:
    def point(p: Point) -> dict[str, Any]:
        return {"name": p.name, "description": p.description, "accuracy": p.accuracy, "value": p.value, "cell": p.cell}

    rec = front.recommendation
    return {
        "run_id": front.run_id,
        "device": front.device,
        "objective": front.aim.objective,
        "unit": unit(Objective(front.aim.objective)),
        "max_accuracy_drop": front.aim.max_accuracy_drop,
        "baseline": point(front.baseline),
        "candidates": [point(p) for p in front.points if p is not front.baseline],
        "front": [p.name for p in front.front],
        "recommendation": None if rec is None else {"name": rec.point.name, "sentence": rec.sentence()},
    }


def html_section(front: RunFront, scope: str) -> str:
    """The sentence, the plot and the table, for the report's page."""
    from edgebench.report import plots  # matplotlib: only for the page

    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in _rows(front))
    return (
        f"<h2>{html.escape(_title(front))}</h2>"
        f"<p class='ship'><strong>Ship:</strong> {html.escape(sentence(front))}</p>"
        f"<figure>{plots.scope_ids(front_plot(front), scope)}</figure>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def front_plot(front: RunFront) -> str:
    """Every candidate as a point, accuracy against the objective; the front joined by a step line, the
    recommended candidate and fp32 named, the drop allowed shaded off."""
    from matplotlib import pyplot as plt

    from edgebench.report.plots import figure_svg

    objective = Objective(front.aim.objective)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter([p.value for p in front.points], [p.accuracy for p in front.points], s=18, color="#999", zorder=2)
    line = front.front
    ax.step([p.value for p in line], [p.accuracy for p in line], where="post", color="#393", zorder=3)
    ax.scatter([p.value for p in line], [p.accuracy for p in line], s=30, color="#393", zorder=4, label="front")
    floor = front.baseline.accuracy - front.aim.max_accuracy_drop
    ax.axhspan(min(floor, *(p.accuracy for p in front.points)) - 1, floor, color="#f3dede", zorder=1)
    named = [front.baseline] + ([front.recommendation.point] if front.recommendation else [])
    for p in named:
        ax.annotate(p.name, (p.value, p.accuracy), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xlabel(f"{objective.value} ({unit(objective)}), lower is better")
    ax.set_ylabel("accuracy %")
    ax.legend(loc="lower right")
    return figure_svg(fig)
