"""Gate thresholds: sensible defaults, a TOML policy file, overrides per device or variant.

# gate.toml
alpha = 0.005                 # significance level per statistical test
latency_floor = 0.05          # a slowdown smaller than 5 % is never a regression
memory_pct = 0.02             # peak memory: max(2 %, 16 MB)
memory_mb = 16
size_pct = 0.01               # file and gzip size: any growth past 1 %
accuracy_points = 0.5         # top-1 drop floor, in points
inconclusive_fails = false    # whether "measure more" fails the gate
ignore = ["gzip_size"]        # metrics not to gate on
[[override]]                  # first match wins
device = "pi4"
variant = "pruned_int8"
latency_floor = 0.10
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebench.errors import EdgebenchError

METRICS = (
    "latency_p50",
    "latency_p90",
    "latency_p99",
    "peak_memory",
    "load_memory",
    "size",
    "gzip_size",
    "accuracy",
    "fp32_agreement",
    "coverage",
    "status",
)


@dataclass(frozen=True)
class Thresholds:
    alpha: float = 0.005
    latency_floor: float = 0.05
    memory_pct: float = 0.02
    memory_mb: float = 16.0
    size_pct: float = 0.01
    accuracy_points: float = 0.5


@dataclass(frozen=True)
class Override:
    device: str | None
    variant: str | None
    changes: dict[str, float]


@dataclass(frozen=True)
class Policy:
    thresholds: Thresholds = field(default_factory=Thresholds)
    inconclusive_fails: bool = False
    ignore: frozenset[str] = frozenset()
    overrides: tuple[Override, ...] = ()

    def for_cell(self, device: str, variant: str) -> Thresholds:
        for override in self.overrides:
            if override.device in (None, device) and override.variant in (None, variant):
                return dataclasses.replace(self.thresholds, **override.changes)
        return self.thresholds


def load_policy(path: Path | None) -> Policy:
    if path is None:
        return Policy()
    try:
        document: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EdgebenchError(f"policy {path}: {exc}") from exc
    names = {f.name for f in dataclasses.fields(Thresholds)}
    unknown = set(document) - names - {"inconclusive_fails", "ignore", "override"}
    if unknown:
        raise EdgebenchError(f"policy {path}: unknown setting {', '.join(sorted(unknown))}")
    ignored = frozenset(document.get("ignore", []))
    if ignored - set(METRICS):
        raise EdgebenchError(
            f"policy {path}: unknown metric {', '.join(sorted(ignored - set(METRICS)))} in ignore; "
            f"known: {', '.join(METRICS)}"
        )
    overrides = []
    for entry in document.get("override", []):
        changes = {k: float(v) for k, v in entry.items() if k not in ("device", "variant")}
        if set(changes) - names:
            raise EdgebenchError(f"policy {path}: override sets unknown {', '.join(sorted(set(changes) - names))}")
        overrides.append(Override(entry.get("device"), entry.get("variant"), changes))
    return Policy(
        thresholds=Thresholds(**{k: float(v) for k, v in document.items() if k in names}),
        inconclusive_fails=bool(document.get("inconclusive_fails", False)),
        ignore=ignored,
        overrides=tuple(overrides),
    )
