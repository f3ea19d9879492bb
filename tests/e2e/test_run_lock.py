"""A resume of a run that another process is measuring is refused before it measures anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench_records import StoredRun
from tests.spec.test_run_lock import hold, stop


@pytest.mark.slow
def test_a_resume_of_a_run_being_measured_is_refused_before_measuring_anything(
    capsys: pytest.CaptureFixture[str], workdir: Path, measured: StoredRun, tmp_path: Path
) -> None:
    run_folder = workdir / "runs" / measured.run_id
    results_before = sorted(os.listdir(run_folder / "results"))
    holder = hold(run_folder)
    try:
        store = tmp_path / "h.sqlite"
        code = invoke(["run", "--workdir", str(workdir), "--store", str(store), "--resume", measured.run_id])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2
        assert err[-1] == (
            f"edgebench: run {measured.run_id} is being measured by process {holder.pid}; "
            "wait for it to finish, or stop it and resume then"
        )
        assert sorted(os.listdir(run_folder / "results")) == results_before
    finally:
        stop(holder)
