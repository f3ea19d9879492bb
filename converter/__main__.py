"""Converter process: ``python -m converter --model M [--data D] --out DIR [--variants …] [options]``.

Without ``--data`` the inputs are generated from the model's own input tensors (seeded, ``--synthetic-samples``
of them): latency and output fidelity are measured, accuracy is not, and fine-tuning does not apply.

Run by the host with TF_USE_LEGACY_KERAS=1 and stderr sent to a log file. Speaks to the host on
stdout, one JSON object a line: progress events (``{"event": "variant"|"epoch", …}``), then
``{"manifest": PATH}`` or ``{"error": "one line"}``.
Exit codes: 0 all variants made, 1 some variant failed, 2 the model, data or a flag is unusable.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

import edgebench_records as schema
from converter.checks import first_line
from converter.figures import gzip_size, overall_sparsity, weight_stats
from converter.ports import Layout, layout_of
from converter.recipes import DATA_OPTIONS, RECIPES, Context, Recipe, shared_training
from converter.source import (
    CONVERT_EXTRA,
    NORMALISATIONS,
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
from converter.structure import Unsupported
from converter.techniques import EpochCallback
from converter.tflite_quantize import AlreadyThere
from converter.variant_cache import Entry, VariantCache, code_sha256
from device_runner import accuracy
from device_runner.engines import InterpreterEngine
from device_runner.flatbuffer import ModelInfo, read_graph, read_model_info
from device_runner.inputs import InputSet, write_input_set
from device_runner.lifecycle import bind_to_parent
from device_runner.model_figures import model_figures
from device_runner.runtime import load_runtime
from edgebench_records import (
    HOST_REFERENCE_AVAILABLE,
    INPUT_SET_NAME,
    MANIFEST_NAME,
    Manifest,
    VariantRecord,
    VariantState,
)
from edgebench_records.catalogue import LOSSES, TASKS, Options

TOOLS = ("tensorflow", "tf-keras", "tensorflow-model-optimization", "ai-edge-litert", "numpy")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m converter", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = Options()
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument(
        "--data", type=Path, help=".npz (x_val[.<input>], x_train…, y_…) or image folder; none: synthetic"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variants", default=",".join(RECIPES))
    parser.add_argument("--normalize", choices=sorted(NORMALISATIONS), default=defaults.normalize)
    parser.add_argument("--val-split", type=float, default=defaults.val_split)
    parser.add_argument("--sparsity", type=float, default=defaults.sparsity)
    parser.add_argument("--clusters", type=int, default=defaults.clusters)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--float-io", action="store_true")
    parser.add_argument("--keep-sparsity", action="store_true")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--task", choices=TASKS, default=defaults.task)
    parser.add_argument("--loss", choices=LOSSES, default=defaults.loss)
    parser.add_argument("--input-shape", dest="input_shapes", action="append", default=[], metavar="NAME:1x224x224x3")
    parser.add_argument("--synthetic-samples", type=int, default=defaults.synthetic_samples)
    parser.add_argument("--channel-ratio", type=float, default=defaults.channel_ratio)
    parser.add_argument("--stream-ratio", type=float, default=defaults.stream_ratio)
    parser.add_argument("--distill-temperature", type=float, default=defaults.distill_temperature)
    parser.add_argument("--distill-alpha", type=float, default=defaults.distill_alpha)
    parser.add_argument("--low-rank-energy", type=float, default=defaults.low_rank_energy)
    parser.add_argument("--student", default="", help="distilled: a Keras model to distil the source into")
    parser.add_argument("--cache-key", default="", help="recorded in the manifest for reuse")
    parser.add_argument("--model-sha256", default="")
    parser.add_argument("--data-sha256", default="", help="the data's content hash (or 'synthetic'), for reuse")
    parser.add_argument("--variant-cache", type=Path, help="folder of variants made before, reused by their inputs")
    parser.add_argument("--rebuild", action="store_true", help="make every variant anew (and keep it)")
    return parser


def installed_versions(tools: tuple[str, ...]) -> dict[str, str]:
    """Versions of the tools present: TensorFlow and TFMOT are absent from a plain (no [convert]) install."""
    versions = {}
    for tool in tools:
        try:
            versions[tool] = metadata.version(tool)
        except metadata.PackageNotFoundError:
            continue
    return versions


def emit(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


def _epoch_reporter(name: str) -> EpochCallback:
    return lambda epoch, total: emit({"event": "epoch", "name": name, "epoch": epoch, "epochs": total})


@dataclass(frozen=True)
class HostRun:
    """A variant run on the host: its outputs on XNNPACK (scored) and on the reference kernels, or why not."""

    outputs: list[np.ndarray] | None
    reference_kernels: list[np.ndarray] | None
    problem: str = ""
    note: str = ""  # how it was scored when XNNPACK or the plain kernels could not run it


def run_on_host(path: Path, info: ModelInfo, inputs: list[np.ndarray]) -> HostRun:
    """The host's runtime only informs: a variant it cannot load or run (a custom op, ops newer than it) is
    still a variant, measured on the device. Scored under XNNPACK, as a phone's CPU runs it; on the plain
    kernels when XNNPACK refuses the model (a sparse int8 one), and the other way round for an op only XNNPACK
    has."""
    try:
        runtime = load_runtime()
    except RuntimeError as exc:
        return HostRun(None, None, first_line(exc))
    runs: dict[str, list[np.ndarray]] = {}
    problems: dict[str, str] = {}
    for delegate in ("xnnpack", "cpu"):
        try:
            runs[delegate] = accuracy.predict(InterpreterEngine(runtime, path, info, delegate, threads=1), inputs)
        except (ValueError, RuntimeError) as exc:
            problems[delegate] = first_line(exc)
    # plain CPU kernels: what a device's cell is compared with, so a delegate's or driver's error stands apart
    # from the variant's own quantisation loss
    kernels = runs.get("cpu")
    if "xnnpack" in runs:
        return HostRun(runs["xnnpack"], kernels)
    if kernels is not None:
        return HostRun(kernels, kernels, note=f"scored on the host's plain kernels: {problems['xnnpack']}")
    return HostRun(None, None, problems["xnnpack"])


def source_reference(source: SourceModel, data: Data) -> tuple[list[np.ndarray] | None, str]:
    """The source model's float outputs on the validation inputs, or why the host cannot give them."""
    if source.predict is None:
        return None, source.host_problem
    try:
        return source.predict(data.val), ""
    except (ValueError, RuntimeError) as exc:  # a .tflite that loads but fails to run here
        return None, first_line(exc)


