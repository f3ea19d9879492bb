"""A Raspberry Pi in a box: an emulated arm64 Debian board with its own sshd on a loopback port.

    python scripts/board.py up [--name armpi] [--model pi4|pi5] [--inventory edgebench.toml]
    python scripts/board.py status [--name armpi]
    python scripts/board.py build    # only fill the cache (what the test command starts in the background)
    python scripts/board.py down [--name armpi]

`up` builds the board once (debootstrap of Debian bookworm arm64 under qemu-user, ~10 min on 2 cores),
keeps the finished root file system compressed in a cache outside the repo (keyed by what went into it,
so a second `up` takes seconds), mounts what a chroot needs, and starts the board's own sshd with
throw-away keys. Needs root (chroot, mounts, binfmt_misc); installs qemu-user-static, debootstrap and
zstd with apt when they are missing, and changes nothing else on the host.

What a real Pi would show that qemu-user does not fake is put in place: a Pi's /proc/cpuinfo (LiteRT
reads it to pick kernels, and crashes on the host's x86 one), its device-tree model, a Pi kernel's
`uname -r`, and a pinned CPU model: qemu's default `max` CPU gives silently wrong int8 results under
XNNPACK, so every process on the board runs as the Pi's Cortex core. Timings on it mean nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SUITE = "bookworm"
ARCH = "arm64"
PACKAGES = ("python3", "python3-venv", "openssh-server", "ca-certificates")
HOST_PACKAGES = {
    "qemu-aarch64-static": "qemu-user-static",
    "update-binfmts": "binfmt-support",
    "debootstrap": "debootstrap",
    "zstd": "zstd",
}
BUILD_VERSION = "1"  # bump when the build steps change: the cache key covers it
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgebench" / "boards"
BOARDS = Path("/var/tmp/edgebench-boards")  # running boards: root file system, keys, state
BOARD_USER = "root"


@dataclass(frozen=True)
class PiModel:
    model: str  # as the device tree and cpuinfo say it
    revision: str  # the board revision code in cpuinfo
    qemu_cpu: str
    part: str  # the core's CPU part number
    variant: str
    cpu_revision: int
    features: str
    kernel: str  # uname -r of the Pi's kernel


PI_MODELS = {
    "pi4": PiModel(
        "Raspberry Pi 4 Model B Rev 1.4", "c03114", "cortex-a72", "0xd08", "0x0", 3,
        "fp asimd evtstrm crc32 cpuid", "6.1.0-rpi7-rpi-v8",
    ),
    "pi5": PiModel(
        "Raspberry Pi 5 Model B Rev 1.0", "d04170", "cortex-a76", "0xd0b", "0x4", 1,
        "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp",
        "6.6.31+rpt-rpi-2712",
    ),
}  # fmt: skip

SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey /etc/ssh/edgebench_host_ed25519
PidFile /run/edgebench-sshd.pid
AuthorizedKeysFile /etc/ssh/edgebench_authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
Subsystem sftp internal-sftp
SetEnv QEMU_CPU={qemu_cpu} QEMU_UNAME={kernel}
LogLevel ERROR
"""


@dataclass(frozen=True)
class Board:
    name: str
    model: str  # a PI_MODELS key
    port: int
    key: str  # the client's private key
    host_key: str  # "ssh-ed25519 AAAA…", to pin
    rootfs: str

    def inventory(self) -> str:
        """The board's entry: no `python`, so edgebench takes the venv `edgebench devices setup` makes."""
        return (
            f'[devices.{self.name}]\nkind = "ssh"\nhost = "127.0.0.1"\nport = {self.port}\nuser = "{BOARD_USER}"\n'
            f'key = "{self.key}"\nhost_key = "{self.host_key}"\nworkdir = "edgebench"\n'
            "connect_timeout_s = 30\ncommand_timeout_s = 600  # everything on the board runs emulated\n"
        )


def fail(message: str) -> None:
    raise SystemExit(f"board: {message}")


def run(*command: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}").splitlines()[-1]
        fail(f"{' '.join(command[:3])} failed: {last}")


