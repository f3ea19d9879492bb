"""The CPU features behind a device's timings (device facts' ``cpu_features``), as tables and the gate name
them: the features themselves, and one line where two sides of a comparison had different ones."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from edgebench_records import CpuFeature, DeviceFacts, StoredRun


def listed(features: Sequence[CpuFeature] | None) -> str:
    """ "AVX2, AVX-512 VNNI, AMX int8" — or what is known where there is nothing to list."""
    if features is None:
        return "not read (an older runner)"
    return ", ".join(f.label for f in features) or "none of those that decide kernel choice"


def difference(a: DeviceFacts | None, b: DeviceFacts | None, a_name: str, b_name: str) -> str:
    """ "baseline had AVX-512 VNNI, candidate did not: int8 timings are not comparable" — or "" where both
    had the same features, or either side's are unknown (not read is not a difference)."""
    ours = set(a.cpu_features) if a and a.cpu_features is not None else None
    theirs = set(b.cpu_features) if b and b.cpu_features is not None else None
    if ours is None or theirs is None or ours == theirs:
        return ""
    said = [_had(ours - theirs, a_name, b_name), _had(theirs - ours, b_name, a_name)]
    # int8 dot products move int8 timings only; any other feature (wider vectors, fp16) moves every timing.
    which = "int8 timings" if all(f.int8 for f in ours ^ theirs) else "timings"
    return "; ".join(s for s in said if s) + f": {which} are not comparable"


def across_runs(runs: Sequence[StoredRun]) -> list[str]:
    """One line per run whose device's features differ from the first run's, for a report that sets runs
    side by side; runs named by device (and run id where a device name, e.g. ``local``, has several)."""
    repeated = Counter(run.device for run in runs)
    named = [(run.device if repeated[run.device] == 1 else f"{run.device} ({run.run_id})", _facts(run)) for run in runs]
    known = [(name, facts) for name, facts in named if facts is not None]
    if len(known) < 2:
        return []
    (first, ours), others = known[0], known[1:]
    return [line for name, theirs in others if (line := difference(ours, theirs, first, name))]


def _facts(run: StoredRun) -> DeviceFacts | None:
    """The run's device facts where its runner read the CPU's features (one process measured every cell)."""
    return next((c.device for c in run.cells if c.device and c.device.cpu_features is not None), None)


def _had(features: set[CpuFeature], who: str, other: str) -> str:
    if not features:
        return ""
    return f"{who} had {', '.join(f.label for f in CpuFeature if f in features)}, {other} did not"
