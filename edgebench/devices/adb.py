"""ADB transports: through the user's adb server (`transport = "adb-server"`), or straight to the
phone with adb-shell and edgebench's own RSA key (`transport = "direct"`, for CI hosts with no SDK).

Both are `Link`s for remote.py, so push-what-changed, detached start, follow and resume are the
ones SSH uses. A phone's shell may speak protocol v1 (no exit status), so every command is wrapped
to print its exit status after its output; a missing status means the link broke.

adb-shell because it is the maintained pure-Python implementation of the ADB protocol (TCP and USB,
AUTH, sync); the adb server is driven through Debian's/Google's `adb` binary, which owns that
server's wire format and the user's existing authorisations.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from edgebench.errors import EdgebenchError, LinkLost
from edgebench.inventory import AdbTarget
from edgebench.plan import link_or_copy

STATUS_MARK = "__edgebench_exit="
NO_SPACE = "No space left on device"


def wrap(command: str) -> str:
    """Run ``command`` in a subshell (so `exit` cannot skip the mark) and print its exit status."""
    return f"( {command} ) 2>&1; echo {STATUS_MARK}$?"


def unwrap(output: str, what: str) -> tuple[int, str]:
    body, mark, status = output.rpartition(STATUS_MARK)
    if not mark or not status.strip().isdigit():
        last = output.strip().splitlines()[-1][-200:] if output.strip() else "no output"
        raise LinkLost(f"the command ended without its exit status ({last})")
    return int(status.strip()), body


def no_space(target: AdbTarget, files: list[Path], remote: str) -> EdgebenchError:
    size = sum(f.stat().st_size for f in files) / 1e6
    folder = remote.rstrip("/").rsplit("/", 1)[0]
    return EdgebenchError(
        f"device {target.name}: no space left on the phone for {size:.1f} MB in {folder}; "
        "free some space and rerun (finished cells are kept: --resume RUN_ID)"
    )


class AdbServerLink:
    """The `adb` client: whatever an adb server reaches (USB or `adb connect host:port`) — this machine's, or
    another lab host's (`adb_server_host`: `adb -H HOST -P PORT`, the server's own remote mode)."""

    def __init__(self, target: AdbTarget) -> None:
        self.target = target
        self.env = dict(os.environ)
        self.server_args: list[str] = []
        if target.adb_server_port is not None:
            self.env["ANDROID_ADB_SERVER_PORT"] = str(target.adb_server_port)
        if target.adb_server_host is not None:
            self.server_args = ["-H", target.adb_server_host, "-P", target.server.rpartition(":")[2]]
        if target.over_tcp:
            self._connect_tcp()
        self._wait_ready()

    def _adb(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        command = [self.target.adb, *self.server_args, *args]
        try:
            out = subprocess.run(
                command,
                env=self.env,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout or self.target.command_timeout_s,
                check=False,
            )
        except FileNotFoundError as exc:
            raise EdgebenchError(
                f"device {self.target.name}: adb not found ({self.target.adb}); install it "
                '(Debian: apt-get install adb) or set adb = "/path/to/adb", or use transport = "direct"'
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise LinkLost(f"adb {args[0]} gave no answer within {exc.timeout:g}s") from exc
        if out.returncode != 0 and self.target.adb_server_host is not None and "cannot connect to daemon" in out.stderr:
            raise EdgebenchError(
                f"device {self.target.name}: no adb server answers at {self.target.server} (on that host: "
                f"adb -a -P {self.target.server.rpartition(':')[2]} nodaemon server)"
            )
        return out

    def _connect_tcp(self) -> None:
        try:
            out = self._adb("connect", self.target.serial, timeout=self.target.connect_timeout_s)
        except LinkLost as exc:  # TCP accepted, ADB handshake never answered
            raise EdgebenchError(
                f"device {self.target.name}: {self.target.serial} is offline "
                f"(no answer to the ADB handshake within {self.target.connect_timeout_s:g}s)"
            ) from exc
        text = (out.stdout + out.stderr).strip()
        if "failed to authenticate" in text:
            raise self._unauthorised()
        if out.returncode != 0 or "failed" in text or "cannot" in text:
            raise EdgebenchError(f"device {self.target.name}: adb cannot connect to {self.target.serial}: {text}")

    def _wait_ready(self) -> None:
        """`adb get-state` until the phone is `device`; offline/unauthorised past the timeout is an error."""
        t = self.target
        deadline = time.monotonic() + t.connect_timeout_s
        while True:
            out = self._adb("-s", t.serial, "get-state", timeout=t.connect_timeout_s)
            state = out.stdout.strip() or out.stderr.strip().removeprefix("error: ")
            if state == "device":
                return
            if "not found" in state:
                raise EdgebenchError(
                    f"device {t.name}: no device with serial {t.serial} (adb devices lists what the server sees)"
                )
            if time.monotonic() > deadline:
                if "unauthorized" in state:
                    raise self._unauthorised()
                raise EdgebenchError(f"device {t.name}: {t.serial} is {state or 'not ready'} (replug it or reboot it)")
            time.sleep(0.2)

    def _unauthorised(self) -> EdgebenchError:
        return EdgebenchError(
            f"device {self.target.name}: {self.target.serial} is unauthorised: accept this computer's RSA key on "
            "the phone (the USB debugging prompt), then retry"
        )

    def run(self, command: str) -> tuple[int, str, str]:
        out = self._adb("-s", self.target.serial, "shell", wrap(command))
        if out.returncode != 0 and STATUS_MARK not in out.stdout:
            raise LinkLost((out.stderr or out.stdout).strip().splitlines()[-1] if (out.stderr or out.stdout) else "")
        code, body = unwrap(out.stdout, command)
        return code, body, ""

    def put(self, local: Path, remote: str) -> None:
        self._push([local], remote)

    def put_all(self, files: list[tuple[Path, str]], remote_dir: str) -> None:
        """One adb process for them all: `adb push` keeps local names, so renamed files are staged first."""
        if all(path.name == name for path, name in files):
            self._push([path for path, _ in files], remote_dir + "/")
            return
        with tempfile.TemporaryDirectory() as tmp:
            for path, name in files:
                link_or_copy(path, Path(tmp) / name)
            self._push([Path(tmp) / name for _, name in files], remote_dir + "/")

    def _push(self, files: list[Path], remote: str) -> None:
        out = self._adb("-s", self.target.serial, "push", *(str(f) for f in files), remote)
        if out.returncode != 0:
            text = (out.stderr + out.stdout).strip()
            if NO_SPACE in text:
                raise no_space(self.target, files, remote)
            raise LinkLost(text.splitlines()[-1] if text else f"adb push exit {out.returncode}")

    def get(self, remote: str, local: Path) -> None:
        out = self._adb("-s", self.target.serial, "pull", remote, str(local))
        if out.returncode != 0:
            text = (out.stderr + out.stdout).strip()
            raise LinkLost(text.splitlines()[-1] if text else f"adb pull exit {out.returncode}")

    def listdir(self, remote: str) -> list[str]:
        code, out, _ = self.run(f"ls -1a {shlex.quote(remote)}")
        return [n for n in out.splitlines() if n not in ("", ".", "..")] if code == 0 else []

    def close(self) -> None:
        """The adb server keeps its connection to the phone; nothing to close here."""


def fast_checksum(data: bytes | bytearray) -> int:
    """ADB's payload checksum (the byte sum, mod 2**32), in numpy rather than a Python loop."""
    return int(np.frombuffer(data, np.uint8).sum(dtype=np.uint64)) & 0xFFFFFFFF


