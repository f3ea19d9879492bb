"""Distillation into a user's student (``--student``): a smaller untrained CNN learns the bundled example's task
from the example model as teacher; without --student the distilled variants are not applicable and say what to
give; a student file that cannot serve is refused in one line naming --student and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter.checks import SourceError, check_student
from edgebench.cli import invoke
from edgebench.example import EXAMPLE_MODEL


def test_a_missing_student_is_one_line_naming_the_flag(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    command = ["convert", "--model", str(EXAMPLE_MODEL), "--student", "/nope", "--workdir", str(tmp_path)]
    assert invoke(command) == 2
    assert "Error: --student /nope: file not found\n" in capsys.readouterr().err
    assert not (tmp_path / "variants").exists()  # refused before any conversion


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("student.tflite", b"TFL3", "not a Keras model file (expects .keras or .h5)"),
        ("student.keras", b"not a zip", "cannot load it: not a Keras archive (not a zip file)"),
        ("student.h5", b"", "cannot load it: empty file"),
    ],
)
def test_a_student_file_that_is_no_keras_model_is_refused(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError) as refused:
        check_student(path)
    assert str(refused.value) == f"--student {path}: {problem}"


def test_a_student_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"^--student .* is a folder, not a Keras model file$"):
        check_student(tmp_path)
