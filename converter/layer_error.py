"""Per-layer quantisation error: each op of an int8-family variant against the float32 model, on the same inputs.

Method (ai-edge-quantizer's validation does the same for its own output, on the interpreter's preserved
tensors): both models are copied with every op's outputs exposed (``flatbuffer.with_outputs``, as the culprit
search's probe), both copies run on LiteRT's reference kernels over the first ``LAYER_SAMPLES`` validation inputs,
and each tensor of the variant is compared, de-quantised, with the fp32 tensor of the same name and shape. Tensors
correspond by name only: TensorFlow's converter and ai-edge-quantizer both keep a layer's tensor names through
quantisation, while a variant rebuilt from a fine-tuned model (QAT's ``quant_`` layers) or another graph shares
none, and is then said to have no per-layer figures rather than matched by guesswork.

The error of a tensor is the culprit search's drift: RMS(variant - fp32) over the fp32 tensor's standard
deviation, pooled over the samples, so an offset counts as much as a scale error. An op's own share (``added``)
is its output's error less the largest error reaching its inputs: the error a tensor shows grows down the graph,
and only what an op adds points at the op. The QUANTIZE and DEQUANTIZE ops a quantiser inserts have no fp32
namesake: they pass the error that reaches them on.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converter.checks import first_line
from converter.ports import layout_of
from converter.source import Data, SourceModel
from converter.variants import Made
from device_runner.culprit import TensorDrift, exposed, weights_only
from device_runner.engines import Engine, InterpreterEngine, fed_shapes
from device_runner.flatbuffer import Graph, ModelFormatError, read_graph, read_model_info, with_outputs
from device_runner.runtime import load_runtime
from edgebench_records import LayerError, VariantState

LAYER_SAMPLES = 32  # enough to pool each tensor's spread; the comparison runs both models once per sample
UNAVAILABLE = "per-layer error unavailable"
QUANTISED_DTYPES = frozenset({"int8", "uint8", "int16"})
CASTS = frozenset({"QUANTIZE", "DEQUANTIZE"})  # what a quantiser inserts between int8 and float ops


class Unavailable(Exception):
    """The variant cannot be compared with fp32 layer by layer; the message says why in one line."""


def quantised(flatbuffer: bytes) -> bool:
    """The model holds an integer-quantised tensor (weights or activations): an int8-family variant."""
    try:
        graph = read_graph(flatbuffer)
    except ModelFormatError:
        return False
    # a stored integer tensor is a quantised weight (its scales per channel, which the reader leaves at 0); an
    # integer activation counts only with its scale: raw integer inputs (token ids, PCM samples) are no quantising
    tensors = zip(graph.tensors, graph.stored, strict=True)
    return any(tensor.dtype in QUANTISED_DTYPES and (stored or tensor.scale) for tensor, stored in tensors)


def float_layers(flatbuffer: bytes) -> list[str]:
    """In a model whose activations are int8, the ops that compute in float32 all the same (what mixed_int8
    keeps float): each by its first output's name. Empty for a model whose activations are all float."""
    graph = read_graph(flatbuffer)
    weights = weights_only(graph)
    data = [(k, node) for k, node in enumerate(graph.nodes) if k not in weights and node.outputs]
    if not any(node.outputs[0].dtype in QUANTISED_DTYPES for _, node in data):
        return []
    return [
        node.outputs[0].name for _, node in data if node.op.name not in CASTS and node.outputs[0].dtype == "float32"
    ]


@dataclass(frozen=True)
class _Probe:
    """A model with every op's outputs exposed, open on the reference kernels."""

    graph: Graph
    engine: Engine
    outputs: list[int]  # the tensor index of each of the probe's outputs

    def run(self, sample: list[np.ndarray]) -> list[np.ndarray]:
        self.engine.set_inputs(sample)
        self.engine.invoke()
        return self.engine.outputs()


@contextmanager
def _probe(flatbuffer: bytes, sample: list[np.ndarray], folder: Path, name: str) -> Iterator[_Probe]:
    graph = read_graph(flatbuffer)
    data, outputs = with_outputs(flatbuffer, exposed(graph))
    info = read_model_info(data)
    path = folder / f"{name}.tflite"
    path.write_bytes(data)
    engine = InterpreterEngine(load_runtime(), path, info, "cpu", 1, fed_shapes(info, sample))
    yield _Probe(graph, engine, outputs)


def correspondence(variant: _Probe, reference: _Probe) -> dict[int, int]:
    """For each exposed output of the variant, the exposed output of the reference holding the tensor of the same
    name and shape (by position in each probe's outputs)."""
    by_name = {}
    for position, tensor in enumerate(reference.outputs):
        info = reference.graph.tensors[tensor]
        by_name[info.name] = (position, info.shape)
    pairs = {}
    for position, tensor in enumerate(variant.outputs):
        info = variant.graph.tensors[tensor]
        found = by_name.get(info.name)
        if found is not None and found[1] == info.shape:
            pairs[position] = found[0]
    return pairs


