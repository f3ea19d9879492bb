"""Transports that put a plan on a device, run device_runner there and bring the results back."""

from __future__ import annotations

from edgebench.devices.base import Device
from edgebench.devices.local import LocalDevice
from edgebench.errors import EdgebenchError
from edgebench.inventory import LOCAL, AdbTarget, Inventory


def get_device(name: str, inventory: Inventory, accept_new_host_key: bool = False, flag: str = "--device") -> Device:
    """The device called ``name``; ``flag`` is what the user typed it into, named when it names nothing."""
    if not name.strip():
        raise EdgebenchError(f"{flag}: no device named; known devices: {', '.join(inventory.names())}")
    if name == LOCAL:
        return LocalDevice()
    target = inventory.devices.get(name)
    if target is None:
        where = f" in {inventory.path}" if inventory.path else " (no inventory file: see `edgebench devices --help`)"
        raise EdgebenchError(f"unknown device {name!r}{where}; known devices: {', '.join(inventory.names())}")
    if isinstance(target, AdbTarget):
        return android_device(target)
    from edgebench.devices.remote import PythonRunner, RemoteDevice
    from edgebench.devices.ssh import SshLink

    return RemoteDevice(name, lambda: SshLink(target, accept_new_host_key), target.workdir, PythonRunner(target.python))


def android_device(target: AdbTarget) -> Device:
    from edgebench.devices.adb import AdbDirectLink, AdbServerLink
    from edgebench.devices.android import AppRunner
    from edgebench.devices.benchmark_model import BenchmarkModelRunner
    from edgebench.devices.remote import Link, RemoteDevice, Runner

    def connect() -> Link:
        return AdbDirectLink(target) if target.transport == "direct" else AdbServerLink(target)

    runner: Runner = (
        BenchmarkModelRunner(target.benchmark_model or "", target.accuracy_samples)
        if target.runner == "benchmark_model"
        else AppRunner(target.apk)
    )
    return RemoteDevice(target.name, connect, target.workdir, runner)
