"""What every transport offers the run command."""

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
