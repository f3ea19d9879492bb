"""A fake Android phone that speaks the device side of the real ADB wire protocol on 127.0.0.1.

Only the phone's silicon is faked. The wire is real: 24-byte message headers (CNXN, AUTH with an RSA
signature check, OPEN/OKAY/WRTE/CLSE streams with flow control), the `shell:` service (protocol v1:
merged output, no exit status, as on any device that does not advertise shell_v2) and the `sync:`
service (STAT/LIST/SEND/RECV/DATA/DONE/QUIT). Debian's `adb` and the `adb-shell` library both drive it.

The phone's folders are temp folders: device paths under /data/local/tmp and /sdcard are mapped to
them in shell commands, their output, sync paths and the shell scripts pushed to the phone. `getprop`,
`am`, `pm`, `dumpsys` are the Android tools of tests/support/fake_android_tools.py on the shell's PATH; every
other command runs with /bin/sh, as toybox would run it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import shlex
import socket
import stat
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

A_VERSION = 0x01000000  # no checksum skipping: the fake sends real checksums
MAX_DATA = 256 * 1024
SYNC_CHUNK = 64 * 1024
AUTH_TOKEN, AUTH_SIGNATURE, AUTH_RSAPUBLICKEY = 1, 2, 3
HEADER = struct.Struct("<6I")
TOOLS = Path(__file__).with_name("fake_android_tools.py")
DEVICE_ROOTS = ("/data/local/tmp", "/sdcard")

DEFAULT_PROPS = {
    "ro.product.model": "Pixel 8",
    "ro.product.manufacturer": "Google",
    "ro.product.name": "shiba",
    "ro.product.device": "shiba",
    "ro.soc.manufacturer": "Google",
    "ro.soc.model": "Tensor G3",
    "ro.build.version.release": "14",
    "ro.build.version.sdk": "34",
    "ro.product.cpu.abi": "arm64-v8a",
}


def command_word(name: bytes) -> int:
    return int.from_bytes(name, "little")


CNXN, AUTH, OPEN, OKAY, WRTE, CLSE = (command_word(c) for c in (b"CNXN", b"AUTH", b"OPEN", b"OKAY", b"WRTE", b"CLSE"))


def android_public_key(text: bytes) -> rsa.RSAPublicKey:
    """Android's adbkey.pub: base64 of (words, n0inv, modulus LE words, rr, exponent) then ' user@host'."""
    import base64

    blob = base64.b64decode(text.split(b"\0")[0].split()[0])
    words = struct.unpack_from("<I", blob, 0)[0]
    modulus = int.from_bytes(blob[8 : 8 + 4 * words], "little")
    exponent = struct.unpack_from("<I", blob, 8 + 8 * words)[0]
    return rsa.RSAPublicNumbers(exponent, modulus).public_key()


def verify(key: rsa.RSAPublicKey, token: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, token, padding.PKCS1v15(), utils.Prehashed(hashes.SHA1()))
    except Exception:
        return False
    return True


