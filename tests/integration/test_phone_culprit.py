"""The culprit search on the phone's runners, over real ADB to the fake phone (tests/support/fake_adb.py). The MUL
in the middle of x + x, * itself, + x is broken, and `push --find-culprits` names that op in the cell result, the
run's rows (the run table's note) and --json; without the flag nothing is probed or pushed for it, and an honest
cell carries no culprit. benchmark_model (its stand-in) runs a delegate of our own that flips the MUL's sign
(tests/data/one_op_delegate.c); the app (its Java core, JvmRunner) runs on a fake silicon whose corrupting
delegate breaks the MUL's output and everything computed after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edgebench_records import CellResult, CulpritMethod, Plan, Status, read
from tests.conftest import push_json, require, stored_run
from tests.integration.test_adb import STANDIN, apk, edgebench_key, write_inventory  # noqa: F401  (fixtures)
from tests.integration.test_android_app import app_phone  # noqa: F401  (a fixture, used by name)
from tests.support import one_op
from tests.support.fake_adb import FakePhone
from tests.support.tiny_models import chain

pytestmark = pytest.mark.slow
SAMPLES = 3  # synthetic inputs: the accuracy samples and the probe's


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return one_op.build(require("gcc", "gcc"), tmp_path_factory.mktemp("one_op"))


@pytest.fixture
def phone(tmp_path: Path, edgebench_key: Path) -> Iterator[FakePhone]:  # noqa: F811
    authorized = (edgebench_key.parent / "adbkey.pub").read_bytes()
    fake = FakePhone(tmp_path / "phone", authorized_keys=[authorized]).start()
    yield fake
    fake.stop()


@pytest.fixture
def bm_lab(tmp_path: Path, phone: FakePhone, edgebench_key: Path) -> dict[str, Path]:  # noqa: F811
    port = {"ANDROID_ADB_SERVER_PORT": "5037"}  # unused: transport "direct" speaks to the phone itself
    settings = {"runner": "benchmark_model", "benchmark_model": str(STANDIN), "accuracy_samples": SAMPLES}
    inventory = write_inventory(tmp_path / "bm.toml", phone, "direct", port, edgebench_key, **settings)
    return {"inventory": inventory, "workdir": tmp_path / "work", "store": tmp_path / "h.sqlite"}


@pytest.fixture
def app_lab(tmp_path: Path, app_phone: FakePhone, edgebench_key: Path, apk: Path) -> dict[str, Path]:  # noqa: F811
    port = {"ANDROID_ADB_SERVER_PORT": "5037"}
    inventory = write_inventory(tmp_path / "app.toml", app_phone, "direct", port, edgebench_key, apk=str(apk))
    return {"inventory": inventory, "workdir": tmp_path / "work", "store": tmp_path / "h.sqlite"}


def push_chain(
    capsys: pytest.CaptureFixture[str], lab: dict[str, Path], honest: str, broken: str, *extra: str
) -> tuple[dict[str, CellResult], dict[str, dict[str, str]], str]:
    """The chain pushed as given, under an honest delegate and one that breaks its MUL: each one's stored cell and
    --json row, and the run's id."""
    model = chain(lab["workdir"].parent / "chain.tflite")
    argv = ["--model", str(model), "--variants", "fp32", "--delegates", f"{honest},{broken}"]
    code, report, err = push_json(capsys, "pixel", lab, *argv, "--synthetic-samples", str(SAMPLES), *extra)
    assert code == 1, err  # a wrong_output cell fails the run, culprit or not
    cells = {c.delegate: c for c in stored_run(lab["store"], report["run_id"]).cells}
    rows = {r["delegate"]: r for r in report["rows"]}
    run_id = str(report["run_id"])
    return {"honest": cells[honest], "broken": cells[broken]}, {"honest": rows[honest], "broken": rows[broken]}, run_id


