"""The noise guard: what the machine was doing around a cell, and whether that spoils its timing.

Read from /proc and /sys (and a Pi's ``vcgencmd``) with the standard library only: device_runner is
copied onto boards. The figure that decides is the CPU time *other* processes took on the cell's usable
CPUs while it ran (/proc/stat deltas less this process's own CPU time), so a cell's own threads never
count against it; load average, frequencies and thermal state are kept beside it as evidence.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from edgebench_records import Activity, Conditions

# Before/after windows: long enough for /proc/stat's 10 ms ticks to mean something, short enough per cell.
WINDOW_S = 0.1
# Others may use the cores the cell's threads leave free, plus this much, before the cell is contended:
# a quarter core is what a cron job or a shell costs; a busy loop, a build or another benchmark is more.
SLACK_CORES = 0.25
# vcgencmd get_throttled bits that describe *now* (bits 16-19 say "since boot" and spoil nothing here).
THROTTLE_NOW = {0x1: "under-voltage", 0x2: "arm frequency capped", 0x4: "throttled", 0x8: "soft temperature limit"}
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal (a VM's stolen time is contention too)
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# Where the CPU counters are read from: the kernel's, unless a test names a frozen copy so that a verdict it
# checks cannot hang on the load of the machine the suite runs on (a copy never moves: nobody else is busy).
PROC_STAT_VARIABLE = "EDGEBENCH_PROC_STAT"


def _read(path: str | Path) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def usable_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))


@dataclass(frozen=True)
class Snapshot:
    """The counters at one instant: a window's figures are the differences of two snapshots."""

    wall_s: float
    busy_s: float | None  # CPU time of everything on the usable CPUs since boot; None without /proc/stat
    own_s: float  # this process's CPU time, all threads


def snapshot(cpus: list[int]) -> Snapshot:
    own = os.times()
    return Snapshot(time.monotonic(), _busy_s(cpus), own.user + own.system)


def _busy_s(cpus: list[int]) -> float | None:
    wanted = {f"cpu{cpu}" for cpu in cpus}
    ticks, seen = 0, 0
    for line in (_read(os.environ.get(PROC_STAT_VARIABLE, "/proc/stat")) or "").splitlines():
        name, *values = line.split()
        if name in wanted:
            seen += 1
            ticks += sum(int(values[i]) for i in BUSY_FIELDS if i < len(values))
    return ticks / CLK_TCK if seen == len(wanted) else None


def load_avg_1m() -> float | None:
    raw = _read("/proc/loadavg")
    return float(raw.split()[0]) if raw else None


def cpu_mhz(cpus: list[int]) -> dict[str, float]:
    out = {}
    for cpu in cpus:
        raw = _read(f"/sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_cur_freq")
        if raw and raw.isdigit():
            out[f"cpu{cpu}"] = int(raw) / 1000
    return out


def governor() -> str | None:
    return _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")


def vcgencmd_throttled() -> str | None:
    """A Raspberry Pi firmware's throttling word ("0x0" when all is well); None where there is no vcgencmd."""
    tool = shutil.which("vcgencmd")
    if tool is None:
        return None
    try:
        out = subprocess.run([tool, "get_throttled"], capture_output=True, text=True, timeout=2, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"throttled=(0x[0-9a-fA-F]+)", out.stdout)
    return match.group(1) if match else None


def thermal_throttling() -> list[str]:
    """Thermal zones at or past a passive trip point (the kernel slows the CPU there) and CPU cooling
    devices that are engaged."""
    found = []
    for zone in sorted(Path("/sys/class/thermal").glob("thermal_zone*")):
        temp = _read(zone / "temp")
        if not (temp and temp.lstrip("-").isdigit()):
            continue
        for trip in sorted(zone.glob("trip_point_*_type")):
            limit = _read(str(trip).removesuffix("_type") + "_temp")
            if _read(trip) == "passive" and limit and limit.lstrip("-").isdigit() and 0 < int(limit) <= int(temp):
                found.append(f"{_read(zone / 'type') or zone.name} at {int(temp) / 1000:.0f} °C (passive trip)")
                break
    for device in sorted(Path("/sys/class/thermal").glob("cooling_device*")):
        kind, state, top = _read(device / "type") or "", _read(device / "cur_state"), _read(device / "max_state")
        if ("cpufreq" in kind or kind == "Processor") and state and state.isdigit() and int(state) > 0:
            found.append(f"{kind} cooling at state {state}/{top}")
    return found


