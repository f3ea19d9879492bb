"""Hostile inventories and misbehaving peers: each is one line naming the culprit, exit 2, never a traceback.

The peers are real: a socket that accepts and closes (or stays silent); the ADB key is made by adb-shell's
own keygen.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import edgebench_records as schema
from edgebench.cli import invoke
from edgebench.devices import get_device
from edgebench.devices.adb import adb_key
from edgebench.devices.remote import Job, RemoteDevice
from edgebench.errors import EdgebenchError
from edgebench.inventory import AdbTarget, Inventory, SshTarget, load_inventory
from edgebench_records import CellResult, Measurement, Plan, PlanVariant, Status
from tests.support.sshd import free_port

EDGEBENCH = str(Path(sys.executable).parent / "edgebench")
SSH = '[devices.pi]\nhost = "127.0.0.1"\nuser = "pi"\nkey = "~/.ssh/id_ed25519"\n'
ADB = '[devices.pixel]\nkind = "adb"\nserial = "R5CT1234ABC"\n'


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def devices_check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = invoke(["devices", *argv])
    return code, one_error_line(capsys.readouterr().err)


# -- the inventory ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (SSH + 'port = "twenty-two"', "device pi: port = 'twenty-two' is not an integer"),
        (SSH + "port = 22.5", "device pi: port = 22.5 is not an integer"),
        (SSH + "port = true", "device pi: port = True is not an integer"),
        (SSH + "port = 0", "device pi: port = 0 is not a port (1-65535)"),
        (SSH + "port = 65536", "device pi: port = 65536 is not a port (1-65535)"),
        (SSH + 'connect_timeout_s = "10"', "device pi: connect_timeout_s = '10' is not a number"),
        (SSH + "connect_timeout_s = 0", "device pi: connect_timeout_s = 0.0 is not a positive number of seconds"),
        (SSH + "command_timeout_s = -5", "device pi: command_timeout_s = -5.0 is not a positive number of seconds"),
        (SSH + "command_timeout_s = inf", "device pi: command_timeout_s = inf is not a positive number of seconds"),
        (SSH + "command_timeout_s = nan", "device pi: command_timeout_s = nan is not a positive number of seconds"),
        (SSH.replace('"127.0.0.1"', '""'), "device pi: host is empty"),
        (SSH.replace('"pi"', '"  "'), "device pi: user is empty"),
        (SSH.replace('"127.0.0.1"', "[1, 2]"), "device pi: host = [1, 2] is not a string"),
        (SSH + "host_key = 7", "device pi: host_key = 7 is not a string"),
        (SSH + "kind = 3", "device pi: unknown kind 3 (known: ssh, adb)"),
        (ADB.replace('"R5CT1234ABC"', '""'), "device pixel: serial is empty"),
        (ADB + "accuracy_samples = 0", "device pixel: accuracy_samples = 0 is not at least 1"),
        (ADB + 'accuracy_samples = "many"', "device pixel: accuracy_samples = 'many' is not an integer"),
        (ADB + "adb_server_port = 70000", "device pixel: adb_server_port = 70000 is not a port (1-65535)"),
        (
            ADB.replace("R5CT1234ABC", "phone:adb") + 'transport = "direct"',
            "device pixel: serial = 'phone:adb' is not HOST:PORT (ADB over TCP)",
        ),
        ("devices = 3", "devices = 3 is not a table ([devices.NAME] per device)"),
        ('[devices]\npi = "192.168.1.40"', "device pi: '192.168.1.40' is not a table of settings ([devices.pi])"),
        (SSH.replace("[devices.pi]", '[devices."pi,pi2"]'), "device name 'pi,pi2' cannot be named in --device"),
    ],
)
def test_a_bad_inventory_value_is_one_line_naming_file_device_and_setting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, entry: str, expected: str
) -> None:
    inventory = tmp_path / "lab.toml"
    inventory.write_text(entry + "\n")
    code, line = devices_check(capsys, "--inventory", str(inventory))
    assert code == 2
    assert line.startswith(f"edgebench: inventory {inventory}: {expected}")


def test_whole_seconds_are_accepted_as_timeouts(tmp_path: Path) -> None:
    inventory = tmp_path / "lab.toml"
    inventory.write_text(SSH + "connect_timeout_s = 5\nport = 2222\n")
    target = load_inventory(str(inventory)).devices["pi"]
    assert target == SshTarget(
        name="pi", host="127.0.0.1", user="pi", key="~/.ssh/id_ed25519", port=2222, connect_timeout_s=5.0
    )
    assert isinstance(target.connect_timeout_s, float)


# -- naming the device --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_device_name_names_the_flag(name: str) -> None:
    with pytest.raises(EdgebenchError, match=r"^--device: no device named; known devices: local$"):
        get_device(name, Inventory(None, {}))


def two_inventories(tmp_path: Path) -> tuple[Path, Path]:
    """Two inventories whose `pi` is wrong in a way that tells which one was read."""
    first, second = tmp_path / "first.toml", tmp_path / "second.toml"
    first.write_text(SSH + 'port = "from-first"\n')
    second.write_text(SSH + 'port = "from-second"\n')
    return first, second


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "pi", "--inventory", "{second}"],
        ["--inventory", "{second}", "check", "pi"],
        ["--inventory", "{first}", "check", "pi", "--inventory", "{second}"],
    ],
    ids=["after-check", "before-check", "after-check-wins"],
)
def test_devices_check_takes_the_inventory_before_or_after_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    first, second = two_inventories(tmp_path)
    code, line = devices_check(capsys, *(a.format(first=first, second=second) for a in argv))
    assert code == 2
    assert line == f"edgebench: inventory {second}: device pi: port = 'from-second' is not an integer"


def test_an_inventory_typed_before_check_beats_the_environment_variable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_inventories(tmp_path)
    monkeypatch.setenv("EDGEBENCH_INVENTORY", str(first))
    code, line = devices_check(capsys, "--inventory", str(second), "check", "pi")
    assert code == 2 and f"inventory {second}:" in line


def test_json_before_check_is_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke(["devices", "--json", "check", "local"]) == 0
    assert capsys.readouterr().out.lstrip().startswith('{\n "name": "local"')


# -- SSH peers that are not quite SSH servers ---------------------------------------------------


@contextmanager
def peer(close: bool) -> Iterator[int]:
    """A TCP listener on 127.0.0.1 that accepts every connection, then closes it at once or holds it silent."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # shut down: the test is over
                return
            if close:
                # a FIN, never a reset: closing with the client's banner unread would reset the connection
                # when the client's banner came first (a race a busy machine wins), and paramiko says otherwise
                conn.shutdown(socket.SHUT_WR)
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        for conn in held:
            conn.close()