def _use_fast_checksums() -> None:
    """adb-shell sums every payload byte in Python (65 ms per 14 MB pushed, measured: a third of a push);
    the same sum in numpy is 15× faster. Both of its modules hold the function by name."""
    from adb_shell import adb_device, adb_message

    adb_message.checksum = fast_checksum
    adb_device.checksum = fast_checksum


def _tcp_transport(host: str, port: int) -> object:
    """adb-shell's TCP transport with Nagle off: it writes each message's header and payload separately,
    and Nagle holding the payload for the phone's delayed ACK cost ~40 ms per message (measured)."""
    from adb_shell.transport.tcp_transport import TcpTransport

    class NoDelayTcpTransport(TcpTransport):  # type: ignore[misc]
        def connect(self, transport_timeout_s: float | None) -> None:
            super().connect(transport_timeout_s)
            self._connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    return NoDelayTcpTransport(host, port)


_KEYS = threading.Lock()  # one key pair made at a time: devices connect in parallel and may share the key
_WARNED: set[Path] = set()


def adb_key(target: AdbTarget) -> Path:
    """edgebench's own ADB key pair (transport = "direct"), made on first use; the phone shows its
    "Allow USB debugging?" prompt for it once. An existing private key open to others is warned about."""
    key = Path(target.key).expanduser()
    with _KEYS:
        try:
            if not key.exists():
                _make_key(key)
            elif key.is_file() and key.stat().st_mode & 0o077 and key not in _WARNED:
                _WARNED.add(key)
                mode = key.stat().st_mode & 0o777
                print(
                    f"edgebench: warning: device {target.name}: ADB private key {key} is open to group/others "
                    f"(mode {mode:04o}): chmod 600 {key}",
                    file=sys.stderr,
                )
        except OSError as exc:
            raise EdgebenchError(f"device {target.name}: cannot create the ADB key {key}: {exc}") from exc
    return key


