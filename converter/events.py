"""What the converter process tells the host on stdout: one JSON object a line (progress events, then
``{"manifest": PATH}``, or one line: ``{"error": …}`` for what the user can fix (the host exits 2 naming it),
``{"crash": "Exception: its message"}`` for anything else, which the host prints with the log's path)."""

from __future__ import annotations

import json
from typing import Any

from converter.techniques import EpochCallback


def emit(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


def epoch_reporter(name: str) -> EpochCallback:
    return lambda epoch, total: emit({"event": "epoch", "name": name, "epoch": epoch, "epochs": total})