def peer_inventory(tmp_path: Path, port: int) -> Path:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    inventory = tmp_path / "lab.toml"
    inventory.write_text(
        f'[devices.pi]\nhost = "127.0.0.1"\nport = {port}\nuser = "pi"\nkey = "{key}"\nconnect_timeout_s = 2\n'
    )
    return inventory


def test_a_host_that_accepts_and_closes_is_one_line_without_paramikos_traceback(tmp_path: Path) -> None:
    with peer(close=True) as port:
        # A process of its own: under pytest, log records go to pytest's handlers, not to stderr as for a user.
        out = subprocess.run(
            [EDGEBENCH, "devices", "check", "pi", "--inventory", str(peer_inventory(tmp_path, port))],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 2
    assert one_error_line(out.stderr) == (
        f"edgebench: device pi: cannot connect to pi@127.0.0.1:{port}: "
        "it closed the connection before the SSH handshake (Error reading SSH protocol banner)"
    )


def test_a_host_that_accepts_and_stays_silent_is_one_line_naming_the_timeout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with peer(close=False) as port:
        code, line = devices_check(capsys, "check", "pi", "--inventory", str(peer_inventory(tmp_path, port)))
    assert code == 2
    assert line == (
        f"edgebench: device pi: cannot connect to pi@127.0.0.1:{port}: "
        "no SSH handshake within 2s (the peer accepted and stayed silent)"
    )


# -- edgebench's ADB key --------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_adb_key_is_private_from_its_first_byte_in_a_private_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adb_shell.auth import keygen as adb_keygen
    from adb_shell.auth.sign_cryptography import CryptographySigner

    real_keygen, modes_before_writing = adb_keygen.keygen, []

    def spying_keygen(path: str) -> None:
        modes_before_writing.append(mode(Path(path)))
        real_keygen(path)

    monkeypatch.setattr(adb_keygen, "keygen", spying_keygen)
    old_umask = os.umask(0)  # the most permissive a user could have: nothing may rely on the umask
    try:
        key = adb_key(AdbTarget(name="pixel", serial="x", key=str(tmp_path / "new" / "adbkey")))
    finally:
        os.umask(old_umask)
    assert modes_before_writing == [0o600]
    assert (mode(key), mode(key.parent)) == (0o600, 0o700)
    assert CryptographySigner(str(key)).GetPublicKey() == (key.parent / "adbkey.pub").read_bytes()
    assert sorted(p.name for p in key.parent.iterdir()) == ["adbkey", "adbkey.pub"]  # no temp files left


def test_an_existing_key_folder_keeps_its_mode(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    adb_key(AdbTarget(name="pixel", serial="x", key=str(tmp_path / "adbkey")))
    assert (mode(tmp_path), mode(tmp_path / "adbkey")) == (0o755, 0o600)


def test_an_existing_key_open_to_others_is_warned_about_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = AdbTarget(name="pixel", serial="x", key=str(tmp_path / "adbkey"))
    key = adb_key(target)
    adb_key(target)
    assert capsys.readouterr().err == ""  # 0600: nothing to say
    key.chmod(0o644)
    adb_key(target)
    adb_key(target)
    assert one_error_line(capsys.readouterr().err) == (
        f"edgebench: warning: device pixel: ADB private key {key} is open to group/others (mode 0644): chmod 600 {key}"
    )


def test_a_direct_adb_device_makes_its_key_private_even_when_the_phone_is_away(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    key = tmp_path / "config" / "adbkey"
    inventory = tmp_path / "lab.toml"
    port = free_port()
    inventory.write_text(ADB.replace("R5CT1234ABC", f"127.0.0.1:{port}") + f'transport = "direct"\nkey = "{key}"\n')
    code, line = devices_check(capsys, "check", "pixel", "--inventory", str(inventory))
    assert (
        code == 2 and line == f"edgebench: device pixel: no device listening at 127.0.0.1:{port} (connection refused)"
    )
    assert (mode(key), mode(key.parent)) == (0o600, 0o700)


def test_an_unusable_adb_key_is_one_line_naming_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    key = tmp_path / "adbkey"
    key.write_text("not a key")
    key.chmod(0o600)
    inventory = tmp_path / "lab.toml"
    inventory.write_text(ADB.replace("R5CT1234ABC", "127.0.0.1:5555") + f'transport = "direct"\nkey = "{key}"\n')
    code, line = devices_check(capsys, "check", "pixel", "--inventory", str(inventory))
    assert code == 2 and line.startswith(f"edgebench: device pixel: ADB key {key} is not usable (")


class ResultsFolder:
    """A board's results folder as the host's link sees it, with its runner already stopped."""

    def __init__(self, results: list[CellResult]) -> None:
        self.files = {f"{r.key.id}.json": r for r in results}

    def listdir(self, path: str) -> list[str]:
        return list(self.files)

    def get(self, remote: str, local: Path) -> None:
        schema.write(local, self.files[remote.rsplit("/", 1)[-1]])

    def run(self, command: str) -> tuple[int, str, str]:
        return 1, "", ""  # `kill -0` of the runner: not running; `tail` of its log: nothing


def test_a_result_another_plan_left_on_the_board_is_not_brought_back_as_this_plans(tmp_path: Path) -> None:
    """The board's run folder was used before for another model under the same run id: its int8 result is of
    another file. The host takes fp32's, leaves int8's, and says int8 is unmeasured instead of storing it."""
    variants = [PlanVariant("fp32", "fp32.tflite", "a"), PlanVariant("int8", "int8.tflite", "b")]
    plan = Plan("r", "m", variants, "x", measure=Measurement(delegates=["xnnpack"]))
    mine, theirs = (
        CellResult("r", v, "xnnpack", 1, Status.OK, file_sha256=h) for v, h in (("fp32", "a"), ("int8", "c"))
    )
    folder = ResultsFolder([mine, theirs])
    board = RemoteDevice("pi", lambda: folder, "w", runner=None)  # type: ignore[arg-type,return-value]
    job = Job(plan, tmp_path, "w/runs/r", tmp_path / "results", lambda event: None)
    with pytest.raises(EdgebenchError, match="runner stopped with 1 cells unmeasured"):
        board._follow(folder, job, "w/runs/r/results")  # type: ignore[arg-type]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [f"{mine.key.id}.json"]
