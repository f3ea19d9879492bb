"""Push throughput to a phone: edgebench's two ADB transports against Debian's `adb push`, same files.

The phone is tests/support/fake_adb.py's fake on 127.0.0.1 (the real ADB wire protocol; its storage is a
temp folder). Each round pushes the same set of files (the bundled example's variants and a 14 MB
MobileNetV2-sized file) three ways, in rotating order: `adb shell mkdir` + one `adb push` of them all, edgebench's
adb-server link (content-addressed blobs: list, push to an incoming folder, rename), edgebench's direct link
(adb-shell). Blobs are removed between rounds so every round sends everything. Prints the median
MB/s of each and the ratio to `adb push` (goal >= 0.8) as a Markdown table, and writes it into
docs/benchmarks.md (scripts/doc_tables.py).

    .venv/bin/python scripts/bench_adb.py [--rounds 11]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' fake phone

from doc_tables import publish

from edgebench.devices.adb import AdbDirectLink, AdbServerLink
from edgebench.devices.remote import Link, PythonRunner, RemoteDevice
from edgebench.inventory import AdbTarget
from tests.support.fake_adb import FakePhone
from tests.support.sshd import free_port

WORK = "/data/local/tmp/edgebench"
ROOT = Path(__file__).resolve().parent.parent


def files_to_push(tmp: Path) -> list[Path]:
    from edgebench.conversion import convert
    from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL

    manifest_dir = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "int8"], ROOT / ".edgebench")[1]
    big = tmp / "mobilenet_v2_sized.bin"
    big.write_bytes(os.urandom(14_000_000))  # incompressible: nothing on the path can shrink it
    return [*sorted(manifest_dir.glob("*.tflite")), big]


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    adb = shutil.which("adb")
    if adb is None:
        sys.exit("bench_adb: adb not found (apt-get install adb)")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        files = files_to_push(tmp)
        total_mb = sum(f.stat().st_size for f in files) / 1e6
        phone = FakePhone(tmp / "phone").start()
        env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()))
        subprocess.run([adb, "start-server"], env=env, check=True, capture_output=True)
        port = int(env["ANDROID_ADB_SERVER_PORT"])
        server_target = AdbTarget(name="bench", serial=phone.serial, transport="adb-server", adb_server_port=port)
        direct_target = AdbTarget(name="bench", serial=phone.serial, transport="direct", key=str(tmp / "adbkey"))
        try:
            links: dict[str, Link] = {
                "edgebench adb-server": AdbServerLink(server_target),
                "edgebench direct": AdbDirectLink(direct_target),
            }

            def adb_push() -> None:  # what a user would type: one adb push of every file into a folder
                subprocess.run(
                    [adb, "-s", phone.serial, "shell", f"mkdir -p {WORK}/plain"],
                    env=env,
                    check=True,
                    capture_output=True,
                )
                subprocess.run(
                    [adb, "-s", phone.serial, "push", *map(str, files), f"{WORK}/plain/"],
                    env=env,
                    check=True,
                    capture_output=True,
                )

            def through(name: str) -> Callable[[], None]:
                device = RemoteDevice("bench", lambda: links[name], WORK, PythonRunner("python3"))
                link = links[name]

                def push_blobs() -> None:
                    device.store_blobs(link, WORK, files)

                return push_blobs

            methods: dict[str, Callable[[], None]] = {"adb push": adb_push, **{n: through(n) for n in links}}
            seconds: dict[str, list[float]] = {name: [] for name in methods}
            names = list(methods)
            for round_ in range(args.rounds):
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    shutil.rmtree(phone.local(WORK), ignore_errors=True)  # every round sends everything
                    seconds[name].append(timed(methods[name]))
            for link in links.values():
                link.close()
        finally:
            subprocess.run([adb, "kill-server"], env=env, check=False, capture_output=True)
            phone.stop()
    reference = statistics.median(seconds["adb push"])
    lines = [f"{len(files)} files, {total_mb:.1f} MB per round, {args.rounds} rounds, medians", ""]
    lines += ["| method | median s | MB/s | throughput / adb push |", "|---|---|---|---|"]
    for name, values in seconds.items():
        median = statistics.median(values)
        lines.append(f"| {name} | {median:.3f} | {total_mb / median:.1f} | {reference / median:.2f} |")
    publish("bench_adb", "\n".join(lines), packages=["adb-shell", "numpy"])


if __name__ == "__main__":
    main()
