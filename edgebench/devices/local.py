"""The host itself as a device: device_runner started as a child process of edgebench."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from device_runner.sweep import PACKAGE_PARENT, CellDone
from edgebench.errors import EdgebenchError
from edgebench.processes import JsonObject, stream_json_lines


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
        results_dir.mkdir(parents=True, exist_ok=True)
        log = results_dir.parent / "runner.log"

        def on_object(message: JsonObject) -> None:
            if message.pop("event", None) == "cell":
                on_cell(CellDone(**message))

        if stream_json_lines(command, log, on_object, cwd=PACKAGE_PARENT) == 2:
            last = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise EdgebenchError(f"device local: runner failed: {last[0]} (log: {log})")

    def check(self) -> dict[str, object]:
        out = subprocess.run(
            [self.python, "-m", "device_runner", "facts"],
            cwd=PACKAGE_PARENT,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise EdgebenchError(f"device local: {(out.stderr.strip().splitlines() or ['no output'])[-1]}")
        facts: dict[str, object] = json.loads(out.stdout)
        return facts
