"""Distillation into a user's student (``--student``): a smaller untrained CNN learns the bundled example's task
from the example model as teacher; without --student the distilled variants are not applicable and say what to
give; a student file that cannot serve is refused in one line naming --student and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.conversion import convert
from edgebench.errors import EdgebenchError
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records.catalogue import Options
from tests.conftest import variant_of
from tests.support.keras_models import build

DISTILLED = ("distilled", "distilled_int8")


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build("student", tmp_path_factory.mktemp("student")) / "student.keras"


@pytest.mark.slow
def test_a_small_student_learns_the_task_from_the_teacher(student: Path, tmp_path: Path) -> None:
    untrained, _ = convert(student, EXAMPLE_DATA, ["fp32"], tmp_path / "untrained", options=Options())
    before = variant_of(untrained, "fp32").host_top1
    assert before is not None and before < 0.3  # a guess among ten classes

    options = Options(epochs=3, student=str(student))
    manifest, _ = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", *DISTILLED], tmp_path, options=options)
    fp32 = variant_of(manifest, "fp32")
    assert fp32.figures is not None
    for name in DISTILLED:
        record = variant_of(manifest, name)
        assert record.status == "ok", f"{name}: {record.message}"
        assert record.host_top1 is not None and record.host_top1 > before + 0.3, name
        assert record.figures is not None and record.figures.total_params < 0.2 * fp32.figures.total_params
        assert "student.keras distilled from the source" in record.recipe


@pytest.mark.slow
def test_without_a_student_the_distilled_variants_say_to_give_one(tmp_path: Path) -> None:
    manifest, _ = convert(EXAMPLE_MODEL, EXAMPLE_DATA, list(DISTILLED), tmp_path, options=Options())
    for record in manifest.variants:
        assert record.status == "not_applicable", record.name
        assert "give --student PATH" in record.message


@pytest.mark.slow
def test_a_student_of_other_shapes_is_refused_naming_both(tmp_path: Path) -> None:
    wrong = build("five_class_student", tmp_path / "five") / "student.keras"
    options = Options(epochs=1, student=str(wrong))
    with pytest.raises(EdgebenchError) as refused:  # the user's to fix: exit 2, not one failed variant
        convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "distilled"], tmp_path / "out", options=options)
    assert str(refused.value) == (
        f"--student {wrong} takes 32x32x1 and gives 5; the source model digits_mobilenet takes 32x32x1 and gives 10"
    )


@pytest.mark.slow
def test_a_student_no_variant_uses_is_said_to_be_unused(student: Path, tmp_path: Path) -> None:
    manifest, _ = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32"], tmp_path, options=Options(student=str(student)))
    assert (
        f"--student {student} is not used: no variant in --variants reads it (only distilled, distilled_int8)"
        in manifest.data_notes
    )
