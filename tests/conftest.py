"""Shared fixtures: the bundled example converted once, staged plans, and real helper parts."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from converter.manifest import Manifest
from device_runner.schema import Plan
from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.plan import Settings, build_plan, stage

DATA = Path(__file__).resolve().parent / "data"
# Short timing loops: the tests check behaviour, scripts/ measures speed.
QUICK = Settings(warmup_runs=1, warmup_min_s=0.0, runs=5, min_s=0.0, cell_timeout_s=120.0)


def require(tool: str, package: str) -> str:
    """The path of a real part the tests use; a skip naming the package outside CI, a failure under CI."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} not found: apt-get install {package}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One edgebench work directory for the session, so the example is converted once."""
    return tmp_path_factory.mktemp("workdir")


@pytest.fixture(scope="session")
def converted(workdir: Path) -> tuple[Manifest, Path]:
    """The bundled example's fp32 and int8 variants (what `edgebench run` makes by default)."""
    return convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "int8"], workdir)


@pytest.fixture(scope="session")
def faulty_delegate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/data/faulty_delegate.c built with gcc: an external delegate that aborts, hangs or fails."""
    gcc = require("gcc", "gcc")
    out = tmp_path_factory.mktemp("delegate") / "libfaulty_delegate.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-o", str(out), str(DATA / "faulty_delegate.c")], check=True)
    return out


def make_plan(
    tmp_path: Path, converted: tuple[Manifest, Path], settings: Settings = QUICK, run_id: str = "test-run"
) -> tuple[Plan, Path]:
    manifest, manifest_dir = converted
    plan = build_plan(run_id, manifest, settings)
    return plan, stage(plan, manifest_dir, tmp_path / "plan")
