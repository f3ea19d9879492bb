"""`edgebench gate`: a regression must be real (significant and past the floor) to fail the release."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from edgebench.cli import invoke
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.gate.policy import MIN_HISTORY
from edgebench.store import Store, store_url
from edgebench_records import CellResult, Coverage, StoredRun
from tests.conftest import rebuilt, save
from tests.support.real_models import FLOAT_WEIGHTS, real_model

# ---- statistics ---------------------------------------------------------------------------------


# ---- stored mode, end to end -------------------------------------------------------------------


def changed(run: StoredRun, variant: str, delegate: str, **changes: object) -> StoredRun:
    cells = [
        dataclasses.replace(c, **changes) if (c.variant, c.delegate) == (variant, delegate) else c  # type: ignore[arg-type]
        for c in run.cells
    ]
    return dataclasses.replace(run, cells=cells)


def slower(cell: CellResult, factor: float) -> CellResult:
    assert cell.timing is not None
    samples = [s * factor for s in cell.timing.samples_ms]
    timing = dataclasses.replace(
        cell.timing,
        samples_ms=samples,
        p50_ms=float(np.median(samples)),
        p90_ms=(cell.timing.p90_ms or math.nan) * factor,
        p99_ms=(cell.timing.p99_ms or math.nan) * factor,
    )
    return dataclasses.replace(cell, timing=timing)


# What the regression specs make of one cell's timing. Stored mode resamples each run's blocks apart, and a run
# measured beside other work on this machine mixes two speed states 58 % apart (docs/measuring.md), which can
# widen one run's interval past a 1.5x change (CI, a spec beside it): 3x stays past the floor whatever the run.
SLOWDOWN = 3.0

# Earlier runs of the same cells, p50 within 1 % of each other: as many as stored mode needs.
QUIET_RUNS = tuple(1.0 + 0.005 * (i % 5 - 2) for i in range(MIN_HISTORY))


def with_history(store: Store, run: StoredRun) -> None:
    """Earlier quiet runs of ``run``'s cells: what stored mode needs to know one run from the next."""
    for i, factor in enumerate(QUIET_RUNS):
        earlier = dataclasses.replace(run, cells=[slower(c, factor) if c.timing else c for c in run.cells])
        save(store, earlier, f"earlier{i}", "local", f"2026-11-{i + 1:02d}T10:00:00+00:00", {})


@pytest.fixture
def gate_store(tmp_path: Path, measured: StoredRun) -> tuple[str, StoredRun]:
    """A store with earlier runs and the baseline tagged release=4.1; tests add a candidate and gate."""
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        with_history(store, measured)
        save(store, measured, "base", "local", "2026-11-20T10:00:00+00:00", {"release": "4.1"})
    return url, measured


