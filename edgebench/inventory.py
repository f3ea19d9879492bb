"""The device inventory: named devices in TOML. ``local`` always exists.

Where it is read from, first found wins: ``--inventory PATH`` (or EDGEBENCH_INVENTORY), then
``./edgebench.toml``, then ``~/.config/edgebench/devices.toml``.

    [devices.pi4]
    kind = "ssh"
    host = "192.168.1.40"
    user = "pi"
    key = "~/.ssh/id_ed25519"
    python = "/home/pi/venv/bin/python"   # a Python with numpy and ai-edge-litert or tflite-runtime; left out:
                                          # the venv `edgebench devices setup pi4` made, else python3
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

import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

from edgebench.errors import EdgebenchError

LOCAL = "local"


@dataclass(frozen=True)
class SshTarget:
    name: str
    host: str
    user: str
    key: str
    python: str | None = None  # None: the venv `devices setup` made in the work folder, else python3
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
    # Another machine's adb server (`adb -H HOST -P PORT`): phones on a lab host's USB hubs. None: this one's.
    adb_server_host: str | None = None
    connect_timeout_s: float = 10.0
    command_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if self.adb_server_host is not None and self.transport != "adb-server":
            raise EdgebenchError(
                f'device {self.name}: adb_server_host = {self.adb_server_host!r} is for transport = "adb-server" '
                '(transport = "direct" dials the phone itself)'
            )

    @property
    def over_tcp(self) -> bool:
        return ":" in self.serial

    @property
    def server(self) -> str:
        """The adb server this target goes through, as its error lines name it."""
        port = self.adb_server_port or os.environ.get("ANDROID_ADB_SERVER_PORT") or 5037
        return f"{self.adb_server_host or 'localhost'}:{port}"


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
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EdgebenchError(f"inventory {path}: {exc}") from exc
    entries = document.get("devices", {})
    if not isinstance(entries, dict):
        raise EdgebenchError(f"inventory {path}: devices = {entries!r} is not a table ([devices.NAME] per device)")
    devices = {name: _target(path, name, entry) for name, entry in entries.items()}
    if LOCAL in devices:
        raise EdgebenchError(f"inventory {path}: 'local' is built in and cannot be redefined")
    return Inventory(path, devices)


KINDS: dict[str, tuple[type[SshTarget] | type[AdbTarget], tuple[str, ...]]] = {
    "ssh": (SshTarget, ("host", "user", "key")),
    "adb": (AdbTarget, ("serial",)),
}
TYPE_NAMES: dict[type, str] = {int: "an integer", float: "a number", str: "a string"}


def _in_port_range(value: int) -> bool:
    return 1 <= value <= 65535


def _positive_finite(value: float) -> bool:
    return 0 < value < math.inf  # False for NaN too


# Bounds on a setting of the right type: (holds, what the value is not).
BOUNDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "port": (_in_port_range, "is not a port (1-65535)"),
    "adb_server_port": (_in_port_range, "is not a port (1-65535)"),
    "connect_timeout_s": (_positive_finite, "is not a positive number of seconds"),
    "command_timeout_s": (_positive_finite, "is not a positive number of seconds"),
    "accuracy_samples": (lambda n: n >= 1, "is not at least 1"),
}


def _setting(where: str, key: str, value: Any, hint: Any) -> Any:
    """``value`` checked against the dataclass field's type (``X | None`` means X: TOML has no null) and bounds."""
    expected = next(t for t in (get_args(hint) or (hint,)) if t is not type(None))
    number = isinstance(value, int | float) and not isinstance(value, bool)  # TOML's true is no port
    if expected is float and number:
        value = float(value)  # `timeout = 5` is 5.0 s
    elif not isinstance(value, expected) or isinstance(value, bool):
        raise EdgebenchError(f"{where}: {key} = {value!r} is not {TYPE_NAMES.get(expected, expected.__name__)}")
    if isinstance(value, str) and not value.strip():
        raise EdgebenchError(f"{where}: {key} is empty")
    holds, problem = BOUNDS.get(key, (lambda _: True, ""))
    if not holds(value):
        raise EdgebenchError(f"{where}: {key} = {value!r} {problem}")
    return value


def _target(path: Path, name: str, entry: Any) -> Target:
    where = f"inventory {path}: device {name}"
    if not name.strip() or "," in name or name != name.strip():
        raise EdgebenchError(
            f"inventory {path}: device name {name!r} cannot be named in --device (a comma list): "
            "no commas, and no spaces at its ends"
        )
    if not isinstance(entry, dict):
        raise EdgebenchError(f"{where}: {entry!r} is not a table of settings ([devices.{name}])")
    kind = entry.get("kind", "ssh")
    if not isinstance(kind, str) or kind not in KINDS:
        raise EdgebenchError(f"{where}: unknown kind {kind!r} (known: {', '.join(KINDS)})")
    cls, required = KINDS[kind]
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)} - {"name"}
    unknown = set(entry) - known - {"kind"}
    if unknown:
        raise EdgebenchError(f"{where}: unknown setting {', '.join(sorted(unknown))}")
    missing = [key for key in required if key not in entry]
    if missing:
        raise EdgebenchError(f"{where}: missing {', '.join(missing)}")
    settings: dict[str, Any] = {k: _setting(where, k, v, hints[k]) for k, v in entry.items() if k != "kind"}
    for setting, allowed in (("transport", ADB_TRANSPORTS), ("runner", ADB_RUNNERS)):
        if kind == "adb" and settings.get(setting, allowed[0]) not in allowed:
            raise EdgebenchError(f"{where}: {setting} = {settings[setting]!r} (choose {' or '.join(allowed)})")
    if kind == "adb" and settings.get("runner") == "benchmark_model" and not settings.get("benchmark_model"):
        raise EdgebenchError(f'{where}: runner = "benchmark_model" needs benchmark_model = "<path on this host>"')
    target = cls(name=name, **settings)
    if isinstance(target, AdbTarget) and target.transport == "direct" and target.over_tcp:
        host, _, port = target.serial.rpartition(":")  # adb-shell dials it itself; the adb server parses its own
        if not host or not port.isdigit() or not _in_port_range(int(port)):
            raise EdgebenchError(f"{where}: serial = {target.serial!r} is not HOST:PORT (ADB over TCP)")
    return target
