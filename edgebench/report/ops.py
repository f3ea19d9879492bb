"""What each variant is made of and where it ran: op types per variant (from the manifest's figures, read from
each flatbuffer), the share of op time per type where a cell has a per-op profile, and per cell the nodes a
delegate took, those left on plain kernels by type, and the partitions. Nothing here is estimated: a cell
whose runtime gives no placement or no profile says so, naming the runtime."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from device_runner.coverage import placement_unknown
from device_runner.engines import no_op_profile
from edgebench_records import CellResult, RanOn, Status, StoredRun

PYTHON_RUNTIMES = ("ai_edge_litert", "tflite_runtime")


@dataclass(frozen=True)
class CellPlacement:
    """One cell's placement: nodes delegated and on plain kernels, partitions, what fell off by type."""

    cell: str  # "int8 · xnnpack · interpreter · 1t"
    delegated: int | None  # None: the runtime does not say
    plain: int | None
    partitions: int | None
    fell_off: dict[str, int]  # op type -> nodes of it on plain kernels
    note: str = ""  # why the figures are missing, naming the runtime


@dataclass(frozen=True)
class OpsView:
    """One run: op-type counts per variant, op-time shares per profiled cell, placement per cell."""

    title: str  # "pixel — run 20261201T…"
    variants: list[str]
    counts: dict[str, dict[str, int]]  # op type -> variant -> nodes
    shares: dict[str, dict[str, float]]  # op type -> profiled cell -> % of the profiled op time
    profiled: list[str]  # the cells with a per-op profile, in the run's order
    placements: list[CellPlacement]
    profile_notes: list[str] = field(default_factory=list)  # "per-op time is not available on …", once each

    @property
    def op_types(self) -> list[str]:
        """Most nodes first (over every variant), then by name."""
        return sorted(self.counts, key=lambda op: (-sum(self.counts[op].values()), op))


def label(cell: CellResult) -> str:
    return f"{cell.variant} · {cell.delegate} · {cell.api} · {cell.threads}t"


def _runtime(cell: CellResult) -> str:
    return cell.device.runtime if cell.device else "the runtime"


def placement_of(cell: CellResult) -> CellPlacement:
    placement = cell.placement
    if placement is None:
        coverage = cell.coverage
        return CellPlacement(
            label(cell),
            coverage.delegated_nodes if coverage else None,
            coverage.total_nodes - coverage.delegated_nodes if coverage else None,
            None,
            {},
            placement_unknown(_runtime(cell), cell.api),
        )
    plain = Counter(placement.on_plain_kernels())
    delegated = len(placement.node_ops) - sum(plain.values())
    if cell.delegate == "cpu":  # plain kernels were asked for: nothing fell off anything
        return CellPlacement(label(cell), delegated, sum(plain.values()), 0, {}, "no delegate asked for")
    return CellPlacement(label(cell), delegated, sum(plain.values()), placement.partitions, dict(plain))


def _shares(cell: CellResult) -> dict[str, float]:
    """% of op time per op type, over the rows of whole nodes (a partition counts as its kernel, e.g.
    TfLiteXNNPackDelegate); rows inside a partition are already in its time, so they are left out."""
    assert cell.op_profile is not None
    shares: dict[str, float] = {}
    for op in cell.op_profile.ops:
        if op.ran_on is not RanOn.INSIDE_DELEGATE:
            shares[op.op] = shares.get(op.op, 0.0) + op.percent
    return shares


def view(run: StoredRun) -> OpsView:
    figured = [v for v in run.manifest.variants if v.figures]
    counts: dict[str, dict[str, int]] = {}
    for variant in figured:
        assert variant.figures is not None
        for op, n in variant.figures.ops.items():
            counts.setdefault(op, {})[variant.name] = n
    measured = [c for c in run.cells if c.status == Status.OK]
    profiled = [c for c in measured if c.op_profile and c.op_profile.ops]
    shares: dict[str, dict[str, float]] = {}
    for cell in profiled:
        for op, share in _shares(cell).items():
            shares.setdefault(op, {})[label(cell)] = share
    notes = dict.fromkeys(
        f"{c.op_profile.note} ({label(c)})" if c.op_profile.ops else c.op_profile.note
        for c in measured
        if c.op_profile and c.op_profile.note
    )
    if measured and not any(c.op_profile for c in measured):
        runtime = _runtime(measured[0])
        python = runtime in PYTHON_RUNTIMES  # no profiler on their Python API, whichever runner version
        notes[no_op_profile(runtime).note if python else f"per-op time: not recorded by {runtime}'s runner"] = None
    return OpsView(
        title=f"{run.device} — run {run.run_id}",
        variants=[v.name for v in figured],
        counts=counts,
        shares=shares,
        profiled=[label(c) for c in profiled],
        placements=[placement_of(c) for c in measured],
        profile_notes=list(notes),
    )


