"""Variants from a float .tflite alone (ai-edge-quantizer, no TensorFlow), on real pre-trained models.

Each variant is compared with the model it was made from on a few seeded image-like inputs (values in
[0, 1]), run with the real ai-edge-litert interpreter: it must be smaller and its outputs close (cosine).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from converter.tflite_quantize import QuantizeError, Scheme, quantize_tflite
from tests.support.real_models import FLOAT_WEIGHTS, FP16_WEIGHTS, MANY_OUTPUTS, SPARSE_WEIGHTS, real_model

# Per output and sample, what a usable variant keeps of the float model. Full int8 also rounds every
# activation to 256 levels: a detector's 896 anchor scores on noise-like inputs lose more there.
MIN_COSINE = {Scheme.FP16: 0.99, Scheme.DYNAMIC_INT8: 0.99, Scheme.WEIGHT_INT8: 0.99, Scheme.FULL_INT8: 0.95}
CALIBRATION_SAMPLES = 4  # enough for the test, quick to calibrate


def interpreter(flatbuffer: bytes) -> object:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=flatbuffer)
    it.allocate_tensors()
    return it


def samples(flatbuffer: bytes, n: int, seed: int) -> list[list[np.ndarray]]:
    """``n`` seeded samples, one float32 array per model input, shaped as the model wants it."""
    rng = np.random.default_rng(seed)
    shapes = [tuple(d["shape"]) for d in interpreter(flatbuffer).get_input_details()]  # type: ignore[attr-defined]
    return [[rng.uniform(0.0, 1.0, shape).astype(np.float32) for shape in shapes] for _ in range(n)]


def outputs(flatbuffer: bytes, sample: list[np.ndarray]) -> list[np.ndarray]:
    """Every output for one sample, as float32; integer inputs and outputs (de)quantised per tensor."""
    it = interpreter(flatbuffer)
    for detail, x in zip(it.get_input_details(), sample, strict=True):  # type: ignore[attr-defined]
        scale, zero = detail["quantization"]
        value = np.round(x / scale + zero).astype(detail["dtype"]) if scale else x.astype(detail["dtype"])
        it.set_tensor(detail["index"], value)  # type: ignore[attr-defined]
    it.invoke()  # type: ignore[attr-defined]
    result = []
    for detail in it.get_output_details():  # type: ignore[attr-defined]
        y = it.get_tensor(detail["index"]).astype(np.float32)  # type: ignore[attr-defined]
        scale, zero = detail["quantization"]
        result.append((y - zero) * scale if scale else y)
    return result


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def worst_cosine(given: bytes, variant: bytes) -> float:
    """The lowest output cosine of ``variant`` against ``given`` over a few inputs it was not calibrated on."""
    return min(
        cosine(a, b)
        for sample in samples(given, 3, seed=1)
        for a, b in zip(outputs(given, sample), outputs(variant, sample), strict=True)
    )


def model_object(flatbuffer: bytes) -> object:
    from ai_edge_litert.tools import flatbuffer_utils

    return flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))


def calibration(flatbuffer: bytes, scheme: Scheme) -> list[list[np.ndarray]] | None:
    return samples(flatbuffer, CALIBRATION_SAMPLES, seed=0) if scheme is Scheme.FULL_INT8 else None


@pytest.mark.parametrize("scheme", list(Scheme))
def test_every_scheme_makes_a_smaller_faithful_variant_of_a_float_model(scheme: Scheme) -> None:
    given = real_model(FLOAT_WEIGHTS).read_bytes()
    made = quantize_tflite(given, scheme, calibration(given, scheme))
    assert len(made.flatbuffer) < len(given)
    assert worst_cosine(given, made.flatbuffer) >= MIN_COSINE[scheme]


@pytest.mark.parametrize("scheme", [Scheme.DYNAMIC_INT8, Scheme.WEIGHT_INT8, Scheme.FULL_INT8])
def test_an_fp16_weight_model_is_dequantised_first_then_quantised(scheme: Scheme) -> None:
    given = real_model(FP16_WEIGHTS).read_bytes()
    made = quantize_tflite(given, scheme, calibration(given, scheme))
    assert len(made.flatbuffer) < len(given)
    assert worst_cosine(given, made.flatbuffer) >= MIN_COSINE[scheme]
    assert any(note.startswith("fp16 weights de-quantised to float32 first") for note in made.notes)


def test_the_fp16_variant_of_an_fp16_weight_model_fails_saying_so() -> None:
    """Its weights already are float16: the variant would be the given model again, so it is not one."""
    with pytest.raises(QuantizeError, match=r"no smaller than the model .*already float16"):
        quantize_tflite(real_model(FP16_WEIGHTS).read_bytes(), Scheme.FP16)


def test_a_dequantised_fp16_model_keeps_no_float16_weight() -> None:
    made = quantize_tflite(real_model(FP16_WEIGHTS).read_bytes(), Scheme.WEIGHT_INT8)
    from ai_edge_litert import schema_py_generated as schema

    model = model_object(made.flatbuffer)
    types = {t.type for s in model.subgraphs for t in s.tensors}  # type: ignore[attr-defined]
    assert schema.TensorType.FLOAT16 not in types


def test_sparse_weights_are_left_as_they_are_and_said_so() -> None:
    """Densified they would take more room in int8 than they do sparse in fp16; the dense ones are quantised."""
    given = real_model(SPARSE_WEIGHTS).read_bytes()
    made = quantize_tflite(given, Scheme.WEIGHT_INT8)
    assert "38 sparse weights left as they are (the quantiser skips them)" in made.notes
    assert len(made.flatbuffer) < len(given)


def test_old_format_opcodes_are_normalised_before_quantising() -> None:
    """Old converters set only deprecated_builtin_code: unrepaired, every op reads as ADD, nothing is quantised."""
    given = real_model(FLOAT_WEIGHTS).read_bytes()
    codes = model_object(given).operatorCodes  # type: ignore[attr-defined]
    assert any(c.builtinCode < c.deprecatedBuiltinCode for c in codes)  # the model is one of those
    made = quantize_tflite(given, Scheme.WEIGHT_INT8)
    assert "old-format opcodes normalised (only deprecated_builtin_code was set)" in made.notes
    assert len(made.flatbuffer) < len(given)


def test_full_int8_adds_the_signature_its_calibration_needs() -> None:
    given = real_model(FLOAT_WEIGHTS).read_bytes()
    assert not model_object(given).signatureDefs  # type: ignore[attr-defined]
    made = quantize_tflite(given, Scheme.FULL_INT8, calibration(given, Scheme.FULL_INT8))
    assert "signature 'serving_default' added for calibration" in made.notes


def test_full_int8_calibrates_through_the_signature_a_model_has() -> None:
    """A model with its own signature (key and input names of its own) is calibrated through it, unchanged."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model: Any = model_object(real_model(FLOAT_WEIGHTS).read_bytes())
    subgraph = model.subgraphs[0]
    signature = schema.SignatureDefT()
    signature.signatureKey, signature.subgraphIndex = b"main", 0
    signature.inputs, signature.outputs = [], []
    for k, index in enumerate(subgraph.inputs):
        signature.inputs.append(schema.TensorMapT())
        signature.inputs[-1].name, signature.inputs[-1].tensorIndex = f"image_{k}".encode(), index
    for k, index in enumerate(subgraph.outputs):
        signature.outputs.append(schema.TensorMapT())
        signature.outputs[-1].name, signature.outputs[-1].tensorIndex = f"out_{k}".encode(), index
    model.signatureDefs = [signature]
    given = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
    made = quantize_tflite(given, Scheme.FULL_INT8, calibration(given, Scheme.FULL_INT8))
    assert not any("signature" in note for note in made.notes)
    keys = [s.signatureKey for s in model_object(made.flatbuffer).signatureDefs]  # type: ignore[attr-defined]
    assert keys == [b"main"]


