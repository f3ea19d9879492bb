"""The report's plots, drawn with matplotlib as inline SVG: the page needs no script and no network.

Every cell has a number, the "#" of its row in the page's tables; the plots name cells by that number
(placed so that no two labels overlap) or by a row label starting with it. Colour is the variant, marker
shape the delegate, the same in every plot, and each plot carries its legend. Cells that did not run
(failed, unavailable) keep their row and show their status instead of a measurement.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")  # no display; SVG is written by savefig whatever the backend
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from edgebench.report.analysis import ComparisonRow
from edgebench.report.marks import CONTENDED, CONTENDED_LABEL
from edgebench.report.speedup import CONFIDENCE
from edgebench_records import Status

matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "edgebench", "font.size": 9})

Keyed = tuple[int, ComparisonRow]  # the cell's number in the page's tables, and the cell

WIDTH_IN = 11.0  # the page shows every plot at its full width; 11 in keeps 9-pt text near 14 px there
PLAIN_CPU = "cpu"  # LiteRT's built-in kernels: no delegate, so no coverage to show
LOG_RANGE = 3.0  # a log scale once the largest value is this many times the smallest
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
FAILED_COLOUR = "#b00"
LABEL_PAD_PX = 3.0  # room kept around each number label, for the browser's font metrics


def palette(rows: Iterable[ComparisonRow]) -> dict[str, str]:
    """One colour per variant, in the order the rows list them (fp32 first), shared by every plot."""
    variants = list(dict.fromkeys(r.variant for r in rows))
    cmap = plt.get_cmap("tab10" if len(variants) <= 10 else "tab20")
    return {v: matplotlib.colors.to_hex(cmap(i % cmap.N)) for i, v in enumerate(variants)}


def markers(rows: Iterable[ComparisonRow]) -> dict[str, str]:
    delegates = list(dict.fromkeys(r.delegate for r in rows))
    return {d: MARKERS[i % len(MARKERS)] for i, d in enumerate(delegates)}


def row_label(number: int, row: ComparisonRow) -> str:
    mark = f"  {CONTENDED}" if row.contended else ""
    return f"#{number}  {row.variant} · {row.delegate} · {row.api} · {row.threads}t{mark}"


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def figure_svg(fig: Figure) -> str:
    """A figure drawn elsewhere (the tune's front, report/tune_view.py) as SVG, with this module's settings."""
    return _svg(fig)


_ID = re.compile(r"""(\bid=["']|url\(#|href=["']#)([^"')]+)""")


def scope_ids(svg: str, scope: str) -> str:
    """Every id of one figure (matplotlib's own "patch_1", clip paths, our "key-3") and every reference to
    one prefixed with ``scope``, and the root named ``scope``: a page holds many figures, and a repeated id
    makes ``url(#…)`` clip one figure with another's path."""
    scoped = _ID.sub(lambda m: f"{m.group(1)}{scope}-{m.group(2)}", svg)
    return scoped.replace("<svg", f'<svg id="{scope}"', 1)


def _name_contended(marker: Line2D, row: ComparisonRow, gid: str) -> None:
    """An id on a contended cell's hollow marker, so the page (and its tests) can find it."""
    if row.contended:
        marker.set_gid(gid)


def _hollow_handle(marker: str = "o") -> Line2D:
    """The legend entry for cells measured under contention: drawn hollow in every plot."""
    return Line2D(
        [], [], marker=marker, linestyle="", color="#555", markerfacecolor="white", label=f"{CONTENDED_LABEL}"
    )


def _plain(value: float, _: object = None) -> str:
    return f"{value:g}"


def _scale(ax: Axes, which: str, values: list[float]) -> bool:
    """Log scale where the range needs it, with plain numbers (no 10^x mathtext) at 1-2-5 steps."""
    positive = [v for v in values if v > 0]
    log = bool(positive) and max(positive) / min(positive) > LOG_RANGE
    axis = ax.xaxis if which == "x" else ax.yaxis
    if log:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_minor_formatter(NullFormatter())
    axis.set_major_formatter(FuncFormatter(_plain))
    return log


def _percent_limits(values: list[float]) -> tuple[float, float]:
    """A top-1 axis around the data that never runs past 100 %."""
    low, high = min(values), max(values)
    pad = max(0.5, 0.1 * (high - low))
    return max(0.0, low - pad), min(100.0, high + pad)


def _p5_p95(samples: tuple[float, ...]) -> tuple[float, float]:
    low, high = np.percentile(samples, [5, 95])
    return float(low), float(high)


def _status_text(row: ComparisonRow) -> str:
    first = row.message.splitlines()[0] if row.message else ""
    return f"{row.status}: {first[:70]}" if first else str(row.status)


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in display pixels
RINGS = (9.0, 14.0, 20.0, 28.0, 38.0, 50.0, 65.0, 85.0, 110.0, 140.0, 180.0, 230.0)


def _intersects(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _around(px: float, py: float, w: float, h: float, radii: Iterable[float]) -> Iterator[tuple[Box, float]]:
    """Label boxes centred on rings around a point, nearest first, with their distance."""
    for radius in radii:
        for angle in np.radians(np.arange(45, 405, 30)):
            cx, cy = px + radius * np.cos(angle), py + radius * np.sin(angle)
            yield (cx - w, cy - h, cx + w, cy + h), radius


def _place_numbers(ax: Axes, renderer: RendererBase, points: list[tuple[int, float, float]], marker_px: float) -> None:
    """Number each point where its label's box meets no other label and no marker, inside the axes:
    the first free spot on rings of growing radius, joined to the point by a leader line once away
    from it. Greedy, but every box is checked against every other, so labels never overlap."""
    frame = ax.get_window_extent(renderer)
    half = marker_px / 2 + 1
    screen = [(n, x, y, *ax.transData.transform((x, y))) for n, x, y in points]
    marks: list[Box] = [(px - half, py - half, px + half, py + half) for *_, px, py in screen]
    labels: list[Box] = []
    for number, x, y, px, py in screen:
        probe = ax.text(0, 0, str(number), fontsize=8, fontweight="bold")
        extent = probe.get_window_extent(renderer)
        probe.remove()
        w, h = extent.width / 2 + LABEL_PAD_PX, extent.height / 2 + LABEL_PAD_PX

        def inside(b: Box) -> bool:
            return bool(frame.x0 <= b[0] and b[2] <= frame.x1 and frame.y0 <= b[1] and b[3] <= frame.y1)

        spot = next(
            (
                (b, r)
                for b, r in _around(px, py, w, h, RINGS)
                if inside(b) and not any(_intersects(b, o) for o in marks + labels)
            ),
            None,
        )
        if spot is None:  # a crowd the rings cannot clear: further out, free of labels, markers aside
            far = np.arange(RINGS[-1], 3000.0, 10.0)
            spot = next((b, r) for b, r in _around(px, py, w, h, far) if not any(_intersects(b, o) for o in labels))
        box, radius = spot
        labels.append(box)
        to_points = 72 / ax.figure.dpi
        ax.annotate(
            str(number),
            (x, y),
            xytext=(((box[0] + box[2]) / 2 - px) * to_points, ((box[1] + box[3]) / 2 - py) * to_points),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=8,
            fontweight="bold",
            arrowprops={"arrowstyle": "-", "color": "#777", "linewidth": 0.6} if radius > 12 else None,
            annotation_clip=False,
            gid=f"key-{number}",
        )


def _legend(ax: Axes, handles: list[Patch | Line2D], title: str, anchor: tuple[float, float], gid: str) -> Legend:
    """One of several legends beside the axes (ax.legend keeps only the last, so each is an artist)."""
    labels = [str(h.get_label()) for h in handles]
    legend = Legend(
        ax, handles, labels, title=title, loc="upper left", bbox_to_anchor=anchor, frameon=False, fontsize=9
    )
    legend.set_gid(gid)
    ax.add_artist(legend)
    return legend


def _variant_handles(colours: dict[str, str], shown: set[str]) -> list[Patch | Line2D]:
    return [Patch(color=c, label=v) for v, c in colours.items() if v in shown]


def accuracy_vs_latency(keyed: list[Keyed], colours: dict[str, str]) -> str:
    """p50 against top-1, one numbered marker per cell that ran; the bar spans p5–p95 of its runs."""
    ok = [(n, r) for n, r in keyed if r.ok and r.top1 is not None and r.p50_ms is not None]
    shapes = markers(r for _, r in keyed)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 5.0))
    marker_px = 9.0
    xs: list[float] = []
    for number, row in ok:
        p50 = row.p50_ms or 0.0
        low, high = _p5_p95(row.samples_ms) if row.samples_ms else (p50, p50)
        xs += [p50, low, high]
        drawn = ax.errorbar(
            p50,
            100 * (row.top1 or 0.0),
            xerr=[[max(0.0, p50 - low)], [max(0.0, high - p50)]],
            fmt=shapes[row.delegate],
            color=colours[row.variant],
            markersize=marker_px * 72 / fig.dpi,
            markeredgecolor="black" if row.pareto else colours[row.variant],
            markerfacecolor="white" if row.contended else colours[row.variant],
            markeredgewidth=1.5 if row.pareto or row.contended else 0.5,
            elinewidth=1,
            capsize=2,
            alpha=0.85,
        )
        _name_contended(drawn.lines[0], row, f"contended-{number}")
    front = sorted((r for _, r in ok if r.pareto), key=lambda r: r.p50_ms or 0.0)
    if front:
        ax.plot([r.p50_ms or 0.0 for r in front], [100 * (r.top1 or 0.0) for r in front], "k--", linewidth=1, zorder=0)
    if ok:
        _scale(ax, "x", xs)
        ax.set_ylim(*_percent_limits([100 * (r.top1 or 0.0) for _, r in ok]))
        low_x, high_x = min(xs), max(xs)
        if ax.get_xscale() == "log":
            ax.set_xlim(low_x / 1.15, high_x * 1.15)
        else:
            span = (high_x - low_x) or high_x or 1.0
            ax.set_xlim(max(0.0, low_x - 0.08 * span), high_x + 0.08 * span)
    ax.yaxis.set_major_formatter(FuncFormatter(_plain))
    ax.set_xlabel("p50 latency, ms" + (" (log scale)" if ax.get_xscale() == "log" else "") + "; bar: p5–p95 of runs")
    ax.set_ylabel("top-1 accuracy, %")
    ax.set_title("Accuracy vs latency: numbers are the tables' #; outlined and dashed: Pareto-optimal")
    shown = {r.variant for _, r in ok}
    _legend(ax, _variant_handles(colours, shown), "variant", (1.01, 1.0), "legend-variant")
    delegate_handles: list[Patch | Line2D] = [
        Line2D([], [], marker=m, linestyle="", color="#555", label=d)
        for d, m in shapes.items()
        if d in {r.delegate for _, r in ok}
    ]
    delegates = _legend(ax, delegate_handles, "delegate", (1.01, 0.45), "legend-delegate")
    fig.canvas.draw()  # transforms and text sizes are final only once drawn
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    if any(r.contended for _, r in ok):  # under the delegate legend, whatever its length
        below = ax.transAxes.inverted().transform((0, delegates.get_window_extent(renderer).y0))[1]
        _legend(ax, [_hollow_handle()], "", (1.01, below - 0.02), "legend-contention")
    _place_numbers(ax, renderer, [(n, r.p50_ms or 0.0, 100 * (r.top1 or 0.0)) for n, r in ok], marker_px)
    return _svg(fig)


def _rows_figure(count: int) -> tuple[Figure, Axes]:
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.32 * count + 1.3))
    return fig, ax


