"""The work behind ``edgebench gate``, whichever mode the command parsed: paired (measure both models now,
side by side) or stored (compare two runs from the history), judged by one policy."""

from __future__ import annotations

from dataclasses import dataclass

from edgebench.gate import paired
from edgebench.gate.compare import compare
from edgebench.gate.policy import Policy
from edgebench.gate.stored import GateOutcome, StoredGateRequest, stored_gate
from edgebench.progress import Listener


@dataclass(frozen=True)
class GateRequest:
    mode: paired.PairedRequest | StoredGateRequest
    policy: Policy


def run_gate(request: GateRequest, listener: Listener) -> GateOutcome:
    """The verdicts; paired mode reports its conversions and measurement to ``listener``."""
    if isinstance(request.mode, paired.PairedRequest):
        before, after, warnings = paired.measure(request.mode, listener)
        return GateOutcome(compare([before], [after], request.policy, {}), warnings)
    return stored_gate(request.mode, request.policy)
