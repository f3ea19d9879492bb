"""`edgebench tune` end to end on the bundled example, on `local`: a short search (int8, then one pruned_int8
at one epoch of fine-tuning) stored as a run whose variants carry their settings, the report's front and
sentence, and the chosen file written by --out and measured by the gate as a candidate."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edgebench.cli import invoke
from edgebench.store import Store
from tests.conftest import quiet_machine

pytestmark = pytest.mark.slow
QUICK = ["--delegates", "xnnpack", "--runs", "20", "--min-secs", "0", "--warmup-secs", "0"]


@dataclass(frozen=True)
class Tuned:
    root: Path
    store: str
    outcome: dict[str, Any]  # tune --json


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Tuned:
    """Size, not latency: on a 2-core x86 host without int8 dot products int8 is no faster than fp32 under
    XNNPACK, while it is always about four times smaller."""
    root = tmp_path_factory.mktemp("tune")
    url = f"sqlite:///{root / 'h.sqlite'}"
    argv = ["tune", "--workdir", str(root / "work"), "--store", url, "--objective", "size", "--trials", "2"]
    argv += ["--variants", "int8,pruned_int8", "--epochs", "1", "--max-accuracy-drop", "5", "--budget", "20m"]
    argv += ["--out", str(root / "best.tflite"), "--json", "--quiet", *QUICK]
    stdout = io.StringIO()
    with quiet_machine(root), contextlib.redirect_stdout(stdout):
        assert invoke(argv) == 0
    return Tuned(root, url, json.loads(stdout.getvalue()))


def test_the_search_is_a_stored_run_whose_candidates_carry_their_settings(tuned: Tuned) -> None:
    with Store(tuned.store) as store:
        run = store.load_run(tuned.outcome["run_id"])
    names = [v.name for v in run.plan.variants]
    assert names[:2] == ["fp32", "int8"]  # the baseline, then the scheme with nothing to set
    assert run.plan.tune is not None and run.plan.tune.objective == "size"
    pruned = [v for v in run.plan.variants if v.recipe == "pruned_int8"]
    assert len(pruned) == 1 and 0.3 <= pruned[0].settings["sparsity"] <= 0.9
    assert {c.variant for c in run.cells} == set(names) and all(c.status == "ok" for c in run.cells)
    assert tuned.outcome["recommendation"]["sentence"].endswith(" on local")
    assert "x smaller than fp32 at " in tuned.outcome["recommendation"]["sentence"]


def test_report_shows_the_front_and_the_sentence(tuned: Tuned, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = tuned.outcome["run_id"]
    assert invoke(["report", run_id, "--store", tuned.store, "--markdown", "-"]) == 0
    page = capsys.readouterr().out
    assert f"### tune {run_id} on local: size within 5 points of fp32" in page
    assert f"**Ship:** {tuned.outcome['recommendation']['sentence']}" in page
    assert invoke(["report", run_id, "--store", tuned.store, "--html", str(tuned.root / "r.html")]) == 0
    assert "<svg" in (tuned.root / "r.html").read_text().split("Ship:")[1]


def test_the_chosen_file_is_written_and_the_gate_measures_it_as_a_candidate(
    tuned: Tuned, capsys: pytest.CaptureFixture[str]
) -> None:
    best, fp32 = tuned.root / "best.tflite", tuned.root / "work" / "runs" / tuned.outcome["run_id"] / "plan"
    assert best.read_bytes()[4:8] == b"TFL3"
    argv = ["gate", "--baseline-model", str(fp32 / "fp32.tflite"), "--candidate-model", str(best)]
    argv += ["--variants", "fp32", "--workdir", str(tuned.root / "gate"), "--runs", "40", "--delegates", "xnnpack"]
    code = invoke([*argv, "--json", "--quiet"])
    assert code in (0, 1)  # a verdict, whichever: the tuned file is a model the gate can measure
    assert json.loads(capsys.readouterr().out)["verdicts"]


def test_a_latency_search_times_fp32_beside_each_candidate_in_one_process(tmp_path: Path) -> None:
    argv = ["tune", "--workdir", str(tmp_path / "work"), "--store", f"sqlite:///{tmp_path / 'h.sqlite'}"]
    argv += ["--objective", "latency", "--variants", "int8", "--trials", "1", "--budget", "10m", "--quiet", *QUICK]
    with quiet_machine(tmp_path):
        assert invoke(argv) in (0, 1)  # int8 may be no faster than fp32 on this CPU: a refusal is an outcome too
    (results,) = (tmp_path / "work" / "runs").glob("*/results")
    cells = {cell["variant"]: cell for cell in (json.loads(p.read_text()) for p in results.glob("*.json"))}
    assert set(cells) == {"fp32", "int8", "fp32@int8"}
    # fp32 again under its own name: held to fp32's reference outputs (ok, not wrong_output or unchecked), and
    # timed in int8's process, block beside block
    assert cells["fp32@int8"]["status"] == "ok" and cells["fp32@int8"]["numerics"] is not None
    assert cells["fp32@int8"]["schedule"]["group"] == cells["int8"]["schedule"]["group"] != ""
    assert cells["fp32"]["schedule"]["group"] != cells["int8"]["schedule"]["group"]
