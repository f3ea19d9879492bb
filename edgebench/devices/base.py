"""What every transport offers: running a plan, and a check of what the device can run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from device_runner.sweep import CellDone


class Device(Protocol):
    name: str

    def run(self, plan_path: Path, results_dir: Path, on_cell: Callable[[CellDone], None]) -> None:
        """Run the plan's cells on the device; finished cells' results end up in ``results_dir``."""
        ...

    def check(self) -> dict[str, object]:
        """Connect and report the device's facts (Python, runtime, CPU, disk… or a phone's model, SoC, API)."""
        ...
