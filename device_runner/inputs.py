"""The input set (``inputs.npz``): what a cell feeds the model and what it holds the outputs to.

Written by the host converter, read by device_runner, the benchmark_model runner and the Android app.
Version 2 keys (``np.savez_compressed``):

- ``x.<i>``: the samples for model input ``i`` (subgraph 0's input order), samples on axis 0, float32 before
  quantisation (the runner quantises per tensor), except integer inputs (token ids…), which keep their dtype.
- ``y``: optional labels, one per sample (class ids, or float targets for regression).
- ``ref.<j>``: optional host fp32 outputs for model output ``j``.
- ``ref.<variant>.<j>``: optional, that variant's outputs on the host's reference kernels (plain CPU).
- ``synthetic``: 0-d bool, true when the inputs were generated (no data set given).

The previous layout (``x``, ``ref``, ``ref.<variant>``: one input, one output) is read as input 0 / output 0.

A sample has the model's input shape without its batch axis when that axis is 1 (``(32, 32, 1)`` for a model
taking ``[1, 32, 32, 1]``), else the whole shape. Standard library and numpy only: it is copied onto boards.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgebench_records import SchemaError, TensorInfo, write_atomic

_INPUT = re.compile(r"x\.(\d+)")
_OUTPUT = re.compile(r"ref\.(\d+)")
_SHAPE = re.compile(r"\d+(?:x\d+)*")
SYNTHETIC_FLOAT_RANGE = (-1.0, 1.0)  # covers inputs scaled to [0, 1] and to [-1, 1] alike
NUMERIC_DTYPES = ("float32", "float16", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
                  "uint64", "bool")  # fmt: skip
SYNTHETIC_INT_HIGH = 10  # integer inputs whose table the model does not show: small values that index any


class InputSetError(SchemaError):
    """An input set that cannot be read, whose arrays disagree with each other, or that does not fit the model."""


@dataclass
class InputSet:
    inputs: list[np.ndarray]  # one array per model input, samples on axis 0
    labels: np.ndarray | None
    reference: list[np.ndarray] | None  # host fp32 outputs, one array per model output
    synthetic: bool = False

    def __len__(self) -> int:
        """The number of samples."""
        return len(self.inputs[0]) if self.inputs else 0

    def sample(self, k: int) -> list[np.ndarray]:
        """Sample ``k`` of every input."""
        return [x[k] for x in self.inputs]


def input_key(index: int) -> str:
    return f"x.{index}"


def reference_key(output: int, variant: str | None = None) -> str:
    """The key of the host fp32 outputs for ``output``, or of ``variant``'s on the reference kernels."""
    return f"ref.{output}" if variant is None else f"ref.{variant}.{output}"


def write_input_set(path: Path, inputs: InputSet, variant_references: dict[str, list[np.ndarray]]) -> None:
    """Write ``inputs`` and each variant's reference-kernel outputs as a version 2 input set, atomically."""
    arrays: dict[str, np.ndarray] = {input_key(i): np.asarray(x) for i, x in enumerate(inputs.inputs)}
    if inputs.labels is not None:
        arrays["y"] = np.asarray(inputs.labels)
    for j, ref in enumerate(inputs.reference or []):
        arrays[reference_key(j)] = np.asarray(ref)
    for variant, outputs in variant_references.items():
        for j, ref in enumerate(outputs):
            arrays[reference_key(j, variant)] = np.asarray(ref)
    arrays["synthetic"] = np.array(inputs.synthetic)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub wants *args alone
    write_atomic(path, buffer.getvalue())


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputSetError(f"{path}: not a readable input set ({exc})") from exc


def _numbered(arrays: dict[str, np.ndarray], pattern: re.Pattern[str], path: Path) -> list[np.ndarray]:
    found = {int(m.group(1)): arrays[key] for key in arrays if (m := pattern.fullmatch(key))}
    if sorted(found) != list(range(len(found))):
        raise InputSetError(f"{path}: {pattern.pattern} keys are not numbered 0..{len(found) - 1}: {sorted(found)}")
    return [found[i] for i in range(len(found))]


