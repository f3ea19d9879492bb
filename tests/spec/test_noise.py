"""The noise guard: a cell measured while other work occupies the CPUs is stored flagged, with the reasons,
and the gate reads a flagged side as inconclusive."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from device_runner import noise
from edgebench_records import Activity, Conditions

SPIN = "while True: pass"


@contextmanager
def busy_loops(count: int | None = None) -> Iterator[None]:
    """A spinning process per usable core (other work on the machine), ended by pid when done."""
    procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(count or len(noise.usable_cpus()))]
    try:
        time.sleep(0.3)  # let them start spinning
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def window(others: float | None, *, throttled: str | None = None, seconds: float = 1.0) -> Activity:
    return Activity(seconds, 0.5, others, others, throttled=throttled)


def test_others_using_the_cores_the_cell_needs_is_contention() -> None:
    quiet, busy = window(0.1, seconds=0.1), window(2.0)  # 0.1 s windows around a 1 s timed loop
    assert noise.reasons(1, 2, quiet, window(0.1), quiet) == []
    assert noise.reasons(1, 2, quiet, window(1.0), quiet) == []  # a spare core is left for it
    (why,) = noise.reasons(1, 2, quiet, busy, quiet)
    assert why.startswith("other processes kept 1.68 of 2 cores busy"), why  # the windows weighted by length
    assert noise.reasons(2, 2, window(0.5), window(0.5), window(0.5))  # 2 threads on 2 cores: no room at all


def test_more_threads_than_usable_cores_and_throttling_are_reasons_too() -> None:
    quiet = window(0.0)
    assert "4 threads on 2 usable cores" in noise.reasons(4, 2, quiet, quiet, quiet)[0]
    (why,) = noise.reasons(1, 4, window(0.0, throttled="0x4"), quiet, quiet)
    assert why == "before: vcgencmd get_throttled=0x4 (throttled)"
    assert noise.reasons(1, 4, window(0.0, throttled="0x50000"), quiet, quiet) == []  # since boot, not now


def test_the_cells_own_cpu_time_is_not_counted_as_competition() -> None:
    start, end = noise.Snapshot(0.0, 10.0, 5.0), noise.Snapshot(2.0, 13.0, 6.0)  # 3 CPU-s in 2 s, 1 of them ours
    seen = noise.activity(start, end, [0, 1], slow_probes=False)
    assert (seen.busy_cores, seen.others_busy_cores) == (1.5, 1.0)


def saturated(conditions: Conditions) -> bool:
    """Busy loops on every core: the whole machine busy, whatever else (the cell too) is running on it."""
    busy = conditions.during.busy_cores
    return busy is not None and busy >= 0.9 * conditions.available_cores


def test_the_guard_flags_busy_loops_on_every_core() -> None:
    guard = noise.Guard(threads=1)
    time.sleep(0.5)
    quiet = guard.finish()
    with busy_loops():
        guard = noise.Guard(threads=1)
        time.sleep(0.5)
        loaded = guard.finish()
    assert loaded.contended and any(r.startswith("other processes kept") for r in loaded.reasons), loaded
    assert saturated(loaded), loaded
    # this machine is shared: "quiet" may be busy too, so only ask that the loops show as more — or, where other
    # work already saturated the machine, as saturated still (no reading goes past every core)
    assert quiet.during.others_busy_cores is not None and loaded.during.others_busy_cores is not None
    ceiling = 0.9 * quiet.available_cores
    assert loaded.during.others_busy_cores >= min(quiet.during.others_busy_cores, ceiling) - 0.1
    assert quiet.available_cores == len(os.sched_getaffinity(0)) and quiet.threads == 1