def failure_message(exc: BaseException) -> str:
    """One readable line: TF's converter errors open with pages of MLIR locations before ``error: …``."""
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    for line in lines:
        if "error: " in line:
            return line.split("error: ", 1)[1].strip()
    return lines[0]


def not_applicable(recipe: Recipe, ctx: Context) -> str | None:
    source = ctx.source
    if recipe.converts and source.make_converter is None and not (recipe.quantizes and source.tflite):
        return "needs a Keras model or SavedModel to convert from (the source is a .tflite)"
    if recipe.trains and source.load_keras is None:
        return source.not_keras
    if recipe.trains:
        return ctx.data.trainable
    return None


@dataclass(frozen=True)
class Made:
    record: VariantRecord
    layout: Layout | None = None  # None unless made
    kernels: list[np.ndarray] | None = None  # its outputs on the host's reference kernels


def make_variant(recipe: Recipe, ctx: Context, out: Path, reference: list[np.ndarray] | None, cache: Cache) -> Made:
    description = recipe.describe(ctx.options)
    reason = not_applicable(recipe, ctx)
    key = "" if cache is None else cache.key(recipe.name, ctx.options, DATA_OPTIONS | recipe.reads)
    entry = None if reason or cache is None else cache.load(recipe.name, key)
    epochs = ctx.options.epochs if recipe.trains else 0
    shared = bool(recipe.tunes) and recipe.tunes in ctx.tuned  # its pair's fine-tuned model: no epochs to run
    emit({"event": "variant", "name": recipe.name, "epochs": epochs, "reused": entry is not None or shared})
    if reason:
        return Made(VariantRecord(recipe.name, VariantState.NOT_APPLICABLE, description, message=reason))
    if entry is None:
        try:
            entry = build(recipe, ctx)
        except (Unsupported, AlreadyThere) as exc:  # a structure it cannot rewrite, or a .tflite already this variant
            return Made(VariantRecord(recipe.name, VariantState.NOT_APPLICABLE, description, message=str(exc)))
        except ModuleNotFoundError as exc:  # e.g. tensorflow_model_optimization, which the convert extra brings
            message = f"needs {exc.name}, which is not installed: {CONVERT_EXTRA}"
            return Made(VariantRecord(recipe.name, VariantState.FAILED, description, message=message))
        except Exception as exc:  # a failed technique must not stop the others
            return Made(VariantRecord(recipe.name, VariantState.FAILED, description, message=failure_message(exc)))
        if cache is not None:
            cache.store(recipe.name, key, entry)
    notes = list(entry.notes)
    if recipe.calibrates and ctx.data.synthetic:
        notes.append(
            "warning: calibrated on synthetic inputs, not real data: its int8 ranges may not fit (give --data)"
        )
    try:
        made = describe(recipe.name, description, entry.flatbuffer, out, ctx, reference, notes)
    except ValueError as exc:  # a flatbuffer its own figures cannot be read from, or other inputs than the source's
        return Made(VariantRecord(recipe.name, VariantState.FAILED, description, message=first_line(exc)))
    timed = dataclasses.replace(made.record, convert_s=entry.convert_s, finetune_s=entry.finetune_s)
    return dataclasses.replace(made, record=timed)


