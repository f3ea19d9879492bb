"""The delegate vocabulary, parsed once: what ``--delegates`` may name and what each part means.

    xnnpack | cpu | gpu[:fp32] | npu | nnapi[:ACCELERATOR] | external:/path/lib.so[;key=value…]

``gpu`` runs at the accelerator's default precision (fp16 arithmetic where the GPU allows it); ``gpu:fp32``
forces fp32, so the pair of cells shows what fp16 does to a model's numbers and its speed.

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


class GpuPrecision(StrEnum):
    DEFAULT = ""  # the accelerator's own (LiteRT's GPU: fp16 where precision loss is allowed, its default)
    FP32 = "fp32"  # forced: CompiledModel's GpuOptions(enforce_f32), benchmark_model's no precision loss


class DelegateSpecError(ValueError):
    """A ``--delegates`` entry that names no delegate."""


@dataclass(frozen=True)
class DelegateSpec:
    kind: DelegateKind
    accelerator: str = ""  # nnapi:ACCELERATOR
    library: str = ""  # external: the delegate's shared library on the device
    options: dict[str, str] = field(default_factory=dict)  # external: key=value pairs for the library
    precision: GpuPrecision = GpuPrecision.DEFAULT  # gpu:fp32


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
    if kind is DelegateKind.GPU and sep:
        if rest != GpuPrecision.FP32:
            raise DelegateSpecError(f"{text!r}: gpu takes ':fp32' (fp32 forced) or nothing (its default precision)")
        return DelegateSpec(kind, precision=GpuPrecision.FP32)
    if sep:
        raise DelegateSpecError(f"{text!r}: {kind} takes no ':' part")
    return DelegateSpec(kind)
