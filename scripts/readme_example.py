"""Write what `scripts/run.sh` prints into the README: README command 1 run for real (the bundled example on
`local`, every default), its table copied between the README's markers with when, where and with what it ran.

    .venv/bin/python scripts/readme_example.py

The run goes into a temporary work directory and history, so the user's own history is not touched. The
figures are this machine's at that minute: the stamp says which machine, and the README says to read the
ratios, not the milliseconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from doc_tables import ROOT, write_block

WIDTH = 150  # wide enough that rich never wraps a column of the default table


def run_table(work: Path) -> str:
    """The table `edgebench run` prints on stdout (progress goes to stderr), at a fixed width."""
    edgebench = Path(sys.executable).with_name("edgebench")
    command = [str(edgebench), "run", "--workdir", str(work), "--store", str(work / "history.sqlite")]
    env = {**os.environ, "COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"readme_example: edgebench run failed: {done.stderr.strip().splitlines()[-1:]}")
    return "\n".join(line.rstrip() for line in done.stdout.strip("\n").splitlines())


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="edgebench-readme-") as work:
        table = run_table(Path(work))
    body = f"```\n{table}\n```"
    write_block(ROOT / "README.md", "readme_example", body, packages=["ai-edge-litert"])


if __name__ == "__main__":
    main()
