"""The Android tools of the fake phone (tests/support/fake_adb.py): getprop, pm, am, dumpsys.

`am instrument` of the edgebench app stands in for the phone's silicon: it runs the Python
device_runner on the same plan, or, when the phone is given the app's core (FAKE_PHONE_APP, the JvmRunner
command), the app's own Java sweep on its fake device, one process per `am instrument` as on a phone; either
way it prints the instrumentation status lines the real app prints. The fake device answers a probe model the
plan names with what the host's reference kernels answer for it (computed here once per phone), and
FAKE_PHONE_CORRUPT_TENSOR=NAME makes FAKE_PHONE_CORRUPT's delegate break that tensor's op there: its output
and every output computed after it, as a broken op would.
Installed packages live in $FAKE_PHONE_ROOT/state/packages (one name per line).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the other tools of the fake phone start without numpy or LiteRT
    from device_runner.culprit import Probe

REPO = Path(__file__).resolve().parents[2]
APP_PACKAGE = "com.edgebench.runner"
ROOT = Path(os.environ.get("FAKE_PHONE_ROOT", "."))
PACKAGES = ROOT / "state" / "packages"
VERSION = ROOT / "state" / "app-version-name"


def props() -> dict[str, str]:
    lines = os.environ.get("FAKE_PHONE_PROPS", "").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def installed() -> list[str]:
    return PACKAGES.read_text().split() if PACKAGES.is_file() else []


def getprop(args: list[str]) -> int:
    table = props()
    if args:
        print(table.get(args[0], ""))
    else:
        for key, value in sorted(table.items()):
            print(f"[{key}]: [{value}]")
    return 0


def pm(args: list[str]) -> int:
    if args[:1] == ["path"]:
        if args[1] in installed():
            print(f"package:/data/app/{args[1]}-1/base.apk")
            return 0
        return 1
    if args[:2] == ["list", "packages"]:
        for name in installed():
            print(f"package:{name}")
        return 0
    if args[:1] == ["install"]:
        apk = Path(args[-1])
        if not apk.is_file():
            print(f"Failure [INSTALL_FAILED_INVALID_URI: {args[-1]}]")
            return 1
        # The fake reads no manifest: any APK it is given is the edgebench runner app, and its versionName is
        # what follows "versionName=" in the file's bytes (none: an app from before the version stamp).
        PACKAGES.write_text("\n".join(sorted({*installed(), APP_PACKAGE})) + "\n")
        found = re.search(rb"versionName=(\S+)", apk.read_bytes())
        VERSION.write_text(found.group(1).decode() if found else "0.1.0")
        print("Success")
        return 0
    print(f"pm: unknown command {' '.join(args)}", file=sys.stderr)
    return 1


def am(args: list[str]) -> int:
    if args[:1] != ["instrument"]:
        print(f"am: unknown command {' '.join(args)}", file=sys.stderr)
        return 1
    extras = {args[i + 1]: args[i + 2] for i, a in enumerate(args) if a == "-e"}
    component = args[-1]
    if component.split("/")[0] not in installed():
        print(f"INSTRUMENTATION_FAILED: {component}")
        return 1
    app = os.environ.get("FAKE_PHONE_APP")
    env = dict(os.environ)
    if app:
        env["FAKE_PHONE_PROBE_ANSWERS"] = str(probe_answers(Path(extras["plan"])))
        command = [*json.loads(app), "sweep", extras["plan"], extras["results"]]
        option = next((k for k in ("unit", "memory") if k in extras), None)
        command += [f"--{option}", extras[option]] if option else []
    elif "unit" in extras or "memory" in extras:
        # device_runner forks a process per cell and measures a pair's sides' memory itself: a unit's own
        # process adds nothing there, so the stand-in leaves the work to the whole-plan pass.
        print("INSTRUMENTATION_CODE: -1")
        return 0
    else:
        command = [sys.executable, "-m", "device_runner", "run", extras["plan"], "--results", extras["results"]]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:  # the app reports each finished cell as an instrumentation status
        cell, status = _event(line)
        print(f"INSTRUMENTATION_STATUS: cell={cell}")
        print(f"INSTRUMENTATION_STATUS: status={status}")
        print("INSTRUMENTATION_STATUS_CODE: 1", flush=True)
    code = proc.wait()
    print(f"INSTRUMENTATION_RESULT: exit={code}")
    print("INSTRUMENTATION_CODE: -1")
    return 0


def probe_answers(plan_path: Path) -> Path:
    """The folder of the fake device's probe answers (JvmRunner's FAKE_PHONE_PROBE_ANSWERS): per probe the plan
    names, P.npz (out.<j>: the probe's outputs on the host's reference kernels over the input set) and, when
    FAKE_PHONE_CORRUPT_TENSOR names a tensor, P.corrupt (the outputs its broken op spoils)."""
    import numpy as np

    from device_runner import culprit
    from device_runner.cell import load_input_set
    from device_runner.runtime import load_runtime
    from edgebench_records import Plan, read

    folder = ROOT / "state" / "probe-answers"
    folder.mkdir(parents=True, exist_ok=True)
    plan = read(Plan, plan_path)
    broken = os.environ.get("FAKE_PHONE_CORRUPT_TENSOR", "")
    for variant in plan.variants:
        answers = folder / f"{variant.probe}.npz"
        if not variant.probe or answers.is_file():
            continue
        probe = culprit.make_probe((plan_path.parent / variant.file).read_bytes())
        inputs = load_input_set(plan_path.parent / plan.input_set)
        outputs = culprit.on_reference_kernels(load_runtime(), probe, inputs, len(inputs))
        stacked = {f"out.{j}": np.stack([s[j] for s in outputs]) for j in range(len(probe.output_ids))}
        np.savez(answers, **stacked)  # type: ignore[arg-type]  # numpy's stub wants *args alone
        if broken:
            positions = spoiled(probe, broken)
            (folder / f"{variant.probe}.corrupt").write_text(",".join(str(p) for p in positions))
    return folder


def spoiled(probe: Probe, tensor: str) -> list[int]:
    """The probe's output positions a broken op spoils: the op that outputs ``tensor``, and every op after it in
    execution order."""
    graph = probe.graph
    producer = {t: k for k, node in enumerate(graph.nodes) for t in node.output_ids}
    first = next(
        k for k, node in enumerate(graph.nodes) if any(graph.tensors[t].name == tensor for t in node.output_ids)
    )
    return [p for p, t in enumerate(probe.output_ids) if producer.get(t, -1) >= first]


def _event(line: str) -> tuple[str, str]:
    """A finished cell from device_runner's JSON progress line or JvmRunner's "CELL STATUS"."""
    if line.startswith("{"):
        event = json.loads(line)
        return str(event.get("cell", "")), str(event.get("status", ""))
    cell, _, status = line.strip().partition(" ")
    return cell, status


def dumpsys(args: list[str]) -> int:
    if args[:1] == ["package"] and args[1:2] == [APP_PACKAGE] and APP_PACKAGE in installed():
        print(f"Packages:\n  Package [{APP_PACKAGE}] (1a2b3c):\n    versionCode=1 minSdk=26 targetSdk=35")
        print(f"    versionName={VERSION.read_text().strip() if VERSION.is_file() else '0.1.0'}")
        return 0
    if args[:1] == ["thermalservice"]:
        print("IsStatusOverride: false\nThermal Status: 0")
        return 0
    return 0


if __name__ == "__main__":
    tool, *rest = sys.argv[1:]
    sys.exit({"getprop": getprop, "pm": pm, "am": am, "dumpsys": dumpsys}[tool](rest))
