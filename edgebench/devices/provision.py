"""Setting a board up to run device_runner: a venv in its work folder with numpy and a LiteRT runtime.

Two routes to the same venv. Online, the board's own pip installs the packages. Offline (benches are often
air-gapped), this machine asks pip for the wheels built for the board's platform tag and Python version,
installs them into a folder here, and sends that folder over as one archive, which the board unpacks into
a venv made without pip. Either way the result is checked by importing the runtime on the board, and a
marker in the venv records what went in, so running setup again changes nothing.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from edgebench.errors import EdgebenchError

VENV = "venv"  # under the device's work folder: where `push` finds the Python that setup made
MARKER = "edgebench-setup.json"


class Link(Protocol):
    def run(self, command: str) -> tuple[int, str, str]: ...
    def put(self, local: Path, remote: str) -> None: ...


class Runtime(StrEnum):
    LITERT = "ai-edge-litert"
    TFLITE = "tflite-runtime"  # the last release, 2.14: boards without an ai-edge-litert wheel (32-bit ARM)


# What each runtime is installed with, and the import that proves it works.
REQUIREMENTS = {Runtime.LITERT: ["numpy", "ai-edge-litert"], Runtime.TFLITE: ["numpy<2", "tflite-runtime==2.14.0"]}
IMPORTS = {Runtime.LITERT: "ai_edge_litert.interpreter", Runtime.TFLITE: "tflite_runtime.interpreter"}
LITERT_MACHINES = ("aarch64", "x86_64")  # where ai-edge-litert publishes wheels
NO_INDEX = ("No matching distribution found", "Could not find a version", "Network is unreachable", "Max retries")

PROBE = (
    "import json, platform, sys; "
    "print(json.dumps({'machine': platform.machine(), 'python': '%d.%d' % sys.version_info[:2], "
    "'glibc': platform.libc_ver()[1]}))"
)


@dataclass(frozen=True)
class Platform:
    machine: str  # uname -m: aarch64, armv7l, x86_64
    python: str  # "3.11"
    glibc: str  # "2.36"

    @property
    def pip_platform(self) -> str:
        """The newest manylinux tag the board takes."""
        major, minor = self.glibc.split(".")[:2]
        return f"manylinux_{major}_{minor}_{self.machine}"

    def pip_platforms(self) -> list[str]:
        """Every manylinux tag the board takes, newest first: pip does not widen a --platform tag by itself."""
        major, minor = (int(part) for part in self.glibc.split(".")[:2])
        tags = [f"manylinux_{major}_{m}_{self.machine}" for m in range(minor, 16, -1)]
        return [*tags, f"manylinux2014_{self.machine}"] if major == 2 and minor >= 17 else tags


@dataclass(frozen=True)
class Setup:
    python: str  # the venv's interpreter on the board
    runtime: Runtime
    changed: bool  # False: the venv was already as asked


def probe(link: Link, device: str) -> Platform:
    code, out, _ = link.run(f"python3 -c {shlex.quote(PROBE)}")
    if code != 0:
        raise EdgebenchError(f"device {device}: no python3 on the board (install python3 and python3-venv there)")
    found = json.loads(out.strip().splitlines()[-1])
    if not found["glibc"]:
        raise EdgebenchError(f"device {device}: the board's C library is not glibc; no LiteRT wheel runs there")
    return Platform(found["machine"], found["python"], found["glibc"])


def choose_runtime(platform: Platform, asked: Runtime | None) -> Runtime:
    if asked is None:
        return Runtime.LITERT if platform.machine in LITERT_MACHINES else Runtime.TFLITE
    return asked


def setup(link: Link, device: str, workdir: str, asked: Runtime | None = None, offline: bool = False) -> Setup:
    platform = probe(link, device)
    runtime = choose_runtime(platform, asked)
    venv = f"{workdir}/{VENV}"
    python = f"{venv}/bin/python"
    wanted: dict[str, object] = {
        "runtime": str(runtime),
        "requirements": REQUIREMENTS[runtime],
        "platform": asdict(platform),
    }
    code, out, _ = link.run(f"cat {shlex.quote(venv + '/' + MARKER)}")
    if code == 0 and _same(out, wanted) and _imports(link, python, runtime):
        return Setup(python, runtime, changed=False)
    with tempfile.TemporaryDirectory(prefix="edgebench-wheels-") as tmp:
        # Offline, the wheels are had here first: a board whose platform has none keeps its old venv.
        archive = _wheels(device, platform, runtime, Path(tmp)) if offline else None
        _run(link, device, f"rm -rf {shlex.quote(venv)} && mkdir -p {shlex.quote(workdir)}", "clearing the old venv")
        if archive:
            _install_offline(link, device, platform, runtime, venv, archive)
        else:
            _online(link, device, runtime, venv)
    if not _imports(link, python, runtime):
        raise EdgebenchError(f"device {device}: {runtime} was installed in {venv} but does not import there")
    marker = shlex.quote(json.dumps(wanted))
    _run(link, device, f"printf %s {marker} > {shlex.quote(venv + '/' + MARKER)}", "writing the setup marker")
    return Setup(python, runtime, changed=True)


def _same(marker: str, wanted: dict[str, object]) -> bool:
    try:
        return bool(json.loads(marker) == wanted)
    except ValueError:
        return False


def _imports(link: Link, python: str, runtime: Runtime) -> bool:
    code, _, _ = link.run(f"{shlex.quote(python)} -c {shlex.quote('import numpy, ' + IMPORTS[runtime])}")
    return code == 0


def _run(link: Link, device: str, command: str, what: str) -> str:
    code, out, err = link.run(command)
    if code != 0:
        text = err.strip() or out.strip() or f"exit {code}"
        if "No space left" in text:
            raise EdgebenchError(f"device {device}: no space left on the board while {what}")
        raise EdgebenchError(f"device {device}: {what} failed: {text.splitlines()[-1]}")
    return out


def _online(link: Link, device: str, runtime: Runtime, venv: str) -> None:
    system = " --system-site-packages" if runtime is Runtime.TFLITE else ""  # armv7l: Debian's python3-numpy
    _run(link, device, f"python3 -m venv{system} {shlex.quote(venv)}", "making the venv (is python3-venv installed?)")
    packages = " ".join(shlex.quote(r) for r in REQUIREMENTS[runtime])
    try:
        _run(link, device, f"{shlex.quote(venv)}/bin/pip install --quiet {packages}", f"installing {runtime} with pip")
    except EdgebenchError as failed:
        # What pip says on a board that reaches no package index (a lab network, the emulated board).
        if any(sign in str(failed) for sign in NO_INDEX):
            hint = "no package index from the board? --offline sends the wheels from here"
            raise EdgebenchError(f"{failed} ({hint})") from None
        raise


@dataclass(frozen=True)
class Wheels:
    archive: Path  # site-packages as one .tar.gz
    unpacked_bytes: int


def _wheels(device: str, platform: Platform, runtime: Runtime, tmp: Path) -> Wheels:
    """The runtime's wheels for the board's platform, installed here into a folder and packed as one archive."""
    site = tmp / "site-packages"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--only-binary=:all:", "--no-compile"]
    command += [f"--platform={tag}" for tag in platform.pip_platforms()]
    command += ["--python-version", platform.python, "--target", str(site)]
    proc = subprocess.run([*command, *REQUIREMENTS[runtime]], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise EdgebenchError(
            f"device {device}: no {runtime} wheel for {platform.pip_platform}, Python {platform.python} ({last})"
        )
    archive = tmp / "site-packages.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(site, arcname=".")
    return Wheels(archive, sum(p.stat().st_size for p in site.rglob("*") if p.is_file()))


def _install_offline(link: Link, device: str, platform: Platform, runtime: Runtime, venv: str, wheels: Wheels) -> None:
    q = shlex.quote
    needed_mb = (wheels.unpacked_bytes + wheels.archive.stat().st_size) / 2**20
    free = _run(link, device, f"df -Pk {q(venv.rsplit('/', 1)[0])} | tail -n 1", "reading free disk").split()
    free_mb = int(free[3]) / 1024 if len(free) > 3 and free[3].isdigit() else None
    if free_mb is not None and free_mb < needed_mb:  # an SFTP upload into a full disk says only "Failure"
        raise EdgebenchError(
            f"device {device}: no space left on the board for {runtime}: {needed_mb:.0f} MB needed in "
            f"{venv.rsplit('/', 1)[0]}, {free_mb:.0f} MB free"
        )
    remote = f"{venv}.tar.gz"
    target = f"{venv}/lib/python{platform.python}/site-packages"
    _run(link, device, f"python3 -m venv --without-pip {q(venv)}", "making the venv")
    link.put(wheels.archive, remote)
    _run(link, device, f"tar -xzf {q(remote)} -C {q(target)} && rm -f {q(remote)}", f"unpacking {runtime}")
