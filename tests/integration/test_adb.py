"""An Android phone over ADB, by both transports: Debian's real `adb` server and the adb-shell library,
talking the real wire protocol to the fake phone of tests/support/fake_adb.py (only the silicon is faked)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from device_runner.coverage import node_keys
from device_runner.flatbuffer import read_graph
from edgebench.cli import invoke
from edgebench_records import Manifest
from tests.conftest import DATA, QUICK_ARGS, first_results, push_argv, push_json, require, stored_run, variant_of
from tests.support.fake_adb import FakePhone
from tests.support.fake_android_tools import APP_PACKAGE
from tests.support.sshd import free_port

pytestmark = pytest.mark.slow
EDGEBENCH = str(Path(sys.executable).parent / "edgebench")
TRANSPORTS = ["adb-server", "direct"]
STANDIN = DATA / "benchmark_model_standin.py"
ACCURACY_SAMPLES = 5  # benchmark_model scores one process per sample on the phone: few, but enough to score


@pytest.fixture(scope="module")
def adb_server() -> Iterator[dict[str, str]]:
    """A private adb server (its own port), started by the first `adb` call, killed at the end."""
    adb = require("adb", "adb")
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()))
    subprocess.run([adb, "start-server"], env=env, check=True, capture_output=True, timeout=30)
    yield env
    subprocess.run([adb, "kill-server"], env=env, check=False, capture_output=True, timeout=30)


def adb_server_key() -> bytes:
    return (Path.home() / ".android" / "adbkey.pub").read_bytes()


@pytest.fixture
def edgebench_key(tmp_path: Path) -> Path:
    from adb_shell.auth.keygen import keygen

    key = tmp_path / "keys" / "adbkey"
    key.parent.mkdir()
    keygen(str(key))
    key.chmod(0o600)  # as edgebench makes its own: a key open to others is warned about
    return key


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def phone(tmp_path: Path, transport: str, adb_server: dict[str, str], edgebench_key: Path) -> Iterator[FakePhone]:
    """A phone that asks for AUTH and knows the key of whichever host side the test uses."""
    authorized = adb_server_key() if transport == "adb-server" else (edgebench_key.parent / "adbkey.pub").read_bytes()
    fake = FakePhone(tmp_path / "phone", authorized_keys=[authorized]).start()
    yield fake
    fake.stop()


@pytest.fixture
def apk(tmp_path: Path) -> Path:
    """The fake phone installs any file as the runner app; the host side is what is tested here."""
    path = tmp_path / "edgebench-runner.apk"
    path.write_bytes(b"PK\x03\x04 edgebench runner apk for the fake phone")
    return path


def write_inventory(
    path: Path, phone: FakePhone, transport: str, adb_env: dict[str, str], key: Path, **settings: object
) -> Path:
    entry: dict[str, object] = {
        "kind": "adb",
        "serial": phone.serial,
        "transport": transport,
        "key": str(key),
        "adb_server_port": int(adb_env["ANDROID_ADB_SERVER_PORT"]),
        "connect_timeout_s": 3,
        "command_timeout_s": 60,
        **settings,
    }
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in entry.items() if v is not None)
    path.write_text(f"[devices.pixel]\n{body}\n")
    return path


@pytest.fixture
def lab(
    tmp_path: Path,
    phone: FakePhone,
    transport: str,
    adb_server: dict[str, str],
    edgebench_key: Path,
    apk: Path,
    converted: tuple[Manifest, Path],
    workdir: Path,
) -> dict[str, Path]:
    inventory = write_inventory(tmp_path / "edgebench.toml", phone, transport, adb_server, edgebench_key, apk=str(apk))
    return {"inventory": inventory, "workdir": workdir, "store": tmp_path / "history.sqlite"}


def blob_pushes(phone: FakePhone) -> list[str]:
    """Files sent into the blob store (variants, input sets, the apk), named by their sha256."""
    return [p for p in phone.sent_paths if "/blobs/.incoming-" in p]


def test_push_installs_the_app_measures_every_cell_and_a_second_push_sends_nothing(
    capsys: pytest.CaptureFixture[str], lab: dict[str, Path], phone: FakePhone, apk: Path
) -> None:
    code, report, err = push_json(capsys, "pixel", lab, "--delegates", "xnnpack,cpu,nnapi,gpu")
    assert code == 0, err
    statuses = {(r["variant"], r["delegate"]): r["status"] for r in report["rows"]}
    assert statuses == {
        **{(v, d): "ok" for v in ("fp32", "int8") for d in ("xnnpack", "cpu")},
        # the fake phone's silicon (the Python runner) has neither: a fact about the device, not a failure
        **{(v, d): "delegate_unavailable" for v in ("fp32", "int8") for d in ("nnapi", "gpu")},
    }
    stored = stored_run(lab["store"], report["run_id"])
    assert stored.device == "pixel" and len(stored.cells) == 8
    assert (phone.root / "state" / "packages").read_text().split() == [APP_PACKAGE]
    results = phone.local(f"/sdcard/Android/data/{APP_PACKAGE}/files/runs/{report['run_id']}/results")
    assert len(list(results.glob("*.json"))) == 8  # the app's own copies, where the shell can read them
    first = blob_pushes(phone)
    sent = {p.rsplit("/", 1)[1] for p in first}
    assert {str(v.sha256) for v in stored.manifest.variants if v.name in ("fp32", "int8")} <= sent

    code, _, err = push_json(capsys, "pixel", lab, "--delegates", "xnnpack,cpu,nnapi,gpu")
    assert code == 0, err
    assert blob_pushes(phone) == first  # no variant, input set or apk sent again; the app not reinstalled

    apk.write_bytes(apk.read_bytes() + b" v2")
    assert push_json(capsys, "pixel", lab, "--delegates", "xnnpack")[0] == 0
    assert len(blob_pushes(phone)) == len(first) + 1  # a changed apk is sent and installed, nothing else


def test_a_dropped_link_keeps_finished_cells_and_resume_completes_each_cell_once(
    lab: dict[str, Path], phone: FakePhone
) -> None:
    command = [EDGEBENCH, *push_argv("pixel", lab), "--runs", "5", "--min-secs", "2", "--warmup-secs", "0"]
    earlier = set(lab["workdir"].glob("runs/*"))
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    pulled = first_results(lab["workdir"], earlier, deadline)
    while first.poll() is None and time.monotonic() < deadline:  # pull the cable until the push notices
        phone.drop_connections()
        time.sleep(0.5)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 2, err
    (line,) = [line for line in err.splitlines() if line.startswith("edgebench:")]
    assert line.startswith("edgebench: device pixel: link lost") and "--resume" in line
    run_id = pulled[0].parent.parent.name
    kept = {p.name: p.read_bytes() for p in pulled[0].parent.glob("*.json")}
    assert 0 < len(kept) < 4

    resumed = subprocess.run([*command, "--resume", run_id, "--json"], capture_output=True, text=True, timeout=300)

    assert resumed.returncode == 0, resumed.stderr
    results = sorted(p.name for p in pulled[0].parent.glob("*.json"))
    assert len(results) == 4
    for name, content in kept.items():
        assert (pulled[0].parent / name).read_bytes() == content  # nothing measured was lost or redone
    assert len(stored_run(lab["store"], run_id).cells) == 4


def fault_phone(phone: FakePhone, fault: str, transport: str, tmp_path: Path) -> str:
    """Put the phone into the fault; the serial the inventory should name."""
    if fault == "no-such-serial":
        return "NO5UCH5ERIAL" if transport == "adb-server" else f"127.0.0.1:{free_port()}"
    if fault == "offline":
        phone.offline = True
    elif fault == "unauthorised":
        from adb_shell.auth.keygen import keygen

        keygen(str(tmp_path / "someone-else"))
        phone.authorized_keys = [(tmp_path / "someone-else.pub").read_bytes()]
    elif fault == "no-space":
        phone.free_bytes = 10_000
    return phone.serial


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("no-such-serial", {"adb-server": "no device with serial", "direct": "no device listening at"}),
        ("offline", {"adb-server": "is offline", "direct": "is offline"}),
        ("unauthorised", {"adb-server": "is unauthorised", "direct": "is unauthorised"}),
        ("no-space", {"adb-server": "no space left on the phone", "direct": "no space left on the phone"}),
    ],
)
def test_each_fault_is_one_line_naming_the_device_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    phone: FakePhone,
    transport: str,
    adb_server: dict[str, str],
    edgebench_key: Path,
    apk: Path,
    fault: str,
    expected: dict[str, str],
    workdir: Path,
) -> None:
    serial = fault_phone(phone, fault, transport, tmp_path)
    inventory = write_inventory(
        tmp_path / "f.toml", phone, transport, adb_server, edgebench_key, apk=str(apk), serial=serial
    )
    # the session's work directory: the example is converted once, not once a fault
    place = {"inventory": inventory, "workdir": workdir, "store": tmp_path / "h.sqlite"}
    code = invoke(push_argv("pixel", place, *QUICK_ARGS))
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("edgebench:")]
    assert len(lines) == 1 and re.match(r"edgebench: run \S+: device pixel: ", lines[0]), err
    assert expected[transport] in lines[0] and "Traceback" not in err


def test_devices_check_reports_the_phone_and_its_runner(
    capsys: pytest.CaptureFixture[str], lab: dict[str, Path]
) -> None:
    assert invoke(["devices", "--inventory", str(lab["inventory"]), "check", "pixel", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["android"] | {"kernel": "-", "cores": 0} == {
        "model": "Pixel 8",
        "manufacturer": "Google",
        "soc": "Tensor G3",
        "board": "",
        "android": "14",
        "api_level": "34",
        "abi": "arm64-v8a",
        "kernel": "-",
        "cores": 0,
        "thermal_status": 0,
    }
    assert report["runner"] == "app" and report["runner_present"] is False and report["free_disk_mb"] > 0
    assert invoke(["devices", "--inventory", str(lab["inventory"]), "check", "pixel"]) == 0
    text = capsys.readouterr().out
    assert "Google Pixel 8, SoC Tensor G3" in text and "Android 14 (API 34), ABI arm64-v8a" in text
    assert "runner app: MISSING" in text


@pytest.mark.parametrize("transport", ["direct"], indirect=True)
@pytest.mark.parametrize("generation", ["current", "oldest"])
def test_benchmark_model_runner_measures_each_cell_and_marks_what_it_did_not_print(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    phone: FakePhone,
    transport: str,
    adb_server: dict[str, str],
    edgebench_key: Path,
    converted: tuple[Manifest, Path],
    workdir: Path,
    generation: str,
) -> None:
    monkeypatch.setenv("BENCHMARK_OUTPUT_GENERATION", generation)
    inventory = write_inventory(
        tmp_path / "bm.toml",
        phone,
        transport,
        adb_server,
        edgebench_key,
        runner="benchmark_model",
        benchmark_model=str(STANDIN),
        accuracy_samples=ACCURACY_SAMPLES,
    )
    lab = {"inventory": inventory, "workdir": workdir, "store": tmp_path / "h.sqlite"}
    code, report, err = push_json(capsys, "pixel", lab, "--delegates", "xnnpack,cpu,gpu")
    assert code == 0, err
    stored = stored_run(lab["store"], report["run_id"])
    cells = {(c.variant, c.delegate): c for c in stored.cells}
    assert {k: c.status for k, c in cells.items()} == {
        **{(v, d): "ok" for v in ("fp32", "int8") for d in ("xnnpack", "cpu")},
        # the binary went on without the GPU delegate it could not create: not reported as a GPU figure
        **{(v, "gpu"): "delegate_unavailable" for v in ("fp32", "int8")},
    }
    xnn = cells["fp32", "xnnpack"]
    assert xnn.timing and xnn.coverage and xnn.accuracy and xnn.device
    assert xnn.timing.samples_ms == [] and xnn.timing.mean_ms > 0 and "samples_ms" in xnn.timing.missing
    if generation == "current":
        assert xnn.timing.p50_ms is not None and xnn.memory and xnn.memory.peak_rss_mb
    else:
        assert xnn.timing.p50_ms is None and {"p50_ms", "min_ms", "std_ms"} <= set(xnn.timing.missing)
        assert xnn.memory is None
    assert xnn.coverage.delegated_nodes > 0 == cells["fp32", "cpu"].coverage.delegated_nodes  # type: ignore[union-attr]
    manifest, folder = converted
    fp32 = variant_of(manifest, "fp32").file
    assert fp32 is not None
    graph = read_graph((folder / fp32).read_bytes())
    plain = cells["fp32", "cpu"].placement  # none delegated: placed from the log's counts, over the model's graph
    assert plain is not None and plain.node_keys == node_keys(graph)  # each node stored with its key
    assert xnn.accuracy.n == ACCURACY_SAMPLES and xnn.accuracy.top1 is not None and xnn.accuracy.top1 > 0.9
    assert xnn.device.runtime == "benchmark_model" and xnn.device.os == "Android 14 (API 34)"