def _row_axis(ax: Axes, keyed: list[Keyed]) -> None:
    """One row per cell, top to bottom in table order."""
    ax.set_yticks(range(len(keyed)), [row_label(n, r) for n, r in keyed])
    ax.set_ylim(len(keyed) - 0.5, -0.5)


def _note(ax: Axes, y: int, text: str, colour: str, gid: str) -> None:
    """A status or remark in a cell's row, from the left edge of the plot."""
    ax.text(0.005, y, text, transform=ax.get_yaxis_transform(), va="center", fontsize=8, color=colour, gid=gid)


def _unmeasured(ax: Axes, keyed: list[Keyed], measured: Callable[[ComparisonRow], bool]) -> None:
    for i, (number, row) in enumerate(keyed):
        if row.status != Status.OK:
            _note(ax, i, _status_text(row), FAILED_COLOUR, f"status-{number}")
        elif not measured(row):
            _note(ax, i, "ran, but no measurement of this kind", "#777", f"status-{number}")


def _contention_legend(ax: Axes, rows: Iterable[ComparisonRow], handle: Patch | Line2D) -> None:
    """Above the plot's right end, only when a cell in it was measured under contention."""
    if any(r.contended for r in rows):
        legend = ax.legend(handles=[handle], loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)
        legend.set_gid("legend-contention")