def views(runs: list[StoredRun]) -> list[OpsView]:
    return [view(run) for run in runs]


# -- rendering ---------------------------------------------------------------------------------------

PLACEMENT_HEADERS = ("cell", "delegated", "plain kernels", "partitions", "fell off the delegate")


def _dash(value: int | None) -> str:
    return "—" if value is None else str(value)


def count_table(v: OpsView) -> tuple[list[str], list[list[str]]]:
    headers = ["op type", *(f"{name} nodes" for name in v.variants)]
    rows = [[op, *(str(v.counts[op].get(name, 0)) for name in v.variants)] for op in v.op_types]
    rows.append(["all nodes", *(str(sum(v.counts[op].get(name, 0) for op in v.counts)) for name in v.variants)])
    return headers, rows


def share_table(v: OpsView) -> tuple[list[str], list[list[str]]]:
    headers = ["op type", *(f"% {cell}" for cell in v.profiled)]
    ordered = sorted(v.shares, key=lambda op: -max(v.shares[op].values()))
    rows = [[op, *(f"{v.shares[op][c]:.1f}" if c in v.shares[op] else "—" for c in v.profiled)] for op in ordered]
    return headers, rows


def placement_table(v: OpsView) -> tuple[list[str], list[list[str]]]:
    rows = []
    for p in v.placements:
        fell = ", ".join(f"{n} {op}" for op, n in sorted(p.fell_off.items(), key=lambda kv: (-kv[1], kv[0])))
        rows.append([p.cell, _dash(p.delegated), _dash(p.plain), _dash(p.partitions), fell or p.note or "none"])
    return list(PLACEMENT_HEADERS), rows


def section_tables(v: OpsView) -> list[tuple[str, tuple[list[str], list[list[str]]]]]:
    out = []
    if v.counts:
        out.append((f"op types per variant · {v.title}", count_table(v)))
    if v.profiled:
        out.append((f"share of op time per op type (per-op profile) · {v.title}", share_table(v)))
    if v.placements:
        out.append((f"placement · {v.title}", placement_table(v)))
    return out


def _left(column: int, header: str) -> bool:
    return column == 0 or header == PLACEMENT_HEADERS[-1]  # names; the rest are numbers


def render(found: list[OpsView], console: Console) -> None:
    for v in found:
        for title, (headers, rows) in section_tables(v):
            table = Table(title=title, title_justify="left")
            for k, header in enumerate(headers):
                table.add_column(header, justify="left" if _left(k, header) else "right")
            for row in rows:
                table.add_row(*(escape(c) for c in row))
            console.print(table)
        for note in v.profile_notes:
            console.print(note, style="dim", markup=False, highlight=False)


def markdown(found: list[OpsView]) -> str:
    lines: list[str] = []
    for v in found:
        for title, (headers, rows) in section_tables(v):
            lines += ["", f"## {title}", "", "| " + " | ".join(headers) + " |"]
            lines.append("|" + "|".join("---" if _left(k, h) else "---:" for k, h in enumerate(headers)) + "|")
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        lines += [f"- {note}" for note in v.profile_notes]
    return "\n".join(lines) + "\n" if lines else ""


def as_json(found: list[OpsView]) -> list[dict[str, object]]:
    return [
        {
            "run": v.title,
            "op_types": {op: v.counts[op] for op in v.op_types},
            "op_time_percent": v.shares,
            "placement": [
                {
                    "cell": p.cell,
                    "delegated": p.delegated,
                    "plain_kernels": p.plain,
                    "partitions": p.partitions,
                    "fell_off": p.fell_off,
                    "note": p.note,
                }
                for p in v.placements
            ],
            "notes": v.profile_notes,
        }
        for v in found
    ]
