"""A release gated against itself passes whatever it holds: both sides resolving to one run (a mis-wired
--baseline latest --candidate latest, or the same tag twice), or two runs of the very same model files, are
refused in one line naming what both sides selected."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.store import Store
from edgebench_records import read_bundle
from tests.conftest import DATA, rebuilt, save

FROZEN = DATA / "records" / "bundle-1.1.json"


def history(path: Path, runs: list[tuple[str, str, dict[str, str], str | None]]) -> str:
    """A store of the frozen run once per (run id, created at, tags, sha256 its cells measured, None: the
    plan's)."""
    (frozen,) = read_bundle(FROZEN)
    url = f"sqlite:///{path}"
    with Store(url) as store:
        for run_id, created_at, tags, sha256 in runs:
            save(store, rebuilt(frozen, sha256) if sha256 else frozen, run_id, "pi4", created_at, tags)
    return str(path)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    two_releases = [
        ("r1", "2026-12-01T00:00:00+00:00", {"release": "2"}, None),
        ("r2", "2026-12-02T00:00:00+00:00", {"release": "3"}, "c" * 64),
    ]
    return history(tmp_path_factory.mktemp("store") / "h.sqlite", two_releases)


@pytest.mark.parametrize(
    ("baseline", "candidate"), [("latest", "latest"), ("release=3", "release=3"), ("r2", "latest"), ("r1", "r1")]
)
def test_a_run_gated_against_itself_is_refused_naming_it(
    capsys: pytest.CaptureFixture[str], store: str, baseline: str, candidate: str
) -> None:
    assert invoke(["gate", "--baseline", baseline, "--candidate", candidate, "--store", store]) == 2
    run = "r1" if baseline == "r1" else "r2"
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"edgebench: --baseline {baseline} and --candidate {candidate} both select run {run}: a run gated "
        "against itself proves nothing; give two different releases"
    )


def test_two_different_runs_are_gated(capsys: pytest.CaptureFixture[str], store: str) -> None:
    code = invoke(["gate", "--baseline", "release=2", "--candidate", "release=3", "--store", store])
    assert code in (0, 1), capsys.readouterr().err


@pytest.mark.parametrize("sha256", [None, "c" * 64])  # the plan's sha256 (results before 1.6), or the cells' own
def test_two_runs_of_the_same_files_are_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sha256: str | None
) -> None:
    url = history(
        tmp_path / "h.sqlite",
        [("r1", "2026-12-01T00:00:00+00:00", {}, sha256), ("r2", "2026-12-02T00:00:00+00:00", {}, sha256)],
    )
    assert invoke(["gate", "--baseline", "r1", "--candidate", "latest", "--store", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        "edgebench: --baseline r1 and --candidate latest (runs r1 and r2) measured the same model files (every "
        "cell, e.g. sha256 " + (sha256 or "7f5e7e12")[:8]  # the first cell's: fp32's, as the frozen plan records it
    )
    assert err.endswith("gate the file against itself in paired mode (--baseline-model F --candidate-model F)\n")