def latency_distribution(keyed: list[Keyed], colours: dict[str, str]) -> str:
    """Every cell's runs: box p25–p75, line p50, whiskers p5–p95, dots beyond; a failed cell, its status;
    a cell measured under contention, a hollow box."""
    fig, ax = _rows_figure(len(keyed))
    _row_axis(ax, keyed)
    spots = [i for i, (_, r) in enumerate(keyed) if r.ok and r.samples_ms]
    if spots:
        boxes = ax.boxplot(
            [list(keyed[i][1].samples_ms) for i in spots],
            positions=spots,
            orientation="horizontal",
            whis=(5, 95),
            widths=0.6,
            patch_artist=True,
            flierprops={"markersize": 2, "markeredgecolor": "#555"},
            medianprops={"color": "black"},
        )
        for i, patch in zip(spots, boxes["boxes"], strict=True):
            colour = colours[keyed[i][1].variant]
            if keyed[i][1].contended:
                patch.set_gid(f"contended-{keyed[i][0]}")
                patch.set_facecolor("white")
                patch.set_edgecolor(colour)
                patch.set_linewidth(1.5)
            else:
                patch.set_facecolor(colour)
                patch.set_alpha(0.7)
        _scale(ax, "x", [s for i in spots for s in keyed[i][1].samples_ms])
    _row_axis(ax, keyed)  # boxplot resets the ticks
    _unmeasured(ax, keyed, lambda r: bool(r.samples_ms))
    log = ax.get_xscale() == "log"
    ax.set_xlabel("latency per run, ms" + (" (log scale)" if log else "") + "; box p25–p75, whiskers p5–p95")
    ax.set_title("Latency distribution per cell")
    hollow = Patch(facecolor="white", edgecolor="#555", label=f"hollow, {CONTENDED}: {CONTENDED_LABEL}")
    _contention_legend(ax, (r for _, r in keyed), hollow)
    return _svg(fig)