def gate_json(capsys: pytest.CaptureFixture[str], url: str, candidate: StoredRun, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    with Store(url) as store:
        store.save_run(
            device="local",
            plan=dataclasses.replace(candidate.plan, run_id="cand"),
            manifest=candidate.manifest,
            created_at="2026-11-24T10:00:00+00:00",
            git_commit=None,
            cells=[dataclasses.replace(c, run_id="cand") for c in rebuilt(candidate).cells],
            tags={"rc": "1"},
        )
    return gate_again(capsys, url, *extra)


def gate_again(capsys: pytest.CaptureFixture[str], url: str, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    """The gate over the candidate ``gate_json`` stored (a stored run is never stored twice)."""
    code = invoke(["gate", "--baseline", "release=4.1", "--candidate", "rc=1", "--store", url, "--json", *extra])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {"err": captured.err}


def regressions(report: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(v["cell"], v["metric"]) for v in report["verdicts"] if v["verdict"] == "regression"}


def test_the_same_measurements_pass(capsys: pytest.CaptureFixture[str], gate_store: tuple[str, StoredRun]) -> None:
    url, run = gate_store
    code, report = gate_json(capsys, url, run)
    assert code == report["exit_code"] == 0 and regressions(report) == set()


def test_a_real_slowdown_fails_naming_the_cell(
    capsys: pytest.CaptureFixture[str], gate_store: tuple[str, StoredRun]
) -> None:
    url, run = gate_store
    cell = next(c for c in run.cells if (c.variant, c.delegate) == ("int8", "xnnpack"))
    code, report = gate_json(capsys, url, changed(run, "int8", "xnnpack", timing=slower(cell, SLOWDOWN).timing))
    assert code == 1
    assert regressions(report) == {("local · int8 · xnnpack · interpreter · 1t", "latency_p50")}


@pytest.mark.parametrize(
    ("change", "metric"),
    [
        ("status", "status"),
        ("accuracy", "accuracy"),
        ("agreement", "fp32_agreement"),
        ("coverage", "coverage"),
        ("size", "size"),
    ],
)
def test_each_kind_of_regression_fails_the_gate(
    capsys: pytest.CaptureFixture[str], gate_store: tuple[str, StoredRun], change: str, metric: str
) -> None:
    url, run = gate_store
    cell = next(c for c in run.cells if (c.variant, c.delegate) == ("fp32", "xnnpack"))
    if change == "status":
        candidate = changed(
            run,
            "fp32",
            "xnnpack",
            status="crashed",
            timing=None,
            memory=None,
            accuracy=None,
            message="cell process killed by SIGSEGV",
        )
    elif change == "accuracy":
        assert cell.accuracy is not None
        flipped = [False if i < 12 else right for i, right in enumerate(cell.accuracy.correct)]  # 12 now wrong
        candidate = changed(run, "fp32", "xnnpack", accuracy=dataclasses.replace(cell.accuracy, correct=flipped))
    elif change == "agreement":  # 12 inputs whose top-1 no longer matches the host fp32 model's
        assert cell.accuracy is not None and len(cell.accuracy.agree) == cell.accuracy.n
        disagree = [False if i < 12 else same for i, same in enumerate(cell.accuracy.agree)]
        candidate = changed(run, "fp32", "xnnpack", accuracy=dataclasses.replace(cell.accuracy, agree=disagree))
    elif change == "coverage":
        assert cell.coverage is not None
        fewer = Coverage(cell.coverage.delegated_nodes - 3, cell.coverage.total_nodes)
        candidate = changed(run, "fp32", "xnnpack", coverage=fewer)
    else:
        bigger = [
            dataclasses.replace(v, size_bytes=int((v.size_bytes or 0) * 1.1)) if v.name == "fp32" else v
            for v in run.manifest.variants
        ]
        candidate = dataclasses.replace(run, manifest=dataclasses.replace(run.manifest, variants=bigger))
    code, report = gate_json(capsys, url, candidate)
    assert code == 1
    assert ("local · fp32 · xnnpack · interpreter · 1t", metric) in regressions(report)


def test_cells_on_one_side_only_are_listed(
    capsys: pytest.CaptureFixture[str], gate_store: tuple[str, StoredRun]
) -> None:
    url, run = gate_store
    renamed = [
        dataclasses.replace(c, threads=2) if (c.variant, c.delegate) == ("int8", "cpu") else c for c in run.cells
    ]
    code, report = gate_json(capsys, url, dataclasses.replace(run, cells=renamed))
    assert code == 0
    assert report["only_baseline"] == [["local", "int8", "cpu", "interpreter", 1]]
    assert report["only_candidate"] == [["local", "int8", "cpu", "interpreter", 2]]


def test_without_labels_accuracy_is_said_not_measured_never_inconclusive(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    """Runs on an input set without labels (no --data): no accuracy verdict that a policy could fail on."""
    unlabelled = dataclasses.replace(
        measured,
        cells=[
            dataclasses.replace(c, accuracy=dataclasses.replace(c.accuracy, top1=None, correct=[]))
            for c in measured.cells
            if c.accuracy
        ],
    )
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        save(store, unlabelled, "base", "local", "2026-11-20T10:00:00+00:00", {"release": "4.1"})
    code, report = gate_json(capsys, url, unlabelled)
    accuracy = [(v["verdict"], v["detail"]) for v in report["verdicts"] if v["metric"] == "accuracy"]
    assert code == 0
    assert accuracy == [("pass", "no labels on both sides: accuracy not measured")] * len(measured.cells)


def test_a_policy_can_ignore_a_metric_and_make_inconclusive_fail(
    capsys: pytest.CaptureFixture[str], gate_store: tuple[str, StoredRun], tmp_path: Path
) -> None:
    url, run = gate_store
    cell = next(c for c in run.cells if (c.variant, c.delegate) == ("int8", "xnnpack"))
    candidate = changed(run, "int8", "xnnpack", timing=slower(cell, 1.5).timing)
    policy = tmp_path / "gate.toml"
    policy.write_text('ignore = ["latency_p50"]\n')
    code, report = gate_json(capsys, url, candidate, "--policy", str(policy))
    assert code == 0 and all(v["metric"] != "latency_p50" for v in report["verdicts"])
    policy.write_text('[[override]]\nvariant = "int8"\nlatency_floor = 0.60\n')  # a 50 % slowdown is tolerated
    code, report = gate_again(capsys, url, "--policy", str(policy))
    assert code == 0 and regressions(report) == set()


def test_junit_and_markdown_outputs(
    capsys: pytest.CaptureFixture[str], gate_store: tuple[str, StoredRun], tmp_path: Path
) -> None:
    url, run = gate_store
    cell = next(c for c in run.cells if (c.variant, c.delegate) == ("int8", "xnnpack"))
    xml_path = tmp_path / "gate.xml"
    code, _ = gate_json(
        capsys, url, changed(run, "int8", "xnnpack", timing=slower(cell, SLOWDOWN).timing), "--junit-xml", str(xml_path)
    )
    suite = ET.parse(xml_path).getroot()
    assert code == 1 and suite.get("failures") == "1"
    assert [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None] == ["latency_p50"]
    assert invoke(["gate", "--baseline", "release=4.1", "--candidate", "rc=1", "--store", url, "--markdown", "-"]) == 1
    assert "## edgebench gate: ❌ regression" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--baseline", "no-such-run", "--candidate", "latest"], "no run 'no-such-run'"),
        (["--baseline", "release=9.9", "--candidate", "latest"], "no run matches 'release=9.9'"),
        (["--baseline", "release=4.1", "--candidate", "latest", "--policy", "missing.toml"], "policy missing.toml"),
    ],
)
def test_usage_and_infrastructure_errors_exit_2(
    capsys: pytest.CaptureFixture[str], gate_store: tuple[str, StoredRun], argv: list[str], expected: str
) -> None:
    url, _ = gate_store
    assert invoke(["gate", "--store", url, *argv]) == 2
    assert expected in capsys.readouterr().err


def test_nothing_matched_is_exit_2(capsys: pytest.CaptureFixture[str], gate_store: tuple[str, StoredRun]) -> None:
    url, run = gate_store
    with Store(url) as store:
        save(store, run, "elsewhere", "pixel", "2026-11-24T11:00:00+00:00", {"rc": "2"})
    assert invoke(["gate", "--store", url, "--baseline", "release=4.1", "--candidate", "rc=2"]) == 2
    assert "nothing to compare" in capsys.readouterr().err


# ---- paired mode: both models measured now, side by side --------------------------------------


def paired_gate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, workdir: Path, candidate: Path, *extra: str
) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = invoke(
        [
            "gate",
            "--baseline-model",
            str(EXAMPLE_MODEL),
            "--candidate-model",
            str(candidate),
            "--data",
            str(EXAMPLE_DATA),
            "--variants",
            "fp32",
            "--runs",
            "120",
            "--blocks",
            "12",
            "--workdir",
            str(workdir),
            "--store",
            str(tmp_path / "h.sqlite"),
            "--json",
            *extra,
        ]
    )
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.slow
@pytest.mark.usefixtures("quiet_cores")  # a verdict expected: the machine's load must not make it inconclusive
def test_paired_mode_passes_the_same_model_and_stores_both_sides(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, workdir: Path
) -> None:
    code, report = paired_gate(capsys, tmp_path, workdir, EXAMPLE_MODEL)
    assert code == 0 and regressions(report) == set()
    latency = next(v for v in report["verdicts"] if v["metric"] == "latency_p50")
    # the default is adaptive: at least 10 blocks a side, as many more as the ratio's precision needed
    blocks = re.search(r"(\d+) blocks", latency["detail"])
    assert "Wilcoxon" in latency["detail"] and blocks and int(blocks.group(1)) >= 10
    with Store(store_url(str(tmp_path / "h.sqlite"))) as store:
        sides = {run.tags["side"]: run for run in store.list_runs()}
    assert set(sides) == {"baseline", "candidate"} and sides["baseline"].tags["gate"] == sides["candidate"].tags["gate"]