def activity(start: Snapshot, end: Snapshot, cpus: list[int], *, slow_probes: bool) -> Activity:
    """The window between two snapshots; ``slow_probes`` adds vcgencmd and thermal (not inside the cell)."""
    window = max(end.wall_s - start.wall_s, 1e-9)
    busy = others = None
    if start.busy_s is not None and end.busy_s is not None:
        busy = (end.busy_s - start.busy_s) / window
        others = max(0.0, busy - (end.own_s - start.own_s) / window)
    return Activity(
        window_s=round(window, 4),
        load_avg_1m=load_avg_1m(),
        busy_cores=None if busy is None else round(busy, 3),
        others_busy_cores=None if others is None else round(others, 3),
        cpu_mhz=cpu_mhz(cpus),
        throttled=vcgencmd_throttled() if slow_probes else None,
        thermal=thermal_throttling() if slow_probes else [],
    )


def quiet_window(cpus: list[int], seconds: float = WINDOW_S) -> Activity:
    start = snapshot(cpus)
    time.sleep(seconds)
    return activity(start, snapshot(cpus), cpus, slow_probes=True)


def others_over(windows: list[Activity]) -> float | None:
    """Others' busy cores over all windows together, weighted by length (a short timed loop alone is a
    handful of 10 ms ticks; with the windows around it the figure steadies)."""
    known = [w for w in windows if w.others_busy_cores is not None]
    total = sum(w.window_s for w in known)
    return (
        sum(w.others_busy_cores * w.window_s for w in known if w.others_busy_cores is not None) / total
        if total
        else None
    )


def reasons(threads: int, cores: int, before: Activity, during: Activity, after: Activity) -> list[str]:
    """Why the timing of a cell run under these conditions cannot be trusted; empty when it can."""
    found = []
    if threads > cores:
        found.append(f"{threads} threads on {cores} usable cores: the cell competes with itself")
    spare = max(0, cores - threads)
    others = others_over([before, during, after])
    if others is not None and others > spare + SLACK_CORES:
        found.append(
            f"other processes kept {others:.2f} of {cores} cores busy (the cell's {threads} thread"
            f"{'s' if threads != 1 else ''} leave {spare} free; during the timed loop "
            f"{during.others_busy_cores if during.others_busy_cores is not None else '?'})"
        )
    for label, window in (("before", before), ("after", after)):
        bits = int(window.throttled, 16) if window.throttled else 0
        now = [name for bit, name in THROTTLE_NOW.items() if bits & bit]
        if now:
            found.append(f"{label}: vcgencmd get_throttled={window.throttled} ({', '.join(now)})")
        found += [f"{label}: {item}" for item in window.thermal]
    return found


class Guard:
    """Watches one timed stretch: ``Guard(threads)`` reads the machine just before the timed loop (a short
    window), ``finish()`` right after it, and judges."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.cpus = usable_cpus()
        self.before = quiet_window(self.cpus)
        self._start = snapshot(self.cpus)

    def finish(self) -> Conditions:
        during = activity(self._start, snapshot(self.cpus), self.cpus, slow_probes=False)
        after = quiet_window(self.cpus)
        why = reasons(self.threads, len(self.cpus), self.before, during, after)
        return Conditions(
            available_cores=len(self.cpus),
            threads=self.threads,
            governor=governor(),
            before=self.before,
            during=during,
            after=after,
            contended=bool(why),
            reasons=why,
        )
