"""``variants.json``: what the converter made, with the figures that decide which variant ships.

No TensorFlow here: the host reads manifests to build plans and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from device_runner import schema

MANIFEST_NAME = "variants.json"
INPUT_SET_NAME = "inputs.npz"

VARIANT_OK = "ok"
VARIANT_FAILED = "failed"


@dataclass(frozen=True)
class VariantRecord:
    name: str
    status: str  # ok | failed
    recipe: str  # one line saying how it was made
    message: str = ""
    file: str | None = None  # relative to the manifest's directory
    sha256: str | None = None
    size_bytes: int | None = None
    gzip_bytes: int | None = None  # gzip level 9: what an app download costs
    host_top1: float | None = None
    host_fp32_agreement: float | None = None
    convert_s: float | None = None


@dataclass(frozen=True)
class Manifest:
    model_name: str
    model_sha256: str
    cache_key: str
    input_set: str  # .npz beside the manifest: x, y, ref (host fp32 outputs)
    variants: list[VariantRecord]
    tool_versions: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    schema_version: str = schema.SCHEMA_VERSION

    def ok_variants(self) -> list[VariantRecord]:
        return [v for v in self.variants if v.status == VARIANT_OK]


def read_manifest(directory: Path) -> Manifest:
    return schema.read(Manifest, directory / MANIFEST_NAME)
