"""What --store accepts: a store that keeps runs, named in one line when it cannot; and a new SQLite store's
first use by several edgebench processes at once (a CI matrix sharing one file) that none of them fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.errors import EdgebenchError
from edgebench.store import Store, head_revision, store_url


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
@pytest.mark.parametrize("argv", [["history"], ["report"], ["gate", "--baseline", "latest", "--candidate", "latest"]])
def test_an_in_memory_store_is_refused_because_it_keeps_nothing(
    capsys: pytest.CaptureFixture[str], url: str, argv: list[str]
) -> None:
    assert invoke([*argv, "--store", url]) == 2
    err = capsys.readouterr().err.strip()
    why = "an in-memory SQLite store keeps nothing; give a file (sqlite:///PATH or a path)"
    assert err == f"edgebench: --store {url}: {why}"


def test_a_writing_command_refuses_an_in_memory_store_before_measuring() -> None:
    with pytest.raises(EdgebenchError, match="in-memory SQLite store keeps nothing"):
        Store("sqlite://")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:secret@host:notaport/db", "postgresql+psycopg://u:***@host:notaport/db"),
        ("postgresql://u:secret@[::1/db", "postgresql+psycopg://u:***@[::1/db"),
    ],
)
def test_a_database_url_that_does_not_parse_is_one_line_without_its_password(
    capsys: pytest.CaptureFixture[str], url: str, shown: str
) -> None:
    assert invoke(["history", "--store", url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"edgebench: --store {shown}: not a database URL or file path (")
    assert "secret" not in err and len(err.splitlines()) == 1


FIRST_USE = "import sys; from edgebench.store import Store; Store(sys.argv[1]).close()"


def test_several_processes_creating_one_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    for attempt in range(3):  # the race lost 1 time in 3 with two processes before writers took the lock first
        url = store_url(str(tmp_path / f"new-{attempt}.sqlite"))
        procs = [
            subprocess.Popen([sys.executable, "-c", FIRST_USE, url], stderr=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        errors = [proc.communicate(timeout=120)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0, 0, 0], errors
        with Store(url, must_exist=True) as store:
            assert store.revision() == head_revision()
