"""Native work in a child process: its answer or exception comes back as if called here, and its death by a
signal is one line naming the signal (SIGKILL: most often the out-of-memory killer). The same holds for a child
forked from a warm process (converter/warm.py, here preloading nothing) as for a spawned one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from converter.isolation import Crashed, Worker, exit_cause, isolated
from converter.warm import ADDRESS_VARIABLE, kept_warm
from tests.conftest import ROOT
from tests.support import crashers


@pytest.fixture(autouse=True, params=["spawned", "forked"])
def started(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every spec here twice: children spawned, and children forked from a warm process."""
    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    if request.param == "spawned":
        yield request.param
        return
    with kept_warm(dict(os.environ), preload=()):
        yield request.param


def test_the_childs_answer_and_exception_come_back_as_if_called_here() -> None:
    assert isolated(crashers.answer, 21) == 42
    with pytest.raises(ValueError, match="the line that names it: boom"):
        isolated(crashers.raise_error, "boom")


@pytest.mark.parametrize(
    ("death", "args", "said"),
    [
        (crashers.abort, (), "killed by SIGABRT"),
        (crashers.die_of, (signal.SIGSEGV,), "killed by SIGSEGV"),
        (crashers.die_of, (signal.SIGKILL,), "killed by SIGKILL (out of memory?)"),
    ],
)
def test_a_child_that_dies_is_crashed_naming_the_signal_and_the_parent_lives_on(
    death: object, args: tuple[int, ...], said: str
) -> None:
    with pytest.raises(Crashed) as raised:
        isolated(death, *args)  # type: ignore[arg-type]
    assert str(raised.value) == said


def test_exit_codes_read_as_people_read_them() -> None:
    assert exit_cause(3) == "exited with code 3"
    assert exit_cause(-9) == "killed by SIGKILL (out of memory?)"
    assert exit_cause(-11) == "killed by SIGSEGV"
    assert exit_cause(-200) == "killed by signal 200"


def test_a_worker_keeps_its_state_across_calls_and_starts_anew_after_a_crash() -> None:
    with Worker(crashers.tally, 1) as worker:
        assert [worker.call(crashers.add, 2), worker.call(crashers.add, 3)] == [3, 6]  # one child, one state
        with pytest.raises(ValueError, match="the line that names it: boom"):
            worker.call(crashers.raise_error_holding, "boom")  # an exception leaves the child serving
        assert worker.call(crashers.add, 4) == 10
        with pytest.raises(Crashed, match=r"^killed by SIGSEGV$"):
            worker.call(crashers.die_holding, signal.SIGSEGV)
        assert worker.call(crashers.add, 5) == 6  # a fresh child, its state made again


def test_a_workers_failed_setup_is_every_calls_exception() -> None:
    with Worker(crashers.tally, -1) as worker:
        for _ in range(2):
            with pytest.raises(ValueError, match="cannot start at -1"):
                worker.call(crashers.add, 1)


def test_a_forked_childs_output_goes_where_the_askers_does(started: str, capfd: pytest.CaptureFixture[str]) -> None:
    isolated(crashers.speak, "epoch 1 of 3")
    out, err = capfd.readouterr()
    assert ("epoch 1 of 3" in out, "epoch 1 of 3" in err) == (True, True)


def test_a_child_is_forked_only_where_a_warm_process_runs_under_the_same_import_settings(
    started: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = isolated(crashers.parent) != os.getpid()
    assert forked == (started == "forked")
    for variable in ("TF_USE_LEGACY_KERAS", "PYTHONPATH"):  # another Keras; a path that hides or adds packages
        with monkeypatch.context() as patch:
            patch.setenv(variable, "other than the warm process imported under")
            assert isolated(crashers.parent) == os.getpid(), variable  # spawned: it must import for itself


def test_a_killed_asker_takes_its_child_with_it(started: str, tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    script = (
        "from converter.isolation import Worker; from tests.support import crashers\n"
        "if __name__ == '__main__':\n"
        f"    Worker(crashers.tally, 0).call(crashers.report_then_wait, {str(pid_file)!r})\n"
    )
    asker = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and asker.poll() is None, "the worker never started"
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    asker.kill()
    asker.wait()
    while _alive(worker):
        assert time.monotonic() < deadline, f"worker {worker} outlived the converter that asked for it"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; its parent has yet to reap it
