"""Do sweeps on several boards at once cost more than the slowest board alone? And does an unchanged
re-push send anything?

Starts N "boards": Debian's OpenSSH server on 127.0.0.1 (one each), with the bare ai-edge-litert
environment as the board's Python (scripts/test.sh makes it), each board pinned to its own CPU so
the boards do not share a core. Measures, in one run, the bundled example's fp32/int8 x
xnnpack/cpu sweep: each board alone, then all at once; and the variant bytes sent by a second,
unchanged push. Goals: together / slowest alone <= 1.2; re-push bytes 0. Prints a Markdown table and
writes it into docs/benchmarks.md (scripts/doc_tables.py).

    .venv/bin/python scripts/bench_devices.py [--boards 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' sshd helper and board envs

from doc_tables import publish

from device_runner.sweep import CellDone
from edgebench.conversion import convert
from edgebench.devices.remote import Link, PythonRunner, RemoteDevice
from edgebench.devices.ssh import SshLink
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.inventory import SshTarget
from edgebench.plan import build_plan, stage
from edgebench_records import Measurement
from tests.conftest import RUNNER_ENVS
from tests.support.sshd import ssh_server

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Measurement(runs=50, min_s=0.5, warmup_min_s=0.2)


def connector(target: SshTarget) -> Callable[[], Link]:
    return lambda: SshLink(target)


def ignore(event: CellDone) -> None:
    """Progress is not what is measured here."""


def sweep(device: RemoteDevice, manifest_dir: Path, manifest: object, work: Path, run_id: str, cpu: int) -> float:
    plan = build_plan(run_id, manifest, dataclasses.replace(SETTINGS, cpus=[cpu]))  # type: ignore[arg-type]
    plan_path = stage(plan, manifest_dir, work / run_id / "plan")
    start = time.perf_counter()
    device.run(plan_path, work / run_id / "results", ignore)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boards", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    python = RUNNER_ENVS["ai_edge_litert"] / "bin" / "python"
    manifest, manifest_dir = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "int8"], ROOT / ".edgebench")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        devices = []
        for i in range(args.boards):
            server = stack.enter_context(ssh_server("/usr/sbin/sshd", work / f"sshd{i}"))
            target = SshTarget(
                name=f"board{i}",
                host="127.0.0.1",
                port=server.port,
                user=server.user,
                key=str(server.user_key),
                python=str(python),
                workdir=str(work / f"board{i}"),
                host_key=server.host_key_line,
                known_hosts=str(work / "known_hosts"),
            )
            devices.append(RemoteDevice(target.name, connector(target), target.workdir, PythonRunner(str(python))))

        alone = [sweep(d, manifest_dir, manifest, work, f"alone{i}", i) for i, d in enumerate(devices)]
        for device in devices:
            device.transfer.variant_bytes = 0
        with ThreadPoolExecutor(len(devices)) as pool:
            start = time.perf_counter()
            list(
                pool.map(
                    lambda i: sweep(devices[i], manifest_dir, manifest, work, f"together{i}", i), range(len(devices))
                )
            )
            together = time.perf_counter() - start
        repush_bytes = sum(d.transfer.variant_bytes for d in devices)

    lines = [f"{args.boards} loopback boards, 4 cells each (fp32/int8 x xnnpack/cpu), one run", ""]
    lines += ["| boards | slowest alone s | all at once s | at once / slowest | variant bytes of unchanged re-push |"]
    lines.append("|---:|---:|---:|---:|---:|")
    lines.append(
        f"| {args.boards} | {max(alone):.2f} | {together:.2f} | {together / max(alone):.3f} | {repush_bytes} |"
    )
    publish("bench_devices", "\n".join(lines), packages=["ai-edge-litert", "paramiko", "numpy"])


if __name__ == "__main__":
    main()
