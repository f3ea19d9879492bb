"""One writer per run folder: a second sweep or resume of a run that is being measured is refused, naming the
process that holds it, and the folder is free again as soon as that process lets go (or dies)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgebench.errors import EdgebenchError
from edgebench.run_lock import RunLock

HOLD = """
import sys, time
from pathlib import Path
from edgebench.run_lock import RunLock
lock = RunLock.take(Path(sys.argv[1]), "r")  # kept: a lock nobody holds is released
print("held", flush=True)
time.sleep(120)
"""


def hold(folder: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def stop(holder: subprocess.Popen[str]) -> None:
    holder.kill()
    holder.communicate()


def test_a_held_run_folder_names_its_holder_and_is_free_once_it_dies(tmp_path: Path) -> None:
    holder = hold(tmp_path)
    try:
        with pytest.raises(EdgebenchError) as refused:
            RunLock.take(tmp_path, "20261206T000000Z-abcdef")
        assert str(refused.value) == (
            f"run 20261206T000000Z-abcdef is being measured by process {holder.pid}; "
            "wait for it to finish, or stop it and resume then"
        )
    finally:
        stop(holder)
    RunLock.take(tmp_path, "r").release()  # a killed holder leaves nothing locked


def test_a_lock_released_in_process_can_be_taken_again(tmp_path: Path) -> None:
    first = RunLock.take(tmp_path, "r")
    with pytest.raises(EdgebenchError):
        RunLock.take(tmp_path, "r")
    first.release()
    RunLock.take(tmp_path, "r").release()
