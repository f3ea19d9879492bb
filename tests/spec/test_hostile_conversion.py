"""Conversion failures name their cause in one line (issue 31): what the host can tell is refused before the
converter starts; what only the converter meets comes back as its own line; a signal is named."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from converter.checks import SourceError, check_model
from converter.source import load_data
from converter.variant_cache import Entry, VariantCache
from converter.variants import failure_message
from edgebench import conversion
from edgebench.errors import EdgebenchError
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records import sha256_tree
from edgebench_records.catalogue import Options, unused_notes
from tests.spec.test_hostile_data import converter_started, digits, digits_model, one_error
from tests.support.real_models import FLOAT_WEIGHTS, real_model


def test_an_npz_whose_header_claims_a_billion_samples_is_refused_from_the_header(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    member = tmp_path / "x_val.npy"
    with member.open("wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f4", "fortran_order": False, "shape": (10**9, 4)})
        handle.write(bytes(64))
    data = tmp_path / "huge.npz"
    with zipfile.ZipFile(data, "w") as archive:
        archive.write(member, "x_val.npy")
    workdir = tmp_path / "wk"
    line = one_error(
        capsys, ["convert", "--model", str(real_model(FLOAT_WEIGHTS)), "--data", str(data), "--workdir", str(workdir)]
    )
    assert line == (
        f"edgebench: data file {data}: x_val's header claims 1000000000x4 float32 (16,000,000,000 bytes) "
        "but the file holds 192: truncated or corrupt"
    )
    assert not converter_started(workdir)


def image_folder(folder: Path, per_class: int, names: tuple[str, ...] = ("0.png", "1.png", "2.png")) -> Path:
    for label in ("cat", "dog"):
        (folder / label).mkdir(parents=True)
        for name in names[:per_class]:
            ok, encoded = cv2.imencode(".png", np.zeros((8, 8), np.uint8))
            assert ok
            (folder / label / name).write_bytes(encoded.tobytes())
    return folder


def test_a_val_split_that_leaves_no_training_image_is_refused_naming_the_flag(tmp_path: Path) -> None:
    folder = image_folder(tmp_path / "images", per_class=3)
    with pytest.raises(SourceError) as refused:
        load_data(folder, digits_model(), Options(val_split=0.9))
    assert str(refused.value) == (
        f"image folder {folder}: --val-split 0.9 leaves no image to train on; lower --val-split or add images"
    )


def test_an_image_whose_name_is_not_utf8_is_hashed_and_read(tmp_path: Path) -> None:
    undecodable = os.fsdecode(b"\xfe.png")  # a name Linux allows and UTF-8 cannot spell
    folder = image_folder(tmp_path / "images", per_class=2, names=("0.png", undecodable))
    assert len(sha256_tree(folder)) == 64
    data = load_data(folder, digits_model(), Options(val_split=0.5))
    assert data.train is not None and len(data.train[0]) + len(data.val[0]) == 4


def without_inputs(path: Path) -> Path:
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(real_model(FLOAT_WEIGHTS)))
    model.subgraphs[0].inputs = []
    model.signatureDefs = []
    flatbuffer_utils.write_model(model, str(path))
    return path


def test_a_tflite_with_no_inputs_is_refused_before_the_converter_starts(tmp_path: Path) -> None:
    model = without_inputs(tmp_path / "blind.tflite")
    with pytest.raises(SourceError, match="the model has no inputs: there is nothing to feed it or time"):
        check_model(model)


def test_a_model_path_that_is_not_utf8_is_refused_naming_it(tmp_path: Path) -> None:
    """LiteRT takes a path as UTF-8: given one that is not, the converter's interpreter could not open it."""
    model = tmp_path / os.fsdecode(b"\xff.tflite")
    model.write_bytes(real_model(FLOAT_WEIGHTS).read_bytes())
    with pytest.raises(SourceError) as refused:
        check_model(model)
    assert str(refused.value) == f"--model {model}: the path is not valid UTF-8, which LiteRT cannot open; rename it"


def test_a_file_where_the_variant_cache_belongs_is_refused_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    workdir = tmp_path / "wk"
    (workdir / "variants").mkdir(parents=True)
    (workdir / "variants" / "made").write_text("not a folder")
    line = one_error(capsys, ["convert", "--model", str(real_model(FLOAT_WEIGHTS)), "--workdir", str(workdir)])
    assert (
        line
        == f"edgebench: --workdir {workdir}: {workdir}/variants/made is not a folder (edgebench keeps variants there)"
    )
    assert not converter_started(workdir)


