"""The stored gate, the work behind `gate --baseline REF --candidate REF`: both sides from the history
(or from bundles exported elsewhere), the run-to-run noise the history shows, and the verdicts."""

from __future__ import annotations

from dataclasses import dataclass

from edgebench.errors import EdgebenchError
from edgebench.gate.compare import CellKey, GateResult, cell_key, compare, different_models, history, resolve
from edgebench.gate.policy import Policy
from edgebench.store import Store
from edgebench_records import CellResult, StoredRun


@dataclass(frozen=True)
class StoredGateRequest:
    store_url: str
    baseline: str  # REF: a run id, `latest`, KEY=VALUE, or a bundle file
    candidate: str
    device: str | None
    allow_different_models: bool = False


@dataclass(frozen=True)
class GateOutcome:
    result: GateResult
    warnings: list[str]  # said on stderr, the verdicts aside (gating two different models, when allowed)


def stored_gate(request: StoredGateRequest, policy: Policy) -> GateOutcome:
    with Store(request.store_url, must_exist=True) as store:
        before = resolve(store, request.baseline, request.device)
        after = resolve(store, request.candidate, request.device)
        not_itself(request, before, after)
        not_same_files(request, before, after)
        warnings = same_model(before, after, request.allow_different_models)
        earlier = history(store, [*before, *after], exclude={r.run_id for r in after})
    return GateOutcome(compare(before, after, policy, earlier), warnings)


def not_itself(request: StoredGateRequest, before: list[StoredRun], after: list[StoredRun]) -> None:
    """A run gated against itself passes whatever it holds (a mis-wired --baseline latest --candidate latest):
    refused, naming the runs both sides resolved to."""
    shared = sorted({r.run_id for r in before} & {r.run_id for r in after})
    if shared:
        raise EdgebenchError(
            f"--baseline {request.baseline} and --candidate {request.candidate} both select run "
            f"{', '.join(shared)}: a run gated against itself proves nothing; give two different releases"
        )


def measured_file(run: StoredRun, cell: CellResult) -> str | None:
    """The sha256 of the file a cell measured: its own record of it, else (results older than schema 1.6) the
    plan's, which the sweep checked the file against before measuring."""
    if cell.file_sha256:
        return cell.file_sha256
    planned = next((v for v in run.plan.variants if v.name == cell.variant), None)
    return planned.sha256 if planned and planned.sha256 else None


def not_same_files(request: StoredGateRequest, before: list[StoredRun], after: list[StoredRun]) -> None:
    """Two runs of the very same files (every cell on both sides measured one sha256) differ by noise alone:
    a stored gate between them can only cry wolf or pass nothing. Refused; paired mode is the A/A check."""
    files: dict[CellKey, list[str | None]] = {}
    for run in [*before, *after]:
        for cell in run.cells:
            files.setdefault(cell_key(run, cell), []).append(measured_file(run, cell))
    both = [shas for shas in files.values() if len(shas) == 2]
    if both and all(a is not None and a == b for a, b in both):
        raise EdgebenchError(
            f"--baseline {request.baseline} and --candidate {request.candidate} (runs {runs(before)} and "
            f"{runs(after)}) measured the same model files "
            f"(every cell, e.g. sha256 {str(both[0][0])[:12]}): nothing changed to gate; to check the measurement "
            "itself, gate the file against itself in paired mode (--baseline-model F --candidate-model F)"
        )


def runs(side: list[StoredRun]) -> str:
    return ", ".join(r.run_id for r in side)


def same_model(before: list[StoredRun], after: list[StoredRun], allowed: bool) -> list[str]:
    """Gating one model against an unrelated one decides nothing: refused, or (allowed) one warning."""
    found = different_models(before, after)
    if not found:
        return []
    message = "different models: " + "; ".join(found)
    if not allowed:
        raise EdgebenchError(f"{message}; give --allow-different-models to gate them anyway")
    return [message]
