"""How long one invocation of `edgebench tune` searches: not kept with the run, so a ``--resume`` may give more."""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench_records.options import option

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> float:
    """``30m``, ``1h30m``, ``90s`` or plain seconds as seconds; ``ValueError`` naming what is wrong."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
    else:
        match = _DURATION.fullmatch(text)
        if not text or match is None:
            raise ValueError(f"{text!r} is not a duration like 30m, 1h30m or 90s")
        hours, minutes, secs = (int(part or 0) for part in match.groups())
        seconds = float(hours * 3600 + minutes * 60 + secs)
    if seconds <= 0:
        raise ValueError(f"{text!r} is no time at all")
    return seconds


def show_duration(seconds: float) -> str:
    """``1h05m``, ``12m30s``, ``45s``: as a user would write it back."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


@dataclass(frozen=True)
class Limits:
    """When this invocation stops asking for candidates: whichever comes first."""

    budget: str = option(
        "30m",
        metavar="DURATION",
        help="Wall time for this invocation's search (30m, 1h30m, 90s); a candidate is only started when the "
        "time the candidates so far took on average still fits.",
    )
    trials: int = option(30, at_least=1, help="At most this many candidates in this invocation (fp32 aside).")

    @property
    def budget_s(self) -> float:
        return parse_duration(self.budget)
