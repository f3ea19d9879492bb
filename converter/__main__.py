"""Converter process: ``python -m converter --model M --data D --out DIR [--variants …] [options]``.

Run by the host with TF_USE_LEGACY_KERAS=1 and stderr sent to a log file. Speaks to the host on
stdout, one JSON object a line: progress events (``{"event": "variant"|"epoch", …}``), then
``{"manifest": PATH}`` or ``{"error": "one line"}``.
Exit codes: 0 all variants made, 1 some variant failed, 2 the model, data or a flag is unusable.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from converter.catalogue import LOSSES, TASKS, Options
from converter.checks import first_line
from converter.figures import gzip_size, overall_sparsity, weight_stats
from converter.recipes import RECIPES, Context, Recipe
from converter.source import (
    CONVERT_EXTRA,
    NORMALISATIONS,
    SourceError,
    SourceModel,
    import_tensorflow,
    load_data,
    load_model,
    needs_tensorflow,
)
from converter.techniques import EpochCallback
from device_runner import accuracy, schema
from device_runner.engines import InterpreterEngine
from device_runner.flatbuffer import read_graph, read_model_info
from device_runner.lifecycle import bind_to_parent
from device_runner.model_figures import model_figures
from device_runner.runtime import load_runtime
from edgebench.records import INPUT_SET_NAME, MANIFEST_NAME, Manifest, VariantRecord, VariantState

TOOLS = ("tensorflow", "tf-keras", "tensorflow-model-optimization", "ai-edge-litert", "numpy")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m converter", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = Options()
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help=".npz (x_train, y_train, x_val, y_val) or folder")
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
    parser.add_argument("--cache-key", default="", help="recorded in the manifest for reuse")
    parser.add_argument("--model-sha256", default="")
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


def host_scores(flatbuffer_path: Path, data: dict[str, np.ndarray], reference: np.ndarray) -> schema.Accuracy:
    """Accuracy on the host's runtime (XNNPACK, as a default app would run it)."""
    info = read_model_info(flatbuffer_path.read_bytes())
    engine = InterpreterEngine(load_runtime(), flatbuffer_path, info, "xnnpack", threads=1)
    return accuracy.score(accuracy.predict(engine, data["x_val"]), data["y_val"], reference)


def reference_outputs(flatbuffer_path: Path, x: np.ndarray) -> np.ndarray:
    """The variant's outputs on LiteRT's reference kernels (plain CPU, no delegate): what a device's cell is
    compared with, so a delegate's or driver's error stands apart from the variant's own quantisation loss."""
    info = read_model_info(flatbuffer_path.read_bytes())
    engine = InterpreterEngine(load_runtime(), flatbuffer_path, info, "cpu", threads=1)
    return accuracy.predict(engine, x)


def write_input_set(
    path: Path, data: dict[str, np.ndarray], reference: np.ndarray, variants: list[VariantRecord]
) -> None:
    """x, y, the host fp32 outputs, and each made variant's reference-kernel outputs as ``ref.<variant>``."""
    arrays = {"x": data["x_val"], "y": data["y_val"], "ref": reference}
    for variant in variants:
        if variant.status == VariantState.OK and variant.file:
            arrays[accuracy.reference_key(variant.name)] = reference_outputs(path.parent / variant.file, data["x_val"])
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    schema.write_atomic(path, buffer.getvalue())


def failure_message(exc: BaseException) -> str:
    """One readable line: TF's converter errors open with pages of MLIR locations before ``error: …``."""
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    for line in lines:
        if "error: " in line:
            return line.split("error: ", 1)[1].strip()
    return lines[0]


def not_applicable(recipe: Recipe, source: SourceModel, options: Options) -> str | None:
    if recipe.converts and source.make_converter is None:
        return "needs a Keras model or SavedModel to convert from (the source is a .tflite)"
    if recipe.trains and source.load_keras is None:
        return "needs a Keras model to fine-tune (the source is not one)"
    return None