def build(recipe: Recipe, ctx: Context) -> Entry:
    """Make the variant, timing its conversion apart from its fine-tuning."""
    start = time.perf_counter()
    built = recipe.build(ctx)
    convert_s = time.perf_counter() - start - built.finetune_s
    return Entry(built.flatbuffer, round(convert_s, 3), round(built.finetune_s, 3), built.notes)


def describe(
    name: str,
    recipe: str,
    flatbuffer: bytes,
    out: Path,
    ctx: Context,
    reference: list[np.ndarray] | None,
    notes: list[str] | None = None,
) -> Made:
    path = out / f"{name}.tflite"
    schema.write_atomic(path, flatbuffer)
    info = read_model_info(flatbuffer)
    weights = weight_stats(flatbuffer)
    layout = layout_of(flatbuffer, info, ctx.source)
    host = run_on_host(path, info, layout.feed(ctx.data.val))
    notes = [*(notes or []), *([host.note] if host.note else [])]
    if host.outputs is None:
        host_reference, top1, agreement, host_accuracy = f"unavailable ({host.problem})", None, None, None
    else:
        wanted = None if reference is None else layout.arrange(reference, info.outputs)
        names = [t.name for t in info.outputs]
        scores = accuracy.score(host.outputs, ctx.data.y_val, wanted, ctx.options.task, names)
        host_reference, top1, agreement = HOST_REFERENCE_AVAILABLE, scores.top1, scores.fp32_agreement
        host_accuracy = dataclasses.replace(scores, correct=[], agree=[])  # per-sample lists stay in the cells
    record = VariantRecord(
        name=name,
        status=VariantState.OK,
        recipe=recipe,
        file=path.name,
        sha256=hashlib.sha256(flatbuffer).hexdigest(),
        size_bytes=len(flatbuffer),
        gzip_bytes=gzip_size(flatbuffer),
        sparsity=overall_sparsity(weights),
        max_unique_weights=max((w.unique for w in weights), default=None),
        weights=weights,
        ops=[str(op) for op in info.ops],
        inputs=info.inputs,
        outputs=info.outputs,
        host_top1=top1,
        host_fp32_agreement=agreement,
        host_reference=host_reference,
        host_accuracy=host_accuracy,
        notes=notes,
        figures=model_figures(read_graph(flatbuffer)),
    )
    return Made(record, layout, host.reference_kernels)


