"""SSH transport (paramiko): key authentication, host keys checked, every failure one clear line.

paramiko because it is the long-standing pure-Python SSH client with SFTP built in and explicit
host-key policies, and its synchronous API fits edgebench's one-thread-per-device sweeps.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import shlex
from pathlib import Path

import paramiko

from edgebench.errors import EdgebenchError, LinkLost
from edgebench.inventory import SshTarget

LINK_ERRORS = (paramiko.SSHException, OSError, EOFError)
# paramiko's transport thread logs each failure with its traceback; with no handler configured, Python's
# last-resort handler prints that to stderr ahead of our one line. A library's log is the application's to
# route: a NullHandler keeps it quiet here and still reaches any handler the application sets up.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_hosts_name(target: SshTarget) -> str:
    return target.host if target.port == 22 else f"[{target.host}]:{target.port}"


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    def __init__(self, target: SshTarget) -> None:
        self.target = target

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        t = self.target
        raise EdgebenchError(
            f"device {t.name}: host key of {t.host}:{t.port} is unknown ({key.get_name()} {fingerprint(key)}); "
            f'if that is the device, pin it with host_key = "{key.get_name()} {key.get_base64()}" in the '
            "inventory, or pass --accept-new-host-key"
        )


class _AcceptAndRemember(paramiko.MissingHostKeyPolicy):
    """Like ssh's StrictHostKeyChecking=accept-new: trust a first key, remember it, refuse changes."""

    def __init__(self, known_hosts: Path) -> None:
        self.known_hosts = known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
        client.save_host_keys(str(self.known_hosts))


def _connect_detail(exc: Exception, target: SshTarget) -> str:
    """paramiko's banner error, told apart by what it was raised from: a peer that accepted the connection
    and closed it (not an SSH server, or sshd refusing more sessions) or one that never spoke."""
    if isinstance(exc.__context__, EOFError):
        return f"it closed the connection before the SSH handshake ({exc})"
    if isinstance(exc.__context__, TimeoutError) or str(exc) == "No existing session":
        # the second: paramiko stopped waiting for the handshake (same timeout as the banner's) and tried to log in
        return f"no SSH handshake within {target.connect_timeout_s:g}s (the peer accepted and stayed silent)"
    return str(exc) or type(exc).__name__


def _not_special(path: Path, what: str, target: SshTarget) -> None:
    """A FIFO, device or folder where a key file belongs would block or feed garbage to paramiko: refuse it,
    naming it, before connecting (a missing known_hosts is fine: it is created when a key is accepted)."""
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file (a pipe, socket or device)"
        raise EdgebenchError(f"device {target.name}: {what} {path} is {kind}")