def read_input_set(path: Path) -> InputSet:
    """Version 2, or the previous layout upgraded (``x`` → input 0, ``ref`` → output 0)."""
    arrays = _load(path)
    if "x" in arrays:
        inputs, reference = [arrays["x"]], ([arrays["ref"]] if "ref" in arrays else None)
    else:
        inputs, reference = _numbered(arrays, _INPUT, path), _numbered(arrays, _OUTPUT, path) or None
    if not inputs:
        raise InputSetError(f"{path}: no inputs (neither x.0 nor x)")
    found = InputSet(inputs, arrays.get("y"), reference, bool(arrays.get("synthetic", False)))
    _check_lengths(found, path)
    return found


def _check_lengths(found: InputSet, path: Path) -> None:
    if found.inputs[0].ndim == 0 or len(found.inputs[0]) == 0:
        raise InputSetError(f"{path}: x.0 holds no samples")
    n = len(found)
    named = [(input_key(i), x) for i, x in enumerate(found.inputs)]
    named += [("y", found.labels)] if found.labels is not None else []
    named += [(reference_key(j), r) for j, r in enumerate(found.reference or [])]
    for key, array in named:
        if array.ndim == 0 or len(array) != n:
            raise InputSetError(f"{path}: {key} has {len(array) if array.ndim else 0} samples, x.0 has {n}")


def read_variant_reference(path: Path, variant: str) -> list[np.ndarray] | None:
    """``variant``'s outputs on the host's reference kernels, one per output; None when the set has none."""
    arrays = _load(path)
    if f"ref.{variant}" in arrays and "x" in arrays:  # the previous layout: one output
        return [arrays[f"ref.{variant}"]]
    outputs = _numbered(arrays, re.compile(re.escape(f"ref.{variant}.") + r"(\d+)"), path)
    return outputs or None


def sample_shape(shape: Iterable[int]) -> tuple[int, ...]:
    """One sample's shape for a model input of ``shape``: without the batch axis when that axis is 1."""
    dims = tuple(shape)
    return dims[1:] if dims and dims[0] == 1 else dims


