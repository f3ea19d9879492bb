"""Transports that put a plan on a device, run device_runner there and bring the results back."""

from __future__ import annotations

from edgebench.devices.base import Device
from edgebench.devices.local import LocalDevice
from edgebench.errors import EdgebenchError
from edgebench.inventory import LOCAL, Inventory


def get_device(name: str, inventory: Inventory, accept_new_host_key: bool = False) -> Device:
    if name == LOCAL:
        return LocalDevice()
    target = inventory.devices.get(name)
    if target is None:
        where = f" in {inventory.path}" if inventory.path else " (no inventory file: see `edgebench devices --help`)"
        raise EdgebenchError(f"unknown device {name!r}{where}; known devices: {', '.join(inventory.names())}")
    from edgebench.devices.remote import RemoteDevice
    from edgebench.devices.ssh import SshLink

    return RemoteDevice(name, lambda: SshLink(target, accept_new_host_key), target.python, target.workdir)
