"""Files a user asks a command to write (--html, --markdown, --csv, --junit-xml): whole or not at all.

Each is written to a temporary file beside it and renamed over it, so a full disk or a killed command
leaves the previous report as it was, never a truncated one; a failure names the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from edgebench.errors import EdgebenchError
from edgebench_records import write_atomic


def write_output(path: Path | str, text: str) -> None:
    target = Path(path)
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise EdgebenchError(
            f"cannot write {target}: {exc.strerror or exc}; an earlier {target.name} there is unchanged"
        ) from exc


def csv_text(fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(fieldnames))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
