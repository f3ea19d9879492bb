"""Keras models as teams build them (issue 29 items 3 and 4, issue 31 item 5): a file saved by Keras 3, a GRU
converted at batch 1, a custom layer given with --custom-objects, a Lambda layer refused in safe mode. Tiny models,
only the variants each spec needs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from device_runner.inputs import read_input_set
from edgebench.cli import invoke
from edgebench.conversion import convert
from edgebench_records import INPUT_SET_NAME, Manifest, read_manifest
from edgebench_records.catalogue import Options
from tests.spec.test_hostile_data import one_error
from tests.support.keras_models import CUSTOM, ROWS, STEPS, build

pytestmark = pytest.mark.slow
QUICK_RUN = ["--runs", "5", "--min-secs", "0", "--warmup-secs", "0", "--delegates", "xnnpack"]


def statuses(manifest: Manifest) -> dict[str, str]:
    return {v.name: v.status for v in manifest.variants}


def test_a_keras_3_model_gets_its_variants_made_and_measured_and_the_tfmot_ones_say_why_not(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    built = build("keras3_cnn", tmp_path / "model")
    work = tmp_path / "work"
    argv = ["run", "--model", str(built / "model.keras"), "--data", str(built / "data.npz"), "--workdir", str(work)]
    argv += ["--store", str(tmp_path / "h.sqlite"), "--variants", "fp32,fp16,int8,pruned", "--json", *QUICK_RUN]
    code = invoke(argv)
    captured = capsys.readouterr()

    assert code == 0, captured.err
    (run,) = json.loads(captured.out)["runs"]
    assert {(row["variant"], row["status"]) for row in run["rows"]} == {("fp32", "ok"), ("fp16", "ok"), ("int8", "ok")}
    assert all(row["top1"] is not None for row in run["rows"])
    (manifest,) = [read_manifest(folder) for folder in (work / "variants").glob("model-*")]
    fp32, *_, pruned = manifest.variants
    assert fp32.host_fp32_agreement == 1.0  # the Keras 3 model's own outputs, its variables and all
    assert pruned.status == "not_applicable"
    assert pruned.message.startswith(
        "needs a Keras 2 (tf_keras) model to fine-tune, as TFMOT does (the source was saved by Keras 3."
    )


def test_a_gru_converts_at_batch_1_and_runs_and_a_free_batch_is_kept_on_request(tmp_path: Path) -> None:
    built = build("gru", tmp_path / "model")
    model, data = built / "model.keras", built / "data.npz"
    manifest, _ = convert(model, data, ["fp32", "int8"], tmp_path / "one", options=Options(epochs=1))

    assert statuses(manifest) == {"fp32": "ok", "int8": "not_applicable"}, [v.message for v in manifest.variants]
    fp32, int8 = manifest.variants
    assert fp32.inputs[0].declared_shape == [1, STEPS, 4] and "WHILE" in " ".join(fp32.ops)
    assert fp32.host_fp32_agreement == 1.0
    assert int8.message.startswith("TensorFlow's int8 calibration crashes on a recurrent loop")

    free, _ = convert(model, data, ["fp32"], tmp_path / "free", options=Options(free_batch=True))
    (kept,) = free.variants
    assert kept.status == "failed" and "TensorListReserve" in kept.message and "\n" not in kept.message


def test_a_distilled_int8_is_refused_for_a_recurrent_loop_in_the_student_it_converts_not_in_the_teacher(
    tmp_path: Path,
) -> None:
    gru, lstm = build("gru", tmp_path / "gru"), build("lstm", tmp_path / "lstm")
    options = Options(epochs=1, batch_size=16)
    # an LSTM teacher (fused: no loop) and a GRU student (a WHILE loop): refused before it trains, not crashed
    teacher = dataclasses.replace(options, student=str(gru / "model.keras"))
    manifest, _ = convert(lstm / "model.keras", lstm / "data.npz", ["distilled_int8"], tmp_path / "a", options=teacher)
    (refused,) = manifest.variants
    assert refused.status == "not_applicable"
    assert refused.message.startswith("TensorFlow's int8 calibration crashes on a recurrent loop")
    # a GRU teacher and an LSTM student: the student calibrates, whatever the teacher's loop
    student = dataclasses.replace(options, student=str(lstm / "model.keras"))
    manifest, _ = convert(gru / "model.keras", gru / "data.npz", ["distilled_int8"], tmp_path / "b", options=student)
    (made,) = manifest.variants
    assert made.status == "ok", made.message
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in " ".join(made.ops)


def test_an_lstm_is_pruned_and_quantisation_aware_trained_and_qat_says_it_left_the_lstm_float(tmp_path: Path) -> None:
    built = build("lstm", tmp_path / "model")
    options = Options(epochs=1, batch_size=16)
    manifest, _ = convert(built / "model.keras", built / "data.npz", ["pruned", "qat_int8"], tmp_path, options=options)
    assert statuses(manifest) == {"pruned": "ok", "qat_int8": "ok"}, [v.message for v in manifest.variants]
    pruned, qat = manifest.variants
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in " ".join(qat.ops)  # fused: no loop, so int8 calibrates
    assert not any(note.startswith("left as they were") for note in pruned.notes)  # pruning wraps an LSTM
    assert "left as they were by TFMOT's QAT, which does not support them: lstm (LSTM)" in qat.notes


def test_a_transformer_block_at_batch_1_loses_the_shape_glue_a_free_batch_needs(tmp_path: Path) -> None:
    built = build("transformer", tmp_path / "model")
    manifest, _ = convert(built / "model.keras", built / "data.npz", ["fp32"], tmp_path / "work")
    (fp32,) = manifest.variants
    assert fp32.status == "ok" and fp32.host_fp32_agreement == 1.0
    ops = {op.split()[0] for op in fp32.ops}
    assert "BATCH_MATMUL" in ops and not ops & {"SHAPE", "FILL", "PACK", "REDUCE_PROD"}, ops


def test_a_keras_embeddings_synthetic_ids_span_its_rows_as_a_tflites_do(tmp_path: Path) -> None:
    """Read from the source's float conversion, as from a given .tflite: calibrated and checked on the whole table,
    not on ids 0..9."""
    built = build("embedding", tmp_path / "model")
    manifest, folder = convert(built / "model.keras", None, ["int8"], tmp_path / "work", options=Options())
    assert statuses(manifest) == {"int8": "ok"}, [v.message for v in manifest.variants]
    (ids,) = read_input_set(folder / INPUT_SET_NAME).inputs
    assert ids.dtype == np.int32 and ids.min() >= 0 and ids.max() < ROWS
    assert len(np.unique(ids)) > ROWS // 2  # a few hundred distinct rows, where small values would give ten


def test_a_custom_layer_loads_with_custom_objects_and_without_them_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    built = build("custom_layer", tmp_path / "model")
    model = built / "model.keras"
    argv = ["convert", "--model", str(model), "--workdir", str(tmp_path / "work"), "--variants", "fp32"]
    assert one_error(capsys, argv) == (
        f"edgebench: cannot load model {model}: layer 'scale' is a Scale, which tf_keras does not know: give the "
        "module that defines it with --custom-objects PATH_OR_MODULE"
    )
    options = Options(custom_objects=str(built / f"{CUSTOM}.py"))
    manifest, _ = convert(model, None, ["fp32"], tmp_path / "work", options=options)
    assert statuses(manifest) == {"fp32": "ok"} and manifest.variants[0].host_fp32_agreement == 1.0

    # a student goes through the same loader: an .h5 one with a Lambda layer is warned about (same shapes: 6 → 3)
    student = build("lambda_layer", tmp_path / "student") / "model.h5"
    distilling = dataclasses.replace(options, student=str(student))
    manifest, _ = convert(model, None, ["distilled"], tmp_path / "work", options=distilling)
    assert statuses(manifest) == {"distilled": "not_applicable"}  # no labelled data
    assert manifest.data_notes[0].startswith("warning: model model.h5 has Lambda layer 'double', whose Python code")


def test_a_lambda_layer_is_refused_in_safe_mode_and_loads_when_trusted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    built = build("lambda_layer", tmp_path / "model")
    model = built / "model.keras"
    argv = ["convert", "--model", str(model), "--workdir", str(tmp_path / "work"), "--variants", "fp32"]
    assert one_error(capsys, argv) == (
        f"edgebench: cannot load model {model}: layer 'double' is a Lambda layer, whose Python code would run on "
        "load (refused in safe mode): give --trust-model-code if you trust this file, or make it a custom layer and "
        "give --custom-objects"
    )
    trusted, _ = convert(model, None, ["fp32"], tmp_path / "work", options=Options(trust_model_code=True))
    assert statuses(trusted) == {"fp32": "ok"}

    h5, _ = convert(built / "model.h5", None, ["fp32"], tmp_path / "work")  # no safe mode: loaded, and said
    assert statuses(h5) == {"fp32": "ok"}
    assert h5.data_notes[0] == (
        "warning: model model.h5 has Lambda layer 'double', whose Python code ran as it loaded (an .h5 has no safe "
        "mode): load only models you trust, or save it as .keras"
    )