def ensure_host_tools() -> None:
    binfmt = Path("/proc/sys/fs/binfmt_misc")
    if not (binfmt / "register").exists():  # before the install, whose scripts register qemu there
        run("mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt))
    missing = [package for tool, package in HOST_PACKAGES.items() if shutil.which(tool) is None]
    if missing:
        run("apt-get", "update", "-qq")
        run("apt-get", "install", "-y", "-qq", *missing, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if not (binfmt / "qemu-aarch64").exists():
        # Debian's qemu-user-static ships the format; F (fix binary) lets it run inside a chroot.
        run("update-binfmts", "--enable", "qemu-aarch64")
    if not (binfmt / "qemu-aarch64").exists():
        fail("qemu-aarch64 is not registered in binfmt_misc (is the kernel's binfmt_misc available?)")


def debian_mirror() -> str:
    """This machine's own Debian mirror: boards are built from where its packages come from."""
    for sources in (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")):
        if not sources.exists():
            continue
        for line in sources.read_text().splitlines():
            words = line.split()
            if line.startswith("URIs:") and len(words) > 1:
                return words[1]
            if len(words) > 2 and words[0] == "deb" and "security" not in words[1]:
                return words[2] if words[1].startswith("[") else words[1]
    fail("no Debian mirror in /etc/apt/sources.list(.d): cannot debootstrap")
    raise AssertionError  # unreachable: fail raises


def cache_key() -> str:
    recipe = {"suite": SUITE, "arch": ARCH, "packages": PACKAGES, "build": BUILD_VERSION}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def cached_rootfs() -> Path:
    return CACHE / f"debian-{SUITE}-{ARCH}-{cache_key()}.tar.zst"


def ensure_cached_rootfs() -> Path:
    """The finished board's archive, debootstrapped first if the cache lacks it. Under a lock, so a build
    started ahead of time (``board.py build``, which the test command runs in the background) and an ``up``
    that needs it make the board once: the second waits for the first. Atomic: a killed build leaves none."""
    archive = cached_rootfs()
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if archive.exists():
            return archive
        BOARDS.mkdir(parents=True, exist_ok=True)
        partial = BOARDS / f".build-{cache_key()}"
        shutil.rmtree(partial, ignore_errors=True)
        print(f"board: building Debian {SUITE} {ARCH} (about 10 minutes, once; cached in {CACHE})", flush=True)
        run(
            "debootstrap", f"--arch={ARCH}", "--variant=minbase", f"--include={','.join(PACKAGES)}",
            SUITE, str(partial), debian_mirror(),
        )  # fmt: skip
        shutil.rmtree(partial / "var" / "cache" / "apt" / "archives", ignore_errors=True)
        part = archive.with_name(archive.name + ".part")
        run("tar", "--zstd", "-cpf", str(part), "-C", str(partial), ".")
        part.replace(archive)
        shutil.rmtree(partial, ignore_errors=True)
    return archive


def build_rootfs(rootfs: Path) -> None:
    """The board's root file system, unpacked from the cache (2 s; built into it first when missing)."""
    archive = ensure_cached_rootfs()
    rootfs.mkdir(parents=True)
    run("tar", "--zstd", "-xpf", str(archive), "-C", str(rootfs))


def cpuinfo(model: PiModel, cores: int = 4) -> str:
    blocks = [
        f"processor\t: {n}\nBogoMIPS\t: 108.00\nFeatures\t: {model.features}\nCPU implementer\t: 0x41\n"
        f"CPU architecture: 8\nCPU variant\t: {model.variant}\nCPU part\t: {model.part}\n"
        f"CPU revision\t: {model.cpu_revision}\n"
        for n in range(cores)
    ]
    return (
        "\n".join(blocks) + f"\nRevision\t: {model.revision}\nSerial\t\t: 1000000012345678\nModel\t\t: {model.model}\n"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def mounts(rootfs: Path) -> list[Path]:
    """Where the board's mounts go, in mounting order (unmounted in reverse)."""
    return [rootfs / "proc", rootfs / "proc" / "cpuinfo", rootfs / "sys", rootfs / "sys" / "firmware",
            rootfs / "dev", rootfs / "dev" / "pts"]  # fmt: skip


def is_mounted(path: Path) -> bool:
    target = str(path)
    return any(line.split()[1] == target for line in Path("/proc/self/mounts").read_text().splitlines())


def mount_all(home: Path, rootfs: Path, model: PiModel) -> None:
    (home / "cpuinfo").write_text(cpuinfo(model))
    proc, info, sys_, firmware, dev, pts = mounts(rootfs)
    run("mount", "-t", "proc", "proc", str(proc))
    run("mount", "--bind", str(home / "cpuinfo"), str(info))
    run("mount", "-t", "sysfs", "sysfs", str(sys_))
    run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(firmware))  # a Pi's device tree over the host's
    tree = firmware / "devicetree" / "base"
    tree.mkdir(parents=True)
    (tree / "model").write_bytes(model.model.encode() + b"\0")
    run("mount", "--bind", "/dev", str(dev))
    run("mount", "--bind", "/dev/pts", str(pts))


def unmount_all(rootfs: Path) -> None:
    for path in reversed(mounts(rootfs)):
        if is_mounted(path):
            run("umount", "-l", str(path))


def keygen(path: Path) -> str:
    path.unlink(missing_ok=True)
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgebench-board", "-f", str(path))
    return path.with_suffix(".pub").read_text().strip()


def start_sshd(home: Path, rootfs: Path, model: PiModel, port: int) -> str:
    """The board's own sshd (emulated, like everything on it), keys made on the host: fast and throw-away."""
    etc = rootfs / "etc" / "ssh"
    host_pub = keygen(home / "host_ed25519")
    shutil.copy(home / "host_ed25519", etc / "edgebench_host_ed25519")
    os.chmod(etc / "edgebench_host_ed25519", 0o600)
    (etc / "edgebench_authorized_keys").write_text(keygen(home / "client_ed25519") + "\n")
    (etc / "edgebench_sshd_config").write_text(
        SSHD_CONFIG.format(port=port, qemu_cpu=model.qemu_cpu, kernel=model.kernel)
    )
    shutil.copy("/etc/resolv.conf", rootfs / "etc" / "resolv.conf")
    (rootfs / "run" / "sshd").mkdir(parents=True, exist_ok=True)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "QEMU_CPU": model.qemu_cpu, "QEMU_UNAME": model.kernel}
    run("chroot", str(rootfs), "/usr/sbin/sshd", "-f", "/etc/ssh/edgebench_sshd_config", env=env)
    deadline = time.monotonic() + 60  # sshd starts under emulation
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return " ".join(host_pub.split()[:2])
        time.sleep(0.5)
    fail(f"the board's sshd did not listen on 127.0.0.1:{port} within 60 s")
    raise AssertionError


def state_file(name: str) -> Path:
    return BOARDS / name / "board.json"


def read_state(name: str) -> Board | None:
    path = state_file(name)
    return Board(**json.loads(path.read_text())) if path.exists() else None


def sshd_alive(board: Board) -> bool:
    pidfile = Path(board.rootfs) / "run" / "edgebench-sshd.pid"
    try:
        os.kill(int(pidfile.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def up(name: str, model_name: str, inventory: Path | None) -> Board:
    if os.geteuid() != 0:
        fail("needs root (chroot, mounts and binfmt_misc)")
    board = read_state(name)
    if board and sshd_alive(board):
        return board
    ensure_host_tools()
    home = BOARDS / name
    rootfs = home / "rootfs"
    if board:
        unmount_all(rootfs)
    if not (rootfs / "usr" / "bin" / "python3").exists():
        shutil.rmtree(rootfs, ignore_errors=True)
        home.mkdir(parents=True, exist_ok=True)
        build_rootfs(rootfs)
    model = PI_MODELS[model_name]
    mount_all(home, rootfs, model)
    port = free_port()
    host_key = start_sshd(home, rootfs, model, port)
    board = Board(name, model_name, port, str(home / "client_ed25519"), host_key, str(rootfs))
    partial = state_file(name).with_suffix(".part")
    partial.write_text(json.dumps(asdict(board), indent=2))
    partial.replace(state_file(name))
    if inventory:
        write_inventory(inventory, board)
    return board


def write_inventory(path: Path, board: Board) -> None:
    """The board's entry in ``path``, replacing an older entry of the same name and keeping every other line."""
    lines = path.read_text().splitlines() if path.exists() else []
    kept, skipping = [], False
    for line in lines:
        if line.strip().startswith("["):
            skipping = line.strip() == f"[devices.{board.name}]"
        if not skipping:
            kept.append(line)
    text = "\n".join(kept).rstrip()
    path.write_text((text + "\n\n" if text else "") + board.inventory())


def down(name: str) -> None:
    board = read_state(name)
    if board is None:
        return
    pidfile = Path(board.rootfs) / "run" / "edgebench-sshd.pid"
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pidfile.read_text()), 15)
    unmount_all(Path(board.rootfs))
    state_file(name).unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("build", "up", "down", "status"))
    parser.add_argument("--name", default="armpi")
    parser.add_argument("--model", choices=sorted(PI_MODELS), default="pi4")
    parser.add_argument("--inventory", type=Path, help="write the board's [devices.NAME] entry into this file")
    args = parser.parse_args()
    if args.action == "build":  # the cache only, no board started: lets a slow first build run ahead
        if os.geteuid() != 0:
            fail("needs root (debootstrap, chroot)")
        ensure_host_tools()
        print(f"board: {ensure_cached_rootfs()} ready")
    elif args.action == "up":
        board = up(args.name, args.model, args.inventory)
        print(f"board: {board.name} ({PI_MODELS[board.model].model}, emulated) on 127.0.0.1:{board.port}")
        if not args.inventory:
            print(board.inventory(), end="")
    elif args.action == "down":
        down(args.name)
    else:
        found = read_state(args.name)
        alive = found is not None and sshd_alive(found)
        print(json.dumps({"name": args.name, "up": alive, **(asdict(found) if found else {})}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
