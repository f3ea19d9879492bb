"""The structural and stacked variants take part like any other: `run` measures them, `report` compares them with
fp32 and places them on the Pareto front, `gate` holds each cell of theirs to the baseline's."""

from __future__ import annotations

import json

import pytest

from edgebench.cli import invoke
from edgebench.store import Store
from tests.conftest import quiet_machine, rebuilt, save

pytestmark = pytest.mark.slow
VARIANTS = ["fp32", "channel_pruned", "low_rank", "pcqat_int8"]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One run of the new variants on `local` (120 timed runs a cell: what the gate's stored mode wants), stored
    again as a candidate with the same measurements of a new build's files."""
    root = tmp_path_factory.mktemp("flow")
    url = f"sqlite:///{root / 'h.sqlite'}"
    argv = ["run", "--workdir", str(root / "work"), "--store", url, "--variants", ",".join(VARIANTS), "--epochs", "1"]
    argv += ["--channel-ratio", "0.25"]  # a quarter of the filters: channel_pruned loses enough to be warned of
    argv += ["--recovery-factor", "1"]  # plumbing, not accuracy: the structural variants recover for 1 epoch
    quick = ["--delegates", "xnnpack", "--runs", "120", "--min-secs", "0", "--warmup-secs", "0"]
    with quiet_machine(root):  # its report and gate specs expect clean cells, whatever else runs here
        assert invoke([*argv, *quick, "--tag", "release=1", "--quiet"]) == 0
    with Store(url) as store:
        (summary,) = store.list_runs()
        save(
            store,
            rebuilt(store.load_run(summary.run_id)),
            "candidate",
            "local",
            "2026-12-01T12:00:00+00:00",
            {"rc": "1"},
        )
    return url


def test_report_compares_every_new_variant_with_fp32_and_marks_its_place_on_the_front(
    capsys: pytest.CaptureFixture[str], history: str
) -> None:
    assert invoke(["report", "candidate", "--store", history, "--json"]) == 0
    rows = {row["variant"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    assert set(rows) == set(VARIANTS)
    for name in VARIANTS[1:]:
        row = rows[name]
        assert row["status"] == "ok"
        assert row["speedup"]["ratio"] > 0 and row["speedup"]["verdict"] != "baseline"
        assert row["size_reduction"] > 0  # each is smaller than fp32
        assert isinstance(row["pareto"], bool)
    assert any(rows[name]["pareto"] for name in VARIANTS[1:])  # pcqat_int8 at least: the smallest


def test_the_gate_holds_each_new_variant_s_cell_to_the_baseline(
    capsys: pytest.CaptureFixture[str], history: str
) -> None:
    code = invoke(["gate", "--baseline", "release=1", "--candidate", "rc=1", "--store", history, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == report["exit_code"] == 0  # the same measurements: nothing to stop
    gated = {verdict["cell"].split(" · ")[1] for verdict in report["verdicts"]}
    assert gated == set(VARIANTS)


def test_the_report_carries_the_converter_s_warning_on_a_variant_that_lost_accuracy(
    capsys: pytest.CaptureFixture[str], history: str
) -> None:
    assert invoke(["report", "candidate", "--store", history, "--json"]) == 0
    rows = {row["variant"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["channel_pruned"]["warning"].endswith(
        "points top-1 vs fp32: try more --epochs or a higher --channel-ratio"
    )
    assert rows["fp32"]["warning"] == ""
    assert invoke(["report", "candidate", "--store", history]) == 0
    assert f"warning on channel_pruned: {rows['channel_pruned']['warning']}" in capsys.readouterr().out
    assert invoke(["report", "candidate", "--store", history, "--markdown", "-"]) == 0
    assert f"- warning on channel_pruned: {rows['channel_pruned']['warning']}" in capsys.readouterr().out
