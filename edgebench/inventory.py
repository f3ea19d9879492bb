"""The device inventory: named devices in TOML. ``local`` always exists.

Where it is read from, first found wins: ``--inventory PATH`` (or EDGEBENCH_INVENTORY), then
``./edgebench.toml``, then ``~/.config/edgebench/devices.toml``.

    [devices.pi4]
    kind = "ssh"
    host = "192.168.1.40"
    user = "pi"
    key = "~/.ssh/id_ed25519"
    python = "/home/pi/venv/bin/python"   # a Python with numpy and ai-edge-litert or tflite-runtime
    workdir = "edgebench"                 # relative to the login's home, or absolute
    # port = 22, host_key = "ssh-ed25519 AAAA…" (pin), known_hosts = "~/.ssh/known_hosts",
    # connect_timeout_s = 10, command_timeout_s = 120
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from edgebench.errors import EdgebenchError

LOCAL = "local"


@dataclass(frozen=True)
class SshTarget:
    name: str
    host: str
    user: str
    key: str
    python: str = "python3"
    workdir: str = "edgebench"
    port: int = 22
    host_key: str | None = None  # "ssh-ed25519 AAAA…": accepted without known_hosts
    known_hosts: str = "~/.ssh/known_hosts"
    connect_timeout_s: float = 10.0
    command_timeout_s: float = 120.0


@dataclass(frozen=True)
class Inventory:
    path: Path | None  # where it was read from; None when no file exists
    devices: dict[str, SshTarget]

    def names(self) -> list[str]:
        return [LOCAL, *sorted(self.devices)]


def inventory_path(explicit: str | None) -> Path | None:
    candidates = [
        explicit or os.environ.get("EDGEBENCH_INVENTORY"),
        "edgebench.toml",
        Path.home() / ".config" / "edgebench" / "devices.toml",
    ]
    if explicit and not Path(explicit).is_file():
        raise EdgebenchError(f"inventory file not found: {explicit}")
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def load_inventory(explicit: str | None = None) -> Inventory:
    path = inventory_path(explicit)
    if path is None:
        return Inventory(None, {})
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EdgebenchError(f"inventory {path}: {exc}") from exc
    devices = {name: _target(path, name, entry) for name, entry in document.get("devices", {}).items()}
    if LOCAL in devices:
        raise EdgebenchError(f"inventory {path}: 'local' is built in and cannot be redefined")
    return Inventory(path, devices)


def _target(path: Path, name: str, entry: dict[str, Any]) -> SshTarget:
    kind = entry.get("kind", "ssh")
    if kind != "ssh":
        raise EdgebenchError(f"inventory {path}: device {name}: unknown kind {kind!r} (known: ssh)")
    known = {f.name for f in fields(SshTarget)} - {"name"}
    unknown = set(entry) - known - {"kind"}
    if unknown:
        raise EdgebenchError(f"inventory {path}: device {name}: unknown setting {', '.join(sorted(unknown))}")
    missing = [key for key in ("host", "user", "key") if key not in entry]
    if missing:
        raise EdgebenchError(f"inventory {path}: device {name}: missing {', '.join(missing)}")
    settings = {key: value for key, value in entry.items() if key != "kind"}
    return SshTarget(name=name, **settings)