@pytest.mark.slow
@pytest.mark.usefixtures("quiet_cores")  # a verdict expected: the machine's load must not make it inconclusive
def test_paired_mode_catches_a_heavier_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, workdir: Path, heavier_model: Path
) -> None:
    code, report = paired_gate(capsys, tmp_path, workdir, heavier_model)
    assert code == 1
    assert ("local · fp32 · xnnpack · interpreter · 1t", "latency_p50") in regressions(report)
    assert ("local · fp32 · xnnpack · interpreter · 1t", "size") in regressions(report)


@pytest.mark.slow
@pytest.mark.usefixtures("quiet_cores")  # a verdict expected: the machine's load must not make it inconclusive
def test_an_adaptive_paired_gate_stops_once_its_verdict_is_reached(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, workdir: Path, heavier_model: Path
) -> None:
    code, report = paired_gate(capsys, tmp_path, workdir, heavier_model, "--precision", "0.001", "--max-secs", "30")
    assert code == 1
    assert ("local · fp32 · xnnpack · interpreter · 1t", "latency_p50") in regressions(report)
    with Store(store_url(str(tmp_path / "h.sqlite"))) as store:
        runs = [store.load_run(summary.run_id) for summary in store.list_runs()]
    for run in runs:
        (cell,) = run.cells
        assert cell.schedule is not None and cell.schedule.stop == "decided", cell.schedule
        assert cell.timing is not None and len(cell.timing.block_lengths) == cell.schedule.rounds >= 10