def make_variant(recipe: Recipe, ctx: Context, out: Path, reference: np.ndarray) -> VariantRecord:
    description = recipe.describe(ctx.options)
    reason = not_applicable(recipe, ctx.source, ctx.options)
    if reason:
        return VariantRecord(recipe.name, VariantState.NOT_APPLICABLE, description, message=reason)
    start = time.perf_counter()
    try:
        built = recipe.build(ctx)
    except ModuleNotFoundError as exc:  # e.g. tensorflow_model_optimization, which the convert extra brings
        message = f"needs {exc.name}, which is not installed: {CONVERT_EXTRA}"
        return VariantRecord(recipe.name, VariantState.FAILED, description, message=message)
    except Exception as exc:  # a failed technique must not stop the others
        return VariantRecord(recipe.name, VariantState.FAILED, description, message=failure_message(exc))
    convert_s = time.perf_counter() - start - built.finetune_s
    return describe(
        recipe.name,
        description,
        built.flatbuffer,
        out,
        ctx.data,
        reference,
        convert_s=convert_s,
        finetune_s=built.finetune_s,
    )


def describe(
    name: str,
    recipe: str,
    flatbuffer: bytes,
    out: Path,
    data: dict[str, np.ndarray],
    reference: np.ndarray,
    convert_s: float = 0.0,
    finetune_s: float = 0.0,
) -> VariantRecord:
    path = out / f"{name}.tflite"
    schema.write_atomic(path, flatbuffer)
    info = read_model_info(flatbuffer)
    weights = weight_stats(flatbuffer)
    scores = host_scores(path, data, reference)
    return VariantRecord(
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
        host_top1=scores.top1,
        host_fp32_agreement=scores.fp32_agreement,
        convert_s=round(convert_s, 3),
        finetune_s=round(finetune_s, 3),
        figures=model_figures(read_graph(flatbuffer)),
    )


def convert(args: argparse.Namespace) -> Manifest:
    names = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = [name for name in names if name not in RECIPES]
    if unknown:
        raise SourceError(f"unknown variant {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    if not 0.0 < args.sparsity < 1.0:
        raise SourceError(f"--sparsity {args.sparsity} must be between 0 and 1")
    options = Options(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Options)})
    options = dataclasses.replace(options, input_shapes=tuple(options.input_shapes))
    if needs_tensorflow(args.model):  # a .tflite is measured as given: no TensorFlow, which may not be installed
        tf, tf_keras = import_tensorflow(args.model)
        tf_keras.utils.set_random_seed(options.seed)
        tf.config.experimental.enable_op_determinism()  # same model, data and --seed: same bytes
    source = load_model(args.model)
    data = load_data(
        args.data, source.input_shape, options.normalize, options.val_split, options.seed, classes=source.classes
    )
    args.out.mkdir(parents=True, exist_ok=True)
    reference = source.predict(data["x_val"].astype(np.float32))

    variants = []
    if source.tflite is not None:  # measured as given, beside whatever else applies
        given = source.tflite.read_bytes()
        try:
            variants.append(describe("given", f"the given file {source.tflite.name}", given, args.out, data, reference))
        except ValueError as exc:  # ModelFormatError too: weights the flatbuffer reader or numpy cannot make sense of
            raise SourceError(f"cannot load model {source.tflite}: {first_line(exc)}") from exc
    for name in names:
        recipe = RECIPES[name]
        emit({"event": "variant", "name": name, "epochs": options.epochs if recipe.trains else 0})
        ctx = Context(source, data, options, _epoch_reporter(name))
        variants.append(make_variant(recipe, ctx, args.out, reference))
    write_input_set(args.out / INPUT_SET_NAME, data, reference, variants)
    return Manifest(
        model_name=source.name,
        model_sha256=args.model_sha256,
        cache_key=args.cache_key,
        input_set=INPUT_SET_NAME,
        variants=variants,
        options=dataclasses.asdict(options),
        tool_versions=installed_versions(TOOLS),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
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