def assert_the_mul_is_named(cells: dict[str, CellResult], rows: dict[str, dict[str, str]]) -> None:
    """The broken cell names the MUL (op 1, output b) and the ADD after it, in its result, message and row; the
    honest one was not searched."""
    broken = cells["broken"]
    assert broken.status == Status.WRONG_OUTPUT and broken.numerics and not broken.numerics.passed
    found = broken.culprit
    assert found and found.found, broken.message
    assert found.method == CulpritMethod.EXPOSED_OUTPUTS and found.samples == SAMPLES
    assert (found.found.index, found.found.op, found.found.tensor) == (1, "MUL", "b")
    assert [(op.index, op.op, op.tensor) for op in found.after] == [(2, "ADD", "y")]
    assert found.found.drift > 1 > found.tolerance and found.compared_ops == 3
    assert broken.message.endswith(f"; {found.line}") and "\n" not in broken.message
    assert rows["broken"]["culprit"] == found.line and rows["broken"]["message"].endswith(found.line)
    honest = cells["honest"]  # asked to search, but nothing was wrong: no search, no field
    assert honest.status == Status.OK and honest.numerics and honest.numerics.passed and honest.culprit is None
    assert rows["honest"]["culprit"] == ""


def probes_sent(phone: FakePhone) -> list[str]:
    """Files pushed for a probe: its inputs (the probe folder) and the probe model itself (a blob)."""
    return [p for p in phone.sent_paths if "/probe/" in p]


def test_benchmark_model_names_the_op_its_delegate_broke(
    capsys: pytest.CaptureFixture[str], bm_lab: dict[str, Path], phone: FakePhone, library: Path
) -> None:
    cells, rows, _ = push_chain(capsys, bm_lab, "xnnpack", one_op.delegate(library, "MUL"), "--find-culprits")
    assert_the_mul_is_named(cells, rows)
    found = cells["broken"].culprit
    assert found and found.found and found.found.drift > 2  # -b against b, b >= 0: twice its RMS, a smaller spread
    # the probe's delegated nodes read from the binary's own lines: exposing b split no partition
    assert found.probe_delegated_nodes == found.cell_delegated_nodes == 1 and not found.partitioning_changed
    assert probes_sent(phone)


def test_benchmark_model_probes_nothing_without_the_flag(
    capsys: pytest.CaptureFixture[str], bm_lab: dict[str, Path], phone: FakePhone, library: Path
) -> None:
    cells, rows, _ = push_chain(capsys, bm_lab, "xnnpack", one_op.delegate(library, "MUL"))
    broken = cells["broken"]
    assert broken.status == Status.WRONG_OUTPUT and broken.culprit is None and "culprit" not in broken.message
    assert rows["broken"]["culprit"] == "" and probes_sent(phone) == []


def test_the_app_runs_the_probe_and_the_host_names_the_op(
    capsys: pytest.CaptureFixture[str],
    app_lab: dict[str, Path],
    app_phone: FakePhone,  # noqa: F811
) -> None:
    app_phone.app_env |= {"FAKE_PHONE_CORRUPT": "xnnpack", "FAKE_PHONE_CORRUPT_TENSOR": "b"}
    cells, rows, run_id = push_chain(capsys, app_lab, "cpu", "xnnpack", "--find-culprits")
    assert_the_mul_is_named(cells, rows)
    found = cells["broken"].culprit
    assert found and found.probe_delegated_nodes is None  # LiteRT's Java APIs do not say what they delegated
    assert probe_files(app_phone, run_id) == ["probe-given.tflite"]  # beside the variant, the .tflite given


def test_the_app_is_given_no_probe_without_the_flag(
    capsys: pytest.CaptureFixture[str],
    app_lab: dict[str, Path],
    app_phone: FakePhone,  # noqa: F811
) -> None:
    app_phone.app_env |= {"FAKE_PHONE_CORRUPT": "xnnpack", "FAKE_PHONE_CORRUPT_TENSOR": "b"}
    cells, rows, run_id = push_chain(capsys, app_lab, "cpu", "xnnpack")
    broken = cells["broken"]
    assert broken.status == Status.WRONG_OUTPUT and broken.culprit is None and "culprit" not in broken.message
    assert rows["broken"]["culprit"] == "" and probe_files(app_phone, run_id) == []


def probe_files(phone: FakePhone, run_id: str) -> list[str]:
    """The probe models in the run's plan folder on the phone, and named in the plan the app read."""
    plan_dir = next(phone.root.glob(f"**/runs/{run_id}/plan"))
    named = [v.probe for v in read(Plan, plan_dir / "plan.json").variants if v.probe]
    assert sorted(p.name for p in plan_dir.glob("probe-*")) == named
    return named
