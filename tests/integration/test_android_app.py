"""The Android app's own core on the fake phone, end to end: `edgebench push` over real ADB to a phone whose
`am instrument` runs android_app's Java sweep (JvmRunner, one process per unit as on a phone) on a fake
silicon that answers what the host's reference kernels answered, or corrupts its delegate's outputs. The
host reads the numerics, the noise guard, the memory accounting and the schedule (the variants of one
configuration timed together) into its results like any runner's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edgebench_records import Manifest, Status
from tests.conftest import push_json, stored_run
from tests.integration.test_adb import apk, edgebench_key, write_inventory  # noqa: F401  (fixtures, used by name)
from tests.support.fake_adb import FakePhone

pytestmark = pytest.mark.slow


@pytest.fixture
def app_phone(tmp_path: Path, edgebench_key: Path, jvm: list[str]) -> Iterator[FakePhone]:  # noqa: F811
    authorized = (edgebench_key.parent / "adbkey.pub").read_bytes()
    fake = FakePhone(tmp_path / "phone", authorized_keys=[authorized], app=jvm).start()
    yield fake
    fake.stop()


@pytest.fixture
def app_lab(
    tmp_path: Path,
    app_phone: FakePhone,
    edgebench_key: Path,  # noqa: F811
    apk: Path,  # noqa: F811
    converted: tuple[Manifest, Path],
    workdir: Path,
) -> dict[str, Path]:
    port = {"ANDROID_ADB_SERVER_PORT": "5037"}  # unused: transport "direct" speaks to the phone itself
    inventory = write_inventory(tmp_path / "edgebench.toml", app_phone, "direct", port, edgebench_key, apk=str(apk))
    return {"inventory": inventory, "workdir": workdir, "store": tmp_path / "history.sqlite"}


def test_the_apps_cells_carry_numerics_conditions_and_memory_of_their_own_process(
    capsys: pytest.CaptureFixture[str], app_lab: dict[str, Path]
) -> None:
    code, report, err = push_json(capsys, "pixel", app_lab, "--delegates", "xnnpack,nnapi")
    assert code == 0, err
    cells = {(c.variant, c.delegate): c for c in stored_run(app_lab["store"], report["run_id"]).cells}
    for variant in ("fp32", "int8"):
        ok = cells[(variant, "xnnpack")]
        assert ok.status == Status.OK, ok.message
        assert ok.numerics is not None and ok.numerics.passed  # held to the same variant's reference kernels
        assert ok.accuracy is not None and ok.numerics.n == ok.accuracy.n
        assert ok.conditions is not None and ok.conditions.threads == 1
        assert ok.conditions.available_cores >= 1
        # each side's load measured in a process of its own before its unit: the second cell's memory is as
        # much its own as the first's, though the two were timed side by side
        assert ok.memory is not None and ok.memory.missing == [] and ok.memory.load_delta_mb is not None
        assert cells[(variant, "nnapi")].status == Status.DELEGATE_UNAVAILABLE
        assert cells[(variant, "nnapi")].conditions is None  # never timed: nothing observed
        assert cells[(variant, "nnapi")].schedule is None
    # the variants of one configuration timed together, in blocks the host's speed-ups pair (one time base)
    assert cells[("fp32", "xnnpack")].timed_with(cells[("int8", "xnnpack")])


def test_a_delegate_that_corrupts_its_outputs_on_the_phone_is_wrong_output_on_the_host(
    capsys: pytest.CaptureFixture[str], app_lab: dict[str, Path], app_phone: FakePhone
) -> None:
    app_phone.app_env["FAKE_PHONE_CORRUPT"] = "xnnpack"
    code, report, err = push_json(capsys, "pixel", app_lab, "--delegates", "xnnpack")
    assert code == 1, err  # a wrong answer fails the run, as a crashed cell does
    for cell in stored_run(app_lab["store"], report["run_id"]).cells:
        assert cell.status == Status.WRONG_OUTPUT
        assert cell.numerics is not None and not cell.numerics.passed
        assert cell.message.startswith("xnnpack outputs differ from the same variant on the host's reference kernels")
        assert cell.timing is not None and cell.timing.samples_ms  # measured all the same, figures kept
