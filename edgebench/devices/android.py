"""Android phones: their facts (getprop, thermal status) and the `app` runner (android_app/ driven by
`am instrument`). The `benchmark_model` runner lives in benchmark_model.py.

The app reads the plan from the work directory (/data/local/tmp is readable by apps) and writes each
cell's JSON into its external files folder, which the shell user can read and list. Each `am instrument`
starts the app's process afresh, so the host starts one per unit (a cell, a gate's pair, or the variants of one
configuration timed interleaved), as device_runner forks one process per unit: a lone cell's memory figures are
then its own, and each side of a unit of several has its load cost measured alone first (`-e memory`) rather
than in the process the other sides started.
"""

from __future__ import annotations

import re
import shlex
import tempfile
from pathlib import Path

from edgebench.devices.remote import Job, Link, RemoteDevice, detached_start
from edgebench.errors import EdgebenchError
from edgebench_records import Plan, sha256_file

APP_PACKAGE = "com.edgebench.runner"
# The pins the APK is built with; the app's versionName carries its LiteRT version after LITERT_MARK.
BUILD_GRADLE = Path(__file__).resolve().parents[2] / "android_app" / "app" / "build.gradle"
LITERT_MARK = "+litert-"
_PIN = re.compile(r'^def litertVersion = "([^"]+)"', re.MULTILINE)
APP_INSTRUMENTATION = f"{APP_PACKAGE}/.BenchmarkInstrumentation"
PROPS = {
    "model": "ro.product.model",
    "manufacturer": "ro.product.manufacturer",
    "soc": "ro.soc.model",  # Android 12+; older phones name the board instead
    "board": "ro.board.platform",
    "android": "ro.build.version.release",
    "api_level": "ro.build.version.sdk",
    "abi": "ro.product.cpu.abi",
}


def sweep_script(plan: Plan, plan_path: str, results: str) -> str:
    """The shell script that sweeps ``plan`` on the phone, one app process per unit: the memory passes of a
    unit's sides (when it has several), then the unit; units already written are skipped without starting the
    app. A last pass over the whole plan records as crashed a unit whose process died and measures anything left."""
    q = shlex.quote
    base = f"am instrument -w -r -e plan {q(plan_path)} -e results {q(results)}"

    def written(name: str) -> str:
        return f"[ -f {q(results + '/' + name)} ]"

    lines = ["#!/system/bin/sh", "# written by edgebench: one app process per unit (android.py sweep_script)"]
    for unit in plan.units():
        if len(unit) > 1:
            for key in unit:
                skip = f"{written(key.id + '.json')} || {written('.' + key.id + '.memory.json')}"
                lines.append(f"{skip} || {base} -e memory {q(key.id)} {APP_INSTRUMENTATION}")
        skip = " && ".join(written(key.id + ".json") for key in unit)
        lines.append(f"{skip} || {base} -e unit {q(unit[0].id)} {APP_INSTRUMENTATION}")
    lines.append(f"{base} {APP_INSTRUMENTATION}")
    return "\n".join(lines) + "\n"


def android_facts(device: RemoteDevice, link: Link) -> dict[str, object]:
    """getprop's answers (one call), the kernel, cores and the thermal status (0 = none … 6 = shutdown)."""
    keys = list(PROPS.values())
    script = "; ".join(f"echo {k}=$(getprop {k})" for k in keys)
    script += "; echo kernel=$(uname -r); echo cores=$(nproc 2>/dev/null || echo 0)"
    script += "; echo thermal=$(dumpsys thermalservice 2>/dev/null | grep -m1 'Thermal Status' | cut -d: -f2)"
    answers = dict(
        line.split("=", 1) for line in device.sh(link, script, "reading getprop").splitlines() if "=" in line
    )
    facts: dict[str, object] = {name: answers.get(prop, "").strip() for name, prop in PROPS.items()}
    if not facts["soc"]:
        facts["soc"] = facts["board"]
    facts["kernel"] = answers.get("kernel", "").strip()
    facts["cores"] = int(answers.get("cores", "0").strip() or 0)
    thermal = answers.get("thermal", "").strip()
    facts["thermal_status"] = int(thermal) if thermal.isdigit() else None
    return facts