class SshLink:
    def __init__(self, target: SshTarget, accept_new_host_key: bool = False) -> None:
        self.target = target
        known_hosts = Path(target.known_hosts).expanduser()
        _not_special(known_hosts, "known_hosts", target)
        client = paramiko.SSHClient()
        if known_hosts.is_file():
            client.load_host_keys(str(known_hosts))
        if target.host_key:
            kind, _, data = target.host_key.partition(" ")
            try:
                client.get_host_keys().add(
                    known_hosts_name(target),
                    kind,
                    paramiko.PKey.from_type_string(kind, base64.b64decode(data.split()[0])),
                )
            except (ValueError, IndexError, paramiko.SSHException) as exc:
                raise EdgebenchError(f"device {target.name}: host_key in the inventory is not a key: {exc}") from exc
        client.set_missing_host_key_policy(
            _AcceptAndRemember(known_hosts) if accept_new_host_key else _RefuseUnknown(target)
        )
        where = f"{target.user}@{target.host}:{target.port}"
        key = Path(target.key).expanduser()
        if not key.exists():
            raise EdgebenchError(f"device {target.name}: key file not found: {target.key}")
        _not_special(key, "key", target)
        try:
            client.connect(
                target.host,
                port=target.port,
                username=target.user,
                key_filename=str(key),
                timeout=target.connect_timeout_s,
                banner_timeout=target.connect_timeout_s,
                auth_timeout=target.connect_timeout_s,
                allow_agent=False,
                look_for_keys=False,
            )
        except paramiko.BadHostKeyException as exc:
            raise EdgebenchError(
                f"device {target.name}: host key of {target.host}:{target.port} CHANGED "
                f"(now {fingerprint(exc.key)}); refusing to connect"
            ) from exc
        except paramiko.AuthenticationException as exc:
            raise EdgebenchError(f"device {target.name}: key {target.key} was not accepted by {where}") from exc
        except TimeoutError as exc:
            raise EdgebenchError(
                f"device {target.name}: no answer from {where} within {target.connect_timeout_s:g}s"
            ) from exc
        except (paramiko.SSHException, OSError) as exc:
            detail = _connect_detail(exc, target)
            raise EdgebenchError(f"device {target.name}: cannot connect to {where}: {detail}") from exc
        self.client = client
        self.files: SftpFiles | ExecFiles
        try:
            self.files = SftpFiles(client.open_sftp())
        except LINK_ERRORS as exc:
            transport = client.get_transport()
            if transport is None or not transport.is_active():
                client.close()
                raise LinkLost(str(exc) or type(exc).__name__) from exc
            # The session is up and the server closed the channel opened for SFTP: a board without an SFTP
            # server (dropbear, minimal images). Files then travel over exec channels, as `cat` streams.
            self.files = ExecFiles(client, target.command_timeout_s)

    def run(self, command: str) -> tuple[int, str, str]:
        try:
            _, stdout, stderr = self.client.exec_command(command, timeout=self.target.command_timeout_s)
            out = stdout.read().decode(errors="replace")
            err = stderr.read().decode(errors="replace")
            return stdout.channel.recv_exit_status(), out, err
        except TimeoutError as exc:
            raise LinkLost(f"no answer within {self.target.command_timeout_s:g}s") from exc
        except LINK_ERRORS as exc:
            raise LinkLost(str(exc) or type(exc).__name__) from exc

    def put(self, local: Path, remote: str) -> None:
        try:
            self.files.put(local, remote)
        except LINK_ERRORS as exc:
            raise LinkLost(str(exc) or type(exc).__name__) from exc

    def put_all(self, files: list[tuple[Path, str]], remote_dir: str) -> None:
        for path, name in files:  # one SFTP channel: no process or shell per file
            self.put(path, f"{remote_dir}/{name}")

    def get(self, remote: str, local: Path) -> None:
        try:
            self.files.get(remote, local)
        except LINK_ERRORS as exc:
            raise LinkLost(str(exc) or type(exc).__name__) from exc

    def listdir(self, remote: str) -> list[str]:
        try:
            return self.files.listdir(remote)
        except LINK_ERRORS as exc:
            raise LinkLost(str(exc) or type(exc).__name__) from exc

    def close(self) -> None:
        self.client.close()


class SftpFiles:
    def __init__(self, sftp: paramiko.SFTPClient) -> None:
        self.sftp = sftp

    def put(self, local: Path, remote: str) -> None:
        self.sftp.put(str(local), remote)

    def get(self, remote: str, local: Path) -> None:
        self.sftp.get(remote, str(local))

    def listdir(self, remote: str) -> list[str]:
        return list(self.sftp.listdir(remote))


class ExecFiles:
    """Files over exec channels, for boards with no SFTP server: `cat > F` fed from here, `cat F` read back."""

    CHUNK = 1 << 16

    def __init__(self, client: paramiko.SSHClient, timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    def _channel(self, command: str) -> paramiko.Channel:
        transport = self.client.get_transport()
        if transport is None:
            raise EOFError("the SSH session is gone")
        channel = transport.open_session(timeout=self.timeout_s)
        channel.settimeout(self.timeout_s)
        channel.exec_command(command)
        return channel

    def _finish(self, channel: paramiko.Channel, what: str) -> None:
        code = channel.recv_exit_status()
        error = channel.makefile_stderr("rb").read().decode(errors="replace").strip()
        channel.close()
        if code != 0:  # an OSError, as SFTP's own failures are
            raise OSError(f"{what}: {error.splitlines()[-1] if error else f'exit {code}'}")

    def put(self, local: Path, remote: str) -> None:
        channel = self._channel(f"cat > {shlex.quote(remote)}")
        with local.open("rb") as source:
            for chunk in iter(lambda: source.read(self.CHUNK), b""):
                channel.sendall(chunk)
        channel.shutdown_write()
        self._finish(channel, f"writing {remote}")

    def get(self, remote: str, local: Path) -> None:
        channel = self._channel(f"cat {shlex.quote(remote)}")
        with local.open("wb") as target:
            for chunk in iter(lambda: channel.recv(self.CHUNK), b""):
                target.write(chunk)
        self._finish(channel, f"reading {remote}")

    def listdir(self, remote: str) -> list[str]:
        channel = self._channel(f"ls -1A {shlex.quote(remote)}")
        listing = channel.makefile("rb").read().decode(errors="replace")
        self._finish(channel, f"listing {remote}")
        return listing.splitlines()
