"""What an `edgebench tune` search is held to, kept on the plan of the run it stores (``Plan.tune``) so a report
reads the front and the recommendation the search was after, and a ``--resume`` continues it unchanged.

Standard library only (the plan travels to boards with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from edgebench_records.options import option


class Objective(StrEnum):
    """What a tune makes smaller, at an accuracy no worse than ``max_accuracy_drop`` below fp32."""

    LATENCY = "latency"  # the candidate's fastest ok cell's p50 on the device
    SIZE = "size"  # its file's bytes
    MEMORY = "memory"  # its leanest ok cell's peak RSS on the device


@dataclass(frozen=True)
class Search:
    """The search's aim; a resume must agree with it (the objective is an option here, the drop the conversion
    option's)."""

    objective: str = option(
        Objective.LATENCY.value,
        choices=tuple(o.value for o in Objective),
        help="What the search makes smaller: p50 latency or peak memory on the device, or the file's size.",
    )
    # The conversion option --max-accuracy-drop (one flag: mixed_int8 is held to the same drop in a tune), which a
    # tune defaults to this when it is not given.
    max_accuracy_drop: float = 1.0
