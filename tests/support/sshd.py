"""A real OpenSSH server on 127.0.0.1 for the tests: throw-away host and user keys, its own config."""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {home}/host_ed25519
PidFile {home}/sshd.pid
AuthorizedKeysFile {home}/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
Subsystem sftp internal-sftp
LogLevel ERROR
"""


@dataclass(frozen=True)
class SshServer:
    port: int
    user: str
    user_key: Path
    host_key_line: str  # "ssh-ed25519 AAAA…"
    process: subprocess.Popen[bytes]

    def drop_connections(self) -> None:
        """Kill every session process and its children (as a dropped link would), keeping the listener."""
        pending, sessions = [self.process.pid], []
        while pending:
            children = subprocess.run(["pgrep", "-P", str(pending.pop())], capture_output=True, text=True).stdout
            pids = [int(pid) for pid in children.split()]
            sessions += pids
            pending += pids
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@contextmanager
def ssh_server(sshd: str, home: Path) -> Iterator[SshServer]:
    home.mkdir(parents=True, exist_ok=True)
    keygen(home / "host_ed25519")
    keygen(home / "user_ed25519")
    (home / "authorized_keys").write_text((home / "user_ed25519.pub").read_text())
    port = free_port()
    (home / "sshd_config").write_text(CONFIG.format(port=port, home=home))
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation directory
    process = subprocess.Popen([sshd, "-D", "-e", "-f", str(home / "sshd_config")], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                assert process.stderr is not None
                raise RuntimeError(f"sshd did not start: {process.stderr.read().decode()}") from None
            time.sleep(0.05)
    host_key = " ".join((home / "host_ed25519.pub").read_text().split()[:2])
    try:
        yield SshServer(port, getpass.getuser(), home / "user_ed25519", host_key, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
