"""Native work in a child process: its answer or exception comes back as if called here, and its death by a
signal is one line naming the signal (SIGKILL: most often the out-of-memory killer)."""

from __future__ import annotations

import signal

import pytest

from converter.isolation import Crashed, Worker, exit_cause, isolated
from tests.support import crashers


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