def _make_key(key: Path) -> None:
    """The private key is written into a file made 0600 (mkstemp) and linked into place once complete, so
    it is never readable by others nor seen half-written; a folder made here is 0700, like ~/.ssh."""
    from adb_shell.auth.keygen import keygen

    key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{key.name}.", dir=key.parent)
    os.close(fd)
    try:
        keygen(temp)  # rewrites the 0600 file in place (its mode is kept) and writes temp.pub beside it
        try:
            os.link(temp, key)  # exclusive: another edgebench process that made one first keeps its pair
        except FileExistsError:
            return
        os.replace(f"{temp}.pub", f"{key}.pub")
    finally:
        Path(temp).unlink(missing_ok=True)
        Path(f"{temp}.pub").unlink(missing_ok=True)


class AdbDirectLink:
    """adb-shell straight to the phone's adbd: TCP for `host:port` serials, else USB (needs libusb1)."""

    def __init__(self, target: AdbTarget) -> None:
        from adb_shell import exceptions
        from adb_shell.adb_device import AdbDevice

        _use_fast_checksums()
        self.target = target
        self.errors: tuple[type[BaseException], ...] = (
            exceptions.AdbConnectionError,
            exceptions.AdbTimeoutError,
            exceptions.TcpTimeoutException,
            exceptions.InvalidResponseError,
            exceptions.InvalidCommandError,
            exceptions.InvalidChecksumError,
            exceptions.UsbReadFailedError,
            exceptions.UsbWriteFailedError,
            exceptions.AdbCommandFailureException,
            ConnectionError,
            OSError,
        )
        signer = self._signer()
        device: AdbDevice
        if target.over_tcp:
            host, _, port = target.serial.rpartition(":")
            device = AdbDevice(_tcp_transport(host, int(port)), default_transport_timeout_s=target.command_timeout_s)
            where = target.serial
        else:
            device = self._usb_device()
            where = f"USB serial {target.serial}"
        try:
            device.connect(
                rsa_keys=[signer],
                transport_timeout_s=target.connect_timeout_s,
                auth_timeout_s=target.connect_timeout_s,
                read_timeout_s=target.connect_timeout_s,
            )
        except (exceptions.DeviceAuthError, *self.errors) as exc:
            device.close()  # adb-shell leaves its socket open when the handshake fails
            raise EdgebenchError(self._connect_failure(exc, where)) from exc
        self.device = device

    def _connect_failure(self, exc: BaseException, where: str) -> str:
        from adb_shell import exceptions

        t = self.target
        if isinstance(exc, ConnectionRefusedError):
            return f"device {t.name}: no device listening at {where} (connection refused)"
        if isinstance(exc, exceptions.DeviceAuthError):
            return f"device {t.name}: {where} asks for a key and none was sent: {exc}"
        if not isinstance(exc, exceptions.TcpTimeoutException):
            return f"device {t.name}: cannot connect to {where}: {exc}"
        # A timeout past our signature means the phone did not accept our key; before it, no answer at all.
        if self._signer_used.asked:
            return (
                f"device {t.name}: {where} is unauthorised: accept edgebench's key on the phone "
                f"(public key {Path(t.key).expanduser()}.pub) and retry"
            )
        return f"device {t.name}: {where} is offline (no answer to the ADB handshake within {t.connect_timeout_s:g}s)"

    def _signer(self) -> object:
        from adb_shell.auth.sign_cryptography import CryptographySigner

        key = adb_key(self.target)

        class NotingSigner(CryptographySigner):  # type: ignore[misc]
            """Notes that the phone asked for a signature: tells "key refused" from "no answer" on a timeout."""

            asked = False

            def Sign(self, data: bytes) -> bytes:
                self.asked = True
                return bytes(super().Sign(data))

        try:
            self._signer_used = NotingSigner(str(key))
        except (OSError, ValueError) as exc:  # no .pub beside it, not PEM, unreadable
            raise EdgebenchError(
                f"device {self.target.name}: ADB key {key} is not usable ({exc}); fix it, or delete {key} and "
                f"{key}.pub and edgebench makes a new pair (the phone then asks to allow it once)"
            ) from exc
        return self._signer_used

    def _usb_device(self) -> object:
        try:
            from adb_shell.adb_device_usb import AdbDeviceUsb
        except ImportError as exc:
            raise EdgebenchError(
                f"device {self.target.name}: USB needs libusb1 (pip install 'adb-shell[usb]'); "
                "or give a host:port serial for ADB over TCP"
            ) from exc
        return AdbDeviceUsb(serial=self.target.serial, default_transport_timeout_s=self.target.command_timeout_s)

    def run(self, command: str) -> tuple[int, str, str]:
        try:
            output = self.device.shell(
                wrap(command), read_timeout_s=self.target.command_timeout_s, timeout_s=self.target.command_timeout_s
            )
        except self.errors as exc:
            raise LinkLost(str(exc) or type(exc).__name__) from exc
        code, body = unwrap(str(output), command)
        return code, body, ""

    def put(self, local: Path, remote: str) -> None:
        from adb_shell.exceptions import PushFailedError

        try:
            self.device.push(str(local), remote, read_timeout_s=self.target.command_timeout_s)
        except PushFailedError as exc:
            if NO_SPACE in str(exc):
                raise no_space(self.target, [local], remote) from exc
            raise EdgebenchError(f"device {self.target.name}: push of {local.name} to {remote} failed: {exc}") from exc
        except self.errors as exc:
            raise LinkLost(str(exc) or type(exc).__name__) from exc

    def put_all(self, files: list[tuple[Path, str]], remote_dir: str) -> None:
        for path, name in files:  # one connection, one sync stream each: no process or shell per file
            self.put(path, f"{remote_dir}/{name}")

    def get(self, remote: str, local: Path) -> None:
        try:
            self.device.pull(remote, str(local), read_timeout_s=self.target.command_timeout_s)
        except self.errors as exc:
            raise LinkLost(str(exc) or type(exc).__name__) from exc

    def listdir(self, remote: str) -> list[str]:
        try:
            entries = self.device.list(remote, read_timeout_s=self.target.command_timeout_s)
        except self.errors as exc:
            raise LinkLost(str(exc) or type(exc).__name__) from exc
        names = [e.filename.decode() if isinstance(e.filename, bytes | bytearray) else e.filename for e in entries]
        return [n for n in names if n not in (".", "..")]

    def close(self) -> None:
        self.device.close()
