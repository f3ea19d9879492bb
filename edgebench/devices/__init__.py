"""Transports that put a plan on a device, run device_runner there and bring the results back."""

from __future__ import annotations

from edgebench.devices.base import Device
from edgebench.devices.local import LocalDevice
from edgebench.errors import EdgebenchError


def get_device(name: str) -> Device:
    if name == "local":
        return LocalDevice()
    raise EdgebenchError(f"unknown device {name!r}; known devices: local")
