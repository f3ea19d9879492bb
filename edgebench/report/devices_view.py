"""What ``edgebench devices`` shows: the inventory as a table, and what ``devices check`` found on a board
or a phone, one fact a line."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from edgebench.cpu_features import listed
from edgebench.inventory import LOCAL, AdbTarget, Inventory, Target
from edgebench_records import CpuFeature


def rows(inventory: Inventory) -> list[dict[str, str]]:
    """`local` first (always there), then the inventory's devices: what ``--json`` lists and the table shows."""
    local = {"name": LOCAL, "kind": "local", "address": "this machine", "python": sys.executable, "workdir": "-"}
    return [local, *(_row(t) for t in inventory.devices.values())]


def render(device_rows: list[dict[str, str]], title: str, console: Console) -> None:
    table = Table(title=title)
    for column in device_rows[0]:
        table.add_column(column)
    for row in device_rows:
        table.add_row(*row.values())
    console.print(table)


def check_lines(name: str, report: dict[str, object]) -> list[str]:
    """``devices check``'s report, a phone's or a board's."""
    return _android_lines(name, report) if "android" in report else _board_lines(name, report)


def _board_lines(name: str, report: dict[str, object]) -> list[str]:
    facts = report["device"]
    assert isinstance(facts, dict)
    lines = [
        f"{name}: reachable",
        f"  python {facts['python']}, numpy {facts['numpy']}",
        f"  runtime {facts['runtime']} {facts['runtime_version']}",
        f"  CPU {facts['cpu_model']} × {facts['cores']}, {facts['os']}, kernel {facts['kernel']}",
    ]
    lines.append(f"  CPU features: {_features(facts.get('cpu_features'))}")
    board = ", ".join(str(facts[k]) for k in ("board_model", "cpu_cores") if facts.get(k))
    if board:
        lines.append(f"  board {board} ({facts['machine']})")
    if facts.get("emulated"):
        lines.append(f"  EMULATED: {facts['emulated']}")
    if "free_disk_mb" in report:
        lines.append(f"  free disk in {report['workdir']}: {report['free_disk_mb']:.0f} MB")
    temps = report.get("temperature_c") or {}
    assert isinstance(temps, dict)
    lines.append("  temperature: " + (", ".join(f"{k} {v:.1f} °C" for k, v in temps.items()) or "not exposed"))
    return lines


def _android_lines(name: str, report: dict[str, object]) -> list[str]:
    phone = report["android"]
    assert isinstance(phone, dict)
    thermal = phone["thermal_status"]
    present = "present" if report["runner_present"] else "MISSING"
    return [
        f"{name}: reachable",
        f"  {phone['manufacturer']} {phone['model']}, SoC {phone['soc'] or 'not reported'}",
        f"  Android {phone['android']} (API {phone['api_level']}), ABI {phone['abi']}, kernel {phone['kernel']}",
        f"  free space in {report['workdir']}: {report['free_disk_mb']:.0f} MB",
        f"  runner {report['runner']}: {present} ({report['runner_detail']})",
        "  thermal status: " + (f"{thermal} (0 = none … 6 = shutdown)" if thermal is not None else "not reported"),
    ]


def _features(raw: object) -> str:
    """The facts' ``cpu_features`` (JSON: a list of the vocabulary's values, or null) as labels."""
    return listed([CpuFeature(value) for value in raw] if isinstance(raw, list) else None)


def _row(t: Target) -> dict[str, str]:
    if isinstance(t, AdbTarget):
        address = f"{t.serial} ({t.transport})"
        return {
            "name": t.name,
            "kind": "adb",
            "address": address,
            "python": f"runner: {t.runner}",
            "workdir": t.workdir,
        }
    return {
        "name": t.name,
        "kind": "ssh",
        "address": f"{t.user}@{t.host}:{t.port}",
        "python": t.python or "setup venv, else python3",
        "workdir": t.workdir,
    }
