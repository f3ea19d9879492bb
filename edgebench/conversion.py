"""Host side of conversion: content-addressed reuse, and the converter run in its own process.

TensorFlow is never imported here: the converter runs as ``python -m converter`` with
TF_USE_LEGACY_KERAS=1 (TFMOT needs Keras 2) and its log noise goes to a file. Where many conversions follow one
another (a tune's study, the test suite), ``warm_tensorflow`` keeps one TensorFlow import for them all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from converter.checks import SourceError, check_data, check_model, check_student
from converter.isolation import exit_cause
from converter.variant_cache import code_sha256, keyed_options
from converter.warm import kept_warm
from edgebench import __version__
from edgebench.errors import EdgebenchError
from edgebench.processes import JsonObject, stream_json_lines
from edgebench.progress import Listener
from edgebench_records import (
    MANIFEST_NAME,
    MANIFEST_RECORD,
    Manifest,
    SchemaError,
    VariantState,
    altered_file,
    read_manifest,
    sha256_tree,
)
from edgebench_records.catalogue import FINE_TUNED, Options, unread_options, unused_notes

ConverterEvent = JsonObject


def cache_key(model_sha256: str, data_sha256: str, variants: list[str], options: Options) -> str:
    unread = unread_options(variants)
    recipe = {
        "model": model_sha256,
        "data": data_sha256,
        "variants": sorted(variants),
        # an option no variant asked for reads changes none of them: the conversion made without it is reused
        "options": {name: value for name, value in keyed_options(options).items() if name not in unread},
        "edgebench": __version__,
        "code": code_sha256(),
        "manifest": MANIFEST_RECORD.version,  # a manifest written with fewer figures is made again
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


VARIANT_CACHE = "made"  # under variants/: each variant by what it depends on, reused across conversions
SYNTHETIC = "synthetic"  # in the cache key instead of a data file's hash: inputs made from the model's own


def check_inputs(
    model: Path,
    data: Path | None,
    model_flag: str = "--model",
    data_flag: str = "--data",
    options: Options | None = None,
) -> None:
    """Refuse in one line a model, data or student path that cannot work, an ``--input-shape`` for an input the
    model lacks, or a dynamic input without its size: what needs no TensorFlow, so it is instant. Runs before
    hashing, which would never return from a FIFO or a device.
    """
    try:
        check_model(model, model_flag)
        if data is not None:
            check_data(data, data_flag)
        if options is not None and options.student:
            check_student(Path(options.student))
    except SourceError as exc:
        raise EdgebenchError(str(exc)) from exc
    if options is not None:
        check_input_shapes(model, options.input_shapes, data)


def check_input_shapes(model: Path, entries: tuple[str, ...], data: Path | None) -> None:
    """Each ``--input-shape`` names an input of the model, by its tensor name or by its signature's name for it,
    and fits it; without ``--data`` every dynamic dimension (a free batch axis aside) has its size, since the
    model cannot be run at its placeholder shape. Read from a .tflite's flatbuffer (no TensorFlow); a Keras
    file's input names from its config (its sizes, and a SavedModel, are left to the converter, which loads it)."""
    if model.suffix.lower() != ".tflite":
        _check_keras_input_names(model, entries)
        return
    from converter.ports import read_signature
    from device_runner.flatbuffer import read_model_info
    from device_runner.inputs import parse_input_shapes, resolved_shape, shapes_by_tensor

    try:
        flatbuffer = model.read_bytes()
        tensors = read_model_info(flatbuffer).inputs
        signature = read_signature(flatbuffer)
        aliases = dict(zip(signature.inputs, (t.name for t in tensors), strict=True)) if signature else {}
        shapes = shapes_by_tensor(parse_input_shapes(entries), tensors, aliases, f"model {model}")
    except (OSError, ValueError) as exc:  # ModelFormatError too; the CLI checked both already, a caller may not have
        raise EdgebenchError(str(exc)) from exc
    called = {tensor: alias for alias, tensor in aliases.items()}
    for tensor in tensors:
        try:
            if data is None or tensor.name in shapes:  # with --data, the data's samples give the other sizes
                resolved_shape(tensor, shapes, called.get(tensor.name))
        except ValueError as exc:
            raise EdgebenchError(f"model {model.name}: {exc}") from exc