def test_full_int8_has_int8_inputs_and_outputs_unless_float_io() -> None:
    given = real_model(FLOAT_WEIGHTS).read_bytes()
    cal = calibration(given, Scheme.FULL_INT8)
    for float_io, dtype in [(False, np.int8), (True, np.float32)]:
        it = interpreter(quantize_tflite(given, Scheme.FULL_INT8, cal, float_io=float_io).flatbuffer)
        details = it.get_input_details() + it.get_output_details()  # type: ignore[attr-defined]
        assert {d["dtype"] for d in details} == {dtype}, float_io


def test_full_int8_without_calibration_samples_fails() -> None:
    with pytest.raises(QuantizeError, match="full int8 needs calibration samples"):
        quantize_tflite(real_model(FLOAT_WEIGHTS).read_bytes(), Scheme.FULL_INT8, None)


def test_a_calibration_sample_of_the_wrong_shape_names_the_input() -> None:
    wrong = [[np.zeros((1, 32, 32, 3), np.float32)]]
    with pytest.raises(QuantizeError, match=r"calibration sample 0: input 'input_1' is \(1, 32, 32, 3\).*1x64x64x3"):
        quantize_tflite(real_model(FLOAT_WEIGHTS).read_bytes(), Scheme.FULL_INT8, wrong)


