"""Child processes that talk in JSON lines on stdout (the converter, the local runner)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

JsonObject = dict[str, Any]


def stream_json_lines(
    command: list[str],
    log: Path,
    on_object: Callable[[JsonObject], None],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Run ``command`` with stderr appended to ``log``; call ``on_object`` for each JSON object it prints.

    Lines that are not JSON objects (a library printing to stdout) are ignored. Returns the exit code.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with (
        log.open("a") as stderr,
        subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                on_object(value)
    return proc.returncode
