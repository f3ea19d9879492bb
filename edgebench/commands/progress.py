"""How progress looks: rich bars on a terminal, one plain line per step (and a heartbeat) in a CI log.

rich draws its bars only on a terminal; in a CI log it would print nothing until a five-minute
conversion ends, so there every finished step is a line on stderr, and a line every
``HEARTBEAT_S`` seconds says the job is still alive while a long step runs.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

from edgebench.progress import Listener, Silent, Task

if TYPE_CHECKING:  # rich is imported only when bars are drawn: `--help` stays fast
    from rich.progress import Progress, TaskID

HEARTBEAT_S = 30.0


@contextmanager
def progress(quiet: bool = False, stream: IO[str] | None = None, *, as_json: bool = False) -> Iterator[Listener]:
    """The listener that fits where stderr goes; ``quiet``: none at all; ``as_json`` (a command's ``--json``
    off a terminal): one JSON object per step, for the machine that reads the result too."""
    stream = stream or sys.stderr
    if quiet:
        yield Silent()
    elif as_json and not stream.isatty():
        yield JsonEvents(stream)
    elif stream.isatty():
        with _bars(stream) as listener:
            yield listener
    else:
        lines = Lines(stream)
        try:
            yield lines
        finally:
            lines.close()


@contextmanager
def _bars(stream: IO[str]) -> Iterator[Listener]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
    )
    with Progress(*columns, console=Console(file=stream)) as bars:
        yield _Bars(bars)


class _Bars:
    def __init__(self, bars: Progress) -> None:
        self._bars = bars

    def task(self, title: str, total: int) -> Task:
        return _BarTask(self._bars, self._bars.add_task(title, total=total, note=""), total)


class _BarTask:
    def __init__(self, bars: Progress, task_id: TaskID, total: int) -> None:
        self._bars, self._id, self._total = bars, task_id, total

    def step(self, note: str, *, done: int | None = None) -> None:
        if done is None:
            self._bars.update(self._id, advance=1, note=note)
        else:
            self._bars.update(self._id, completed=done, note=note)

    def finish(self, note: str = "done") -> None:
        self._bars.update(self._id, completed=self._total, note=note)


class Lines:
    """One line per finished step, and a heartbeat for the tasks still running when nothing was said."""

    def __init__(self, stream: IO[str], heartbeat_s: float = HEARTBEAT_S) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._tasks: list[_LineTask] = []
        self._last_line = time.monotonic()
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, args=(heartbeat_s,), daemon=True)
        self._heartbeat.start()

    def task(self, title: str, total: int) -> Task:
        task = _LineTask(self, title, total)
        with self._lock:
            self._tasks.append(task)
        return task

    def say(self, line: str) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            self._stream.write(line + "\n")  # one write: never split by another thread's output
            self._stream.flush()
            self._last_line = time.monotonic()

    def close(self) -> None:
        """No line after this: a device's thread still winding down after Ctrl-C must not write into the line
        that says the run was interrupted (it printed "…·edgebench: interrupted" once, on a busy machine)."""
        with self._lock:
            self._stop.set()
        self._heartbeat.join()

    def _beat(self, every_s: float) -> None:
        while not self._stop.wait(min(every_s, 1.0)):
            with self._lock:
                quiet_for = time.monotonic() - self._last_line
                running = [t for t in self._tasks if not t.finished]
            if running and quiet_for >= every_s:
                self.say("; ".join(t.status("still running") for t in running))


class _LineTask:
    def __init__(self, lines: Lines, title: str, total: int) -> None:
        self._lines, self.title, self.total = lines, title, total
        self.done, self.finished, self._started = 0, False, time.monotonic()

    def status(self, note: str) -> str:
        elapsed = int(time.monotonic() - self._started)
        return f"{self.title} {self.done}/{self.total} · {elapsed // 60}:{elapsed % 60:02d} · {note}"

    def step(self, note: str, *, done: int | None = None) -> None:
        self.done = self.done + 1 if done is None else done
        self._lines.say(self.status(note))

    def finish(self, note: str = "done") -> None:
        if not self.finished:
            self.finished, self.done = True, self.total
            self._lines.say(self.status(note))


class JsonEvents:
    """``{"event": "progress", "task": …, "done": …, "total": …, "note": …}`` per step, on stderr."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def task(self, title: str, total: int) -> Task:
        return _JsonTask(self, title, total)

    def emit(self, event: dict[str, object]) -> None:
        with self._lock:
            print(json.dumps({"event": "progress", **event}), file=self._stream, flush=True)


class _JsonTask:
    def __init__(self, events: JsonEvents, title: str, total: int) -> None:
        self._events, self._title, self._total, self._done = events, title, total, 0

    def step(self, note: str, *, done: int | None = None) -> None:
        self._done = self._done + 1 if done is None else done
        self._events.emit({"task": self._title, "done": self._done, "total": self._total, "note": note})

    def finish(self, note: str = "done") -> None:
        self._done = self._total
        self._events.emit({"task": self._title, "done": self._total, "total": self._total, "note": note})