def speedup(keyed: list[Keyed], colours: dict[str, str]) -> str:
    """Each cell's speed-up over fp32 in the same run and configuration with its interval (the tables'
    figures, edgebench/report/speedup.py), and beside each row what the tables say of it."""
    shown = [(n, r) for n, r in keyed if not r.baseline]
    fig, ax = _rows_figure(len(shown))
    _row_axis(ax, shown)
    values: list[float] = []
    for i, (number, row) in enumerate(shown):
        found = row.speedup
        if not row.ok:
            continue  # its status, below
        if found is None:
            _note(ax, i, "no fp32 in this configuration to compare with", "#777", f"status-{number}")
            continue
        if found.low is None or found.high is None:
            _note(ax, i, found.text(), "#777", f"status-{number}")
            continue
        values += [found.low, found.high]
        colour = colours[row.variant]
        drawn = ax.errorbar(
            found.ratio,
            i,
            xerr=[[found.ratio - found.low], [found.high - found.ratio]],
            fmt="o",
            color=colour,
            markerfacecolor="white" if row.contended else colour,
            capsize=3,
            markersize=5,
        )
        _name_contended(drawn.lines[0], row, f"contended-{number}")
        ax.text(
            1.01, i, found.text(), transform=ax.get_yaxis_transform(), va="center", fontsize=8, gid=f"says-{number}"
        )
    ax.axvline(1.0, color="#555", linewidth=0.8, linestyle=":")
    _unmeasured(ax, shown, lambda r: True)
    if values:
        low_x, high_x = min([*values, 1.0]), max([*values, 1.0])
        span = high_x - low_x or 1.0
        ax.set_xlim(max(0.0, low_x - 0.1 * span), high_x + 0.1 * span)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.set_xlabel(
        f"speed-up over fp32 (fp32's time ÷ the cell's, block by block when timed together), bar: {CONFIDENCE:.0%}"
        " interval (bootstrap over blocks of runs); right of 1× is faster; an interval across 1× is ≈ same"
    )
    ax.set_title("Speed-up over fp32, same delegate, API and threads")
    _contention_legend(ax, (r for _, r in shown), _hollow_handle())
    return _svg(fig)


