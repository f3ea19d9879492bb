"""Shared fixtures: the bundled example converted once, staged plans, and real helper parts.

A spec's folder is its tier, decided by what it needs: tests/spec/ needs no real part (no sshd, adb, PostgreSQL,
Chromium, JVM or board, no TensorFlow conversion) and runs first; tests/integration/ talks to real sshd, adb,
PostgreSQL, Chromium or the JVM; tests/e2e/ converts with TensorFlow, boots the emulated board or runs whole
flows; tests/support/ holds the fakes and fixtures they share. scripts/test.sh runs them over every core
(pytest-xdist), so a session fixture runs once per worker: conversions meet in one variant cache instead.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

import edgebench_records as schema
from device_runner import PACKAGES, noise
from edgebench.conversion import VARIANT_CACHE, convert, warm_tensorflow
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.plan import build_plan, stage
from edgebench.store import Store
from edgebench_records import (
    CellResult,
    Manifest,
    Measurement,
    Plan,
    PlanVariant,
    StoredRun,
    VariantRecord,
    read_bundle,
    sha256_file,
)
from tests.support.keras_models import in_tensorflow, script

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
# Bare environments made by scripts/test.sh: a runtime and numpy, nothing else (as on a board).
RUNNER_ENVS = {"ai_edge_litert": ROOT / ".venv-runner-litert", "tflite_runtime": ROOT / ".venv-runner-tflite"}
# Short timing loops: the tests check behaviour, scripts/ measures speed.
QUICK = Measurement(warmup_runs=1, warmup_min_s=0.0, runs=5, min_s=0.0, cell_timeout_s=120.0)


SPEC_TIER = ROOT / "tests" / "spec"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``slow`` is the tier: every spec outside tests/spec/ (real parts, conversions, whole flows) is slow, so
    ``-m "not slow"`` and ``tests/spec`` select the same fast specs."""
    for item in items:
        if not item.path.is_relative_to(SPEC_TIER):
            item.add_marker(pytest.mark.slow)


def missing_part(message: str) -> NoReturn:
    """Outside CI a test whose real part is missing is skipped saying how to get it; under CI it fails."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require(tool: str, package: str) -> str:
    """The path of a real program the tests use."""
    path = shutil.which(tool)
    if path is None:
        missing_part(f"{tool} not found: apt-get install {package}")
    return path


@pytest.fixture(scope="session", autouse=True)
def warm_conversions(request: pytest.FixtureRequest) -> Iterator[None]:
    """Beyond the spec tier, each test worker keeps one TensorFlow import warm for its conversions and test
    models (``warm_tensorflow``), as a tune's study does: dozens of conversions, one import."""
    if all(item.path.is_relative_to(SPEC_TIER) for item in request.session.items):
        yield
        return
    with warm_tensorflow():
        yield


@pytest.fixture(autouse=True)
def no_internal_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every foreign exception must be translated at a boundary: a command that would print
    "internal error" fails the spec instead, with the exception's own traceback."""
    import edgebench.cli

    def reraise(exc: Exception) -> int:
        raise exc

    monkeypatch.setattr(edgebench.cli, "internal_error", reraise)


def run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory every worker of this test run shares: pytest-xdist gives each worker a base temporary
    directory of its own (popen-gw0, popen-gw1, …) under one parent made for the run."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


@contextmanager
def run_lock(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[None]:
    """Held while a session fixture makes something every worker of the run uses: a worker that comes second
    waits, then finds it made (conversions: in the shared variant cache, so each model is fine-tuned once per
    test run, not once per worker)."""
    with (run_directory(tmp_path_factory) / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def sharing_variants(tmp_path_factory: pytest.TempPathFactory, work: Path) -> Path:
    """``work`` with its per-variant cache (edgebench/conversion.py's ``variants/made``) shared by every worker:
    entries are written atomically and keyed by content, so two workers can never spoil one another's."""
    shared = run_directory(tmp_path_factory) / "variant-cache"
    shared.mkdir(exist_ok=True)
    (work / "variants").mkdir(parents=True, exist_ok=True)
    (work / "variants" / VARIANT_CACHE).symlink_to(shared, target_is_directory=True)
    return work


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One edgebench work directory per worker (runs, logs), its variants shared, so the example is converted
    once."""
    return sharing_variants(tmp_path_factory, tmp_path_factory.mktemp("workdir"))


@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> tuple[Manifest, Path]:
    """The bundled example's fp32 and int8 variants (what `edgebench run` makes by default)."""
    with run_lock(tmp_path_factory, "conversions"):
        return convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "int8"], workdir)


