"""A Raspberry Pi in a box: an emulated arm64 Debian board (scripts/board.py) behind its own sshd.

Everything here runs as it would on a real Pi bench: the board is set up offline by `edgebench devices
setup`, measured by `edgebench push`, and its results must agree with the host's. The board is built
once (about 6 minutes) and cached outside the repo; every later session brings it up in seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench_records import Manifest
from tests.conftest import ROOT, first_results, missing_part, push_argv, push_json, stored_run

pytestmark = pytest.mark.slow
EDGEBENCH = str(Path(sys.executable).parent / "edgebench")
BOARD = "edgebench-test"
# One board, two devices on it: each runtime gets its own work folder, so its own venv.
DEVICES = {"armpi": "edgebench", "armpi-tflite": "edgebench-tflite"}
RUNTIMES = {"armpi": "ai-edge-litert", "armpi-tflite": "tflite-runtime"}
# Every process on the board starts numpy and LiteRT under emulation (seconds each): one delegate, two cells.
ONE_DELEGATE = ("--delegates", "xnnpack")


def board_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "board.py"), *args, "--name", BOARD],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """The board up, with an inventory naming it twice (one device per runtime), and its state."""
    if os.geteuid() != 0:
        missing_part("the emulated board needs root (chroot, mounts, binfmt_misc)")
    inventory = tmp_path_factory.mktemp("board") / "edgebench.toml"
    up = board_script("up", "--inventory", str(inventory))
    if up.returncode != 0:
        missing_part(f"scripts/board.py up failed: {up.stderr.strip() or up.stdout.strip()}")
    state = json.loads(board_script("status").stdout)
    entry = inventory.read_text()
    second = entry.replace("[devices.edgebench-test]", "[devices.armpi-tflite]").replace(
        'workdir = "edgebench"', 'workdir = "edgebench-tflite"'
    )
    inventory.write_text(entry.replace("[devices.edgebench-test]", "[devices.armpi]") + "\n" + second)
    yield {"inventory": inventory, **state}
    board_script("down")


def on_board(board: dict[str, object], path: str) -> Path:
    """A path on the board as this machine sees it (the board's root file system is a folder here)."""
    return Path(str(board["rootfs"])) / path.lstrip("/")


@pytest.fixture(scope="module")
def set_up(board: dict[str, object]) -> dict[str, object]:
    """Both devices set up from scratch, offline: the host fetches the board's wheels and sends them."""
    for device, runtime in RUNTIMES.items():
        shutil.rmtree(on_board(board, f"/root/{DEVICES[device]}"), ignore_errors=True)
        setup = ["devices", "setup", device, "--offline", "--runtime", runtime, "--inventory", str(board["inventory"])]
        assert invoke(setup) == 0, f"setup of {device} failed"
    return board


@pytest.fixture
def lab(tmp_path: Path, set_up: dict[str, object], converted: tuple[Manifest, Path], workdir: Path) -> dict[str, Path]:
    return {"inventory": Path(str(set_up["inventory"])), "workdir": workdir, "store": tmp_path / "history.sqlite"}


def test_setup_again_changes_nothing(capsys: pytest.CaptureFixture[str], set_up: dict[str, object]) -> None:
    venv = on_board(set_up, "/root/edgebench/venv")
    before = venv.stat().st_mtime_ns, (venv / "edgebench-setup.json").read_bytes()
    capsys.readouterr()
    assert invoke(["devices", "setup", "armpi", "--offline", "--inventory", str(set_up["inventory"])]) == 0
    assert "already set up" in capsys.readouterr().out
    assert (venv.stat().st_mtime_ns, (venv / "edgebench-setup.json").read_bytes()) == before


def test_devices_check_shows_an_arm64_pi_under_emulation(
    capsys: pytest.CaptureFixture[str], set_up: dict[str, object]
) -> None:
    assert invoke(["devices", "check", "armpi", "--json", "--inventory", str(set_up["inventory"])]) == 0
    facts = json.loads(capsys.readouterr().out)
    text = json.dumps(facts)
    assert "aarch64" in text and "Raspberry Pi 4 Model B" in text and "ai_edge_litert" in text
    device = facts["device"]
    assert device["board_model"] == "Raspberry Pi 4 Model B Rev 1.4" and device["cpu_cores"] == "4× Cortex-A72"
    assert device["cpu_features"] == []  # a Cortex-A72: NEON only, no int8 dot product
    assert device["emulated"].startswith("aarch64 emulated on an x86_64 host")


@pytest.mark.parametrize("device", sorted(DEVICES))
def test_push_on_each_runtime_scores_as_the_host_does(
    capsys: pytest.CaptureFixture[str], lab: dict[str, Path], converted: tuple[Manifest, Path], device: str
) -> None:
    code, report, err = push_json(capsys, device, lab, *ONE_DELEGATE)
    assert code == 0, err
    stored = stored_run(lab["store"], report["run_id"])
    assert {c.status for c in stored.cells} == {"ok"}
    assert all(c.device is not None and c.device.machine == "aarch64" and c.device.emulated for c in stored.cells)
    host = {v.name: v.host_top1 for v in converted[0].variants}
    for cell in stored.cells:  # the board's kernels, not the host's, gave these
        assert cell.accuracy is not None and cell.accuracy.top1 == pytest.approx(host[cell.variant], abs=0.01)


def test_an_unchanged_push_sends_no_variant_bytes(
    capsys: pytest.CaptureFixture[str], lab: dict[str, Path], board: dict[str, object]
) -> None:
    one_variant = (*ONE_DELEGATE, "--variants", "fp32")  # what holds for one file holds for each
    assert push_json(capsys, "armpi", lab, *one_variant)[0] == 0
    blobs = on_board(board, "/root/edgebench/blobs")
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in blobs.iterdir()}
    assert push_json(capsys, "armpi", lab, *one_variant)[0] == 0
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in blobs.iterdir()} == before


def drop_sessions(board: dict[str, object]) -> None:
    """Kill the board's SSH sessions (and what they run), keeping its sshd: a link cut mid-run."""
    sshd = int(on_board(board, "/run/edgebench-sshd.pid").read_text())
    children = subprocess.run(["pgrep", "-P", str(sshd)], capture_output=True, text=True).stdout.split()
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)


def test_a_cut_link_and_resume_measure_each_cell_exactly_once(lab: dict[str, Path], board: dict[str, object]) -> None:
    # two thread counts: two processes on the board, one result back before the other (the variants of one
    # configuration are timed together and come back together)
    split = ("--variants", "fp32", "--threads", "1,2")
    command = [EDGEBENCH, *push_argv("armpi", lab, *ONE_DELEGATE, *split), "--runs", "5", "--min-secs", "3"]
    earlier = set(lab["workdir"].glob("runs/*"))
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    pulled = first_results(lab["workdir"], earlier, deadline)
    assert pulled, "no result came back from the board"
    while first.poll() is None and time.monotonic() < deadline:
        drop_sessions(board)
        time.sleep(0.5)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 2 and "link lost" in err, err
    run_id = pulled[0].parent.parent.name

    resumed = subprocess.run([*command, "--resume", run_id], capture_output=True, text=True, timeout=600)

    assert resumed.returncode == 0, resumed.stderr
    on_device = on_board(board, f"/root/edgebench/runs/{run_id}/results")
    names = sorted(p.name for p in on_device.glob("*.json"))
    assert len(names) == len(set(names)) == 2
    assert len(stored_run(lab["store"], run_id).cells) == 2
