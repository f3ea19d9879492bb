"""The host itself as a device: device_runner started as a child process of edgebench."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from device_runner.sweep import PACKAGE_PARENT, CellDone
from edgebench.errors import EdgebenchError


class LocalDevice:
    name = "local"

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python

    def run(self, plan_path: Path, results_dir: Path, on_cell: Callable[[CellDone], None]) -> None:
        # The runner starts in the folder holding device_runner/ (as on a board), so paths must be absolute.
        command = [
            self.python,
            "-m",
            "device_runner",
            "run",
            str(plan_path.resolve()),
            "--results",
            str(results_dir.resolve()),
        ]
        log = results_dir.parent / "runner.log"
        results_dir.mkdir(parents=True, exist_ok=True)
        with (
            log.open("a") as stderr,
            subprocess.Popen(command, cwd=PACKAGE_PARENT, stdout=subprocess.PIPE, stderr=stderr, text=True) as proc,
        ):
            assert proc.stdout is not None
            for line in proc.stdout:
                event = _parse_event(line)
                if event is not None:
                    on_cell(event)
        if proc.returncode == 2:
            last = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise EdgebenchError(f"device local: runner failed: {last[0]} (log: {log})")


def _parse_event(line: str) -> CellDone | None:
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or data.pop("event", None) != "cell":
        return None
    return CellDone(**data)