@pytest.mark.parametrize(
    "damage",
    [b"{not json", b"[1, 2]", b'{"sha256": null}', b'{"convert_s": 1}', b"null"],
)
def test_a_damaged_cache_record_is_a_miss_made_again(tmp_path: Path, damage: bytes) -> None:
    cache = VariantCache(tmp_path, {"model": "m"})
    key = cache.key("fp16", Options(), frozenset())
    cache.store("fp16", key, Entry(b"TFL3 bytes", 1.0, 0.0, ("a note",)))
    assert cache.load("fp16", key) == Entry(b"TFL3 bytes", 1.0, 0.0, ("a note",))
    record = next(tmp_path.glob("*.json"))
    record.write_bytes(damage)
    assert cache.load("fp16", key) is None
    record.write_text(json.dumps({"sha256": "x", "convert_s": 1, "finetune_s": 0, "notes": [1]}))
    assert cache.load("fp16", key) is None  # notes of another type


@pytest.mark.parametrize(
    ("reply", "returncode", "cause"),
    [
        ({}, -9, "killed by SIGKILL (out of memory?)"),
        ({}, -11, "killed by SIGSEGV"),
        ({"crash": "ValueError: need at least one array to stack"}, 1, "ValueError: need at least one array to stack"),
        ({}, 1, "exited with code 1"),
    ],
)
def test_a_converter_that_writes_no_manifest_is_reported_by_its_cause_and_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reply: dict[str, Any], returncode: int, cause: str
) -> None:
    def fake_converter(command: list[str], log: Path, on_object: Any, **how: Any) -> int:
        assert f"--log={log}" in command  # named in a crashed variant's message: its stack is there
        if reply:
            on_object(reply)
        return returncode

    monkeypatch.setattr(conversion, "stream_json_lines", fake_converter)
    model = real_model(FLOAT_WEIGHTS)
    with pytest.raises(EdgebenchError) as failed:
        conversion.convert(model, None, ["fp16"], tmp_path)
    message = str(failed.value)
    assert message.startswith(f"converter failed on {model}: {cause}; see {tmp_path}/logs/convert-")
    assert message.endswith(".log")


def test_a_keep_sparsity_no_variant_reads_is_said_unused_by_the_rule_the_student_follows() -> None:
    options = Options(keep_sparsity=True, student="s.keras")
    assert unused_notes(options, ["fp32", "pruned"]) == [
        "--keep-sparsity is not used: no variant in --variants reads it (only pruned_int8)",
        "--student s.keras is not used: no variant in --variants reads it (only distilled, distilled_int8)",
    ]
    assert unused_notes(options, ["pruned_int8", "distilled"]) == []
    assert unused_notes(Options(), ["fp32"]) == []  # a default is no choice of the user's


def test_an_unused_keep_sparsity_reuses_the_conversion_made_without_it() -> None:
    def key(options: Options, variants: list[str]) -> str:
        return conversion.cache_key("m", "d", variants, options)

    assert key(Options(keep_sparsity=True), ["fp32", "int8"]) == key(Options(), ["fp32", "int8"])
    assert key(Options(keep_sparsity=True), ["pruned_int8"]) != key(Options(), ["pruned_int8"])


def test_class_id_labels_with_a_one_hot_loss_are_refused_before_training() -> None:
    with pytest.raises(SourceError) as refused:
        load_data(EXAMPLE_DATA, digits_model(), Options(loss="categorical_crossentropy"))
    labels = digits()["y_train"]
    assert str(refused.value) == (
        f"--loss categorical_crossentropy needs one-hot labels, but the labels of {EXAMPLE_DATA} are class ids "
        f"(shape {labels.shape}): use --loss sparse_categorical_crossentropy, or auto"
    )


def test_an_error_raised_in_traced_code_is_reported_by_its_last_line() -> None:
    traced = ValueError(
        'in user code:\n\n    File "training.py", line 1377, in train_function  *\n        return step_function(self)\n'
        "\n    ValueError: Shapes (None, 1) and (None, 10) are incompatible\n"
    )
    assert failure_message(traced) == "ValueError: Shapes (None, 1) and (None, 10) are incompatible"


def test_an_input_shape_for_an_input_a_keras_model_lacks_is_refused_from_its_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    workdir = tmp_path / "wk"
    argv = ["convert", "--model", str(EXAMPLE_MODEL), "--workdir", str(workdir), "--input-shape", "nosuch:1x32x32x1"]
    line = one_error(capsys, argv)
    assert line == f"edgebench: --input-shape nosuch: model {EXAMPLE_MODEL} has no input 'nosuch' (its inputs: image)"
    assert not converter_started(workdir)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_truncated_image_is_refused_naming_it_never_decoded_with_grey_fill(tmp_path: Path, suffix: str) -> None:
    folder = image_folder(tmp_path / "images", per_class=3)
    noise = np.random.default_rng(0).integers(0, 255, (32, 32), np.uint8)  # enough data that a cut loses some
    ok, encoded = cv2.imencode(suffix, noise)
    assert ok
    cut = folder / "dog" / f"cut{suffix}"
    cut.write_bytes(encoded.tobytes()[: encoded.size // 2])
    with pytest.raises(SourceError) as refused:
        load_data(folder, digits_model(), Options())
    kind = "JPEG" if suffix == ".jpg" else "PNG"
    assert str(refused.value) == f"image {cut} is truncated: its {kind} data stops before its end; replace or remove it"
