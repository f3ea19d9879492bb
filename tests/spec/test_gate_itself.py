"""A release gated against itself passes whatever it holds: both sides resolving to one run (a mis-wired
--baseline latest --candidate latest, or the same tag twice) is refused in one line naming the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.cli import invoke
from tests.conftest import frozen_history


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    two_releases = [
        ("r1", "2026-12-01T00:00:00+00:00", {"release": "2"}),
        ("r2", "2026-12-02T00:00:00+00:00", {"release": "3"}),
    ]
    return frozen_history(tmp_path_factory.mktemp("store") / "h.sqlite", two_releases)


@pytest.mark.parametrize(
    ("baseline", "candidate"), [("latest", "latest"), ("release=3", "release=3"), ("r2", "latest"), ("r1", "r1")]
)
def test_a_run_gated_against_itself_is_refused_naming_it(
    capsys: pytest.CaptureFixture[str], store: Path, baseline: str, candidate: str
) -> None:
    assert invoke(["gate", "--baseline", baseline, "--candidate", candidate, "--store", str(store)]) == 2
    run = "r1" if baseline == "r1" else "r2"
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"edgebench: --baseline {baseline} and --candidate {candidate} both select run {run}: a run gated "
        "against itself proves nothing; give two different releases"
    )


def test_two_different_runs_are_gated(capsys: pytest.CaptureFixture[str], store: Path) -> None:
    code = invoke(["gate", "--baseline", "release=2", "--candidate", "release=3", "--store", str(store)])
    assert code in (0, 1), capsys.readouterr().err
