"""Android phones: their facts (getprop, thermal status) and the `app` runner (android_app/ driven by
`am instrument`). The `benchmark_model` runner lives in benchmark_model.py.

The app reads the plan from the work directory (/data/local/tmp is readable by apps) and writes each
cell's JSON into its external files folder, which the shell user can read and list. Each `am instrument`
starts the app's process afresh, so the host starts one per unit (a cell, a gate's pair, or the variants of one
configuration timed interleaved), as device_runner forks one process per unit: a lone cell's memory figures are
then its own, and each side of a unit of several has its load cost measured alone first (`-e memory`) rather
than in the process the other sides started.

With --find-culprits the host makes each variant's probe model (device_runner/culprit.py) and names it in the
plan; the app runs a wrong_output cell's probe under the cell's delegate and leaves its outputs in the results
folder, and the host, once the sweep is over, runs the same probe on its reference kernels and names the op in
the cell's result before it is stored (``judge_probes``).
"""

from __future__ import annotations

import re
import shlex
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

import edgebench_records as schema
from device_runner import culprit
from device_runner.cell import load_input_set
from device_runner.flatbuffer import ModelFormatError, read_model_info
from device_runner.precision import precision
from device_runner.runtime import load_runtime
from device_runner.sweep import result_path
from edgebench.devices.remote import Job, Link, RemoteDevice, detached_start
from edgebench.errors import EdgebenchError
from edgebench.plan import PLAN_NAME
from edgebench_records import CellKey, CellResult, Culprit, Plan, Status, sha256_file

APP_PACKAGE = "com.edgebench.runner"
# The pins the APK is built with; the app's versionName carries its LiteRT version after LITERT_MARK.
BUILD_GRADLE = Path(__file__).resolve().parents[2] / "android_app" / "app" / "build.gradle"
LITERT_MARK = "+litert-"
_PIN = re.compile(r'^def litertVersion = "([^"]+)"', re.MULTILINE)
APP_INSTRUMENTATION = f"{APP_PACKAGE}/.BenchmarkInstrumentation"
# A probe the app ran, whose outputs wait in the results folder for the host (CellResult.Culprit.PROBE_OUTPUTS in
# android_app's core, word for word): the note is followed by the file's name.
PROBE_OUTPUTS = "probe outputs in the results folder as "
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
        self._work = ""  # the device's work directory: its blob store takes the probe models too

    def prepare(self, device: RemoteDevice, link: Link, work: str) -> None:
        self._work = work
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
        if job.plan.measure.find_culprits:  # only then: a run that does not ask costs nothing
            job = self._with_probes(device, link, job)
        script = f"{job.run_dir}/app-sweep.sh"
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "app-sweep.sh"
            local.write_text(sweep_script(job.plan, f"{job.run_dir}/plan/{PLAN_NAME}", results), encoding="utf-8")
            link.put(local, script)  # a file, not a command line: a plan of many cells outgrows adbd's 4 KB limit
        device.run_detached(link, job, detached_start(f"sh {q(script)}", job.run_dir, job.run_dir), results)
        if job.plan.measure.find_culprits:
            judge_probes(link, job, results)

    def _with_probes(self, device: RemoteDevice, link: Link, job: Job) -> Job:
        """Each variant's probe made on the host and written beside it, named in the plan, and the plan pushed
        again (the probes by sha256, as the variants: a resume sends nothing new)."""
        plan = with_probes(job.plan, job.plan_dir)
        plan_path = job.plan_dir / PLAN_NAME
        schema.write(plan_path, plan)
        device.push_plan(link, self._work, job.run_dir, plan_path)
        return replace(job, plan=plan)

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


def with_probes(plan: Plan, plan_dir: Path) -> Plan:
    """``plan`` naming, per variant, the probe model written beside it in ``plan_dir``; a variant no probe can be
    made from names none, and its wrong_output cells say the app had none."""
    variants = []
    for variant in plan.variants:
        try:
            probe = culprit.make_probe((plan_dir / variant.file).read_bytes())
        except ModelFormatError:
            variants.append(variant)
            continue
        name = f"probe-{variant.file}"
        (plan_dir / name).write_bytes(probe.model)
        variants.append(replace(variant, probe=name))
    return replace(plan, variants=variants)


def judge_probes(link: Link, job: Job, results: str) -> None:
    """Every wrong_output cell whose probe ran on the phone, judged: its outputs pulled, the same probe run on the
    host's reference kernels on the same inputs, and the culprit (or why none is named) put in the cell's result
    and message in place of the app's note, before the result is stored. A cell already judged is left alone."""
    for key in job.plan.cells():
        path = result_path(job.results_dir, key)
        result = schema.read(CellResult, path) if path.is_file() else None
        pending = result.culprit if result and result.status is Status.WRONG_OUTPUT else None
        if result is None or pending is None or not pending.note.startswith(PROBE_OUTPUTS):
            continue
        found = _judged(link, job, key, f"{results}/{pending.note.removeprefix(PROBE_OUTPUTS)}", pending)
        base = replace(result, message=result.message.removesuffix(f"; {pending.line}"))
        schema.write(path, culprit.attach(base, found))


def _judged(link: Link, job: Job, key: CellKey, remote: str, pending: Culprit) -> Culprit:
    """The culprit of ``key``'s cell from the probe outputs the app left at ``remote``, or why none is named."""
    data = (job.plan_dir / job.plan.variant(key.variant).file).read_bytes()
    probe = culprit.make_probe(data)  # made from these bytes before the sweep
    if link.run(f"test -f {shlex.quote(remote)}")[0] != 0:
        return Culprit(method=culprit.METHOD, note=f"the app left no probe outputs at {remote}")
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "probe.npz"
        link.get(remote, local)
        try:
            with np.load(local) as arrays:
                outputs = [arrays[f"out.{j}"] for j in range(len(arrays.files))]
        except (OSError, ValueError, KeyError) as exc:
            return Culprit(method=culprit.METHOD, note=f"the app's probe outputs could not be read: {exc}")
    inputs = load_input_set(job.plan_dir / job.plan.input_set)
    limit = culprit.tolerance(precision(data, read_model_info(data)), job.plan.measure)
    nodes = pending.probe_delegated_nodes, pending.cell_delegated_nodes
    return culprit.judged_here(load_runtime(), probe, outputs, inputs, limit, *nodes)