def batched(sample: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    """``sample`` as the model takes it: a batch axis added when the sample has one dimension fewer."""
    return sample[None, ...] if sample.ndim == len(tensor.declared_shape) - 1 else sample


def shape_error(tensor: TensorInfo, index: int, sample: np.ndarray) -> str | None:
    """Why ``sample`` cannot feed model input ``index``, or None when it fits (any size where dynamic)."""
    declared = tensor.declared_shape
    fed = list(batched(sample, tensor).shape)
    fits = len(fed) == len(declared) and all(d == f or d < 0 or d == 0 for d, f in zip(declared, fed, strict=True))
    if fits:
        return None
    return f"input {tensor.name!r} (index {index}) takes {declared}, the input set gives {fed}"


def samples_problem(tensors: list[TensorInfo], samples: list[np.ndarray]) -> str | None:
    """Why one sample per input cannot feed a model with these input tensors, or None."""
    if len(samples) != len(tensors):
        names = ", ".join(repr(t.name) for t in tensors)
        return f"the model takes {len(tensors)} inputs ({names}), given {len(samples)}"
    return next(
        filter(None, (shape_error(t, i, s) for i, (t, s) in enumerate(zip(tensors, samples, strict=True)))), None
    )


def input_set_problem(tensors: list[TensorInfo], inputs: InputSet) -> str | None:
    """Why ``inputs`` cannot feed a model with these input tensors (a missing or extra array, a shape that
    does not fit), naming the input; None when it fits."""
    have, want = len(inputs.inputs), len(tensors)
    if have < want:
        missing = tensors[have]
        return (
            f"input {missing.name!r} (index {have}) has no array {input_key(have)}: the model takes {want} inputs, "
            f"the input set has {have}"
        )
    if have > want:
        return f"{input_key(want)} is extra: the model takes {want} inputs, the input set has {have}"
    return samples_problem(tensors, inputs.sample(0)) if len(inputs) else None


def shown_shape(dims: Iterable[int]) -> str:
    """A shape as ``--input-shape`` spells it, ``?`` where a dimension is dynamic: ``[-1, 76, 1]`` → ``?x76x1``."""
    return "x".join("?" if d <= 0 else str(d) for d in dims)


def _called(tensor: TensorInfo, signature_name: str | None) -> str:
    """An input as the user knows it: its signature name first (``input``), then its tensor name."""
    if signature_name and signature_name != tensor.name:
        return f"input {signature_name!r} (tensor {tensor.name!r})"
    return f"input {tensor.name!r}"


def shapes_by_tensor(
    shapes: dict[str, tuple[int, ...]], tensors: list[TensorInfo], aliases: dict[str, str], owner: str = "the model"
) -> dict[str, tuple[int, ...]]:
    """``--input-shape`` sizes keyed by tensor name. A NAME may be the tensor's name or the signature's name for
    it (``aliases``: signature name → tensor name); ValueError, listing both kinds, for a NAME that is neither
    or an input given under both. ``owner`` names the model in the refusal."""
    names = {t.name for t in tensors}
    found: dict[str, tuple[int, ...]] = {}
    for name, dims in shapes.items():
        tensor = name if name in names else aliases.get(name)
        if tensor not in names:
            raise ValueError(f"--input-shape {name}: {owner} has no input {name!r} ({known_inputs(tensors, aliases)})")
        if tensor in found:
            raise ValueError(f"--input-shape {name}: input {tensor!r} given twice (by its tensor and signature names)")
        found[tensor] = dims
    return found


def known_inputs(tensors: list[TensorInfo], aliases: dict[str, str]) -> str:
    """Every name an ``--input-shape`` may use: ``its inputs: input (tensor serving_default_input:0)``."""
    signature = {tensor: alias for alias, tensor in aliases.items()}
    shown = [
        f"{signature[t.name]} (tensor {t.name})" if t.name in signature and signature[t.name] != t.name else t.name
        for t in tensors
    ]
    return f"its inputs: {', '.join(shown) or 'none'}"


def dynamic_shape_error(tensor: TensorInfo, signature_name: str | None = None) -> str:
    """The one line asking for a dynamic input's sizes: its whole shape, each dynamic dimension a ``?``."""
    shown = shown_shape(tensor.declared_shape)
    flag = signature_name or tensor.name
    return (
        f"{_called(tensor, signature_name)} has a dynamic shape {shown}: give its sizes with "
        f"--input-shape {flag}:{shown}, each ? replaced by a size"
    )


def resolved_shape(
    tensor: TensorInfo, shapes: dict[str, tuple[int, ...]], signature_name: str | None = None
) -> tuple[int, ...]:
    """The concrete shape to feed ``tensor``: from ``shapes`` (``--input-shape``, keyed by tensor name, see
    ``shapes_by_tensor``) where given, else its own; a free batch axis runs at 1. ValueError for any other
    dynamic dimension without a shape, or a shape that contradicts a fixed dimension."""
    declared = tensor.declared_shape
    given = shapes.get(tensor.name)
    if given is None:
        if tensor.dynamic:
            raise ValueError(dynamic_shape_error(tensor, signature_name))
        return tuple(d if d > 0 else 1 for d in declared)  # a dynamic batch axis runs at 1
    fits = len(given) == len(declared) and all(d <= 0 or d == g for d, g in zip(declared, given, strict=True))
    if not fits:
        flag = "x".join(map(str, given))
        raise ValueError(
            f"--input-shape {signature_name or tensor.name}:{flag} does not fit "
            f"{_called(tensor, signature_name)} {shown_shape(declared)}"
        )
    return tuple(given)


def synthetic_inputs(
    tensors: list[TensorInfo],
    n: int,
    seed: int,
    shapes: dict[str, tuple[int, ...]],
    *,
    aliases: dict[str, str] | None = None,
    id_limits: dict[str, int] | None = None,
) -> list[np.ndarray]:
    """``n`` seeded samples per input tensor, made from the tensor alone: float inputs spread over
    ``SYNTHETIC_FLOAT_RANGE``; quantised integer inputs as float values covering the tensor's quantised range;
    an input that indexes a table (``id_limits``: tensor name → the table's rows) as ids over every row; other
    integer inputs as small integers of their own dtype. ``shapes`` are keyed by tensor name or by the
    signature's name (``aliases``: signature name → tensor name). ValueError naming the input for a dynamic
    shape without ``shapes``, an unknown name, or a dtype nothing can be made for."""
    aliases = aliases or {}
    shapes = shapes_by_tensor(shapes, tensors, aliases)
    signature = {tensor: alias for alias, tensor in aliases.items()}
    batches = [
        (tensor, (n, *sample_shape(resolved_shape(tensor, shapes, signature.get(tensor.name))))) for tensor in tensors
    ]
    need = sum(math.prod(shape) * SYNTHETIC_BYTES_PER_VALUE for _, shape in batches)
    if need > SYNTHETIC_MAX_BYTES:
        sizes = ", ".join(f"{t.name!r} {'x'.join(map(str, shape[1:]))}" for t, shape in batches)
        raise ValueError(
            f"{n} synthetic samples of {sizes} would take {need / 2**30:,.1f} GiB, over the "
            f"{SYNTHETIC_MAX_BYTES / 2**30:g} GiB an input set may hold: give fewer --synthetic-samples, "
            "a smaller --input-shape, or --data"
        )
    rng = np.random.default_rng(seed)
    limits = id_limits or {}
    return [_synthetic(tensor, shape, rng, limits.get(tensor.name)) for tensor, shape in batches]


# An input set is made, written, pushed to every device and read by each cell: past this it is a typo (a huge
# --synthetic-samples or --input-shape), refused with the figure before anything is allocated.
SYNTHETIC_MAX_BYTES = 1 << 30
SYNTHETIC_BYTES_PER_VALUE = 8  # the widest a synthetic value is made as, before it is cast to its dtype


def _synthetic(tensor: TensorInfo, shape: tuple[int, ...], rng: np.random.Generator, rows: int | None) -> np.ndarray:
    if tensor.dtype not in NUMERIC_DTYPES:
        raise ValueError(f"input {tensor.name!r} takes {tensor.dtype}: synthetic inputs cannot be made; give --data")
    dtype = np.dtype(tensor.dtype)
    if rows is not None and dtype.kind in "iuf" and tensor.scale == 0:  # ids into a table: any of its rows
        count = rows if dtype.kind == "f" else min(rows, int(np.iinfo(dtype).max) + 1)
        return rng.integers(0, count, shape).astype(dtype)
    if dtype.kind == "f":
        low, high = SYNTHETIC_FLOAT_RANGE
        return rng.uniform(low, high, shape).astype(np.float32)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if tensor.scale != 0:  # quantised: every level the tensor can hold, as the float it stands for
        info = np.iinfo(dtype)
        levels = rng.integers(info.min, int(info.max) + 1, shape)
        return ((levels - tensor.zero_point) * tensor.scale).astype(np.float32)
    high = min(SYNTHETIC_INT_HIGH, int(np.iinfo(dtype).max) + 1)  # nothing says what they index: small values
    return rng.integers(0, high, shape).astype(dtype)


def parse_input_shapes(entries: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """``NAME:1x224x224x3`` entries (``--input-shape``) by input name; ValueError naming the entry on junk.
    The name is everything before the last colon, so tensor names such as ``serving_default_x:0`` work."""
    shapes: dict[str, tuple[int, ...]] = {}
    for entry in entries:
        name, _, dims = entry.rpartition(":")
        if not name or not _SHAPE.fullmatch(dims) or any(int(d) == 0 for d in dims.split("x")):
            raise ValueError(f"--input-shape {entry!r}: expected NAME:DIMS with positive sizes, e.g. x:1x224x224x3")
        if name in shapes:
            raise ValueError(f"--input-shape {entry!r}: input {name!r} given twice")
        shapes[name] = tuple(int(d) for d in dims.split("x"))
    return shapes