def coverage(keyed: list[Keyed], colours: dict[str, str]) -> str:
    """Share of the graph's nodes the delegate ran; plain-CPU cells say so rather than show an empty bar."""
    fig, ax = _rows_figure(len(keyed))
    _row_axis(ax, keyed)
    for i, (number, row) in enumerate(keyed):
        if row.status != Status.OK:
            continue
        if row.delegate == PLAIN_CPU:
            _note(ax, i, "plain CPU kernels: no delegate, nothing to cover", "#555", f"status-{number}")
        elif row.coverage is None:
            full = {True: "fully accelerated", False: "partly accelerated", None: "coverage not reported"}
            _note(ax, i, full[row.fully_accelerated], "#555", f"status-{number}")
        else:
            share = 100 * row.coverage
            ax.barh(i, share, color=colours[row.variant], height=0.6)
            inside = share > 12
            ax.text(
                share - 1 if inside else share + 1,
                i,
                f"{share:.0f}%",
                ha="right" if inside else "left",
                va="center",
                fontsize=8,
                color="white" if inside else "#222",
            )
    _unmeasured(ax, [(n, r) for n, r in keyed], lambda r: True)
    ax.set_xlim(0, 100)
    ax.set_xlabel("nodes run by the delegate, %")
    ax.set_title("Delegate coverage per cell")
    return _svg(fig)


def _when(row: ComparisonRow) -> datetime:
    return datetime.fromisoformat(row.created_at)


