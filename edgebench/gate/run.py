"""The work behind ``edgebench gate``, whichever mode the command parsed: paired (measure both models now,
side by side) or stored (compare two runs from the history), judged by one policy."""

from __future__ import annotations

import dataclasses
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
        before, after, warnings = paired.measure(decided_at_floor(request.mode, request.policy), listener)
        return GateOutcome(compare([before], [after], request.policy, {}), warnings)
    return stored_gate(request.mode, request.policy)


def decided_at_floor(mode: paired.PairedRequest, policy: Policy) -> paired.PairedRequest:
    """The plan carries the latency floor and alpha, so an adaptive paired run also stops once the verdict is
    reached: the smallest floor and alpha the policy gives these variants on that device (a decision at a larger
    floor waits for a narrower interval)."""
    cells = [policy.for_cell(mode.device, name) for name in [*mode.variants, "given"]]
    floor, alpha = min(t.latency_floor for t in cells), min(t.alpha for t in cells)
    return dataclasses.replace(mode, measure=dataclasses.replace(mode.measure, stop_floor=floor, stop_alpha=alpha))