def _check_keras_input_names(model: Path, entries: tuple[str, ...]) -> None:
    """Each ``--input-shape`` names one of a Keras file's input layers, as its config declares them (read without
    loading the model); a file whose config says nothing of its inputs is left to the converter, and so is a
    Keras 3 file, whose input tensors are not named after their layers (``keras_tensor_1``)."""
    from converter.keras_files import is_keras_3, layers, model_config, saved_by
    from device_runner.inputs import parse_input_shapes

    if is_keras_3(saved_by(model)):
        return
    config = model_config(model)
    inputs = [] if config is None else [layer.name for layer in layers(config) if layer.class_name == "InputLayer"]
    if not inputs:
        return
    try:
        shapes = parse_input_shapes(entries)
    except ValueError as exc:
        raise EdgebenchError(str(exc)) from exc
    for name in shapes:
        if name not in inputs:
            raise EdgebenchError(
                f"--input-shape {name}: model {model} has no input {name!r} (its inputs: {', '.join(inputs)})"
            )


def convert(
    model: Path,
    data: Path | None,
    variants: list[str],
    workdir: Path,
    *,
    options: Options | None = None,
    force: bool = False,
    on_event: Callable[[ConverterEvent], None] | None = None,
    model_flag: str = "--model",
    data_flag: str = "--data",
) -> tuple[Manifest, Path]:
    """Make (or reuse) the variants of ``model``; returns the manifest and its directory.

    ``on_event`` receives the converter's progress events (``variant`` starts, fine-tuning ``epoch`` ends).
    ``model_flag`` and ``data_flag`` are the flags that gave the paths, named when a path is refused.
    Without ``data`` the converter makes ``options.synthetic_samples`` seeded inputs from the model's own.
    """
    options = options or Options()
    check_inputs(model, data, model_flag, data_flag, options)
    model_sha256 = _hash(model, "model")
    data_sha256 = SYNTHETIC if data is None else _hash(data, "data")
    key = cache_key(model_sha256, data_sha256, variants, options)
    _check_workdir(workdir)
    out = workdir / "variants" / f"{model.stem}-{key[:12]}"
    if not force and (out / MANIFEST_NAME).exists():
        try:
            cached = read_manifest(out)
        except SchemaError:
            pass  # written by another edgebench version: rebuild
        else:
            # A variant file changed since it was made is a cache miss: made again, never measured as itself.
            if altered_file(out, ((v.file or "", v.sha256 or "") for v in cached.ok_variants())) is None:
                return _noting_unused(cached, variants, options), out
    log = workdir / "logs" / f"convert-{out.name}.log"
    log.unlink(missing_ok=True)  # one conversion per log
    # FLAG=VALUE throughout: a path that starts with "-" would otherwise read as a flag of its own.
    command = [
        sys.executable,
        "-m",
        "converter",
        f"--model={model}",
        *([] if data is None else [f"--data={data}"]),
        f"--out={out}",
        f"--variants={','.join(variants)}",
        f"--cache-key={key}",
        f"--model-sha256={model_sha256}",
        f"--data-sha256={data_sha256}",
        f"--variant-cache={workdir / 'variants' / VARIANT_CACHE}",
        *(["--rebuild"] if force else []),
        f"--log={log}",
        *options.as_flags(),
    ]
    reply: JsonObject = {}

    def on_object(message: JsonObject) -> None:
        if "event" in message:
            if on_event:
                on_event(message)
        else:
            reply.update(message)

    returncode = stream_json_lines(command, log, on_object, env=converter_env())
    if "error" in reply:
        raise EdgebenchError(str(reply["error"]))
    if "manifest" not in reply:
        raise EdgebenchError(f"converter failed on {model}: {_failure_cause(reply, returncode)}; see {log}")
    return _noting_unused(read_manifest(out), variants, options), out


