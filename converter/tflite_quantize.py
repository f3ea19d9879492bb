"""Variants of a float ``.tflite`` made from the flatbuffer alone, with ai-edge-quantizer (no TensorFlow).

ai-edge-quantizer 0.10 fails silently ("Quantization Ratio: 1.00", the same bytes, no error) on three kinds
of model that ship widely, so each is repaired on a copy first and the repair named in ``Quantized.notes``:
- old converters set only ``deprecated_builtin_code``: every op then reads as ADD and nothing is quantised;
- fp16-weight models (FLOAT16 constants feeding DEQUANTIZE): the quantiser sees no float weight;
- its calibrator finds the model's inputs only through a signature, which many shipped models lack;
- it requires tensor names unique across the whole model, where control flow (``IF``, ``WHILE``) gives each
  branch's subgraph its own ``arg0``, ``arg1``…: the repeated ones are renamed after their subgraph.
Its full-int8 output is repaired too: the int32 bias of an all-zero (pruned) weight channel overflows and is
cast to garbage with only a warning. A result that holds a NaN or zero scale is a failure (``QuantizeError``),
never a variant; so is one no smaller than the model given, unless it computes in int8 where the model computed
in float (a sparse or float16 model's int8: the arithmetic changed, which is its point). A model already
quantised, with no float weight left, gets no variant here (``DoesNotApply``).
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from converter.isolation import Crashed, isolated

SIGNATURE_KEY = "serving_default"  # what the calibrator and most tools expect when a model has one signature


class Scheme(StrEnum):
    FP16 = "fp16"  # weights cast to float16, compute in float32
    DYNAMIC_INT8 = "dynamic_int8"  # int8 weights, activations quantised on the fly by the kernels
    WEIGHT_INT8 = "weight_int8"  # int8 weights de-quantised before each op, compute in float32
    FULL_INT8 = "full_int8"  # int8 weights and activations (calibrated); int8 inputs/outputs unless float_io


@dataclass(frozen=True)
class Quantized:
    flatbuffer: bytes
    notes: list[str]  # what was repaired before quantising, for the variant's description


class QuantizeError(Exception):
    """The variant cannot be made; the message names the cause in one line."""


# The schemes whose variant runs integer kernels (the others only store weights smaller, computing in float).
COMPUTES_IN_INT8 = frozenset({Scheme.DYNAMIC_INT8, Scheme.FULL_INT8})


class DoesNotApply(QuantizeError):
    """The scheme has nothing to do for this model (its weights are quantised already, or would only grow and
    compute as before): the variant does not apply to it, which is not a failure."""


def quantize_tflite(
    flatbuffer: bytes,
    scheme: Scheme,
    calibration: list[list[np.ndarray]] | None = None,
    *,
    float_io: bool = False,
    keep_float: tuple[str, ...] = (),
) -> Quantized:
    """The ``scheme`` variant of a float model.

    ``calibration``: samples, each one array per model input (subgraph 0's input order) shaped as the model
    wants it, batch axis included; required by ``FULL_INT8``, ignored otherwise. ``float_io``: a ``FULL_INT8``
    variant keeps float32 inputs and outputs (as ``Options.float_io``). ``keep_float``: output tensor names of
    ops left unquantised (ai-edge-quantizer's selective recipe: the op computes in float32 between a DEQUANTIZE
    and a QUANTIZE), as ``converter.mixed`` asks.
    """
    from ai_edge_litert import schema_py_generated as schema

    if scheme is Scheme.FULL_INT8 and not calibration:
        raise QuantizeError("full int8 needs calibration samples (none given)")
    model = _read(flatbuffer)
    quantised = _already_quantised(model)
    if quantised and not _float_kernels(model, schema):
        raise DoesNotApply("the model is already quantised: no float weights left to quantise")
    notes = []
    if _normalise_opcodes(model):
        notes.append("old-format opcodes normalised (only deprecated_builtin_code was set)")
    renamed = _unique_tensor_names(model)
    if renamed:
        notes.append(f"{renamed} tensor names repeated across subgraphs made unique (prefixed by their subgraph)")
    sparse = _sparse_constants(model)
    # Full int8 must see them as constants: it takes a DENSIFY output for an activation, whose asymmetric zero
    # point no int8 convolution accepts. The other schemes leave them sparse (densified, they come out larger).
    densified = _densify_sparse_constants(model, schema) if scheme is Scheme.FULL_INT8 else 0
    if densified:
        notes.append(f"{densified} sparse weights densified first, to be quantised as weights")
    elif sparse:
        notes.append(f"{sparse} sparse weights left as they are (the quantiser skips them)")
    dequantised = _dequantise_fp16_constants(model, schema)
    if dequantised:
        notes.append(f"fp16 weights de-quantised to float32 first ({dequantised} constants)")
    feeds = None
    if scheme is Scheme.FULL_INT8:
        assert calibration  # checked above, before the work
        branching = _control_flow(model, schema)
        if branching:  # its calibrator records no range for a branch's tensors, then fails on the first of them
            raise DoesNotApply(
                f"full int8 cannot be calibrated through control flow ({', '.join(branching)}): ai-edge-quantizer "
                "does not run the branches' subgraphs"
            )
        names, added = _calibration_signature(model, schema)
        if added:
            notes.append(f"signature {SIGNATURE_KEY!r} added for calibration")
        feeds = {SIGNATURE_KEY if added else _signature_key(model): _feeds(model, names, calibration)}
    try:  # in a child process: a native crash there is this variant's failure, not the conversion's
        result = isolated(_quantize, _write(model), scheme, feeds, float_io, keep_float)
    except Crashed as exc:
        raise Crashed(f"ai-edge-quantizer {exc}") from None
    _check_scales(result)
    if scheme is Scheme.FULL_INT8:
        result, rescaled = _fit_biases(result, model, schema)
        if rescaled:
            notes.append(f"{rescaled} bias channels rescaled to fit int32 (near-zero weight channels)")
    if len(result) >= len(flatbuffer):
        larger = _no_smaller(len(flatbuffer), len(result), scheme, dequantised, quantised, sparse)
        if scheme in COMPUTES_IN_INT8 and not quantised and _already_quantised(_read(result)):
            # Sparse or float16 weights stored densely in int8 can take more room, but the model now runs
            # integer kernels: the variant whose speed the user wants to know, never refused for its size.
            notes.append(f"kept though {larger}: it computes in int8 where the model computes in float")
        else:  # nothing gained: a failure only when the quantiser had float weights to shrink and did not
            nothing_to_gain = quantised or sparse > 0 or (scheme is Scheme.FP16 and dequantised > 0)
            raise (DoesNotApply if nothing_to_gain else QuantizeError)(f"{scheme} variant is {larger}")
    return Quantized(result, notes)


def _read(flatbuffer: bytes) -> Any:
    from ai_edge_litert.tools import flatbuffer_utils

    if flatbuffer[4:8] != b"TFL3":  # the file identifier every LiteRT model carries
        raise QuantizeError("not a .tflite flatbuffer (no TFL3 file identifier)")
    try:
        return flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    except Exception as e:  # the generated reader raises whatever a bad offset leads to
        raise QuantizeError(f"not a readable .tflite flatbuffer ({type(e).__name__}: {e})") from e


def _unique_tensor_names(model: Any) -> int:
    """Rename each tensor whose name an earlier tensor of the model holds (another subgraph's: names are unique
    within one) to ``SUBGRAPH/NAME``, numbered on if even that is taken; the number renamed. Tensors are referred
    to by index everywhere in the flatbuffer, so a name changes nothing but what the quantiser keys on."""
    seen: set[bytes] = set()
    renamed = 0
    for index, subgraph in enumerate(model.subgraphs or []):
        prefix = subgraph.name or f"subgraph{index}".encode()
        for tensor in subgraph.tensors or []:
            name, suffix = tensor.name or b"", 0
            while name in seen:
                suffix += 1
                name = prefix + b"/" + (tensor.name or b"") + (b"_%d" % suffix if suffix > 1 else b"")
            if name != tensor.name:
                tensor.name = name
                renamed += 1
            seen.add(name)
    return renamed


def _control_flow(model: Any, schema: Any) -> list[str]:
    """The control-flow ops the model holds (IF, WHILE), by name."""
    ops = schema.BuiltinOperator
    names = {ops.IF: "IF", ops.WHILE: "WHILE"}
    codes = {max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes or []}
    return [name for code, name in names.items() if code in codes]


def _float_kernels(model: Any, schema: Any) -> int:
    """The constant float tensors of rank 2 or more (weights, not biases): what any scheme here quantises."""
    floats = {schema.TensorType.FLOAT32, schema.TensorType.FLOAT16}
    tensors = (t for s in model.subgraphs or [] for t in s.tensors or [])
    return sum(
        1
        for t in tensors
        if t.type in floats and len(t.shape if t.shape is not None else []) >= 2 and _has_data(model, t)
    )


def _sparse_constants(model: Any) -> int:
    tensors = (t for s in model.subgraphs or [] for t in s.tensors or [])
    return sum(1 for t in tensors if t.sparsity is not None)


def _already_quantised(model: Any) -> bool:
    """Some tensor already holds integer-quantised values (a scale is set)."""
    tensors = (t for s in model.subgraphs or [] for t in s.tensors or [])
    return any(t.quantization is not None and t.quantization.scale is not None for t in tensors)


def _write(model: Any) -> bytes:
    from ai_edge_litert.tools import flatbuffer_utils

    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _normalise_opcodes(model: Any) -> bool:
    """Give every operator code its real ``builtin_code`` (the larger of the two fields); True if any changed."""
    changed = False
    for code in model.operatorCodes or []:
        real = max(code.builtinCode, code.deprecatedBuiltinCode)
        if code.builtinCode != real:
            code.builtinCode = real
            changed = True
    return changed


def _dequantise_fp16_constants(model: Any, schema: Any) -> int:
    """Replace each FLOAT16 constant → DEQUANTIZE pair by a float32 constant."""

    def fp32(source: Any) -> np.ndarray | None:
        if source.type != schema.TensorType.FLOAT16 or source.sparsity is not None:
            return None
        return np.frombuffer(bytes(source.data), dtype="<f2").astype("<f4")

    return _fold_constants(model, schema.BuiltinOperator.DEQUANTIZE, fp32)


def _densify_sparse_constants(model: Any, schema: Any) -> int:
    """Replace each sparse constant → DENSIFY pair by the dense constant (then de-quantised as any fp16 one)."""
    dtypes = {schema.TensorType.FLOAT16: "<f2", schema.TensorType.FLOAT32: "<f4"}

    def dense(source: _Constant) -> np.ndarray | None:
        dtype = dtypes.get(source.type)
        if source.sparsity is None or dtype is None:
            return None
        return _densified(source.shape, source.sparsity, np.frombuffer(source.data, dtype=dtype), schema)

    return _fold_constants(model, schema.BuiltinOperator.DENSIFY, dense)


def _densified(shape: list[int], sparsity: Any, values: np.ndarray, schema: Any) -> np.ndarray | None:
    """A sparse constant (TFLite's SparsityParameters) as its dense array, for the layout TFLite's converter writes
    for unstructured sparsity: traversed in the tensor's own dimension order, no blocks; None for any other."""
    if sparsity.blockMap is not None and len(sparsity.blockMap):
        return None
    if [int(d) for d in sparsity.traversalOrder] != list(range(len(shape))):
        return None
    positions: list[tuple[int, ...]] = [()]
    for dim in sparsity.dimMetadata:
        if dim.format == schema.DimensionType.DENSE:
            positions = [(*p, j) for p in positions for j in range(dim.denseSize)]
            continue
        segments, indices = dim.arraySegments.values, dim.arrayIndices.values  # CSR: the rows' spans of indices
        spans = zip(positions, segments[:-1], segments[1:], strict=False)
        positions = [(*p, int(indices[e])) for p, start, end in spans for e in range(int(start), int(end))]
    if len(positions) != len(values):
        return None
    dense = np.zeros(shape, dtype=values.dtype)
    if positions:
        dense[tuple(np.array(positions).T)] = values
    return dense


@dataclass(frozen=True)
class _Constant:
    """A constant tensor and its data, as the folding functions see it."""

    type: int
    shape: list[int]
    sparsity: Any
    data: bytes


def _fold_constants(model: Any, opcode: int, fold: Callable[[_Constant], np.ndarray | None]) -> int:
    """Replace each ``opcode`` op whose one input is a constant by a constant output (``fold`` of the input;
    None leaves the op as it is); the number replaced. Unused tensors and buffers are dropped after."""
    replaced = 0
    for subgraph_index, subgraph in enumerate(model.subgraphs or []):
        kept = []
        for op in subgraph.operators or []:
            value = _folded(model, subgraph, op, opcode, fold)
            if value is None:
                kept.append(op)
                continue
            buffer = type(model.buffers[0])()
            buffer.data = np.ascontiguousarray(value).view(np.uint8).ravel()
            model.buffers.append(buffer)
            subgraph.tensors[op.outputs[0]].buffer = len(model.buffers) - 1
            replaced += 1
        if len(kept) != len(subgraph.operators or []):
            subgraph.operators = kept
            _drop_unused_tensors(model, subgraph_index)
    if replaced:
        _drop_unused_buffers(model)
    return replaced


def _folded(
    model: Any, subgraph: Any, op: Any, opcode: int, fold: Callable[[_Constant], np.ndarray | None]
) -> np.ndarray | None:
    code = model.operatorCodes[op.opcodeIndex]
    if max(code.builtinCode, code.deprecatedBuiltinCode) != opcode or len(op.inputs) != 1 or len(op.outputs) != 1:
        return None
    if op.outputs[0] in (subgraph.outputs or []):
        return None  # a model output must stay computed, not become a constant
    source = subgraph.tensors[op.inputs[0]]
    data = model.buffers[source.buffer].data if 0 < source.buffer < len(model.buffers) else None
    if data is None or len(data) == 0:
        return None  # not a constant
    return fold(_Constant(source.type, list(source.shape), source.sparsity, bytes(data)))


def _drop_unused_tensors(model: Any, subgraph_index: int) -> None:
    """Remove the tensors nothing refers to any more, renumbering every reference to the rest."""
    subgraph = model.subgraphs[subgraph_index]
    signatures = [s for s in model.signatureDefs or [] if s.subgraphIndex == subgraph_index]
    used = set(subgraph.inputs or []) | set(subgraph.outputs or [])
    for op in subgraph.operators:
        used.update(op.inputs or [], op.outputs or [], op.intermediates or [])
    for signature in signatures:
        used.update(m.tensorIndex for m in [*(signature.inputs or []), *(signature.outputs or [])])
    used.discard(-1)  # an omitted optional input
    new_index = {old: new for new, old in enumerate(sorted(used))}

    def renumber(indices: Iterable[int] | None) -> list[int]:
        return [new_index[i] if i >= 0 else i for i in indices or []]

    subgraph.tensors = [subgraph.tensors[old] for old in sorted(used)]
    subgraph.inputs, subgraph.outputs = renumber(subgraph.inputs), renumber(subgraph.outputs)
    for op in subgraph.operators:
        op.inputs, op.outputs = renumber(op.inputs), renumber(op.outputs)
        if op.intermediates:
            op.intermediates = renumber(op.intermediates)
    for signature in signatures:
        for mapping in [*(signature.inputs or []), *(signature.outputs or [])]:
            mapping.tensorIndex = new_index[mapping.tensorIndex]


def _drop_unused_buffers(model: Any) -> None:
    """Remove the buffers no tensor or metadata entry refers to (buffer 0 stays: the empty one by convention)."""
    holders = [t for s in model.subgraphs for t in s.tensors] + list(model.metadata or [])
    used = sorted({0} | {h.buffer for h in holders})
    new_index = {old: new for new, old in enumerate(used)}
    model.buffers = [model.buffers[old] for old in used]
    for holder in holders:
        holder.buffer = new_index[holder.buffer]


def _signature_key(model: Any) -> str:
    return str(_subgraph0_signature(model).signatureKey.decode())


def _subgraph0_signature(model: Any) -> Any:
    return next(s for s in model.signatureDefs or [] if s.subgraphIndex == 0)


def _calibration_signature(model: Any, schema: Any) -> tuple[list[str], bool]:
    """The signature input names in subgraph 0's input order, adding a signature when the model has none."""
    subgraph = model.subgraphs[0]
    existing = [s for s in model.signatureDefs or [] if s.subgraphIndex == 0]
    if existing:
        by_tensor = {m.tensorIndex: m.name.decode() for m in existing[0].inputs or []}
        missing = [_tensor_name(subgraph, i) for i in subgraph.inputs if i not in by_tensor]
        if missing:
            raise QuantizeError(f"signature {_signature_key(model)!r} lacks model input {missing[0]!r}")
        return [by_tensor[i] for i in subgraph.inputs], False
    signature = schema.SignatureDefT()
    signature.signatureKey, signature.subgraphIndex = SIGNATURE_KEY.encode(), 0
    signature.inputs = [_tensor_map(schema, subgraph, i) for i in subgraph.inputs]
    signature.outputs = [_tensor_map(schema, subgraph, i) for i in subgraph.outputs]
    model.signatureDefs = [*(model.signatureDefs or []), signature]
    return [_tensor_name(subgraph, i) for i in subgraph.inputs], True


def _tensor_map(schema: Any, subgraph: Any, index: int) -> Any:
    mapping = schema.TensorMapT()
    mapping.name, mapping.tensorIndex = _tensor_name(subgraph, index).encode(), index
    return mapping


def _tensor_name(subgraph: Any, index: int) -> str:
    name = subgraph.tensors[index].name
    return name.decode() if isinstance(name, bytes) else str(name)


def _feeds(model: Any, names: list[str], calibration: list[list[np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """The calibration samples as the calibrator takes them (signature input name → array), checked. A dynamic
    input's placeholder shape becomes the samples' own: the calibrator allocates the model at that shape before it
    feeds anything, and a placeholder (``1x1`` for ``[-1, -1]``) may be one no kernel can prepare."""
    subgraph = model.subgraphs[0]
    tensors = [subgraph.tensors[i] for i in subgraph.inputs]
    feeds = []
    for k, sample in enumerate(calibration):
        if len(sample) != len(tensors):
            raise QuantizeError(f"calibration sample {k} has {len(sample)} arrays, the model {len(tensors)} inputs")
        for name, array, tensor in zip(names, sample, tensors, strict=True):
            declared = list(tensor.shapeSignature if tensor.shapeSignature is not None else tensor.shape)
            same_rank = array.ndim == len(declared)
            if not same_rank or any(d >= 0 and d != a for d, a in zip(declared, array.shape, strict=True)):
                want = "x".join("?" if d < 0 else str(d) for d in declared)
                raise QuantizeError(f"calibration sample {k}: input {name!r} is {array.shape}, the model wants {want}")
        feeds.append({name: np.asarray(a, dtype=np.float32) for name, a in zip(names, sample, strict=True)})
    for tensor, array in zip(tensors, calibration[0], strict=True):
        tensor.shape = np.asarray(array.shape, dtype=np.int32)
    return feeds


def _quantize(
    flatbuffer: bytes,
    scheme: Scheme,
    feeds: dict[str, list[dict[str, np.ndarray]]] | None,
    float_io: bool,
    keep_float: tuple[str, ...],
) -> bytes:
    from ai_edge_quantizer import quantizer

    qt = quantizer.Quantizer(flatbuffer)
    _load_recipe(qt, scheme, float_io, keep_float)
    with _quiet():
        try:
            calibrated = qt.calibrate(feeds) if feeds is not None else None
            result = qt.quantize(calibrated, enable_progress_bar=False, enable_progress_report=False)
        except Exception as e:  # a library boundary: whatever it raises is this variant's failure
            first = (str(e).strip().splitlines() or [""])[0]
            raise QuantizeError(f"ai-edge-quantizer failed: {type(e).__name__}: {first}") from e
    if result.quantized_model is None:
        raise QuantizeError("ai-edge-quantizer returned no model")
    return bytes(result.quantized_model)


def op_scope(tensor: str) -> str:
    """The regex that picks the op whose outputs include ``tensor`` alone: ai-edge-quantizer names an op's scope
    by its output tensors' names, each followed by ';'."""
    return f"(^|;){re.escape(tensor)};"


def _load_recipe(qt: Any, scheme: Scheme, float_io: bool, keep_float: tuple[str, ...]) -> None:
    from ai_edge_quantizer import algorithm_manager, qtyping, recipe

    algorithms, ops = algorithm_manager.AlgorithmName, qtyping.TFLOperationName
    if scheme is Scheme.FP16:  # no named recipe: weight-only float casting to 16 bits
        qt.add_weight_only_config(".*", ops.ALL_SUPPORTED, num_bits=16, algorithm_key=algorithms.FLOAT_CASTING)
        return
    named = {Scheme.DYNAMIC_INT8: recipe.dynamic_wi8_afp32, Scheme.WEIGHT_INT8: recipe.weight_only_wi8_afp32}
    qt.load_quantization_recipe(named.get(scheme, recipe.static_wi8_ai8)())
    if scheme is Scheme.FULL_INT8 and float_io:  # the model's own inputs and outputs stay float32
        for end in (ops.INPUT, ops.OUTPUT):
            qt.update_quantization_recipe(".*", end, algorithm_key=algorithms.NO_QUANTIZE)
    for tensor in keep_float:  # added last: the quantiser takes the last rule that matches an op
        qt.update_quantization_recipe(op_scope(tensor), ops.ALL_SUPPORTED, algorithm_key=algorithms.NO_QUANTIZE)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The quantiser's progress bars and size report (printed whatever its flags say) swallowed, and what its
    warnings mean decided here rather than by the caller's warning filters."""
    output = contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO())
    with output[0], output[1], warnings.catch_warnings():
        # Its warnings ("for debugging only", "already partially quantized", "invalid value encountered in
        # cast") are not acted on: the checks that follow (size, scales, biases) name what went wrong.
        warnings.simplefilter("ignore")
        yield


INT32_LIMIT = 2**31 - 1


def _fit_biases(flatbuffer: bytes, float_model: Any, schema: Any) -> tuple[bytes, int]:
    """Rescale the int8 weight channels whose int32 bias overflowed, then check every bias; the channels fixed.

    A bias is stored in units of input scale × weight scale. For a channel whose float weights are (nearly)
    all zero the quantiser picks a weight scale near 0, so the bias overflows int32 and is cast to garbage
    (with only a warning). Any larger weight scale serves such a channel, as TFLite's own converter does:
    the one that puts the bias at 2**30, with the channel's weights re-quantised to it."""
    model = _read(flatbuffer)
    floats = {t.name: t for s in float_model.subgraphs for t in s.tensors}
    fixed = 0
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            code = model.operatorCodes[op.opcodeIndex]
            biased = max(code.builtinCode, code.deprecatedBuiltinCode) in _biased_ops(schema)
            if biased and len(op.inputs) > 2 and op.inputs[2] >= 0:
                x, w, b = (subgraph.tensors[i] for i in op.inputs[:3])
                # float constants of the given model, not tensors the quantiser made (from a sparse weight)
                known = all(_has_data(float_model, floats.get(t.name)) for t in (w, b))
                if b.type == schema.TensorType.INT32 and w.type == schema.TensorType.INT8 and x.quantization and known:
                    fixed += _fit_bias(model, x, w, b, floats[w.name], floats[b.name], float_model)
    return (_write(model) if fixed else flatbuffer), fixed


def _fit_bias(model: Any, x: Any, w: Any, b: Any, w_float: Any, b_float: Any, float_model: Any) -> int:
    """Rescale the overflowing channels of one op; the number rescaled. QuantizeError if a bias stays wrong."""
    weights = np.frombuffer(bytes(float_model.buffers[w_float.buffer].data), "<f4").reshape(w_float.shape)
    bias = np.frombuffer(bytes(float_model.buffers[b_float.buffer].data), "<f4").astype(np.float64)
    input_scale = float(np.asarray(x.quantization.scale)[0])
    w_scale = np.asarray(w.quantization.scale, dtype=np.float64).copy()
    axis = w.quantization.quantizedDimension
    overflow = np.abs(bias) / (input_scale * w_scale) > INT32_LIMIT
    if overflow.any() and len(w_scale) == len(bias):  # per-channel scales: a channel can be rescaled alone
        w_scale[overflow] = np.abs(bias[overflow]) / (input_scale * 2**30)
        moved = np.moveaxis(weights, axis, 0)[overflow].astype(np.float64)
        scale = w_scale[overflow].reshape((-1,) + (1,) * (moved.ndim - 1))
        stored = np.moveaxis(np.frombuffer(bytes(model.buffers[w.buffer].data), "i1").reshape(w.shape), axis, 0)
        stored = stored.copy()
        stored[overflow] = np.clip(np.round(moved / scale), -127, 127)
        model.buffers[w.buffer].data = np.moveaxis(stored, 0, axis).astype("i1").view(np.uint8).ravel()
        model.buffers[b.buffer].data = np.round(bias / (input_scale * w_scale)).astype("<i4").view(np.uint8)
        w.quantization.scale = w_scale.astype(np.float32).tolist()
        b.quantization.scale = (input_scale * w_scale).astype(np.float32).tolist()
    stored_bias = np.frombuffer(bytes(model.buffers[b.buffer].data), "<i4") * (input_scale * w_scale)
    if not np.all(np.abs(stored_bias - bias) <= np.maximum(input_scale * w_scale, 1e-6)):
        raise QuantizeError(f"bias {b.name.decode()!r} cannot be represented in int32 at its scale")
    return int(overflow.sum())


def _has_data(model: Any, tensor: Any) -> bool:
    data = model.buffers[tensor.buffer].data if tensor is not None and tensor.buffer else None
    return data is not None and len(data) > 0


def _biased_ops(schema: Any) -> set[int]:
    """The ops whose inputs are activation, weights, bias."""
    ops = schema.BuiltinOperator
    return {ops.CONV_2D, ops.DEPTHWISE_CONV_2D, ops.FULLY_CONNECTED}


def _check_scales(flatbuffer: bytes) -> None:
    """Every quantisation scale of the variant finite and positive (a NaN range would make garbage silently)."""
    model = _read(flatbuffer)
    for tensor in (t for s in model.subgraphs for t in s.tensors):
        scale = tensor.quantization.scale if tensor.quantization is not None else None
        if scale is not None and not np.all(np.isfinite(scale) & (np.asarray(scale) > 0)):
            raise QuantizeError(f"tensor {tensor.name.decode()!r} got a NaN, infinite or zero quantisation scale")


def _no_smaller(given: int, made: int, scheme: Scheme, dequantised: int, quantised: bool, sparse: int) -> str:
    if quantised:
        why = "the model is already quantised"
    elif scheme is Scheme.FP16 and dequantised:
        why = "its weights are already float16"
    elif sparse:
        why = f"its {sparse} sparse weights take more room quantised than sparse"
    else:
        why = "the quantiser found nothing to shrink"
    return f"no smaller than the model ({given} → {made} bytes): {why}"
