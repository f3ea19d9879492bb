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

    [devices.pixel]
    kind = "adb"
    serial = "R5CT1234ABC"                # or "192.168.1.50:5555" (adb over TCP)
    transport = "adb-server"              # through the adb server the user already authorised; or "direct"
    runner = "app"                        # the android_app/ APK; or "benchmark_model"
    apk = "android_app/app/build/outputs/apk/release/app-release.apk"   # installed when missing or changed
    # benchmark_model = "~/bin/benchmark_model"   (runner = "benchmark_model": LiteRT's prebuilt binary;
    #                                              accuracy_samples = 100: inputs scored, one call each)
    # workdir = "/data/local/tmp/edgebench", key = "~/.config/edgebench/adbkey" (direct: edgebench's RSA key),
    # adb = "adb", adb_server_port = 5037, connect_timeout_s = 10, command_timeout_s = 120
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


ADB_TRANSPORTS = ("adb-server", "direct")
ADB_RUNNERS = ("app", "benchmark_model")


@dataclass(frozen=True)
class AdbTarget:
    name: str
    serial: str  # USB serial, or host:port for adb over TCP
    transport: str = "adb-server"
    runner: str = "app"
    apk: str | None = None
    benchmark_model: str | None = None
    accuracy_samples: int = 100  # benchmark_model: inputs scored for accuracy, one process start each
    workdir: str = "/data/local/tmp/edgebench"
    key: str = "~/.config/edgebench/adbkey"
    adb: str = "adb"
    adb_server_port: int | None = None  # None: $ANDROID_ADB_SERVER_PORT, else adb's 5037
    connect_timeout_s: float = 10.0
    command_timeout_s: float = 120.0

    @property
    def over_tcp(self) -> bool:
        return ":" in self.serial


Target = SshTarget | AdbTarget


@dataclass(frozen=True)
class Inventory:
    path: Path | None  # where it was read from; None when no file exists
    devices: dict[str, Target]

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


KINDS: dict[str, tuple[type[SshTarget] | type[AdbTarget], tuple[str, ...]]] = {
    "ssh": (SshTarget, ("host", "user", "key")),
    "adb": (AdbTarget, ("serial",)),
}


def _target(path: Path, name: str, entry: dict[str, Any]) -> Target:
    kind = entry.get("kind", "ssh")
    if kind not in KINDS:
        raise EdgebenchError(f"inventory {path}: device {name}: unknown kind {kind!r} (known: {', '.join(KINDS)})")
    cls, required = KINDS[kind]
    known = {f.name for f in fields(cls)} - {"name"}
    unknown = set(entry) - known - {"kind"}
    if unknown:
        raise EdgebenchError(f"inventory {path}: device {name}: unknown setting {', '.join(sorted(unknown))}")
    missing = [key for key in required if key not in entry]
    if missing:
        raise EdgebenchError(f"inventory {path}: device {name}: missing {', '.join(missing)}")
    for setting, allowed in (("transport", ADB_TRANSPORTS), ("runner", ADB_RUNNERS)):
        if kind == "adb" and entry.get(setting, allowed[0]) not in allowed:
            raise EdgebenchError(
                f"inventory {path}: device {name}: {setting} = {entry[setting]!r} (choose {' or '.join(allowed)})"
            )
    if kind == "adb" and entry.get("runner") == "benchmark_model" and not entry.get("benchmark_model"):
        raise EdgebenchError(
            f'inventory {path}: device {name}: runner = "benchmark_model" needs benchmark_model = "<path on this host>"'
        )
    settings = {key: value for key, value in entry.items() if key != "kind"}
    return cls(name=name, **settings)