def converter_env() -> dict[str, str]:
    """The environment the converter (and the warm TensorFlow process its workers fork from) runs in."""
    return {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


@contextlib.contextmanager
def warm_tensorflow() -> Iterator[None]:
    """Conversions started inside this fork their workers from one process that imported TensorFlow once
    (``converter.warm``) instead of importing it again each time; a conversion that cannot reach it spawns its
    worker as usual."""
    with kept_warm(converter_env()):
        yield


def _noting_unused(manifest: Manifest, variants: list[str], options: Options) -> Manifest:
    """The manifest with a note per option given that no variant asked for reads (said, never silently ignored).
    Noted here, not by the converter: such options are out of the cache key, so a reused manifest may have been
    made without them."""
    return dataclasses.replace(manifest, data_notes=[*manifest.data_notes, *unused_notes(options, variants)])


def _failure_cause(reply: JsonObject, returncode: int) -> str:
    """What ended a converter that wrote no manifest: the exception it reported, else how it exited (the signal by
    name; SIGKILL is most often the out-of-memory killer)."""
    if "crash" in reply:
        return str(reply["crash"])
    return exit_cause(returncode)


def _check_workdir(workdir: Path) -> None:
    """The folders the converter writes into are folders (a file in their place would fail it half-way)."""
    for folder in (workdir / "variants", workdir / "variants" / VARIANT_CACHE):
        if folder.exists() and not folder.is_dir():
            raise EdgebenchError(f"--workdir {workdir}: {folder} is not a folder (edgebench keeps variants there)")


def _hash(path: Path, what: str) -> str:
    try:
        return sha256_tree(path)
    except OSError as exc:  # e.g. a file in a SavedModel or image folder we may not read
        raise EdgebenchError(f"cannot read {what} {exc.filename or path}: {exc.strerror or exc}") from exc


@dataclass(frozen=True)
class ConvertRequest:
    model: Path
    data: Path | None  # None: synthetic inputs from the model's own input tensors
    variants: list[str]
    workdir: Path
    options: Options = field(default_factory=Options)
    force: bool = False
    model_flag: str = "--model"  # the flag that named the model, for one-line refusals


def convert_reporting(request: ConvertRequest, listener: Listener) -> tuple[Manifest, Path]:
    """``convert``, reporting a step per variant made and per fine-tuning epoch to ``listener``."""
    r = request
    # A refusal is one line, before any progress is shown.
    check_inputs(r.model, r.data, r.model_flag, options=r.options)
    steps = {name: 1 + r.options.epochs * (name in FINE_TUNED) for name in r.variants}
    before = dict(zip(steps, accumulate(steps.values(), initial=0), strict=False))  # steps before each variant
    task = listener.task(f"Converting {r.model.name}", sum(steps.values()))

    def on_event(event: ConverterEvent) -> None:
        name = str(event["name"])
        if event["event"] == "variant":
            reused = bool(event.get("reused"))  # made by an earlier conversion: no fine-tuning to wait for
            task.step(f"{name} (reused)" if reused else name, done=before[name] + (steps[name] if reused else 1))
        elif event["event"] == "epoch":
            task.step(f"{name}: epoch {event['epoch']}/{event['epochs']}", done=before[name] + 1 + int(event["epoch"]))

    result = convert(
        r.model,
        r.data,
        r.variants,
        r.workdir,
        options=r.options,
        force=r.force,
        on_event=on_event,
        model_flag=r.model_flag,
    )
    task.finish()
    return result


def conversion_failed(manifest: Manifest) -> bool:
    return any(v.status == VariantState.FAILED for v in manifest.variants)
