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
    """The plan carries the latency floor, so an adaptive paired run also stops once the ratio's interval lies
    wholly past it or wholly short of it: the smallest floor the policy gives these variants on that device (a
    decision at a larger floor waits for a narrower interval)."""
    floor = min(policy.for_cell(mode.device, name).latency_floor for name in [*mode.variants, "given"])
    return dataclasses.replace(mode, measure=dataclasses.replace(mode.measure, stop_floor=floor))
