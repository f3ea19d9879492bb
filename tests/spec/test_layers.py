"""Which package may import which, read from the sources with ast (nothing is imported or run).

edgebench_records is what every side reads, so it needs nothing but the standard library; device_runner goes onto
boards beside it with only numpy and a LiteRT runtime; the converter runs in its own process and imports nothing
of edgebench; and the store, report and gate read records, never the converter (or TensorFlow through it).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STANDARD_LIBRARY = frozenset(sys.stdlib_module_names)
RUNTIMES = frozenset({"numpy", "ai_edge_litert", "tflite_runtime"})  # what a board has installed


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # as written: "edgebench_records.protocol", "numpy"

    @property
    def package(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.module}"


def imports(*sources: str) -> list[Import]:
    """Every absolute import in the files or folders ``sources`` (relative to the repo), wherever it stands: a
    function body or an ``if TYPE_CHECKING:`` block binds the layers as much as the top of the module."""
    paths = [p for s in sources for p in ([ROOT / s] if s.endswith(".py") else sorted((ROOT / s).rglob("*.py")))]
    assert paths, f"no sources in {sources}"
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found += [Import(path, node.lineno, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append(Import(path, node.lineno, node.module))
    return found


def test_the_records_import_only_the_standard_library_and_themselves() -> None:
    allowed = STANDARD_LIBRARY | {"edgebench_records"}
    assert [str(i) for i in imports("edgebench_records") if i.package not in allowed] == []


def test_the_device_runner_imports_only_what_a_board_has() -> None:
    allowed = STANDARD_LIBRARY | RUNTIMES | {"device_runner", "edgebench_records"}
    assert [str(i) for i in imports("device_runner") if i.package not in allowed] == []


def test_the_converter_imports_nothing_of_edgebench() -> None:
    assert [str(i) for i in imports("converter") if i.package == "edgebench"] == []


@pytest.mark.parametrize(
    "source", ["edgebench/store.py", "edgebench/plan.py", "edgebench/resume.py", "edgebench/report", "edgebench/gate"]
)
def test_the_store_report_and_gate_read_records_without_the_converter(source: str) -> None:
    assert [str(i) for i in imports(source) if i.package == "converter"] == []


def test_a_forbidden_import_is_found_wherever_it_stands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself: imports in a function and under TYPE_CHECKING count; relative ones stay in the package."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nfrom . import b\nif TYPE_CHECKING:\n    import edgebench.cli\n"
        "def f() -> None:\n    from converter.recipes import RECIPES\n"
    )
    assert [str(i) for i in imports("pkg")] == [
        "pkg/a.py:1: typing",
        "pkg/a.py:4: edgebench.cli",
        "pkg/a.py:6: converter.recipes",
    ]