def layer_errors(
    float32: bytes, float_inputs: list[np.ndarray], variant: bytes, variant_inputs: list[np.ndarray]
) -> list[LayerError]:
    """Each compared op of ``variant`` in execution order; the inputs are the same samples, each model's inputs in
    its own order (``Layout.feed``). ``Unavailable`` when nothing corresponds or a model cannot run here."""
    count = min(LAYER_SAMPLES, len(float_inputs[0]) if float_inputs else 0)
    if count == 0:
        raise Unavailable(f"{UNAVAILABLE}: no validation inputs to run the models on")
    try:
        with tempfile.TemporaryDirectory(prefix="edgebench-layers-") as folder:
            first_float, first_variant = [x[0] for x in float_inputs], [x[0] for x in variant_inputs]
            with (
                _probe(float32, first_float, Path(folder), "fp32") as reference,
                _probe(variant, first_variant, Path(folder), "variant") as probe,
            ):
                pairs = correspondence(probe, reference)
                if not pairs:
                    raise Unavailable(f"{UNAVAILABLE}: none of its tensors has a namesake of its shape in fp32")
                sums = {position: TensorDrift() for position in pairs}
                for k in range(count):
                    want = reference.run([x[k] for x in float_inputs])
                    got = probe.run([x[k] for x in variant_inputs])
                    for position, total in sums.items():
                        total.add(got[position], want[pairs[position]])
    except (ModelFormatError, RuntimeError, ValueError) as exc:  # a model the host's runtime cannot load or run
        raise Unavailable(
            f"{UNAVAILABLE}: the models could not be run layer by layer here ({first_line(exc)})"
        ) from exc
    return per_op(probe.graph, {probe.outputs[position]: total.drift for position, total in sums.items()})


def per_op(graph: Graph, tensor_error: dict[int, float]) -> list[LayerError]:
    """Each op with a compared output: its worst output's error and what it added to the error reaching it."""
    reaching: dict[int, float] = {}  # per data tensor: the error it carries (compared, or passed on)
    found = []
    for index, node in enumerate(graph.nodes):
        carried = max((reaching.get(t, 0.0) for t in node.input_ids if t >= 0 and not graph.stored[t]), default=0.0)
        for tensor in node.output_ids:
            reaching[tensor] = tensor_error.get(tensor, carried)
        compared = [(tensor_error[t], t) for t in node.output_ids if t in tensor_error]
        if compared:
            worst, tensor = max(compared)
            found.append(
                LayerError(index, node.op.name, graph.tensors[tensor].name, _rounded(worst), _rounded(worst - carried))
            )
    return found


def _rounded(value: float) -> float:
    """Four significant figures, never below zero: enough to rank, and a manifest a person can read."""
    return float(f"{max(0.0, value):.4g}")


def compare_layers(
    made: list[Made], out: Path, float32: Callable[[], bytes], source: SourceModel, data: Data
) -> list[Made]:
    """Each int8-family variant made in ``out`` with its per-layer error against ``float32()`` (the source's float
    model), or the reason it has none; the other variants as they were."""
    samples = [x[:LAYER_SAMPLES] for x in data.val]
    reference: tuple[bytes, list[np.ndarray]] | str | None = None  # made on the first variant that needs it
    compared = []
    for m in made:
        flatbuffer = _flatbuffer(m, out)
        if flatbuffer is None or m.layout is None or not quantised(flatbuffer):
            compared.append(m)
            continue
        if reference is None:
            reference = _float_reference(float32, source, samples)
        try:
            if isinstance(reference, str):
                raise Unavailable(reference)
            errors = layer_errors(reference[0], reference[1], flatbuffer, m.layout.feed(samples))
            record = dataclasses.replace(m.record, layer_errors=errors, float_layers=float_layers(flatbuffer))
        except Unavailable as exc:
            record = dataclasses.replace(m.record, layer_error_note=str(exc))
        compared.append(dataclasses.replace(m, record=record))
    return compared


def _flatbuffer(m: Made, out: Path) -> bytes | None:
    """A made variant's bytes; None for the given file (the source itself) and variants not made."""
    if m.record.name == "given" or m.record.status != VariantState.OK or m.record.file is None:
        return None
    return (out / m.record.file).read_bytes()


def _float_reference(
    float32: Callable[[], bytes], source: SourceModel, samples: list[np.ndarray]
) -> tuple[bytes, list[np.ndarray]] | str:
    """The float model and the samples in its input order, or why there is none to compare with."""
    try:
        flatbuffer = float32()
    except Exception as exc:  # the float conversion failing is the reason, not the conversion's end
        return f"{UNAVAILABLE}: no float32 model to compare with ({first_line(exc)})"
    if quantised(flatbuffer):
        return f"{UNAVAILABLE}: the source is quantised itself, so there is no float32 model to compare with"
    try:
        layout = layout_of(flatbuffer, read_model_info(flatbuffer), source)
    except ValueError as exc:
        return f"{UNAVAILABLE}: {first_line(exc)}"
    return flatbuffer, layout.feed(samples)
