"""One conversion, start to end: the source model and its data loaded, its host reference taken, each
variant asked for made (or reused) and scored, the accuracy losses flagged, the input set written, and the
manifest that records it all."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from converter.checks import first_line
from converter.events import epoch_reporter
from converter.host_scoring import source_reference
from converter.input_set import input_set
from converter.isolation import Crashed, Worker
from converter.layer_error import compare_layers
from converter.recipes import RECIPES, Context, float_model, shared_training
from converter.remedies import baseline_top1, flag_accuracy_losses
from converter.source import (
    Data,
    SourceError,
    SourceModel,
    import_tensorflow,
    load_data,
    load_model,
    load_student,
    needs_tensorflow,
    synthetic_data,
)
from converter.techniques import TrainingSet
from converter.variant_cache import VariantCache, code_sha256
from converter.variants import Made, describe, make_variant
from device_runner.inputs import write_input_set
from edgebench_records import INPUT_SET_NAME, Manifest, VariantRecord, VariantState
from edgebench_records.catalogue import Options

TOOLS = ("tensorflow", "tf-keras", "tensorflow-model-optimization", "ai-edge-litert", "numpy")


@dataclass(frozen=True)
class ConversionRequest:
    model: Path
    data: Path | None  # None: synthetic inputs made from the model's own input tensors
    out: Path
    variants: list[str]
    options: Options
    cache_key: str = ""  # the host's key for this whole conversion, recorded in the manifest for reuse
    model_sha256: str = ""
    data_sha256: str = ""  # or "synthetic"
    variant_cache: Path | None = None  # variants made before, reused by their inputs (with the model's hash)
    rebuild: bool = False  # make every variant anew (and keep it)
    log: Path | None = None  # where the host keeps this process's stderr, named when a variant's maker crashes


def installed_versions(tools: tuple[str, ...]) -> dict[str, str]:
    """Versions of the tools present: TensorFlow and TFMOT are absent from a plain (no [convert]) install."""
    versions = {}
    for tool in tools:
        try:
            versions[tool] = metadata.version(tool)
        except metadata.PackageNotFoundError:
            continue
    return versions


def variant_cache(request: ConversionRequest) -> VariantCache | None:
    """Where variants made before are kept (none when the host gave no folder or the model's hash)."""
    if not request.variant_cache or not request.model_sha256:
        return None
    basis = {
        "model": request.model_sha256,
        "data": request.data_sha256,
        "edgebench": metadata.version("edgebench"),  # the installed distribution's: converter/ imports no edgebench
        "code": code_sha256(),
        "tools": installed_versions(TOOLS),
    }
    return VariantCache(request.variant_cache, basis, reuse=not request.rebuild)


def load_inputs(request: ConversionRequest) -> tuple[SourceModel, Data]:
    """The source model (seeded, so the same model, data and --seed give the same bytes) and its data."""
    options = request.options
    if needs_tensorflow(request.model):  # a .tflite is measured as given: no TensorFlow, which may not be installed
        tf, tf_keras = import_tensorflow(request.model)
        tf_keras.utils.set_random_seed(options.seed)
        tf.config.experimental.enable_op_determinism()
    source = load_model(request.model, options)
    distils = any("student" in RECIPES[name].reads for name in request.variants)
    if options.student and distils:
        load_student(Path(options.student), source)  # a student of other shapes is the user's to fix: exit 2
    data = synthetic_data(source, options) if request.data is None else load_data(request.data, source, options)
    return source, data


@dataclass
class Workshop:
    """What the worker process holds: the source and data loaded, the host reference taken, the training set
    (made on first use) and the fine-tuned model a pair of variants shares."""

    request: ConversionRequest
    source: SourceModel
    data: Data
    reference: list[np.ndarray] | None
    training: Callable[[], TrainingSet]
    tuned: dict[str, Any]

    def context(self, name: str) -> Context:
        return Context(self.source, self.data, self.request.options, epoch_reporter(name), self.training, self.tuned)


def workshop(request: ConversionRequest) -> Workshop:
    """The worker's state, made in the worker: TensorFlow imported (for a Keras model or SavedModel), the model
    and data loaded, seeded, and the source's own outputs taken as the host reference."""
    source, data = load_inputs(request)
    reference, problem = source_reference(source, data)
    if problem:
        data.notes.append(f"no host reference: the host cannot run {source.name} ({problem})")
    return Workshop(request, source, data, reference, shared_training(source, data, request.options), {})


def given_there(shop: Workshop) -> list[Made]:
    """The given .tflite as it is, when the source is one: measured beside whatever else applies."""
    source = shop.source
    if source.tflite is None:
        return []
    given = source.tflite.read_bytes()
    try:
        description = f"the given file {source.tflite.name}"
        return [describe("given", description, given, shop.request.out, shop.context("given"), shop.reference)]
    except ValueError as exc:  # ModelFormatError too: weights the flatbuffer reader or numpy cannot make sense of
        raise SourceError(f"cannot load model {source.tflite}: {first_line(exc)}") from exc


def made_there(shop: Workshop, name: str) -> Made:
    """Variant ``name`` made (or reused from the cache) and scored in the worker."""
    request = shop.request
    cache = variant_cache(request)
    return make_variant(RECIPES[name], shop.context(name), request.out, shop.reference, cache, request.log)


def made_in(worker: Worker[Workshop], name: str, request: ConversionRequest) -> Made:
    """Variant ``name`` made in ``worker``; a native crash there (TensorFlow's converter, its calibrator, TFMOT's
    fine-tuning) fails this variant alone, and the next one is made in a fresh worker."""
    try:
        return worker.call(made_there, name)
    except Crashed as exc:
        maker = "TensorFlow" if needs_tensorflow(request.model) else "the converter's worker"
        message = f"{maker} {exc}; its stack is in {request.log or 'the conversion log'}"
        description = RECIPES[name].describe(request.options)
        return Made(VariantRecord(name, VariantState.FAILED, description, message=message))


def fp32_bytes(made: list[Made], out: Path, source: SourceModel) -> bytes:
    """The float model the int8 variants are compared with: the fp32 variant if it was made, else the float
    model ai-edge-quantizer would start from (the given file, or the source converted)."""
    fp32 = next((m.record for m in made if m.record.name == "fp32" and m.record.file), None)
    return (out / fp32.file).read_bytes() if fp32 is not None and fp32.file else float_model(source)


def manifest_there(shop: Workshop, made: list[Made]) -> Manifest:
    """The per-layer errors, the accuracy warnings and the input set of what was made, and its manifest."""
    request, source, data, reference = shop.request, shop.source, shop.data, shop.reference
    made = compare_layers(made, request.out, lambda: fp32_bytes(made, request.out, source), source, data)
    made = flag_accuracy_losses(made, baseline_top1(made, reference, data, request.options))
    inputs, kernels = input_set(data, reference, made, source)
    write_input_set(request.out / INPUT_SET_NAME, inputs, kernels)
    return Manifest(
        model_name=source.name,
        model_sha256=request.model_sha256,
        cache_key=request.cache_key,
        input_set=INPUT_SET_NAME,
        variants=[m.record for m in made],
        options=dataclasses.asdict(request.options),
        tool_versions=installed_versions(TOOLS),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        synthetic_inputs=data.synthetic,
        data_notes=data.notes,
    )


def convert(request: ConversionRequest) -> Manifest:
    """Everything that loads the model runs in one worker process; this one only asks it for each variant in
    turn. So TensorFlow is imported once per conversion (and once more per crash), not once here and once there."""
    unknown = [name for name in request.variants if name not in RECIPES]
    if unknown:
        raise SourceError(f"unknown variant {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    request.out.mkdir(parents=True, exist_ok=True)
    with Worker(workshop, request) as worker:
        made = worker.call(given_there)
        made += [made_in(worker, name, request) for name in request.variants]
        return worker.call(manifest_there, made)