@contextmanager
def quiet_machine(directory: Path) -> Iterator[None]:
    """Cells measured meanwhile read the machine's CPU counters from a frozen copy of /proc/stat (device_runner's
    injected source), so they see nobody else busy: a verdict a spec expects cannot turn inconclusive because
    the suite's other worker, or other work, shares these cores. tests/test_noise.py keeps the guard real."""
    frozen = directory / "proc-stat"
    frozen.write_text(Path("/proc/stat").read_text())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(noise.PROC_STAT_VARIABLE, str(frozen))
        yield


@pytest.fixture
def quiet_cores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``quiet_machine`` for one spec."""
    with quiet_machine(tmp_path_factory.mktemp("machine")):
        yield


JVM_CLASSES = ROOT / "android_app" / "build" / "jvm"
JVM_JARS = ["/usr/share/java/gson.jar", "/usr/share/java/junit4.jar", "/usr/share/java/hamcrest-core.jar"]


@pytest.fixture(scope="session")
def jvm(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The command that runs the Java core's JvmRunner on its fake phone (compiled by the script CI runs).
    Compiled once per test run: a second worker's javac would rewrite the classes under the first one's JVMs."""
    compiled = run_directory(tmp_path_factory) / "jvm-compiled"
    with run_lock(tmp_path_factory, "jvm"):
        if not compiled.exists():
            command = ["bash", str(ROOT / "scripts" / "test_android_core.sh"), "--compile-only"]
            out = subprocess.run(command, capture_output=True, text=True)
            if out.returncode == 2:  # a Debian package is missing: the script names it
                missing_part(out.stderr.strip())
            assert out.returncode == 0, out.stderr
            compiled.touch()
    return ["java", "-cp", ":".join([str(JVM_CLASSES), *JVM_JARS]), "com.edgebench.runner.core.JvmRunner"]


@pytest.fixture(scope="session")
def faulty_delegate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/data/faulty_delegate.c built with gcc: an external delegate that aborts, hangs or fails."""
    gcc = require("gcc", "gcc")
    out = tmp_path_factory.mktemp("delegate") / "libfaulty_delegate.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-o", str(out), str(DATA / "faulty_delegate.c")], check=True)
    return out


@pytest.fixture(scope="session")
def corrupting_delegate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/data/corrupting_delegate.c built with gcc: claims every node, returns pseudo-random outputs."""
    gcc = require("gcc", "gcc")
    out = tmp_path_factory.mktemp("corrupting") / "libcorrupting_delegate.so"
    source = DATA / "corrupting_delegate.c"
    subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-o", str(out), str(source)], check=True)
    return out


@pytest.fixture(scope="session")
def sparse_int8_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real int8 model with EXPERIMENTAL_SPARSITY weights (tests/data/make_sparse_int8.py)."""
    out = tmp_path_factory.mktemp("sparse") / "sparse_int8.tflite"
    in_tensorflow(script, str(DATA / "make_sparse_int8.py"), str(out))
    return out


@pytest.fixture(scope="session")
def heavier_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example with a much heavier head (tests/data/make_heavier.py): slower, and untrained."""
    out = tmp_path_factory.mktemp("heavier") / "heavier.keras"
    in_tensorflow(script, str(DATA / "make_heavier.py"), str(out))
    return out


