"""`edgebench run` against hostile input and faults: bad flags are refused before anything runs, nothing
measured is lost (a kill, a full disk, a read-only store), and stored history is never rewritten."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import edgebench_records as schema
from device_runner.sweep import CellDone
from edgebench.cli import invoke
from edgebench.conversion import convert
from edgebench.devices.local import LocalDevice
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.store import Store
from edgebench_records import CellResult, Manifest, StoredRun
from edgebench_records.catalogue import Options
from tests.conftest import QUICK, QUICK_ARGS, first_results, make_plan, rebuilt, save, sharing_variants, stored_run
from tests.support.filesystems import fill, make_read_only, mounted

EDGEBENCH = str(Path(sys.executable).with_name("edgebench"))


def edgebench(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = invoke(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sweep(plan: Path, results: Path) -> subprocess.CompletedProcess[str]:
    """``python -m device_runner run``, as a board runs it."""
    command = [sys.executable, "-m", "device_runner", "run", str(plan), "--results", str(results)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def error_line(err: str) -> str:
    """The one line a failure prints (click's usage errors say "Error: …" after the usage)."""
    lines = [line for line in err.splitlines() if line.startswith(("edgebench:", "Error:"))]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_pinning_to_a_cpu_the_device_lacks_is_one_line_from_the_device(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, converted: tuple[Manifest, Path]
) -> None:
    _, plan_path = make_plan(tmp_path, converted, dataclasses.replace(QUICK, cpus=[0, 4096]))
    proc = sweep(plan_path, tmp_path / "results")
    assert proc.returncode == 2
    assert "--cpus 0,4096: this device has no usable CPU 4096" in proc.stderr
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").iterdir())


@pytest.mark.slow
def test_a_result_that_cannot_be_written_stops_the_sweep_and_a_resume_measures_that_cell(
    tmp_path: Path, converted: tuple[Manifest, Path]
) -> None:
    plan, plan_path = make_plan(tmp_path, converted)
    with mounted(tmp_path / "disk", size_kb=512) as disk:
        filler = fill(disk)
        full = sweep(plan_path, disk / "results")
        assert full.returncode == 2
        assert "No space left on device" in full.stderr.strip().splitlines()[-1]
        assert not list((disk / "results").glob("*.json"))  # no cell recorded as `crashed` for a full disk

        filler.unlink()
        resumed = sweep(plan_path, disk / "results")
        assert resumed.returncode == 0, resumed.stderr
        results = [schema.read(CellResult, p) for p in (disk / "results").glob("*.json")]
    assert sorted(r.key.id for r in results) == sorted(k.id for k in plan.cells())
    assert {r.status for r in results} == {"ok"}


# ---------------------------------------------------------------------------------------------
# Whole runs (conversion is shared through the session's work directory)


def run_json(capsys: pytest.CaptureFixture[str], workdir: Path, store: Path, *extra: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code, out, err = edgebench(capsys, "run", "--workdir", str(workdir), "--store", str(store), "--json", *extra)
    return code, (json.loads(out)["runs"][0] if out.strip() else {}), err


RESUME_CONFLICTS = [
    ["--variants", "fp32"],
    ["--delegates", "cpu"],
    ["--threads", "2"],
    ["--runs", "7"],
    ["--min-secs", "1"],
    ["--model", str(Path(__file__))],
    ["--device", "pi4"],
    ["--tag", "release=9"],
    ["--sparsity", "0.9"],  # the conversion options: the variants measured so far were made without them
    ["--float-io"],
    ["--lr", "0.5"],
    ["--input-shape", "image:1x32x32x1"],
]


@pytest.mark.slow
@pytest.mark.parametrize("flag", RESUME_CONFLICTS, ids=lambda f: f[0])
def test_a_resume_refuses_a_flag_that_differs_from_the_runs_own(
    capsys: pytest.CaptureFixture[str], workdir: Path, measured: StoredRun, tmp_path: Path, flag: list[str]
) -> None:
    store = tmp_path / "h.sqlite"
    code, _, err = run_json(capsys, workdir, store, "--resume", measured.run_id, *flag)
    assert code == 2
    line = error_line(err)
    assert line.startswith(f"edgebench: --resume {measured.run_id}: {flag[0]} ") and f"drop {flag[0]}" in line
    assert not store.exists() or not Store(f"sqlite:///{store}").has_run(measured.run_id)


@pytest.mark.slow
def test_a_resume_takes_the_runs_own_plan_device_and_tags(
    capsys: pytest.CaptureFixture[str], workdir: Path, measured: StoredRun, tmp_path: Path
) -> None:
    store = tmp_path / "h.sqlite"  # a store that has not seen the run, as when it died before being stored
    code, _, err = run_json(capsys, workdir, store, "--resume", measured.run_id, "--runs", "120")
    assert code == 0, err
    resumed = stored_run(store, measured.run_id)
    assert (resumed.device, resumed.tags, resumed.plan) == (measured.device, measured.tags, measured.plan)
    assert resumed.manifest == measured.manifest and resumed.cells == measured.cells


@pytest.mark.slow
def test_a_stored_run_is_not_resumed_and_its_record_stays_as_it_was(
    capsys: pytest.CaptureFixture[str], workdir: Path, converted: tuple[Manifest, Path], tmp_path: Path
) -> None:
    store = tmp_path / "h.sqlite"
    code, first, _ = run_json(capsys, workdir, store, *QUICK_ARGS, "--delegates", "cpu")
    assert code == 0
    before = stored_run(store, first["run_id"])

    code, _, err = run_json(capsys, workdir, store, "--resume", first["run_id"])

    assert code == 2
    assert "is complete and stored" in error_line(err) and "nothing to resume" in err
    assert stored_run(store, first["run_id"]) == before


def processes_of(run_id: str) -> list[int]:
    """Processes whose command line names this run (its sweep and cells)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and run_id.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=lambda s: s.name)
def test_killing_edgebench_stops_the_cell_it_runs_and_resume_measures_each_cell_once(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    converted: tuple[Manifest, Path],
    tmp_path: Path,
    sig: signal.Signals,
) -> None:
    store = tmp_path / "h.sqlite"
    slow_cells = ["--runs", "5", "--min-secs", "2", "--warmup-secs", "0"]
    earlier = set(workdir.glob("runs/*"))
    argv = [EDGEBENCH, "run", "--workdir", str(workdir), "--store", str(store), *slow_cells]
    main = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = first_results(workdir, earlier, time.monotonic() + 120)
    run_id = results[0].parent.parent.name
    assert processes_of(run_id), "a cell should be measuring now"

    main.send_signal(sig)
    _, err = main.communicate(timeout=30)
    deadline = time.monotonic() + 5
    while processes_of(run_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_of(run_id) == []  # nothing left measuring behind edgebench's back
    if sig == signal.SIGTERM:
        assert main.returncode == 2
        assert error_line(err) == f"edgebench: interrupted; finished cells are kept: edgebench run --resume {run_id}"
    kept = {p.name: p.read_bytes() for p in results[0].parent.glob("*.json")}
    assert 0 < len(kept) < 4

    code, _, err = run_json(capsys, workdir, store, "--resume", run_id)

    assert code == 0, err
    final = {p.name: p.read_bytes() for p in results[0].parent.glob("*.json")}
    assert len(final) == 4 and all(final[name] == content for name, content in kept.items())
    assert stored_run(store, run_id).plan.measure.min_s == 2.0  # the run's own settings, not the defaults


@pytest.mark.slow
def test_a_full_disk_while_storing_keeps_the_measurements_for_a_resume(
    capsys: pytest.CaptureFixture[str], workdir: Path, converted: tuple[Manifest, Path], tmp_path: Path
) -> None:
    with mounted(tmp_path / "disk", size_kb=1024) as disk:
        store = disk / "h.sqlite"
        Store(f"sqlite:///{store}").close()  # an existing store, then no space left beside it
        filler = fill(disk)

        code, _, err = run_json(capsys, workdir, store, *QUICK_ARGS, "--delegates", "cpu")

        assert code == 2
        line = error_line(err)
        run_id = line.split("run ", 1)[1].split(":", 1)[0]
        assert "cannot write to store" in line and f"store them with edgebench run --resume {run_id}" in line
        filler.unlink()
        code, _, err = run_json(capsys, workdir, store, "--resume", run_id)
        assert code == 0, err
        assert len(stored_run(store, run_id).cells) == 2


@pytest.mark.slow
def test_a_work_folder_filling_up_mid_sweep_names_the_run_and_how_to_finish_it(
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
    converted: tuple[Manifest, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sweep_on = LocalDevice.run

    def filling_up(device: LocalDevice, plan: Path, results: Path, on_cell: Callable[[CellDone], None]) -> None:
        filler.append(fill(disk))  # the plan staged, then no space left for the results
        sweep_on(device, plan, results, on_cell)

    filler: list[Path] = []
    monkeypatch.setattr(LocalDevice, "run", filling_up)
    with mounted(tmp_path / "disk", size_kb=16384) as disk:
        work, store = sharing_variants(tmp_path_factory, disk / "work"), tmp_path / "h.sqlite"

        code, _, err = run_json(capsys, work, store, *QUICK_ARGS, "--delegates", "cpu")

        assert code == 2
        line = error_line(err)
        (run,) = (work / "runs").iterdir()
        assert line.startswith(f"edgebench: run {run.name}: ") and f"(disk full at {run}" in line
        assert line.endswith(f"; what was measured is kept: finish it with edgebench run --resume {run.name}")
        assert not Store(f"sqlite:///{store}").has_run(run.name)
        monkeypatch.undo()
        filler[0].unlink()
        code, _, err = run_json(capsys, work, store, "--resume", run.name)
        assert code == 0, err
        assert len(stored_run(store, run.name).cells) == 2


@pytest.mark.slow
@pytest.mark.parametrize("what", ["store file", "store folder", "work folder"])
def test_a_read_only_store_or_work_folder_is_refused_before_anything_is_measured(
    capsys: pytest.CaptureFixture[str], workdir: Path, converted: tuple[Manifest, Path], tmp_path: Path, what: str
) -> None:
    with mounted(tmp_path / "ro") as ro:
        store, work = (ro / "h.sqlite", workdir) if what != "work folder" else (tmp_path / "h.sqlite", ro / "work")
        if what == "store file":
            Store(f"sqlite:///{store}").close()
        if what == "work folder":
            work.mkdir()
        make_read_only(ro)
        runs_before = set(workdir.glob("runs/*"))

        code, _, err = run_json(capsys, work, store, *QUICK_ARGS)

        assert code == 2
        assert "read-only" in error_line(err)
        assert set(workdir.glob("runs/*")) == runs_before


@pytest.mark.slow
def test_a_terminal_that_cannot_show_unicode_gets_the_report_anyway(measured: StoredRun, tmp_path: Path) -> None:
    store = tmp_path / "h.sqlite"
    with Store(f"sqlite:///{store}") as history:
        save(history, measured, "r1", "local", "2026-11-20T10:00:00+00:00", {})
        save(history, rebuilt(measured), "r2", "local", "2026-11-21T10:00:00+00:00", {})  # a new build: gated
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    for command in (["report"], ["history"], ["gate", "--baseline", "r1", "--candidate", "r2"]):
        proc = subprocess.run(
            [EDGEBENCH, *command, "--store", str(store)], capture_output=True, text=True, env=env, check=False
        )
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


@pytest.mark.slow
def test_an_unused_keep_sparsity_reuses_the_conversion_and_says_so(
    workdir: Path, converted: tuple[Manifest, Path]
) -> None:
    manifest, folder = convert(
        EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "int8"], workdir, options=Options(keep_sparsity=True)
    )
    assert folder == converted[1]  # made without it: no variant asked for reads it
    assert manifest.variants == converted[0].variants
    assert "--keep-sparsity is not used: no variant in --variants reads it (only pruned_int8)" in manifest.data_notes