@pytest.mark.parametrize("scheme", [Scheme.DYNAMIC_INT8, Scheme.WEIGHT_INT8])
def test_a_variant_no_smaller_than_its_model_is_an_error(scheme: Scheme) -> None:
    """Quantising a quantised model again changes nothing ("Quantization Ratio: 1.00"): never a variant."""
    once = quantize_tflite(real_model(FLOAT_WEIGHTS).read_bytes(), scheme).flatbuffer
    with pytest.raises(QuantizeError, match=r"no smaller than the model .*already quantised"):
        quantize_tflite(once, scheme)


def test_a_variant_keeps_every_output_in_order() -> None:
    given = real_model(MANY_OUTPUTS).read_bytes()
    made = quantize_tflite(given, Scheme.WEIGHT_INT8).flatbuffer
    shapes = [[tuple(d["shape"]) for d in interpreter(m).get_output_details()] for m in (given, made)]  # type: ignore[attr-defined]
    assert len(shapes[0]) == 4
    assert shapes[1] == shapes[0]
    sample = samples(given, 1, seed=1)[0]
    assert all(np.isfinite(y).all() for y in outputs(made, sample))


def test_full_int8_rescales_the_biases_of_all_zero_weight_channels_to_fit_int32() -> None:
    """hand_landmark_lite has pruned (all-zero) weight channels with a bias: the quantiser gives them a weight
    scale near 0, so bias / (input scale × weight scale) overflows int32 and is cast to garbage (INT32_MIN
    here) with only a warning. Rescaled, every bias is a proper int32 value."""
    from ai_edge_litert import schema_py_generated as schema

    given = real_model(MANY_OUTPUTS).read_bytes()
    made = quantize_tflite(given, Scheme.FULL_INT8, calibration(given, Scheme.FULL_INT8))
    assert any("bias channels rescaled to fit int32" in note for note in made.notes)
    model: Any = model_object(made.flatbuffer)
    biased = {schema.BuiltinOperator.CONV_2D, schema.BuiltinOperator.DEPTHWISE_CONV_2D}
    biases = [
        np.frombuffer(bytes(model.buffers[model.subgraphs[0].tensors[op.inputs[2]].buffer].data), "<i4")
        for op in model.subgraphs[0].operators
        if model.operatorCodes[op.opcodeIndex].builtinCode in biased
    ]
    assert biases
    assert all(np.abs(b.astype(np.int64)).max() < 2**31 - 1 for b in biases)


def test_a_file_that_is_not_a_model_fails_in_one_line() -> None:
    with pytest.raises(QuantizeError, match=r"^not a \.tflite flatbuffer"):
        quantize_tflite(b"PK\x03\x04 not a model", Scheme.FP16)
