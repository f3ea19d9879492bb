"""The delegate vocabulary, parsed once: what ``--delegates`` may name and what each part means.

    xnnpack | cpu | gpu | npu | nnapi[:ACCELERATOR] | external:/path/lib.so[;key=value…]

Whether a device *has* a delegate is the device's answer (a cell ``delegate_unavailable``); a string
that names no delegate at all is refused on the host before anything runs. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

APIS = ("interpreter", "compiled")  # the LiteRT Python APIs a delegate is reached through (CellKey.api)


class DelegateKind(StrEnum):
    XNNPACK = "xnnpack"
    CPU = "cpu"  # LiteRT's plain built-in kernels, no delegate
    GPU = "gpu"
    NPU = "npu"
    NNAPI = "nnapi"
    EXTERNAL = "external"


class DelegateSpecError(ValueError):
    """A ``--delegates`` entry that names no delegate."""


@dataclass(frozen=True)
class DelegateSpec:
    kind: DelegateKind
    accelerator: str = ""  # nnapi:ACCELERATOR
    library: str = ""  # external: the delegate's shared library on the device
    options: dict[str, str] = field(default_factory=dict)  # external: key=value pairs for the library


def parse_delegate(text: str) -> DelegateSpec:
    name, sep, rest = text.partition(":")
    try:
        kind = DelegateKind(name)
    except ValueError:
        known = ", ".join(k.value for k in DelegateKind)
        raise DelegateSpecError(f"unknown delegate {text!r} (known: {known})") from None
    if kind is DelegateKind.NNAPI:
        return DelegateSpec(kind, accelerator=rest)
    if kind is DelegateKind.EXTERNAL:
        library, *pairs = rest.split(";")
        if not library.strip():
            raise DelegateSpecError(f"{text!r}: give the delegate library, e.g. external:/path/libdelegate.so")
        options = {}
        for pair in pairs:
            key, has_value, value = pair.partition("=")
            if not has_value or not key:
                raise DelegateSpecError(f"delegate option {pair!r} in {text!r} is not key=value")
            options[key] = value
        return DelegateSpec(kind, library=library, options=options)
    if sep:
        raise DelegateSpecError(f"{text!r}: {kind} takes no ':' part")
    return DelegateSpec(kind)
