"""Progress as a listener: the work below the commands reports steps, the command layer renders them.

The work calls ``listener.task(title, total)`` once per thing it does (convert a model, measure on a
device) and ``task.step(note)`` after each step; it never draws anything itself. The renderers (a
rich bar on a terminal, plain lines in a CI log) live in ``edgebench/commands/progress.py``.
"""

from __future__ import annotations

from typing import Protocol


class Task(Protocol):
    def step(self, note: str, *, done: int | None = None) -> None:
        """One step finished (``done``: the count so far, when the work knows it; else one more)."""

    def finish(self, note: str = "done") -> None: ...


class Listener(Protocol):
    def task(self, title: str, total: int) -> Task: ...


class _SilentTask:
    def step(self, note: str, *, done: int | None = None) -> None:
        pass

    def finish(self, note: str = "done") -> None:
        pass


class Silent:
    """For callers that want no progress (tests, scripts, benchmarks)."""

    def task(self, title: str, total: int) -> Task:
        return _SilentTask()
