"""What the device is, and what the current process costs: read from /proc and /sys."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import numpy as np

from device_runner.runtime import Runtime
from device_runner.schema import DeviceFacts


def _read(path: str | Path) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _status_kb(field: str) -> float:
    """A ``VmXxx:  123 kB`` line of /proc/self/status, in kB."""
    match = re.search(rf"^{field}:\s+(\d+) kB", _read("/proc/self/status") or "", re.MULTILINE)
    if match is None:
        raise RuntimeError(f"/proc/self/status has no {field} line (not Linux?)")
    return float(match.group(1))


def rss_mb() -> float:
    return _status_kb("VmRSS") / 1024


def peak_rss_mb() -> float:
    """VmHWM: the peak resident set of this process since it started."""
    return _status_kb("VmHWM") / 1024


def reset_peak_rss() -> bool:
    """Start VmHWM afresh from the current RSS (Linux >= 4.0: "5" > /proc/self/clear_refs), so a transient
    before the cell's work (unpacking the input set) is not its peak. False where the kernel refuses."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def temperatures_c() -> dict[str, float]:
    """Every thermal zone that reads, by its type (e.g. ``cpu-thermal``)."""
    temps = {}
    for zone in sorted(Path("/sys/class/thermal").glob("thermal_zone*")):
        raw, kind = _read(zone / "temp"), _read(zone / "type") or zone.name
        if raw and raw.lstrip("-").isdigit():
            temps[f"{kind}:{zone.name}"] = int(raw) / 1000
    return temps


def cpu_model() -> str:
    info = _read("/proc/cpuinfo") or ""
    for key in ("model name", "Hardware", "Model", "cpu model"):
        match = re.search(rf"^{key}\s*:\s*(.+)$", info, re.MULTILINE)
        if match:
            return match.group(1).strip()
    return platform.processor() or "unknown"


def ram_mb() -> float | None:
    match = re.search(r"^MemTotal:\s+(\d+) kB", _read("/proc/meminfo") or "", re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def device_facts(runtime: Runtime) -> DeviceFacts:
    os_release = _read("/etc/os-release") or ""
    pretty = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', os_release, re.MULTILINE)
    return DeviceFacts(
        runtime=runtime.name,
        runtime_version=runtime.version,
        python=platform.python_version(),
        numpy=np.__version__,
        machine=platform.machine(),
        cpu_model=cpu_model(),
        cores=os.cpu_count() or 0,
        os=pretty.group(1) if pretty else platform.system(),
        kernel=platform.release(),
        governor=_read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        ram_mb=ram_mb(),
    )
