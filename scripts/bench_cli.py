"""How fast does `--help` answer? Each command's help in a fresh process, beside a bare Python start.

Rounds run the commands in rotating order so drift hits all alike; medians over rounds, measured in
one run on this machine. Goal: `edgebench --help` and `edgebench gate --help` <= 0.3 s. Prints a
Markdown table and writes it into docs/benchmarks.md (scripts/doc_tables.py).

    .venv/bin/python scripts/bench_cli.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from doc_tables import publish

EDGEBENCH = str(Path(sys.executable).with_name("edgebench"))
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "edgebench --help": [EDGEBENCH, "--help"],
    "edgebench gate --help": [EDGEBENCH, "gate", "--help"],
    "edgebench run --help": [EDGEBENCH, "run", "--help"],
    "edgebench report --help": [EDGEBENCH, "report", "--help"],
}


def wall_s(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    names = list(COMMANDS)
    times: dict[str, list[float]] = {name: [] for name in names}
    for command in COMMANDS.values():
        wall_s(command)  # warm the file cache once: the rounds measure imports, not the disk
    for round_ in range(args.rounds):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            times[name].append(wall_s(COMMANDS[name]))
    base = statistics.median(times["python -c pass"])
    lines = ["| command | median s | over a bare Python start s |", "|---|---:|---:|"]
    for name in names:
        median = statistics.median(times[name])
        lines.append(f"| `{name}` | {median:.3f} | {median - base:+.3f} |")
    publish("bench_cli", "\n".join(lines), packages=["click"])


if __name__ == "__main__":
    main()
