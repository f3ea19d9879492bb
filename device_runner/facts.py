"""What the device is, and what the current process costs: read from /proc and /sys."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np

from device_runner.runtime import Runtime
from edgebench_records import CpuFeature, DeviceFacts


def _read(path: str | Path) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _status_kb(field: str) -> float:
    """A ``VmXxx:  123 kB`` line of /proc/self/status, in kB."""
    match = re.search(rf"^{field}:\s+(\d+) kB", _read("/proc/self/status") or "", re.MULTILINE)
    if match is None:
        raise RuntimeError(f"/proc/self/status has no {field} line (not Linux?)")
    return float(match.group(1))


def rss_mb() -> float:
    return _status_kb("VmRSS") / 1024


def peak_rss_mb() -> float:
    """VmHWM: the peak resident set of this process since it started."""
    return _status_kb("VmHWM") / 1024


def reset_peak_rss() -> bool:
    """Start VmHWM afresh from the current RSS (Linux >= 4.0: "5" > /proc/self/clear_refs), so a transient
    before the cell's work (unpacking the input set) is not its peak. False where the kernel refuses."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def temperatures_c() -> dict[str, float]:
    """Every thermal zone that reads, by its type (e.g. ``cpu-thermal``), and a Pi's own SoC sensor."""
    temps = {}
    for zone in sorted(Path("/sys/class/thermal").glob("thermal_zone*")):
        raw, kind = _read(zone / "temp"), _read(zone / "type") or zone.name
        if raw and raw.lstrip("-").isdigit():
            temps[f"{kind}:{zone.name}"] = int(raw) / 1000
    soc = _vcgencmd_temperature()
    if soc is not None:
        temps["vcgencmd:soc"] = soc
    return temps


def _vcgencmd_temperature() -> float | None:
    """``vcgencmd measure_temp`` ("temp=48.3'C") where the Pi firmware tool exists."""
    if shutil.which("vcgencmd") is None:
        return None
    try:
        out = subprocess.run(["vcgencmd", "measure_temp"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"temp=(-?[\d.]+)", out)
    return float(match.group(1)) if match else None


# ARM's CPU part numbers (cpuinfo's "CPU part" under implementer 0x41) of the cores boards and phones use.
ARM_CORES = {
    "0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76",
    "0xd0c": "Neoverse-N1", "0xd0d": "Cortex-A77", "0xd41": "Cortex-A78", "0xd44": "Cortex-X1",
    "0xd46": "Cortex-A510", "0xd47": "Cortex-A710", "0xd48": "Cortex-X2", "0xd4d": "Cortex-A715",
}  # fmt: skip
ELF_MACHINES = {3: "x86", 40: "arm", 62: "x86_64", 183: "aarch64", 243: "riscv64"}


def board_model() -> str | None:
    """The device tree's model ("Raspberry Pi 4 Model B Rev 1.4"); None on machines without one."""
    for path in ("/sys/firmware/devicetree/base/model", "/proc/device-tree/model"):
        model = _read(path)
        if model:
            return model.strip("\0").strip()
    return None


def cpu_cores(cpuinfo: str) -> str | None:
    """ARM cores by name and count from cpuinfo ("4× Cortex-A72"; big.LITTLE: "4× Cortex-A76 + 4× …")."""
    parts = Counter(re.findall(r"^CPU part\s*:\s*(0x[0-9a-f]+)", cpuinfo, re.MULTILINE | re.IGNORECASE))
    if not parts:
        return None
    return " + ".join(f"{n}× {ARM_CORES.get(part.lower(), f'ARM core {part}')}" for part, n in parts.most_common())


# /proc/cpuinfo's words (x86 `flags`, ARM `Features`) for each feature. ARM's vector fp16 (asimdhp) is what
# XNNPACK's fp16 kernels need; the scalar fphp alone is not enough.
CPUINFO_FEATURES = {
    "avx2": CpuFeature.AVX2, "avx512f": CpuFeature.AVX512F, "avx512bw": CpuFeature.AVX512BW,
    "avx512vl": CpuFeature.AVX512VL, "avx512_vnni": CpuFeature.AVX512_VNNI, "avx_vnni": CpuFeature.AVX_VNNI,
    "amx_tile": CpuFeature.AMX_TILE, "amx_int8": CpuFeature.AMX_INT8, "amx_bf16": CpuFeature.AMX_BF16,
    "asimddp": CpuFeature.DOTPROD, "i8mm": CpuFeature.I8MM, "bf16": CpuFeature.BF16, "asimdhp": CpuFeature.FP16,
    "sve": CpuFeature.SVE, "sve2": CpuFeature.SVE2, "sme": CpuFeature.SME,
}  # fmt: skip


def cpu_features(cpuinfo: str) -> list[CpuFeature] | None:
    """The features every core lists (x86 ``flags``, ARM ``Features``), in the vocabulary's order: a thread
    may run on any core, so a feature only some cores have cannot be counted on. None where cpuinfo lists
    none at all (unknown, not a CPU without them)."""
    per_core = [set(words.split()) for words in re.findall(r"^(?:flags|Features)\s*:(.*)$", cpuinfo, re.MULTILINE)]
    if not per_core:
        return None
    common = set.intersection(*per_core)
    found = {feature for word, feature in CPUINFO_FEATURES.items() if word in common}
    return [feature for feature in CpuFeature if feature in found]


def _elf_machine(path: str) -> int | None:
    try:
        with open(path, "rb") as binary:
            header = binary.read(20)
    except OSError:
        return None
    return int.from_bytes(header[18:20], "little") if header[:4] == b"\x7fELF" else None


def emulation() -> str | None:
    """Why this process is emulated, or None. qemu-user shows a process its guest binary as
    /proc/self/exe, but the parent's exe is the emulator itself, built for the host's machine."""
    own, parent = _elf_machine("/proc/self/exe"), _elf_machine(f"/proc/{os.getppid()}/exe")
    if own is None or parent is None or own == parent or (own, parent) == (40, 183):  # 32-bit ARM on arm64
        return None
    guest, host = ELF_MACHINES.get(own, f"machine {own}"), ELF_MACHINES.get(parent, f"machine {parent}")
    return f"{guest} emulated on an {host} host (qemu-user): timings mean nothing, outputs are real"


def cpu_model() -> str:
    info = _read("/proc/cpuinfo") or ""
    for key in ("model name", "Hardware", "Model", "cpu model"):
        match = re.search(rf"^{key}\s*:\s*(.+)$", info, re.MULTILINE)
        if match:
            return match.group(1).strip()
    return platform.processor() or "unknown"


def ram_mb() -> float | None:
    match = re.search(r"^MemTotal:\s+(\d+) kB", _read("/proc/meminfo") or "", re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def device_facts(runtime: Runtime) -> DeviceFacts:
    os_release = _read("/etc/os-release") or ""
    cpuinfo = _read("/proc/cpuinfo") or ""
    pretty = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', os_release, re.MULTILINE)
    return DeviceFacts(
        runtime=runtime.name,
        runtime_version=runtime.version,
        python=platform.python_version(),
        numpy=np.__version__,
        machine=platform.machine(),
        cpu_model=cpu_model(),
        cores=os.cpu_count() or 0,
        os=pretty.group(1) if pretty else platform.system(),
        kernel=platform.release(),
        governor=_read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        ram_mb=ram_mb(),
        board_model=board_model(),
        cpu_cores=cpu_cores(cpuinfo),
        cpu_features=cpu_features(cpuinfo),
        emulated=emulation(),
    )
