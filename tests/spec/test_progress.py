"""Progress in a CI log: a line per finished step, a heartbeat while a long step runs, nothing with --quiet."""

from __future__ import annotations

import ast
import io
import json
import time
from pathlib import Path

from edgebench.commands.progress import Lines, progress
from edgebench.progress import Silent

ROOT = Path(__file__).resolve().parents[2]


def test_each_finished_step_is_one_line_with_count_time_and_note() -> None:
    stream = io.StringIO()
    lines = Lines(stream)
    task = lines.task("Converting digits.keras", 3)
    task.step("fp32")
    task.step("int8: epoch 1/3", done=2)
    task.finish()
    lines.close()
    assert [line.split(" · ")[0::2] for line in stream.getvalue().splitlines()] == [
        ["Converting digits.keras 1/3", "fp32"],
        ["Converting digits.keras 2/3", "int8: epoch 1/3"],
        ["Converting digits.keras 3/3", "done"],
    ]


def test_a_heartbeat_says_what_is_still_running_when_nothing_was_said_for_a_while() -> None:
    stream = io.StringIO()
    lines = Lines(stream, heartbeat_s=0.3)
    lines.task("Measuring on pi4", 8).step("fp32.xnnpack.interpreter.t1: ok")
    time.sleep(1.6)
    lines.close()
    beats = [line for line in stream.getvalue().splitlines() if line.endswith("still running")]
    assert 2 <= len(beats) <= 5 and beats[0].startswith("Measuring on pi4 1/8 · ")


def test_a_finished_task_gets_no_heartbeat() -> None:
    stream = io.StringIO()
    lines = Lines(stream, heartbeat_s=0.2)
    lines.task("Converting m.keras", 1).finish()
    time.sleep(0.8)
    lines.close()
    assert len(stream.getvalue().splitlines()) == 1


def test_a_step_after_the_command_ended_writes_nothing_and_a_line_is_never_split() -> None:
    """After Ctrl-C a device's thread may still step while the command prints why it stopped: that line must
    start a line of its own, so the log gets whole lines, each in one write, and nothing after ``close``."""
    writes: list[str] = []

    class Log(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

    lines = Lines(Log())
    task = lines.task("Measuring on pi", 4)
    task.step("fp32.xnnpack: ok")
    lines.close()
    task.step("int8.xnnpack: ok")
    task.finish()
    assert len(writes) == 1 and writes[0].startswith("Measuring on pi 1/4") and writes[0].endswith("ok\n")


def test_a_log_gets_lines_a_terminal_gets_bars_and_quiet_gets_nothing() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    with progress(stream=io.StringIO()) as listener:
        assert isinstance(listener, Lines)
    with progress(quiet=True) as listener:
        assert isinstance(listener, Silent)
    terminal = Terminal()
    with progress(stream=terminal) as listener:
        listener.task("Measuring on local", 2).finish()
    assert "Measuring on local" in terminal.getvalue()


def test_no_module_below_the_commands_imports_the_command_layer() -> None:
    offenders = []
    for path in [*(ROOT / "edgebench").rglob("*.py"), *(ROOT / "converter").rglob("*.py")]:
        if "commands" in path.relative_to(ROOT).parts or path.name == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.startswith("edgebench.commands")]
    assert offenders == []


def test_json_mode_off_a_terminal_gets_one_json_event_per_step() -> None:
    stream = io.StringIO()
    with progress(stream=stream, as_json=True) as listener:
        task = listener.task("Measuring on local", 2)
        task.step("fp32.cpu.interpreter.t1: ok")
        task.finish()
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert events == [
        {
            "event": "progress",
            "task": "Measuring on local",
            "done": 1,
            "total": 2,
            "note": "fp32.cpu.interpreter.t1: ok",
        },
        {"event": "progress", "task": "Measuring on local", "done": 2, "total": 2, "note": "done"},
    ]
