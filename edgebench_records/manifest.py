"""``variants.json``: what the converter made, with the figures that decide which variant ships.

Written by the converter, read by the host to build plans, reports, gates and the store; standard
library only, so none of them imports the converter (or TensorFlow) to read one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from edgebench_records.model import ModelFigures, TensorInfo
from edgebench_records.protocol import Accuracy
from edgebench_records.versioning import RecordType, read

MANIFEST_NAME = "variants.json"
INPUT_SET_NAME = "inputs.npz"

# 1.1 (manifests unchanged since 1.0, when one version covered every record).
# 1.2: each variant's model figures (parameters, MACs/FLOPs, op counts) read from its flatbuffer
# 1.3: any model as it comes: whether the inputs are synthetic and what the converter made of the data
#      (``synthetic_inputs``, ``data_notes``); per variant ``host_reference`` (the host may be unable to run
#      it: still made, measured on the device), ``host_accuracy`` (every output head) and ``notes`` (warnings)
# 1.4: per int8-family variant, its per-layer error against fp32 (``layer_errors``) or why there is none
#      (``layer_error_note``); per mixed_int8 variant, the layers it kept in float (``float_layers``)
MANIFEST_RECORD = RecordType("variants manifest", "1.4")
HOST_REFERENCE_AVAILABLE = "available"


class VariantState(StrEnum):
    """What became of a variant: made, failed, or not makeable from this source (with the reason)."""

    OK = "ok"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class WeightStats:
    """One weight tensor of a made variant (computed by ``converter.figures``)."""

    name: str
    shape: list[int]
    dtype: str
    zero_fraction: float
    unique: int  # distinct stored values in the tensor
    unique_per_channel_max: int  # along axis 0 (output channels of CONV_2D / FULLY_CONNECTED)


@dataclass(frozen=True)
class LayerError:
    """One op of a quantised variant against the float32 model on the same inputs (``converter.layer_error``).

    Errors are RMS(variant - fp32) over the fp32 tensor's spread (its standard deviation; its RMS where it is
    constant), pooled over the compared samples: an offset shows as much as a scale error does."""

    index: int  # the op's position in the variant's main subgraph, in execution order
    op: str  # its type, e.g. "CONV_2D"
    tensor: str  # its output tensor's name, the same in the fp32 model (what they were matched by)
    error: float  # at this tensor: everything quantised up to here
    added: float  # this op's own share: ``error`` less the largest error among its inputs (0 when it shrank)

    @property
    def line(self) -> str:
        """One line for a table's note: a fused op's tensor is named by each TF op it fused, ';'-separated; the
        first names it well enough there (the record keeps the whole name)."""
        first, _, rest = self.tensor.partition(";")
        return f"op {self.index} {self.op} {first + ('…' if rest else '')!r} {self.error:.3g} (+{self.added:.3g})"


def worst_layers(layers: list[LayerError], count: int) -> list[LayerError]:
    """The ``count`` ops that add the most error (ties: the earlier op first); the ranking mixed_int8 keeps in
    float from. By what each op adds, not by the error it shows: that grows down the graph, and would rank the
    last ops first whatever broke earlier."""
    return sorted(layers, key=lambda layer: (-layer.added, layer.index))[:count]


@dataclass(frozen=True)
class VariantRecord:
    name: str
    status: VariantState
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
    # for a made variant "available", or "unavailable (<why>)": the host's runtime cannot load or run it (a custom
    # op, ops newer than it); it is still ok and measured on the device, with no host scores and no reference
    host_reference: str = ""
    # the host scores in full: every output head against the fp32 reference, top-5, MAE, why a figure is None
    # (per-sample lists left out); None where the host did not run it
    host_accuracy: Accuracy | None = None
    notes: list[str] = field(default_factory=list)  # warnings on how it was made (e.g. calibrated on synthetic)
    convert_s: float | None = None
    finetune_s: float | None = None
    figures: ModelFigures | None = None  # None in manifests older than 1.2
    # An int8-family variant's error against fp32, per compared op in execution order (empty: not compared) ...
    layer_errors: list[LayerError] = field(default_factory=list)
    # ... or "per-layer error unavailable: <why>" when it could not be compared ("" otherwise)
    layer_error_note: str = ""
    float_layers: list[str] = field(default_factory=list)  # mixed_int8: the output tensors of the ops kept float

    def layer_error_line(self, count: int = 3) -> str:
        """The worst ``count`` layers in one line, or why there are none; "" for a variant not compared."""
        if self.layer_error_note:
            return self.layer_error_note
        worst = worst_layers(self.layer_errors, count)
        return "worst layers vs fp32 (error +added): " + "; ".join(layer.line for layer in worst) if worst else ""


@dataclass(frozen=True)
class Manifest:
    RECORD: ClassVar[RecordType] = MANIFEST_RECORD

    model_name: str
    model_sha256: str
    cache_key: str
    input_set: str  # .npz beside the manifest (device_runner.inputs): x.<i>, y, ref.<j>, ref.<variant>.<j>
    variants: list[VariantRecord]
    options: dict[str, float | int | bool | str] = field(default_factory=dict)  # the recipe settings
    tool_versions: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    synthetic_inputs: bool = False  # no data was given: the inputs were made from the model's input tensors
    data_notes: list[str] = field(default_factory=list)  # e.g. calibration on the validation inputs
    schema_version: str = MANIFEST_RECORD.version

    def ok_variants(self) -> list[VariantRecord]:
        return [v for v in self.variants if v.status == VariantState.OK]

    def variant(self, name: str) -> VariantRecord | None:
        return next((v for v in self.variants if v.name == name), None)


@MANIFEST_RECORD.step("1.1", "1.3")
@MANIFEST_RECORD.step("1.2", "1.3")
def _manifest_to_1_3(data: dict[str, Any]) -> dict[str, Any]:
    """Before 1.3 the host ran every variant it recorded (it refused a model it could not run) on the data the
    user gave: say so in 1.3's terms."""
    variants = [
        v | {"host_reference": HOST_REFERENCE_AVAILABLE} if v.get("status") == VariantState.OK else v
        for v in data.get("variants", [])
    ]
    return data | {"variants": variants, "synthetic_inputs": False, "data_notes": []}


@MANIFEST_RECORD.step("1.3", "1.4")
def _manifest_to_1_4(data: dict[str, Any]) -> dict[str, Any]:
    """Before 1.4 no variant was compared with fp32 layer by layer: none has per-layer figures, and none is said
    to lack them (the comparison was not asked for, not refused)."""
    variants = [v | {"layer_errors": [], "layer_error_note": "", "float_layers": []} for v in data.get("variants", [])]
    return data | {"variants": variants}


def read_manifest(directory: Path) -> Manifest:
    return read(Manifest, directory / MANIFEST_NAME)
