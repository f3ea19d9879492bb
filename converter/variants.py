"""Making one variant: applicable to this source and data, reused from the per-variant cache or built (its
conversion timed apart from its fine-tuning), then written, read back and scored on the host. A variant that
fails is recorded with one readable line and the others go on."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import edgebench_records as schema
from converter.checks import first_line
from converter.events import emit
from converter.figures import gzip_size, overall_sparsity, weight_stats
from converter.host_scoring import run_on_host, score_on_host
from converter.isolation import Crashed
from converter.ports import Layout, layout_of
from converter.recipes import Context, Recipe
from converter.source import CONVERT_EXTRA
from converter.structure import Unsupported
from converter.tflite_quantize import DoesNotApply
from converter.variant_cache import Entry, VariantCache
from device_runner.flatbuffer import read_graph, read_model_info
from device_runner.model_figures import model_figures
from device_runner.signature import output_names
from edgebench_records import VariantRecord, VariantState
from edgebench_records.catalogue import DATA_OPTIONS


@dataclass(frozen=True)
class Made:
    record: VariantRecord
    layout: Layout | None = None  # None unless made
    kernels: list[np.ndarray] | None = None  # its outputs on the host's reference kernels


def failure_message(exc: BaseException) -> str:
    """One readable line: TF's converter errors open with pages of MLIR locations before ``error: …``; an error
    raised in a traced function (fitting, say) opens with ``in user code:`` and its Python stack, and says what
    went wrong on its last line."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()] or [type(exc).__name__]
    if lines[0] == "in user code:":
        return lines[-1]
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


def make_variant(
    recipe: Recipe,
    ctx: Context,
    out: Path,
    reference: list[np.ndarray] | None,
    cache: VariantCache | None,
    log: Path | None = None,
) -> Made:
    """The variant made (or reused) and scored; ``log``, the host's file of this process's stderr, is named in the
    message of a variant whose maker crashed in a child of its own (its Python stack is there)."""
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
        except (Unsupported, DoesNotApply) as exc:  # a structure it cannot rewrite, a .tflite it does nothing for
            return Made(VariantRecord(recipe.name, VariantState.NOT_APPLICABLE, description, message=str(exc)))
        except ModuleNotFoundError as exc:  # e.g. tensorflow_model_optimization, which the convert extra brings
            message = f"needs {exc.name}, which is not installed: {CONVERT_EXTRA}"
            return Made(VariantRecord(recipe.name, VariantState.FAILED, description, message=message))
        except Crashed as exc:  # a native crash in its child process; the other variants go on
            message = f"{exc}; its stack is in {log or 'the conversion log'}"
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
    """The flatbuffer written to ``out`` and recorded: its figures read back, its outputs scored on the host."""
    path = out / f"{name}.tflite"
    schema.write_atomic(path, flatbuffer)
    info = read_model_info(flatbuffer)
    weights = weight_stats(flatbuffer)
    layout = layout_of(flatbuffer, info, ctx.source)
    host = run_on_host(path, info, layout.feed(ctx.data.val))
    names = output_names(flatbuffer, info)
    scored = score_on_host(host, layout, info, names, ctx.data, ctx.options.task, reference)
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
        host_top1=scored.top1,
        host_fp32_agreement=scored.fp32_agreement,
        host_reference=scored.reference,
        host_accuracy=scored.accuracy,
        notes=[*(notes or []), *([host.note] if host.note else [])],
        figures=model_figures(read_graph(flatbuffer)),
    )
    return Made(record, layout, host.reference_kernels)
