"""The culprit search on the phone's runners, over real ADB to the fake phone (tests/support/fake_adb.py): a
delegate of our own (tests/data/one_op_delegate.c) flips the sign of the MUL in the middle of x + x, * itself,
+ x, and `push --find-culprits` names that op in the cell result, the run's rows (the run table's note) and
--json; without the flag nothing is probed or pushed for it, and an honest cell carries no culprit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edgebench_records import CellResult, CulpritMethod, Status
from tests.conftest import push_json, require, stored_run
from tests.integration.test_adb import STANDIN, apk, edgebench_key, write_inventory  # noqa: F401  (fixtures)
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


def push_chain(
    capsys: pytest.CaptureFixture[str], lab: dict[str, Path], library: Path, *extra: str
) -> tuple[dict[str, CellResult], dict[str, dict[str, str]]]:
    """The chain pushed as given, under XNNPACK and under the delegate that flips its MUL: each delegate's
    stored cell and --json row."""
    model = chain(lab["workdir"].parent / "chain.tflite")
    flips = one_op.delegate(library, "MUL")
    argv = ["--model", str(model), "--variants", "fp32", "--delegates", f"xnnpack,{flips}"]
    code, report, err = push_json(capsys, "pixel", lab, *argv, "--synthetic-samples", str(SAMPLES), *extra)
    assert code == 1, err  # a wrong_output cell fails the run, culprit or not
    cells = {c.delegate: c for c in stored_run(lab["store"], report["run_id"]).cells}
    rows = {r["delegate"]: r for r in report["rows"]}
    return {"honest": cells["xnnpack"], "flipped": cells[flips]}, {"honest": rows["xnnpack"], "flipped": rows[flips]}


def probes_sent(phone: FakePhone) -> list[str]:
    """Files pushed for a probe: its inputs (the probe folder) and the probe model itself (a blob)."""
    return [p for p in phone.sent_paths if "/probe/" in p]


def test_benchmark_model_names_the_op_its_delegate_broke(
    capsys: pytest.CaptureFixture[str], bm_lab: dict[str, Path], phone: FakePhone, library: Path
) -> None:
    cells, rows = push_chain(capsys, bm_lab, library, "--find-culprits")
    flipped = cells["flipped"]
    assert flipped.status == Status.WRONG_OUTPUT and flipped.numerics and not flipped.numerics.passed
    found = flipped.culprit
    assert found and found.found, flipped.message
    assert found.method == CulpritMethod.EXPOSED_OUTPUTS and found.samples == SAMPLES
    assert (found.found.index, found.found.op, found.found.tensor) == (1, "MUL", "b")
    assert [(op.index, op.op, op.tensor) for op in found.after] == [(2, "ADD", "y")]
    assert found.found.drift > 2 > found.tolerance  # -b against b, b >= 0: twice its RMS over a smaller spread
    # the probe's delegated nodes read from the binary's own lines: exposing b split no partition
    assert found.probe_delegated_nodes == found.cell_delegated_nodes == 1 and not found.partitioning_changed
    assert flipped.message.endswith(f"; {found.line}") and "\n" not in flipped.message
    assert rows["flipped"]["culprit"] == found.line and rows["flipped"]["message"].endswith(found.line)
    assert probes_sent(phone)
    honest = cells["honest"]  # asked to search, but nothing was wrong: no search, no field
    assert honest.status == Status.OK and honest.numerics and honest.numerics.passed and honest.culprit is None
    assert rows["honest"]["culprit"] == ""


def test_benchmark_model_probes_nothing_without_the_flag(
    capsys: pytest.CaptureFixture[str], bm_lab: dict[str, Path], phone: FakePhone, library: Path
) -> None:
    cells, rows = push_chain(capsys, bm_lab, library)
    flipped = cells["flipped"]
    assert flipped.status == Status.WRONG_OUTPUT and flipped.culprit is None and "culprit" not in flipped.message
    assert rows["flipped"]["culprit"] == "" and probes_sent(phone) == []
