"""The stored gate, the work behind `gate --baseline REF --candidate REF`: both sides from the history
(or from bundles exported elsewhere), the run-to-run noise the history shows, and the verdicts."""

from __future__ import annotations

from dataclasses import dataclass

from edgebench.errors import EdgebenchError
from edgebench.gate.compare import GateResult, compare, different_models, history_noise, resolve
from edgebench.gate.policy import Policy
from edgebench.store import Store
from edgebench_records import StoredRun


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
    with Store(request.store_url, must_exist=True) as history:
        before = resolve(history, request.baseline, request.device)
        after = resolve(history, request.candidate, request.device)
        not_itself(request, before, after)
        warnings = same_model(before, after, request.allow_different_models)
        noise = history_noise(history, [*before, *after], exclude={r.run_id for r in after})
    return GateOutcome(compare(before, after, policy, noise), warnings)


def not_itself(request: StoredGateRequest, before: list[StoredRun], after: list[StoredRun]) -> None:
    """A run gated against itself passes whatever it holds (a mis-wired --baseline latest --candidate latest):
    refused, naming the runs both sides resolved to."""
    shared = sorted({r.run_id for r in before} & {r.run_id for r in after})
    if shared:
        raise EdgebenchError(
            f"--baseline {request.baseline} and --candidate {request.candidate} both select run "
            f"{', '.join(shared)}: a run gated against itself proves nothing; give two different releases"
        )


def same_model(before: list[StoredRun], after: list[StoredRun], allowed: bool) -> list[str]:
    """Gating one model against an unrelated one decides nothing: refused, or (allowed) one warning."""
    found = different_models(before, after)
    if not found:
        return []
    message = "different models: " + "; ".join(found)
    if not allowed:
        raise EdgebenchError(f"{message}; give --allow-different-models to gate them anyway")
    return [message]
