"""What a board says about itself: its cores by name, its model, and whether it is emulated."""

from __future__ import annotations

import dataclasses

from rich.console import Console

from edgebench.report import table
from edgebench_records import StoredRun


def test_the_run_table_says_once_that_an_emulated_devices_timings_mean_nothing(measured: StoredRun) -> None:
    cells, manifest = measured.cells, measured.manifest
    why = "aarch64 emulated on an x86_64 host (qemu-user): timings mean nothing, outputs are real"
    emulated = [
        dataclasses.replace(c, device=dataclasses.replace(c.device, emulated=why)) if c.device else c for c in cells
    ]
    console = Console(record=True, width=200)
    table.render(table.rows(emulated, manifest), "run", console)
    assert console.export_text().count(f"emulated device: {why}") == 1
