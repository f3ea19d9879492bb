"""A report file is written whole or not at all: on a full disk the previous one survives as it was and the
error names the file (the command had already said so much about writable folders before its work)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.cli import invoke
from tests.conftest import frozen_history
from tests.support.filesystems import fill, mounted

OLD = "the previous report, which must survive\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A history holding a run of an earlier release, twice: something to report."""
    runs: list[tuple[str, str, dict[str, str]]] = [
        ("20261201T000000Z-aaaaaa", "2026-12-01T00:00:00+00:00", {}),
        ("20261202T000000Z-bbbbbb", "2026-12-02T00:00:00+00:00", {}),
    ]
    return frozen_history(tmp_path_factory.mktemp("store") / "h.sqlite", runs)


@pytest.mark.parametrize(
    "argv",
    [["report", "--html"], ["report", "--markdown"], ["history", "--csv"], ["history", "--cells", "--csv"]],
    ids=" ".join,
)
def test_a_full_disk_leaves_the_previous_report_whole_and_names_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store: Path, argv: list[str]
) -> None:
    with mounted(tmp_path / "disk", size_kb=256) as disk:
        out = disk / "out.txt"
        out.write_text(OLD)
        filler = fill(disk)
        try:
            code = invoke([*argv, str(out), "--store", str(store)])
            err = capsys.readouterr().err.strip().splitlines()
            assert code == 2
            assert err[-1] == (
                f"edgebench: cannot write {out}: No space left on device; an earlier out.txt there is unchanged"
            )
            assert out.read_text() == OLD
            assert sorted(p.name for p in disk.iterdir()) == ["filler", "out.txt"]  # no temporary file left behind
        finally:
            filler.unlink()