# A variant whose host top-1 falls more than this many points below fp32's carries a warning with what to try.
ACCURACY_WARNING_POINTS = 2.0
_REMEDIES = {  # by variant-name prefix, first match wins: the option that trades size for accuracy
    "pruned_2x4": "try more --epochs (2:4 is fixed at half the weights)",
    "pruned": "try more --epochs or a lower --sparsity",
    "clustered": "try more --epochs or more --clusters",
    "channel_pruned": "try more --epochs or a higher --channel-ratio",
    "low_rank": "try more --epochs or a higher --low-rank-energy",
    "qat": "try more --epochs",
    "pqat": "try more --epochs or a lower --sparsity",
    "cqat": "try more --epochs or more --clusters",
    "pcqat": "try more --epochs, a lower --sparsity or more --clusters",
    "distilled": "try more --epochs or a larger --student",
}


def accuracy_warning(record: VariantRecord, baseline: float | None) -> str | None:
    """The note for a variant that loses more than ``ACCURACY_WARNING_POINTS`` top-1 against ``baseline``."""
    if baseline is None or record.host_top1 is None or record.name == "fp32":
        return None
    drop = (record.host_top1 - baseline) * 100
    if drop >= -ACCURACY_WARNING_POINTS:
        return None
    remedy = next((r for prefix, r in _REMEDIES.items() if record.name.startswith(prefix)), None)
    if remedy is None:
        remedy = "try qat_int8 (its ranges are learned)" if "int8" in record.name else "check the conversion"
    return f"warning: {drop:+.1f} points top-1 vs fp32: {remedy}"


def flag_accuracy_losses(made: list[Made], baseline: float | None) -> list[Made]:
    flagged = []
    for m in made:
        warning = accuracy_warning(m.record, baseline)
        if warning:
            m = dataclasses.replace(m, record=dataclasses.replace(m.record, notes=[*m.record.notes, warning]))
        flagged.append(m)
    return flagged


def baseline_top1(made: list[Made], reference: list[np.ndarray] | None, data: Data, options: Options) -> float | None:
    """fp32's host top-1 when it was made, else the source model's own on the validation labels."""
    fp32 = next((m.record for m in made if m.record.name == "fp32" and m.record.host_top1 is not None), None)
    if fp32 is not None:
        return fp32.host_top1
    if reference is None or data.y_val is None:
        return None
    return accuracy.score(reference, data.y_val, None, options.task).top1


def input_set(
    data: Data, reference: list[np.ndarray] | None, made: list[Made], source: SourceModel
) -> tuple[InputSet, dict[str, list[np.ndarray]]]:
    """The validation inputs and host references in the made variants' order (they share one: one
    converter, one signature), and each variant's reference-kernel outputs."""
    ok = [m for m in made if m.layout is not None]
    if ok and ok[0].layout is not None:
        layout, outputs = ok[0].layout, ok[0].record.outputs
    else:
        layout, outputs = Layout(list(range(len(source.inputs))), list(range(len(source.outputs)))), source.outputs
    references = None if reference is None else layout.arrange(reference, outputs)
    inputs = InputSet(layout.feed(data.val), data.y_val, references, synthetic=data.synthetic)
    kernels = {m.record.name: m.kernels for m in ok if m.kernels is not None}
    return inputs, kernels


Cache = VariantCache | None


def variant_cache(args: argparse.Namespace) -> Cache:
    """Where variants made before are kept (none when the host gave no folder or the model's hash)."""
    if not args.variant_cache or not args.model_sha256:
        return None
    basis = {
        "model": args.model_sha256,
        "data": args.data_sha256,
        "edgebench": metadata.version("edgebench"),  # the installed distribution's: converter/ imports no edgebench
        "code": code_sha256(),
        "tools": installed_versions(TOOLS),
    }
    return VariantCache(args.variant_cache, basis, reuse=not args.rebuild)


