"""A lab past one host: phones on another machine's adb server (`adb_server_host`, `adb -H HOST -P PORT`),
reached as device-farm serials (`adb connect host:port`). The "lab host" is Debian's real adb server behind
127.0.0.2 only — a relay on 127.0.0.2 is its one way in, so nothing reaches it by localhost's defaults — and
the phone is the fake one of tests/support/fake_adb.py, which that server dials as a TCP serial."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.devices.android import pinned_litert
from edgebench_records import Manifest
from tests.conftest import push_json, require, stored_run
from tests.integration.test_adb import adb_server_key
from tests.support.fake_adb import FakePhone
from tests.support.sshd import free_port

pytestmark = pytest.mark.slow
LAB_HOST = "127.0.0.2"


class Relay:
    """Listens on LAB_HOST:port and passes each connection to 127.0.0.1:target, counting them."""

    def __init__(self, target: int) -> None:
        self.target, self.connections = target, 0
        self.listener = socket.create_server((LAB_HOST, 0))
        self.port = int(self.listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client, socket.create_connection(("127.0.0.1", self.target)) as server:
            back = threading.Thread(target=self._pipe, args=(server, client), daemon=True)
            back.start()
            self._pipe(client, server)
            back.join()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def lab_server() -> Iterator[tuple[Relay, dict[str, str]]]:
    """The lab host's adb server (a private port on 127.0.0.1) and the relay that makes it 127.0.0.2's."""
    adb = require("adb", "adb")
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()))
    subprocess.run([adb, "start-server"], env=env, check=True, capture_output=True, timeout=30)
    relay = Relay(int(env["ANDROID_ADB_SERVER_PORT"]))
    yield relay, env
    relay.close()
    subprocess.run([adb, "kill-server"], env=env, check=False, capture_output=True, timeout=30)


@pytest.fixture
def farm_phone(tmp_path: Path) -> Iterator[FakePhone]:
    fake = FakePhone(tmp_path / "phone", authorized_keys=[adb_server_key()]).start()
    yield fake
    fake.stop()


@pytest.fixture
def remote_lab(
    tmp_path: Path,
    farm_phone: FakePhone,
    lab_server: tuple[Relay, dict[str, str]],
    converted: tuple[Manifest, Path],
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Path]:
    relay, _ = lab_server
    # This machine's own default server is somewhere nothing listens: only -H/-P can reach the phone.
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(free_port()))
    apk = tmp_path / "edgebench-runner.apk"
    apk.write_bytes(b"PK\x03\x04 edgebench runner apk for the fake phone")
    entry = {
        "kind": "adb",
        "serial": farm_phone.serial,  # host:port, as a device farm hands it out
        "transport": "adb-server",
        "adb_server_host": LAB_HOST,
        "adb_server_port": relay.port,
        "apk": str(apk),
        "connect_timeout_s": 3,
        "command_timeout_s": 60,
    }
    inventory = tmp_path / "edgebench.toml"
    inventory.write_text("[devices.pixel]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in entry.items()))
    return {"inventory": inventory, "workdir": workdir, "store": tmp_path / "history.sqlite"}


def lab_devices(env: dict[str, str]) -> str:
    """What the lab host's adb server itself lists."""
    return subprocess.run(["adb", "devices"], env=env, capture_output=True, text=True, timeout=30, check=True).stdout


def test_devices_check_reaches_a_farm_phone_through_another_hosts_adb_server(
    capsys: pytest.CaptureFixture[str],
    remote_lab: dict[str, Path],
    lab_server: tuple[Relay, dict[str, str]],
    farm_phone: FakePhone,
) -> None:
    relay, env = lab_server
    assert invoke(["devices", "--inventory", str(remote_lab["inventory"]), "check", "pixel", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["android"]["model"] == "Pixel 8"
    assert relay.connections > 0  # every adb call went to 127.0.0.2
    assert f"{farm_phone.serial}\tdevice" in lab_devices(env)  # `adb connect` was the lab server's


def test_a_push_through_another_hosts_adb_server_measures_every_cell(
    capsys: pytest.CaptureFixture[str], remote_lab: dict[str, Path], farm_phone: FakePhone
) -> None:
    code, report, err = push_json(capsys, "pixel", remote_lab, "--delegates", "xnnpack")
    assert code == 0, err
    assert {r["status"] for r in report["rows"]} == {"ok"}
    assert stored_run(remote_lab["store"], report["run_id"]).device == "pixel"


def test_no_adb_server_on_the_lab_host_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], remote_lab: dict[str, Path], lab_server: tuple[Relay, dict[str, str]]
) -> None:
    relay, _ = lab_server
    relay.close()
    assert invoke(["devices", "--inventory", str(remote_lab["inventory"]), "check", "pixel"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"edgebench: device pixel: no adb server answers at {LAB_HOST}:{relay.port} "
        f"(on that host: adb -a -P {relay.port} nodaemon server)"
    )


def test_adb_server_host_with_the_direct_transport_is_refused(tmp_path: Path) -> None:
    inventory = tmp_path / "edgebench.toml"
    inventory.write_text(
        '[devices.pixel]\nkind = "adb"\nserial = "10.0.0.5:5555"\ntransport = "direct"\nadb_server_host = "lab1"\n'
    )
    assert invoke(["devices", "--inventory", str(inventory), "check", "pixel"]) == 2


def test_the_pins_are_read_from_android_apps_build_file() -> None:
    assert pinned_litert() == "2.2.0"
    assert pinned_litert(Path("/nonexistent/build.gradle")) is None


@pytest.mark.parametrize(
    ("version_name", "matches", "clause"),
    [
        (f"0.1.0+litert-{pinned_litert()}", True, f"LiteRT {pinned_litert()}, as pinned"),
        ("0.1.0+litert-2.1.1", False, f"LiteRT 2.1.1 but android_app pins {pinned_litert()}: rebuild the APK and push"),
        ("0.1.0", None, "its LiteRT version unknown"),
    ],
)
def test_devices_check_says_whether_the_installed_app_carries_the_pinned_litert(
    capsys: pytest.CaptureFixture[str],
    remote_lab: dict[str, Path],
    tmp_path: Path,
    version_name: str,
    matches: bool | None,
    clause: str,
) -> None:
    apk = tmp_path / "edgebench-runner.apk"  # the fake phone takes its versionName from the file's bytes
    apk.write_bytes(b"PK\x03\x04 edgebench runner versionName=" + version_name.encode() + b" for the fake phone")
    assert push_json(capsys, "pixel", remote_lab, "--delegates", "xnnpack")[0] == 0
    assert invoke(["devices", "--inventory", str(remote_lab["inventory"]), "check", "pixel", "--json"]) == 0
    versions = json.loads(capsys.readouterr().out)["runner_versions"]
    assert versions["matches"] is matches and versions["pinned"] == pinned_litert()
    assert invoke(["devices", "--inventory", str(remote_lab["inventory"]), "check", "pixel"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "runner app:" in x)
    assert clause in line, line