@pytest.mark.slow
@pytest.mark.usefixtures("quiet_cores")  # a verdict expected: the machine's load must not make it inconclusive
def test_paired_mode_with_no_data_gates_two_tflite_files_on_synthetic_inputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Two .tflite files and nothing else: latency, memory and size are gated; no accuracy verdict is made up."""
    model = str(real_model(FLOAT_WEIGHTS))
    argv = ["gate", "--baseline-model", model, "--candidate-model", model, "--runs", "120", "--blocks", "12"]
    code = invoke([*argv, "--workdir", str(tmp_path / "work"), "--store", str(tmp_path / "h.sqlite"), "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 0, captured.err
    metrics = {v["metric"] for v in report["verdicts"]}
    assert "latency_p50" in metrics and "size" in metrics
    accuracy = {v["verdict"]: v["detail"] for v in report["verdicts"] if v["metric"] == "accuracy"}
    assert accuracy == {"pass": "no labels on both sides: accuracy not measured"}
    assert "edgebench: note: no --data: latency, memory and output fidelity on 32 synthetic inputs" in captured.err


def test_inconclusive_passes_by_default_and_fails_when_the_policy_says_so(
    capsys: pytest.CaptureFixture[str], gate_store: tuple[str, StoredRun], tmp_path: Path
) -> None:
    url, run = gate_store
    cell = next(c for c in run.cells if (c.variant, c.delegate) == ("fp32", "cpu"))
    assert cell.accuracy is not None
    right = [i for i, ok in enumerate(cell.accuracy.correct) if ok][:3]
    flipped = [False if i in right else ok for i, ok in enumerate(cell.accuracy.correct)]
    candidate = changed(run, "fp32", "cpu", accuracy=dataclasses.replace(cell.accuracy, correct=flipped))
    code, report = gate_json(capsys, url, candidate)
    verdicts = {(v["cell"], v["metric"]): v["verdict"] for v in report["verdicts"]}
    assert verdicts[("local · fp32 · cpu · interpreter · 1t", "accuracy")] == "inconclusive"
    assert code == 0  # "measure more" does not fail the release by default
    policy = tmp_path / "gate.toml"
    policy.write_text("inconclusive_fails = true\n")
    assert (
        invoke(
            [
                "gate",
                "--baseline",
                "release=4.1",
                "--candidate",
                "rc=1",
                "--store",
                url,
                "--policy",
                str(policy),
                "--json",
            ]
        )
        == 1
    )


def test_a_baseline_exported_from_another_machine_gates_like_the_stored_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, gate_store: tuple[str, StoredRun]
) -> None:
    url, run = gate_store
    bundle = tmp_path / "baseline-4.1.json"
    assert invoke(["history", "--store", url, "--export", "release=4.1", "--to", str(bundle), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"bundle": str(bundle), "runs": ["base"]}
    # another machine: a store of its own holding only the candidate, slower on one cell
    other = store_url(str(tmp_path / "other.sqlite"))
    cell = next(c for c in run.cells if (c.variant, c.delegate) == ("int8", "xnnpack"))
    slow = changed(run, "int8", "xnnpack", timing=slower(cell, SLOWDOWN).timing)
    with Store(other) as store:
        with_history(store, run)
        save(store, rebuilt(slow), "cand", "local", "2026-11-24T10:00:00+00:00", {"rc": "1"})
    code = invoke(["gate", "--store", other, "--baseline", str(bundle), "--candidate", "rc=1", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["baseline"] == ["base"]
    assert regressions(report) == {("local · int8 · xnnpack · interpreter · 1t", "latency_p50")}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read run bundle"),
        ("{", "not a run bundle (invalid JSON"),
        ('{"kind": "something-else"}', "not a run bundle (made by `edgebench history --export`)"),
        ('{"kind": "edgebench-runs", "schema_version": "9.0", "runs": []}', "schema version 9.0 cannot be read"),
    ],
)
def test_an_unreadable_bundle_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    gate_store: tuple[str, StoredRun],
    content: str | None,
    expected: str,
) -> None:
    url, _ = gate_store
    bundle = tmp_path / "b.json"
    if content is not None:
        bundle.write_text(content)
    assert invoke(["gate", "--store", url, "--baseline", str(bundle), "--candidate", "release=4.1"]) == 2
    err = capsys.readouterr().err
    assert expected in err and str(bundle) in err and "Traceback" not in err
