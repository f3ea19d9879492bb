"""What the stored gate vouches for, on made-up records: a candidate cell that crashed, failed or gave wrong
outputs fails the gate whatever the baseline was (in every output the gate writes), and latency is judged
against how much one run of a cell differs from the next in the device's history, or not judged at all."""

from __future__ import annotations

import io
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from edgebench.cli import invoke
from edgebench.errors import ExitCode
from edgebench.gate import stats
from edgebench.gate.compare import GateResult, compare, history
from edgebench.gate.policy import MIN_HISTORY, Policy
from edgebench.report import gate_view
from edgebench.store import Store, store_url
from edgebench_records import (
    Activity,
    CellResult,
    Conditions,
    Manifest,
    Memory,
    Plan,
    PlanVariant,
    Status,
    StoredRun,
    Timing,
)

BEFORE, AFTER = "a" * 64, "b" * 64  # the two releases' files
CELL = "local · fp32 · xnnpack · interpreter · 1t"
VOUCH = "the gate cannot vouch for it"


def cell(run_id: str, status: Status, p50: float = 1.0, *, contended: bool = False) -> CellResult:
    """One fp32 xnnpack cell: timed around ``p50`` (120 samples, 1 % spread) when ok."""
    if status != Status.OK:
        return CellResult(run_id, "fp32", "xnnpack", 1, status, message="outputs differ from the reference\ntail")
    samples = list(p50 * np.random.default_rng(int(p50 * 1000)).lognormal(0.0, 0.01, 120))
    timing = Timing(1.0, 1.0, 1, samples, float(np.median(samples)), p50, p50, p50, 0.0, p50, p50, 0.0)
    memory = Memory(rss_before_mb=100.0, rss_after_load_mb=101.0, load_delta_mb=1.0, peak_rss_mb=200.0)
    quiet = Activity(1.0, 0.1, 1.0, 0.0)
    busy = Conditions(2, 1, None, quiet, quiet, quiet, contended=True, reasons=["another process busy"])
    conditions = busy if contended else None
    return CellResult(run_id, "fp32", "xnnpack", 1, status, timing=timing, memory=memory, conditions=conditions)


def run(run_id: str, cells: list[CellResult], sha256: str, day: int = 20) -> StoredRun:
    return StoredRun(
        run_id=run_id,
        created_at=f"2026-11-{day:02d}T10:00:00+00:00",
        device="local",
        plan=Plan(run_id, "digits", [PlanVariant("fp32", "fp32.tflite", sha256)], "inputs.npz"),
        manifest=Manifest("digits", "m" * 64, "key", "inputs.npz", []),
        git_commit=None,
        tags={},
        cells=cells,
    )


def status_verdict(result: GateResult) -> stats.Outcome:
    (found,) = [v for v in result.verdicts if v.metric == "status"]
    return found.verdict


@pytest.mark.parametrize("candidate", [Status.WRONG_OUTPUT, Status.CRASHED, Status.DELEGATE_FAILED, Status.TIMEOUT])
@pytest.mark.parametrize("baseline", [Status.OK, Status.WRONG_OUTPUT, Status.CRASHED])
def test_a_candidate_cell_the_gate_cannot_vouch_for_fails_whatever_the_baseline_was(
    baseline: Status, candidate: Status
) -> None:
    result = compare(
        [run("base", [cell("base", baseline)], BEFORE)], [run("cand", [cell("cand", candidate)], AFTER)], Policy(), {}
    )
    (found,) = [v for v in result.verdicts if v.metric == "status"]
    assert found.verdict == stats.Outcome.REGRESSION and result.exit_code(Policy()) == ExitCode.FAILED
    message = "outputs differ from the reference" if baseline != Status.OK or candidate != Status.OK else ""
    assert found.detail == f"candidate {candidate} (baseline {baseline}): {VOUCH}" + (f": {message}" if message else "")


@pytest.mark.parametrize(
    ("baseline", "candidate", "verdict"),
    [
        (Status.WRONG_OUTPUT, Status.OK, stats.Outcome.IMPROVEMENT),
        (Status.OK, Status.DELEGATE_UNAVAILABLE, stats.Outcome.REGRESSION),
        (Status.DELEGATE_UNAVAILABLE, Status.DELEGATE_UNAVAILABLE, stats.Outcome.PASS),  # a fact of the device
    ],
)
def test_other_status_changes(baseline: Status, candidate: Status, verdict: stats.Outcome) -> None:
    result = compare(
        [run("base", [cell("base", baseline)], BEFORE)], [run("cand", [cell("cand", candidate)], AFTER)], Policy(), {}
    )
    assert status_verdict(result) == verdict


