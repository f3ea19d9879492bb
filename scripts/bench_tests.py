"""Time each test tier as CI runs it: ``python scripts/bench_tests.py [--busy] [TIER …]`` (default: spec,
integration, e2e).

One run of each tier's folder with the pytest arguments scripts/test.sh gives (read from it, so the two cannot
drift), CI=true so a missing real part fails instead of skipping. The table goes into docs/development.md
through scripts/doc_tables.py, stamped with date, machine and versions; the machine's load average at the start
of each tier is in it too, since a shared machine's figures mean little without it. ``--busy`` runs the same
tiers with a busy loop beside them (one Python process spinning on the CPU for the whole run, as other work on
a shared CI machine would): the suite must still pass, only slower. It writes a table of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from busy import spinning
from doc_tables import DOCS, ROOT, write_block

TIERS = ("spec", "integration", "e2e")
TEST_SH = ROOT / "scripts" / "test.sh"


def ci_pytest_args() -> list[str]:
    """The arguments after the pytest program in scripts/test.sh's ``PYTEST=(…)`` line."""
    match = re.search(r"^PYTEST=\((.*)\)$", TEST_SH.read_text(), re.MULTILINE)
    if match is None:
        raise SystemExit(f"bench_tests: no PYTEST=(…) line in {TEST_SH}")
    return shlex.split(match.group(1))[1:]


@dataclass(frozen=True)
class TierTime:
    tier: str
    specs: int
    failed: int
    skipped: int
    wall_s: float
    summed_s: float  # the specs' own times added up: about what one worker would take
    slowest: str
    slowest_s: float
    load_1m: float

    def row(self) -> str:
        outcome = "passed" if not self.failed else f"**{self.failed} failed**"
        if self.skipped:
            outcome += f", {self.skipped} skipped"
        return (
            f"| {self.tier} | {self.specs} | {outcome} | {self.wall_s:.0f} | {self.summed_s:.0f} | "
            f"`{self.slowest}` {self.slowest_s:.1f} | {self.load_1m:.1f} |"
        )


def time_tier(tier: str, args: list[str]) -> TierTime:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        command = [sys.executable, "-m", "pytest", *args, "-q", f"--junitxml={report}", f"tests/{tier}"]
        print(f"bench_tests: {shlex.join(command)}", file=sys.stderr, flush=True)
        start = time.monotonic()
        subprocess.run(command, cwd=ROOT, env={**os.environ, "CI": "true"}, check=False)
        wall = time.monotonic() - start
        cases = list(ET.parse(report).getroot().iter("testcase"))
    failed = sum(1 for case in cases if case.find("failure") is not None or case.find("error") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    times = {f"{case.get('classname', '')}.{case.get('name', '')}": float(case.get("time", 0)) for case in cases}
    slowest = max(times, key=times.__getitem__, default="-")
    return TierTime(
        tier=tier,
        specs=len(cases),
        failed=failed,
        skipped=skipped,
        wall_s=wall,
        summed_s=sum(times.values()),
        slowest=slowest.removeprefix("tests."),
        slowest_s=times.get(slowest, 0.0),
        load_1m=load,
    )


def table(results: list[TierTime], args: list[str], busy: bool) -> str:
    beside = " beside a busy loop (one process spinning on a core throughout)" if busy else ""
    lines = [
        f"`pytest {shlex.join(args)} tests/TIER` (scripts/test.sh's arguments), one run each{beside}:",
        "",
        "| tier | specs | outcome | wall s | specs' own s summed | slowest spec s | load avg at start |",
        "|---|---:|---|---:|---:|---|---:|",
        *(result.row() for result in results),
    ]
    if len(results) > 1:
        wall = sum(r.wall_s for r in results)
        summed = sum(r.summed_s for r in results)
        lines.append(f"| all | {sum(r.specs for r in results)} | | {wall:.0f} | {summed:.0f} | | |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tiers", nargs="*", metavar="TIER", help=f"any of {', '.join(TIERS)} (default: all)")
    parser.add_argument("--busy", action="store_true", help="run the tiers beside a busy loop (its own table)")
    options = parser.parse_args()
    tiers = options.tiers or list(TIERS)
    unknown = sorted(set(tiers) - set(TIERS))
    if unknown:
        parser.error(f"no tier {unknown[0]} (tiers: {', '.join(TIERS)})")
    args = ci_pytest_args()
    with spinning(1 if options.busy else 0):  # at the suite's own priority
        results = [time_tier(tier, args) for tier in tiers]
    body = table(results, args, options.busy)
    print(body)
    name = "bench_tests_busy" if options.busy else "bench_tests"
    write_block(DOCS / "development.md", name, body, packages=["pytest", "pytest-xdist"], script="bench_tests")
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
