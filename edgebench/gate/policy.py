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

Every value is checked when the file is read: a gate that silently runs with a negative floor or an
alpha of 5 decides nothing, so a bad value is one line naming the file and the key, exit 2.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from collections.abc import Callable
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


# How many earlier runs of a cell the stored gate needs to know how much one run differs from the next.
# Student's t covers an SD estimated from few runs only when runs spread normally; a machine that switches
# between a fast and a slow state several times a second (docs/measuring.md) gives runs that lean one way or
# the other, and 5 runs leaning the same way happen often enough to give 3.3 % A/A false alarms; with 10,
# 1.0 % (scripts/bench_gate.py, docs/gate.md).
MIN_HISTORY = 10
# Paired mode is adaptive unless --precision 0: on a quiet Xeon it caught all 40 models 10 % slower with no false
# alarm in 100, where 20 fixed blocks of 10 runs caught 34 (scripts/bench_gate.py, docs/benchmarks.md). Its blocks
# are of PAIRED_RUNS / 20 runs; a pair that never gets precise enough stops at PAIRED_MAX_S timed seconds a side.
PAIRED_PRECISION, PAIRED_MAX_S, PAIRED_RUNS = 0.01, 30.0, 100


def _floor(x: float) -> bool:
    return 0 <= x < math.inf  # also false for NaN


# What each threshold may be, and how to say so. NaN fails every comparison, so it is refused too.
LIMITS: dict[str, tuple[Callable[[float], bool], str]] = {
    "alpha": (lambda x: 0 < x < 1, "between 0 and 1, exclusive"),
    "latency_floor": (_floor, "a finite number >= 0"),
    "memory_pct": (_floor, "a finite number >= 0"),
    "memory_mb": (_floor, "a finite number >= 0"),
    "size_pct": (_floor, "a finite number >= 0"),
    "accuracy_points": (lambda x: 0 <= x <= 100, "between 0 and 100 points"),
}
assert set(LIMITS) == {f.name for f in dataclasses.fields(Thresholds)}
SETTINGS = {*LIMITS, "inconclusive_fails", "ignore", "override"}
SELECTORS = ("device", "variant")


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
    where = f"policy {path}"
    try:
        document: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EdgebenchError(f"{where}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise EdgebenchError(f"{where}: not a TOML file (not UTF-8 text at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise EdgebenchError(f"{where}: {exc}") from exc
    unknown = set(document) - SETTINGS
    if unknown:
        raise EdgebenchError(f"{where}: unknown setting {', '.join(sorted(unknown))}")
    return Policy(
        thresholds=Thresholds(**_numbers(document, where)),
        inconclusive_fails=_flag(document, "inconclusive_fails", where),
        ignore=_ignore(document, where),
        overrides=tuple(
            _override(entry, f"{where}: override {i}") for i, entry in enumerate(_tables(document, where), 1)
        ),
    )


def _shown(value: object) -> str:
    """A value as it looks in TOML, so the message quotes what the user wrote."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_shown(item)}" for key, item in value.items()) + "}"
    return str(value)  # int, float (inf, nan), dates


def _numbers(table: dict[str, Any], where: str) -> dict[str, float]:
    out = {}
    for key, value in table.items():
        if key not in LIMITS:
            continue
        # TOML booleans are Python ints: `memory_mb = true` is a mistake, not 1 MB.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EdgebenchError(f"{where}: {key} = {_shown(value)}: not a number")
        allowed, words = LIMITS[key]
        if not allowed(float(value)):
            raise EdgebenchError(f"{where}: {key} = {_shown(value)}: must be {words}")
        out[key] = float(value)
    return out


def _flag(table: dict[str, Any], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise EdgebenchError(f"{where}: {key} = {_shown(value)}: must be true or false")
    return value


def _ignore(table: dict[str, Any], where: str) -> frozenset[str]:
    value = table.get("ignore", [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise EdgebenchError(f'{where}: ignore = {_shown(value)}: must be a list of metric names, e.g. ["gzip_size"]')
    unknown = set(value) - set(METRICS)
    if unknown:
        raise EdgebenchError(
            f"{where}: unknown metric {', '.join(sorted(unknown))} in ignore; known: {', '.join(METRICS)}"
        )
    return frozenset(value)


def _tables(table: dict[str, Any], where: str) -> list[dict[str, Any]]:
    value = table.get("override", [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise EdgebenchError(f"{where}: override = {_shown(value)}: must be [[override]] tables")
    return value


def _override(entry: dict[str, Any], where: str) -> Override:
    unknown = set(entry) - set(LIMITS) - set(SELECTORS)
    if unknown:
        raise EdgebenchError(f"{where} sets unknown {', '.join(sorted(unknown))}")
    for key in SELECTORS:
        if key in entry and not isinstance(entry[key], str):
            raise EdgebenchError(f"{where}: {key} = {_shown(entry[key])}: must be a {key} name in quotes")
    return Override(entry.get("device"), entry.get("variant"), _numbers(entry, where))
