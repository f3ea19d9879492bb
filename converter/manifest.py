"""``variants.json``: what the converter made, with the figures that decide which variant ships.

No TensorFlow here: the host reads manifests to build plans and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from converter.figures import WeightStats
from device_runner import schema
from device_runner.flatbuffer import TensorInfo

MANIFEST_NAME = "variants.json"
INPUT_SET_NAME = "inputs.npz"

VARIANT_OK = "ok"
VARIANT_FAILED = "failed"
VARIANT_NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class VariantRecord:
    name: str
    status: str  # ok | failed | not_applicable
    recipe: str  # one line saying how it was made
    message: str = ""
    file: str | None = None  # relative to the manifest's directory
    sha256: str | None = None
    size_bytes: int | None = None
    gzip_bytes: int | None = None  # gzip level 9: what an app download costs
    sparsity: float | None = None  # zero fraction over all weight tensors
    max_unique_weights: int | None = None  # most distinct values in any weight tensor
    weights: list[WeightStats] = field(default_factory=list)  # per tensor
    ops: list[str] = field(default_factory=list)  # "CONV_2D v3": a device runtime must know each
    inputs: list[TensorInfo] = field(default_factory=list)
    outputs: list[TensorInfo] = field(default_factory=list)
    host_top1: float | None = None  # on the validation set, on the host
    host_fp32_agreement: float | None = None  # top-1 agreement with the source model
    convert_s: float | None = None
    finetune_s: float | None = None


@dataclass(frozen=True)
class Manifest:
    model_name: str
    model_sha256: str
    cache_key: str
    input_set: str  # .npz beside the manifest: x, y, ref (host fp32 outputs)
    variants: list[VariantRecord]
    options: dict[str, float | int | bool | str] = field(default_factory=dict)  # the recipe settings
    tool_versions: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    schema_version: str = schema.SCHEMA_VERSION

    def ok_variants(self) -> list[VariantRecord]:
        return [v for v in self.variants if v.status == VARIANT_OK]

    def variant(self, name: str) -> VariantRecord | None:
        return next((v for v in self.variants if v.name == name), None)


def read_manifest(directory: Path) -> Manifest:
    return schema.read(Manifest, directory / MANIFEST_NAME)