def make_plan(
    tmp_path: Path, converted: tuple[Manifest, Path], settings: Measurement = QUICK, run_id: str = "test-run"
) -> tuple[Plan, Path]:
    manifest, manifest_dir = converted
    plan = build_plan(run_id, manifest, settings)
    return plan, stage(plan, manifest_dir, tmp_path / "plan")


@dataclass(frozen=True)
class Board:
    """A bare Python environment with a copy of device_runner/ and edgebench_records/ beside it, standing in for a
    board."""

    runtime: str
    python: Path
    home: Path

    def run(self, plan_path: Path, results_dir: Path) -> dict[str, CellResult]:
        """``python -m device_runner run`` on the board; results keyed ``variant/delegate-tail/api``."""
        command = [str(self.python), "-m", "device_runner", "run", str(plan_path), "--results", str(results_dir)]
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        proc = subprocess.run(command, cwd=self.home, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode in (0, 1), proc.stderr
        results = (schema.read(CellResult, path) for path in sorted(results_dir.glob("*.json")))
        return {f"{r.variant}/{r.delegate.split(';')[-1]}/{r.api}": r for r in results}


@pytest.fixture(params=sorted(RUNNER_ENVS))
def board(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Board:
    venv = RUNNER_ENVS[request.param]
    python = venv / "bin" / "python"
    if not python.exists():
        missing_part(f"{venv} missing: scripts/test.sh creates it")
    home = tmp_path_factory.mktemp(f"board-{request.param}")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, home / package, ignore=shutil.ignore_patterns("__pycache__"))
    return Board(request.param, python, home)


def patch_model(
    source: Path, target: Path, *, op: str | None = None, version: int = 0, min_runtime_version: str | None = None
) -> None:
    """Copy a real .tflite, raising one op's version or the min_runtime_version it declares, in place."""
    from device_runner.builtin_ops import BUILTIN_OPS
    from device_runner.flatbuffer import _Reader

    data = bytearray(source.read_bytes())
    reader = _Reader(bytes(data))
    model = reader.u32(0)
    patched = False
    for table in reader.tables(model, 1):
        code = max(int(reader.scalar(table, 0, "<b", 0)), int(reader.scalar(table, 3, "<i", 0)))
        position = reader.field(table, 2)
        if op is not None and BUILTIN_OPS[code] == op and position is not None:
            struct.pack_into("<i", data, position, version)
            patched = True
    buffers = reader.tables(model, 4)
    for entry in reader.tables(model, 6):
        if min_runtime_version and reader.string(entry, 0) == "min_runtime_version":
            blob = reader.ref(buffers[int(reader.scalar(entry, 1, "<I", 0))], 0)
            assert blob is not None and len(min_runtime_version) < reader.u32(blob)
            data[blob + 4 : blob + 4 + len(min_runtime_version) + 1] = min_runtime_version.encode() + b"\0"
            patched = True
    assert patched, f"nothing to patch in {source}"
    target.write_bytes(bytes(data))


def plan_for_files(
    tmp_path: Path, converted: tuple[Manifest, Path], files: dict[str, Path], settings: Measurement = QUICK
) -> Path:
    """A plan whose variants are the given .tflite files (e.g. patched ones)."""
    manifest, manifest_dir = converted
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir(parents=True)
    shutil.copy(manifest_dir / manifest.input_set, plan_dir / manifest.input_set)
    variants = []
    for name, path in files.items():
        shutil.copy(path, plan_dir / f"{name}.tflite")
        variants.append(PlanVariant(name, f"{name}.tflite", sha256_file(path)))
    plan = build_plan("test-run", manifest, settings)
    plan = dataclasses.replace(plan, variants=variants)
    schema.write(plan_dir / "plan.json", plan)
    return plan_dir / "plan.json"


def variant_of(manifest: Manifest, name: str) -> VariantRecord:
    """The manifest's record of ``name``, which the spec expects to be there."""
    record = manifest.variant(name)
    assert record is not None, name
    return record


def stored_run(store_file: Path, run_id: str) -> StoredRun:
    """A run read back from an SQLite history file (the store closed again)."""
    with Store(f"sqlite:///{store_file}") as store:
        return store.load_run(run_id)


@pytest.fixture(scope="session")
def measured(tmp_path_factory: pytest.TempPathFactory, workdir: Path, converted: tuple[Manifest, Path]) -> StoredRun:
    """A real run of the bundled example on `local` (tagged release=4.1), as stored."""
    from edgebench.cli import invoke

    store = tmp_path_factory.mktemp("source") / "h.sqlite"
    with quiet_machine(store.parent):  # the gate, report and store specs built on it expect clean cells
        code = invoke(
            [
                "run",
                "--workdir",
                str(workdir),
                "--store",
                str(store),
                "--runs",
                "120",  # enough for the gate's stored mode (it wants 100); a few ms a cell on this model
                "--min-secs",
                "0",
                "--warmup-secs",
                "0",
                "--tag",
                "release=4.1",
            ]
        )
    assert code == 0
    with Store(f"sqlite:///{store}") as source:
        (summary,) = source.list_runs()
        return source.load_run(summary.run_id)


def frozen_history(path: Path, runs: list[tuple[str, str, dict[str, str]]]) -> Path:
    """An SQLite history at ``path`` holding the frozen bundle's run (an earlier release's) once per
    (run id, created at, tags): something to report and gate without measuring anything."""
    (run,) = read_bundle(DATA / "records" / "bundle-1.1.json")
    with Store(f"sqlite:///{path}") as history:
        for run_id, created_at, tags in runs:
            save(history, run, run_id, "pi4", created_at, tags)
    return path


def save(store: Store, run: StoredRun, run_id: str, device: str, created_at: str, tags: dict[str, str]) -> None:
    """Store ``run`` again under another id, device and time (histories for the report and the gate)."""
    plan = dataclasses.replace(run.plan, run_id=run_id)
    cells = [dataclasses.replace(c, run_id=run_id) for c in run.cells]
    store.save_run(
        device=device,
        plan=plan,
        manifest=run.manifest,
        created_at=created_at,
        git_commit="abc123",
        cells=cells,
        tags=tags,
    )


def rebuilt(run: StoredRun, sha256: str = "c" * 64) -> StoredRun:
    """``run`` as a new build of its model measures: the same figures from files of another sha256 (the gate
    refuses two runs of the very same files)."""
    return dataclasses.replace(run, cells=[dataclasses.replace(c, file_sha256=sha256) for c in run.cells])


def first_results(workdir: Path, earlier: set[Path], deadline: float) -> list[Path]:
    """Wait (until the monotonic ``deadline``) for a run that is not in ``earlier`` to have a result on the
    host; its result files so far, or [] at the deadline."""
    pulled: list[Path] = []
    while not pulled and time.monotonic() < deadline:
        pulled = [p for run in set(workdir.glob("runs/*")) - earlier for p in run.glob("results/*.json")]
        time.sleep(0.05)
    return pulled


# Short timing loops for `edgebench push` in the device tests (the CLI flags of QUICK).
QUICK_ARGS = ["--runs", "5", "--min-secs", "0", "--warmup-secs", "0"]


def push_argv(device: str, lab: dict[str, Path], *extra: str) -> list[str]:
    """`edgebench push` to ``device`` of the lab's inventory, work directory and store."""
    return [
        "push",
        "--device",
        device,
        "--inventory",
        str(lab["inventory"]),
        "--workdir",
        str(lab["workdir"]),
        "--store",
        str(lab["store"]),
        *extra,
    ]


def push_json(
    capsys: pytest.CaptureFixture[str], device: str, lab: dict[str, Path], *extra: str
) -> tuple[int, dict[str, Any], str]:
    """A quick push in-process: exit code, the device's run report (empty on failure) and stderr."""
    from edgebench.cli import invoke

    code = invoke(push_argv(device, lab, "--json", *QUICK_ARGS, *extra))
    captured = capsys.readouterr()
    report = json.loads(captured.out)["runs"][0] if captured.out.strip() else {}
    return code, report, captured.err