@dataclass
class FakePhone:
    """Start with ``start()``; ``serial`` is what `adb connect` and adb-shell are given."""

    root: Path
    props: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PROPS))
    authorized_keys: list[bytes] | None = None  # None: no AUTH asked (like a device with auth off)
    offline: bool = False  # accept TCP but never answer CNXN
    free_bytes: int | None = None  # sync writes past this fail with ENOSPC
    python: str = sys.executable  # what `am instrument` of the edgebench app runs device_runner with
    app: list[str] | None = None  # the app's own core instead (tests/conftest.py's jvm command): JvmRunner sweeps
    app_env: dict[str, str] = field(default_factory=dict)  # for the core's fake silicon (FAKE_PHONE_CORRUPT, …)
    port: int = 0
    connections: list[socket.socket] = field(default_factory=list)
    bytes_received: int = 0
    sent_paths: list[str] = field(default_factory=list)  # device paths of every file pushed, in order

    def start(self) -> FakePhone:
        for folder in ("data_local_tmp", "sdcard", "bin", "state"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        for tool in ("getprop", "am", "pm", "dumpsys"):
            script = self.root / "bin" / tool
            script.write_text(f'#!/bin/sh\nexec {shlex.quote(self.python)} {shlex.quote(str(TOOLS))} {tool} "$@"\n')
            script.chmod(0o755)
        python3 = self.root / "bin" / "python3"  # what a `#!/usr/bin/env python3` stand-in binary finds
        python3.write_text(f'#!/bin/sh\nexec {shlex.quote(self.python)} "$@"\n')  # a symlink would lose the venv
        python3.chmod(0o755)
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    @property
    def serial(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._listener.close()
        self.drop_connections()

    def drop_connections(self) -> None:
        """Pull the cable: every open ADB connection dies at once."""
        for conn in list(self.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.connections.clear()

    # -- paths --------------------------------------------------------------------------------

    def local(self, device_path: str) -> Path:
        for prefix in DEVICE_ROOTS:
            if device_path == prefix or device_path.startswith(prefix + "/"):
                return self._mount(prefix) / device_path[len(prefix) :].lstrip("/")
        raise PermissionError(f"{device_path}: Permission denied")

    def _mount(self, prefix: str) -> Path:
        return self.root / prefix.strip("/").replace("/", "_")

    def to_host(self, text: str) -> str:
        for prefix in DEVICE_ROOTS:
            text = text.replace(prefix, str(self._mount(prefix)))
        return text

    def to_device(self, text: str) -> str:
        for prefix in DEVICE_ROOTS:
            text = text.replace(str(self._mount(prefix)), prefix)
        return text

    def shell_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{self.root / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
        env["FAKE_PHONE_ROOT"] = str(self.root)
        env["PYTHONPATH"] = str(TOOLS.parents[2])  # for stand-ins that reuse device_runner's code
        env["FAKE_PHONE_PROPS"] = "\n".join(f"{k}={v}" for k, v in self.props.items())
        if self.app is not None:
            env["FAKE_PHONE_APP"] = json.dumps(self.app)
        return env | self.app_env

    # -- connections --------------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as adbd does (disable_tcp_nagle)
            self.connections.append(conn)
            threading.Thread(target=_Connection(self, conn).serve, daemon=True).start()


class _Stream:
    def __init__(self, conn: _Connection, local_id: int, remote_id: int) -> None:
        self.conn, self.local_id, self.remote_id = conn, local_id, remote_id
        self.ready = threading.Event()
        self.ready.set()
        self.incoming: queue.Queue[bytes | None] = queue.Queue()
        self.buffer = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        for start in range(0, len(data), self.conn.max_data):
            if not self.ready.wait(30) or self.closed:
                raise ConnectionError("host stopped reading")
            self.ready.clear()  # ADB flow control: one WRTE in flight until the host's OKAY
            self.conn.send(WRTE, self.local_id, self.remote_id, data[start : start + self.conn.max_data])

    def read_exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.incoming.get()
            if chunk is None:
                raise ConnectionError("stream closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):  # the link is gone (a reset, or one the test dropped): no one to tell
                self.conn.send(CLSE, self.local_id, self.remote_id)


class _Connection:
    def __init__(self, phone: FakePhone, sock: socket.socket) -> None:
        self.phone, self.sock = phone, sock
        self.lock = threading.Lock()
        self.streams: dict[int, _Stream] = {}
        self.next_id = 1
        self.max_data = MAX_DATA

    def send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        header = HEADER.pack(command, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF, command ^ 0xFFFFFFFF)
        with self.lock:
            self.sock.sendall(header + data)

    def receive(self) -> tuple[int, int, int, bytes]:
        command, arg0, arg1, length, _, magic = HEADER.unpack(self._exact(HEADER.size))
        if magic != command ^ 0xFFFFFFFF:
            raise ConnectionError("bad magic")
        return command, arg0, arg1, self._exact(length)

    def _exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("host closed the connection")
            data += chunk
        return data

    def serve(self) -> None:
        try:
            self._handshake()
            while True:
                self._dispatch(*self.receive())
        except (ConnectionError, OSError):
            pass
        finally:
            for stream in self.streams.values():
                stream.closed = True
                stream.ready.set()
                stream.incoming.put(None)
            self.sock.close()

    def _handshake(self) -> None:
        command, _, max_data, _ = self.receive()
        while command != CNXN:
            command, _, max_data, _ = self.receive()
        if self.phone.offline:
            while True:
                self.receive()  # a device stuck before answering: adb shows it as `offline`
        self.max_data = min(max_data, MAX_DATA)
        keys = self.phone.authorized_keys
        if keys is not None:
            token = secrets.token_bytes(20)
            self.send(AUTH, AUTH_TOKEN, 0, token)
            while True:
                command, kind, _, data = self.receive()
                if command != AUTH:
                    continue
                if kind == AUTH_SIGNATURE and any(verify(android_public_key(k), token, data) for k in keys):
                    break
                if kind == AUTH_SIGNATURE:
                    token = secrets.token_bytes(20)
                    self.send(AUTH, AUTH_TOKEN, 0, token)
                # AUTH_RSAPUBLICKEY: a phone would ask its user; nobody answers here (unauthorised)
        features = "features=cmd"
        banner = "device::" + "".join(
            f"{k}={self.phone.props[k]};" for k in ("ro.product.name", "ro.product.model", "ro.product.device")
        )
        self.send(CNXN, A_VERSION, MAX_DATA, (banner + features).encode())

    def _dispatch(self, command: int, arg0: int, arg1: int, data: bytes) -> None:
        if command == OPEN:
            local_id, self.next_id = self.next_id, self.next_id + 1
            stream = _Stream(self, local_id, arg0)
            self.streams[local_id] = stream
            self.send(OKAY, local_id, arg0)
            service = data.rstrip(b"\0").decode()
            threading.Thread(target=self._service, args=(stream, service), daemon=True).start()
        elif command == WRTE and arg1 in self.streams:
            self.streams[arg1].incoming.put(data)
            self.send(OKAY, arg1, arg0)
        elif command == OKAY and arg1 in self.streams:
            self.streams[arg1].ready.set()
        elif command == CLSE and arg1 in self.streams:
            stream = self.streams.pop(arg1)
            stream.incoming.put(None)
            if not stream.closed:
                stream.closed = True
                self.send(CLSE, arg1, arg0)
            stream.ready.set()

    def _service(self, stream: _Stream, service: str) -> None:
        try:
            if service.startswith("shell:"):
                self._shell(stream, service[len("shell:") :])
            elif service == "sync:":
                _Sync(self.phone, stream).serve()
            else:
                stream.write(f"FAIL unknown service {service}".encode())
        except OSError:  # the host went away: a reset, or (a link the test dropped) a socket already closed
            pass
        finally:
            stream.close()

    def _shell(self, stream: _Stream, command: str) -> None:
        with subprocess.Popen(
            ["/bin/sh", "-c", self.phone.to_host(command)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # shell protocol v1 merges the two, as a real device does
            cwd=self.phone.root / "data_local_tmp",
            env=self.phone.shell_env(),
            start_new_session=True,
        ) as proc:
            assert proc.stdout is not None
            try:
                while chunk := os.read(proc.stdout.fileno(), SYNC_CHUNK):
                    stream.write(self.phone.to_device(chunk.decode(errors="replace")).encode())
            except OSError:
                proc.kill()  # the host went away: adbd hangs up on the shell
                raise


class _Sync:
    """The file sync service, version 1 (what a device without stat_v2/ls_v2 answers)."""

    def __init__(self, phone: FakePhone, stream: _Stream) -> None:
        self.phone, self.stream = phone, stream

    def serve(self) -> None:
        while True:
            request, length = struct.unpack("<4sI", self.stream.read_exact(8))
            if request == b"QUIT":
                return
            path = self.stream.read_exact(length).decode()
            handler = {b"STAT": self._stat, b"LIST": self._list, b"SEND": self._send, b"RECV": self._recv}.get(request)
            if handler is None:
                self._fail(f"unknown sync request {request!r}")
                return
            handler(path)

    def _fail(self, message: str) -> None:
        self.stream.write(b"FAIL" + struct.pack("<I", len(message)) + message.encode())

    def _stat(self, path: str) -> None:
        try:
            st = self.phone.local(path).stat()
            self.stream.write(b"STAT" + struct.pack("<3I", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime)))
        except OSError:
            self.stream.write(b"STAT" + struct.pack("<3I", 0, 0, 0))

    def _list(self, path: str) -> None:
        out = b""
        try:
            entries = sorted(self.phone.local(path).iterdir())
        except OSError:
            entries = []
        for entry in entries:
            st = entry.lstat()
            name = entry.name.encode()
            out += b"DENT" + struct.pack("<4I", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime), len(name)) + name
        self.stream.write(out + b"DONE" + struct.pack("<4I", 0, 0, 0, 0))

    def _send(self, spec: str) -> None:
        path, _, mode = spec.rpartition(",")
        chunks: list[bytes] = []
        while True:
            kind, length = struct.unpack("<4sI", self.stream.read_exact(8))
            if kind == b"DATA":
                chunks.append(self.stream.read_exact(length))
                self.phone.bytes_received += length
            elif kind == b"DONE":
                break
            else:
                self._fail(f"unexpected {kind!r} in SEND")
                return
        data = b"".join(chunks)
        if path.endswith(".sh"):  # a script runs with device paths in it: map them as a command's are
            data = self.phone.to_host(data.decode()).encode()
        self.phone.sent_paths.append(path)
        try:
            target = self.phone.local(path)
            if self.phone.free_bytes is not None:
                if len(data) > self.phone.free_bytes:
                    raise OSError(28, "No space left on device")
                self.phone.free_bytes -= len(data)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(stat.S_IMODE(int(mode or "0644")) or 0o644)
        except OSError as exc:
            self._fail(f"couldn't write {path}: {exc.strerror}")
            return
        self.stream.write(b"OKAY" + struct.pack("<I", 0))

    def _recv(self, path: str) -> None:
        try:
            data = self.phone.local(path).read_bytes()
        except OSError as exc:
            self._fail(f"{path}: {exc.strerror}")
            return
        out = b"".join(
            b"DATA" + struct.pack("<I", len(data[i : i + SYNC_CHUNK])) + data[i : i + SYNC_CHUNK]
            for i in range(0, len(data), SYNC_CHUNK)
        )
        self.stream.write(out + b"DONE" + struct.pack("<I", 0))
