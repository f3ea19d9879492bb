"""A plain ``pip install edgebench`` (no [convert] extra): .tflite files are measured, stored, reported and
gated without TensorFlow, and whatever needs TensorFlow says which extra brings it.

Each spec runs the real ``edgebench`` in a process where TensorFlow cannot be imported (a sitecustomize
on PYTHONPATH, so the converter and the sweep that edgebench starts inherit it): the packages are
installed in this venv, but nothing on these paths may reach them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL

EDGEBENCH = str(Path(sys.executable).with_name("edgebench"))
CONVERT_EXTRA = "pip install 'edgebench[convert]'"
CONVERT_PACKAGES = ("tensorflow", "tf_keras", "tensorflow_model_optimization")

# Installed first on sys.meta_path: an import of a blocked package (or any of its modules) fails as if the
# package were absent, while everything else imports as usual.
SITECUSTOMIZE = """\
import sys

class _Absent:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _Absent())
"""


def without(tmp_path: Path, *packages: str) -> dict[str, str]:
    """The environment of a process (and its children) in which ``packages`` cannot be imported."""
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(SITECUSTOMIZE.format(blocked=set(packages)))
    path = os.pathsep.join(p for p in (str(shim), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def edgebench(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EDGEBENCH, *argv], capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.fixture
def no_tensorflow(tmp_path: Path) -> dict[str, str]:
    return without(tmp_path, *CONVERT_PACKAGES)


@pytest.mark.parametrize("package", CONVERT_PACKAGES)
def test_the_shim_makes_each_convert_package_unimportable(no_tensorflow: dict[str, str], package: str) -> None:
    probe = f"import {package}"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=no_tensorflow, check=False)
    assert done.returncode == 1 and f"ModuleNotFoundError: No module named '{package}'" in done.stderr


@pytest.mark.parametrize("command", ["run", "convert"])
def test_converting_a_keras_model_without_tensorflow_names_the_extra_in_one_line(
    no_tensorflow: dict[str, str], tmp_path: Path, command: str
) -> None:
    store = ["--store", str(tmp_path / "h.sqlite")] if command == "run" else []
    argv = [command, "--model", str(EXAMPLE_MODEL), "--data", str(EXAMPLE_DATA), "--workdir", str(tmp_path / "w")]
    done = edgebench(no_tensorflow, *argv, *store)
    assert done.returncode == 2, done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("edgebench:")]
    assert line == (
        f"edgebench: model {EXAMPLE_MODEL} needs tensorflow to convert, which is not installed: {CONVERT_EXTRA}"
    )
    assert "Traceback" not in done.stderr