class AppRunner:
    """android_app/'s APK, installed when missing or changed, driven with `am instrument`."""

    def __init__(self, apk: str | None) -> None:
        self.apk = Path(apk).expanduser() if apk else None

    def prepare(self, device: RemoteDevice, link: Link, work: str) -> None:
        installed = self._installed(link)
        marker = f"{work}/app.sha256"
        if self.apk is None:
            if not installed:
                raise EdgebenchError(
                    f"device {device.name}: the runner app {APP_PACKAGE} is not installed and no apk is set; "
                    'build android_app/ (README: "Building the Android runner") and set apk = "…" in the inventory'
                )
            return
        if not self.apk.is_file():
            raise EdgebenchError(f"device {device.name}: apk not found: {self.apk}")
        digest = sha256_file(self.apk)
        _, current, _ = link.run(f"cat {shlex.quote(marker)} 2>/dev/null")
        if installed and current.strip() == digest:
            return
        (blob,) = device.store_blobs(link, work, [self.apk])
        apk_path = f"{work}/edgebench-runner.apk"
        device.sh(link, f"ln -f {shlex.quote(blob)} {shlex.quote(apk_path)}", "staging the apk")
        out = device.sh(link, f"pm install -r -t {shlex.quote(apk_path)}", f"installing {self.apk.name}")
        if "Success" not in out:
            raise EdgebenchError(f"device {device.name}: installing {self.apk.name} failed: {out.strip()[-200:]}")
        device.sh(link, f"echo {digest} > {shlex.quote(marker)}", "recording the installed apk")

    def measure(self, device: RemoteDevice, link: Link, job: Job) -> None:
        q = shlex.quote
        results = f"/sdcard/Android/data/{APP_PACKAGE}/files/runs/{job.plan.run_id}/results"
        script = f"{job.run_dir}/app-sweep.sh"
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "app-sweep.sh"
            local.write_text(sweep_script(job.plan, job.run_dir + "/plan/plan.json", results), encoding="utf-8")
            link.put(local, script)  # a file, not a command line: a plan of many cells outgrows adbd's 4 KB limit
        device.run_detached(link, job, detached_start(f"sh {q(script)}", job.run_dir, job.run_dir), results)

    def facts(self, device: RemoteDevice, link: Link, work: str) -> dict[str, object]:
        installed = self._installed(link)
        litert = self._installed_litert(link) if installed else None
        pinned = pinned_litert()
        versions = {"litert": litert, "pinned": pinned, "matches": litert == pinned if litert and pinned else None}
        return {
            "android": android_facts(device, link),
            "runner": "app",
            "runner_present": installed,
            "runner_versions": versions,
            "runner_detail": f"{APP_PACKAGE} {'installed' if installed else 'not installed'}"
            + (f"; {versions_line(litert, pinned)}" if installed else "")
            + (f"; apk {self.apk}" if self.apk else ""),
        }

    def _installed_litert(self, link: Link) -> str | None:
        """The LiteRT version the installed app says it carries (its versionName), None if it says none."""
        code, out, _ = link.run(f"dumpsys package {APP_PACKAGE} | grep -m1 versionName=")
        name = out.strip().partition("versionName=")[2].strip() if code == 0 else ""
        return name.partition(LITERT_MARK)[2] or None

    def _installed(self, link: Link) -> bool:
        code, out, _ = link.run(f"pm path {APP_PACKAGE}")
        return code == 0 and out.startswith("package:")


def pinned_litert(build_gradle: Path = BUILD_GRADLE) -> str | None:
    """The LiteRT version android_app/ pins (None when edgebench runs without its source tree)."""
    try:
        found = _PIN.search(build_gradle.read_text(encoding="utf-8"))
    except OSError:
        return None
    return found.group(1) if found else None


def versions_line(litert: str | None, pinned: str | None) -> str:
    """Whether the installed app carries the LiteRT android_app/ pins, said in one clause."""
    if litert is None:
        return "its LiteRT version unknown (an app older than the version stamp): reinstall it (push installs the apk)"
    if pinned is None:
        return f"LiteRT {litert} (no android_app/app/build.gradle here to compare with)"
    if litert == pinned:
        return f"LiteRT {litert}, as pinned"
    return f"LiteRT {litert} but android_app pins {pinned}: rebuild the APK and push to reinstall it"