def over_time(history: list[ComparisonRow], keyed: list[Keyed], colours: dict[str, str]) -> str:
    """The configurations this report shows that ran at least once, one row of small multiples each
    (p50 | top-1), a line per variant; a failed run is a red × on the time axis."""
    asked = {(r.variant, r.delegate, r.api, r.threads) for _, r in keyed}
    mine = sorted(
        (h for h in history if (h.variant, h.delegate, h.api, h.threads) in asked), key=lambda h: h.created_at
    )
    # A configuration that never ran (an unavailable delegate) would be an empty pair of panels.
    measured = {(h.delegate, h.api, h.threads) for h in mine if h.ok}
    configurations = [c for c in dict.fromkeys((r.delegate, r.api, r.threads) for _, r in keyed) if c in measured]
    count = max(1, len(configurations))
    fig, grid = plt.subplots(
        count, 2, figsize=(WIDTH_IN, 2.2 * count + 1.0), sharex=True, squeeze=False, layout="constrained"
    )
    failed_seen = contended_seen = False
    for panel, ((delegate, api, threads), (latency, accuracy)) in enumerate(zip(configurations, grid, strict=False)):
        here = [h for h in mine if (h.delegate, h.api, h.threads) == (delegate, api, threads)]
        for variant in dict.fromkeys(r.variant for _, r in keyed):
            points = [h for h in here if h.variant == variant and h.ok]
            labelled = [p for p in points if p.top1 is not None]  # no labels: no top-1, not 0 %
            style = {"marker": "o", "markersize": 3, "color": colours[variant], "linewidth": 1.2}
            latency.plot([_when(p) for p in points], [p.p50_ms or 0.0 for p in points], **style)
            if labelled:
                accuracy.plot([_when(p) for p in labelled], [100 * (p.top1 or 0.0) for p in labelled], **style)
            flagged = [p for p in points if p.contended]
            if flagged:  # hollow on top of the line's filled marker
                contended_seen = True
                hollow = {**style, "linestyle": "", "markersize": 4, "markerfacecolor": "white"}
                (marks,) = latency.plot([_when(p) for p in flagged], [p.p50_ms or 0.0 for p in flagged], **hollow)
                marks.set_gid(f"contended-{panel}-p50-{variant}")
                scored = [p for p in flagged if p.top1 is not None]
                (marks,) = accuracy.plot([_when(p) for p in scored], [100 * (p.top1 or 0.0) for p in scored], **hollow)
                marks.set_gid(f"contended-{panel}-top1-{variant}")
        if not any(h.ok and h.top1 is not None for h in here):
            accuracy.text(
                0.5,
                0.5,
                "no top-1 to plot: no labels, or no output is a class distribution",
                transform=accuracy.transAxes,
                ha="center",
            )
        for h in here:
            if not h.ok:
                failed_seen = True
                for axis in (latency, accuracy):
                    axis.plot(
                        datetime.fromisoformat(h.created_at),
                        0.04,
                        "x",
                        color=FAILED_COLOUR,
                        transform=axis.get_xaxis_transform(),
                        clip_on=False,
                    )
        _scale(latency, "y", [h.p50_ms or 0.0 for h in here if h.ok])
        tops = [100 * h.top1 for h in here if h.ok and h.top1 is not None]
        if tops:
            accuracy.set_ylim(*_percent_limits(tops))
        accuracy.yaxis.set_major_formatter(FuncFormatter(_plain))
        latency.set_ylabel("p50 ms")
        accuracy.set_ylabel("top-1 %")
        latency.set_title(f"{delegate} · {api} · {threads}t: p50 latency", fontsize=9, loc="left")
        accuracy.set_title(f"{delegate} · {api} · {threads}t: top-1 accuracy", fontsize=9, loc="left")
    times = [datetime.fromisoformat(h.created_at) for h in mine]
    if times and max(times) - min(times) < timedelta(hours=1):  # one run: a day around it, not years
        grid[0][0].set_xlim(min(times) - timedelta(hours=12), max(times) + timedelta(hours=12))
    for axis in grid[-1]:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
        axis.xaxis.set_major_locator(locator)
        axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    handles = _variant_handles(colours, {r.variant for _, r in keyed})
    if failed_seen:
        handles.append(Line2D([], [], marker="x", linestyle="", color=FAILED_COLOUR, label="run failed"))
    if contended_seen:
        handles.append(_hollow_handle())
    legend = fig.legend(
        handles=handles,
        loc="outside upper center",
        ncols=min(8, len(handles)),
        frameon=False,
        title="Latency and accuracy over time, the configurations of this report; colour: variant",
    )
    legend.set_gid("legend")
    return _svg(fig)