def test_every_output_of_the_gate_says_it_cannot_vouch_for_a_release_wrong_on_both_sides() -> None:
    wrong = Status.WRONG_OUTPUT
    result = compare(
        [run("base", [cell("base", wrong)], BEFORE)], [run("cand", [cell("cand", wrong)], AFTER)], Policy(), {}
    )
    screen = io.StringIO()
    gate_view.render(result, Policy(), Console(file=screen, width=400))
    assert VOUCH in screen.getvalue() and "GATE FAILED" in screen.getvalue()
    assert f"| regression | {CELL} | status |" in gate_view.markdown(result, Policy())
    assert VOUCH in gate_view.markdown(result, Policy())
    suite = ET.fromstring(gate_view.junit(result))
    (failed,) = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert (failed.get("classname"), failed.get("name")) == (CELL, "status")
    assert VOUCH in failed.findtext("failure", "") and suite.get("failures") == "1"
    shown = json.loads(json.dumps(gate_view.as_json(result, Policy())))
    assert shown["exit_code"] == 1
    assert [(v["cell"], v["metric"], v["verdict"]) for v in shown["verdicts"] if VOUCH in v["detail"]] == [
        (CELL, "status", "regression")
    ]


def keep(path: Path, *runs: StoredRun) -> str:
    url = store_url(str(path))
    with Store(url) as store:
        for r in runs:
            store.save_run(
                device=r.device,
                plan=r.plan,
                manifest=r.manifest,
                created_at=r.created_at,
                git_commit=None,
                cells=r.cells,
                tags=r.tags,
            )
    return url


def test_a_stored_gate_fails_a_release_whose_every_cell_is_wrong_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    wrong = Status.WRONG_OUTPUT
    url = keep(
        tmp_path / "h.sqlite", run("r1", [cell("r1", wrong)], BEFORE, 1), run("r2", [cell("r2", wrong)], AFTER, 2)
    )
    assert invoke(["gate", "--store", url, "--baseline", "r1", "--candidate", "r2", "--json"]) == 1
    (status,) = [v for v in json.loads(capsys.readouterr().out)["verdicts"] if v["metric"] == "status"]
    assert status["verdict"] == "regression" and VOUCH in status["detail"]


# ---- latency against the history's run-to-run spread ---------------------------------------------


def earlier_runs(p50s: list[float]) -> list[StoredRun]:
    return [run(f"e{i}", [cell(f"e{i}", Status.OK, p50)], BEFORE, 1 + i) for i, p50 in enumerate(p50s)]


def test_the_history_is_ln_p50_of_the_cell_s_earlier_ok_quiet_runs(tmp_path: Path) -> None:
    flagged = run("busy", [cell("busy", Status.OK, 9.0, contended=True)], BEFORE, 10)
    broken = run("broke", [cell("broke", Status.CRASHED)], BEFORE, 11)
    candidate = run("cand", [cell("cand", Status.OK, 1.2)], AFTER, 20)
    url = keep(tmp_path / "h.sqlite", *earlier_runs([1.0, 1.1]), flagged, broken, candidate)
    with Store(url) as store:
        found = history(store, [candidate], exclude={"cand"})
    (series,) = found.values()
    medians = [float(np.median(r.cells[0].timing.samples_ms)) for r in earlier_runs([1.0, 1.1]) if r.cells[0].timing]
    assert series == pytest.approx([math.log(m) for m in medians])  # no contended, failed or candidate run


def test_with_little_history_stored_latency_is_inconclusive_and_says_what_would_decide_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    candidate = run("cand", [cell("cand", Status.OK, 1.5)], AFTER, 20)
    url = keep(tmp_path / "h.sqlite", *earlier_runs([1.0, 1.01]), candidate)
    assert invoke(["gate", "--store", url, "--baseline", "e1", "--candidate", "cand", "--json"]) == 0
    (latency,) = [v for v in json.loads(capsys.readouterr().out)["verdicts"] if v["metric"] == "latency_p50"]
    assert latency["verdict"] == "inconclusive"
    assert "2 earlier runs" in latency["detail"]
    assert latency["detail"].endswith(
        f"{MIN_HISTORY - 2} more runs of this cell in the history, or gate in paired mode"
    )

    enough = earlier_runs([1.0 + 0.01 * (i % 3 - 1) for i in range(MIN_HISTORY)])  # within 1 % of each other
    more = keep(tmp_path / "more.sqlite", *enough, candidate)
    last = f"e{MIN_HISTORY - 1}"
    assert invoke(["gate", "--store", more, "--baseline", last, "--candidate", "cand", "--json"]) == 1
    (latency,) = [v for v in json.loads(capsys.readouterr().out)["verdicts"] if v["metric"] == "latency_p50"]
    assert latency["verdict"] == "regression" and f"over {MIN_HISTORY} earlier runs" in latency["detail"]