def convert(args: argparse.Namespace) -> Manifest:
    names = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = [name for name in names if name not in RECIPES]
    if unknown:
        raise SourceError(f"unknown variant {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    if not 0.0 < args.sparsity < 1.0:
        raise SourceError(f"--sparsity {args.sparsity} must be between 0 and 1")
    ratios = ("--channel-ratio", args.channel_ratio), ("--stream-ratio", args.stream_ratio)
    for flag, value in (*ratios, ("--low-rank-energy", args.low_rank_energy)):
        if not 0.0 < value <= 1.0:
            raise SourceError(f"{flag} {value} must be above 0 and at most 1")
    if not 0.0 <= args.distill_alpha <= 1.0 or args.distill_temperature <= 0:
        raise SourceError("--distill-alpha must be within 0..1 and --distill-temperature above 0")
    options = Options(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Options)})
    options = dataclasses.replace(options, input_shapes=tuple(options.input_shapes))
    if needs_tensorflow(args.model):  # a .tflite is measured as given: no TensorFlow, which may not be installed
        tf, tf_keras = import_tensorflow(args.model)
        tf_keras.utils.set_random_seed(options.seed)
        tf.config.experimental.enable_op_determinism()  # same model, data and --seed: same bytes
    source = load_model(args.model)
    distils = any(RECIPES[name].reads & {"student"} for name in names)
    if options.student and distils:
        load_student(Path(options.student), source)  # a student of other shapes is the user's to fix: exit 2
    data = synthetic_data(source, options) if args.data is None else load_data(args.data, source, options)
    if options.student and not distils:  # said, not silently ignored
        data.notes.append(f"--student {options.student} is not used: no distilled variant in --variants")
    args.out.mkdir(parents=True, exist_ok=True)
    reference, problem = source_reference(source, data)
    if problem:
        data.notes.append(f"no host reference: the host cannot run {source.name} ({problem})")

    made = []
    training = shared_training(source, data, options)
    tuned: dict[str, Any] = {}
    cache = variant_cache(args)
    if source.tflite is not None:  # measured as given, beside whatever else applies
        ctx = Context(source, data, options, _epoch_reporter("given"), training)
        given = source.tflite.read_bytes()
        try:
            made.append(describe("given", f"the given file {source.tflite.name}", given, args.out, ctx, reference))
        except ValueError as exc:  # ModelFormatError too: weights the flatbuffer reader or numpy cannot make sense of
            raise SourceError(f"cannot load model {source.tflite}: {first_line(exc)}") from exc
    for name in names:
        recipe = RECIPES[name]
        ctx = Context(source, data, options, _epoch_reporter(name), training, tuned)
        made.append(make_variant(recipe, ctx, args.out, reference, cache))
    made = flag_accuracy_losses(made, baseline_top1(made, reference, data, options))
    inputs, kernels = input_set(data, reference, made, source)
    write_input_set(args.out / INPUT_SET_NAME, inputs, kernels)
    return Manifest(
        model_name=source.name,
        model_sha256=args.model_sha256,
        cache_key=args.cache_key,
        input_set=INPUT_SET_NAME,
        variants=[m.record for m in made],
        options=dataclasses.asdict(options),
        tool_versions=installed_versions(TOOLS),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        synthetic_inputs=data.synthetic,
        data_notes=data.notes,
    )


def main(argv: list[str] | None = None) -> int:
    bind_to_parent()  # a killed edgebench must not leave TensorFlow converting for minutes
    args = _parser().parse_args(argv)
    try:
        manifest = convert(args)
    except SourceError as exc:
        emit({"error": str(exc)})
        return 2
    path = args.out / MANIFEST_NAME
    schema.write(path, manifest)
    emit({"manifest": str(path)})
    return 1 if any(v.status == VariantState.FAILED for v in manifest.variants) else 0


if __name__ == "__main__":
    sys.exit(main())
