"""A Raspberry Pi over SSH, played by Debian's real OpenSSH server on 127.0.0.1 and a bare venv's Python."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

import tests.support.sshd
from edgebench.cli import invoke
from edgebench.devices import get_device
from edgebench.inventory import load_inventory
from edgebench.plan import build_plan, collect_results, stage
from edgebench_records import Manifest, Measurement
from tests.conftest import QUICK_ARGS, RUNNER_ENVS, first_results, push_argv, push_json, require, stored_run
from tests.support.sshd import SshServer, ssh_server

pytestmark = pytest.mark.slow
EDGEBENCH = str(Path(sys.executable).parent / "edgebench")


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with ssh_server(require("sshd", "openssh-server"), tmp_path_factory.mktemp("sshd")) as server:
        yield server


def board_python() -> Path:
    python = RUNNER_ENVS["ai_edge_litert"] / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} missing: scripts/test.sh creates it")
    return python


def write_inventory(path: Path, server: SshServer, board_home: Path, **overrides: object) -> Path:
    settings: dict[str, object] = {
        "kind": "ssh",
        "host": "127.0.0.1",
        "port": server.port,
        "user": server.user,
        "key": str(server.user_key),
        "python": str(board_python()),
        "workdir": str(board_home),
        "host_key": server.host_key_line,
        "known_hosts": str(path.parent / "known_hosts"),
        "connect_timeout_s": 5,
    }
    settings.update(overrides)
    settings = {key: value for key, value in settings.items() if value is not None}
    body = "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
    path.write_text(f"[devices.pi]\n{body}\n")
    return path


@pytest.fixture
def lab(tmp_path: Path, sshd: SshServer, converted: tuple[Manifest, Path], workdir: Path) -> dict[str, Path]:
    """An inventory naming the board `pi`, the board's home, and a host work dir with the example converted."""
    board = tmp_path / "board"
    return {
        "inventory": write_inventory(tmp_path / "edgebench.toml", sshd, board),
        "board": board,
        "workdir": workdir,
        "store": tmp_path / "history.sqlite",
    }


@pytest.fixture
def sshd_without_sftp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SshServer]:
    """OpenSSH as minimal boards (dropbear) have it: no SFTP subsystem."""
    config = tests.support.sshd.CONFIG.replace("Subsystem sftp internal-sftp\n", "")
    monkeypatch.setattr(tests.support.sshd, "CONFIG", config)
    with ssh_server(require("sshd", "openssh-server"), tmp_path / "sshd") as server:
        yield server


def test_a_board_without_sftp_is_measured_over_exec_channels(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sshd_without_sftp: SshServer, workdir: Path
) -> None:
    board = tmp_path / "board"
    lab = {
        "inventory": write_inventory(tmp_path / "edgebench.toml", sshd_without_sftp, board),
        "workdir": workdir,
        "store": tmp_path / "history.sqlite",
    }
    code, report, err = push_json(capsys, "pi", lab)
    assert code == 0, err
    assert {r["status"] for r in report["rows"]} == {"ok"}
    # the runner, the plan's files and every result travelled as `cat` streams, byte for byte
    for result in (workdir / "runs" / report["run_id"] / "results").glob("*.json"):
        assert (board / "runs" / report["run_id"] / "results" / result.name).read_bytes() == result.read_bytes()


def blob_state(board: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (board / "blobs").iterdir()}


def test_push_measures_every_cell_on_the_board_and_stores_the_run(
    capsys: pytest.CaptureFixture[str], lab: dict[str, Path]
) -> None:
    code, report, err = push_json(capsys, "pi", lab, "--min-secs", "0.5")  # a sweep of several poll rounds
    assert code == 0, err
    assert {(r["variant"], r["delegate"], r["status"]) for r in report["rows"]} == {
        (v, d, "ok") for v in ("fp32", "int8") for d in ("xnnpack", "cpu")
    }
    stored = stored_run(lab["store"], report["run_id"])
    assert stored.device == "pi" and len(stored.cells) == 4
    assert all(c.device is not None and c.device.runtime == "ai_edge_litert" for c in stored.cells)
    # the board kept its copy of every result, beside the runner's log
    assert len(list((lab["board"] / "runs" / report["run_id"] / "results").glob("*.json"))) == 4
    # results are pulled as they appear: the first was on the host before the board finished the last cell
    first_pulled = min(
        p.stat().st_mtime for p in (lab["workdir"] / "runs" / report["run_id"] / "results").glob("*.json")
    )
    last_finished = max(datetime.fromisoformat(c.finished_at).timestamp() for c in stored.cells)
    assert first_pulled < last_finished


def test_a_second_push_sends_no_variant_bytes(capsys: pytest.CaptureFixture[str], lab: dict[str, Path]) -> None:
    assert push_json(capsys, "pi", lab)[0] == 0
    before = blob_state(lab["board"])
    runners = sorted(p.name for p in (lab["board"] / "runner").iterdir())
    assert push_json(capsys, "pi", lab)[0] == 0
    assert blob_state(lab["board"]) == before  # same files, same inodes, untouched: nothing re-sent
    assert sorted(p.name for p in (lab["board"] / "runner").iterdir()) == runners


def test_a_dropped_link_keeps_finished_cells_and_resume_completes_each_cell_once(
    sshd: SshServer, lab: dict[str, Path]
) -> None:
    command = [
        EDGEBENCH,
        *push_argv("pi", lab),
        "--runs",
        "5",
        "--min-secs",
        "3",  # long cells: when the first result is back, two or more are still being measured
        "--warmup-secs",
        "0",
    ]
    earlier_runs = set(lab["workdir"].glob("runs/*"))
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    pulled = first_results(lab["workdir"], earlier_runs, deadline)  # the first cell of this run is back on the host
    while first.poll() is None and time.monotonic() < deadline:  # until the push notices
        sshd.drop_connections()
        time.sleep(0.5)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 2, err
    (line,) = [line for line in err.splitlines() if line.startswith("edgebench:")]
    assert line.startswith("edgebench: device pi: link lost") and "--resume" in line
    run_id = pulled[0].parent.parent.name
    kept = {p.name: p.read_bytes() for p in pulled[0].parent.glob("*.json")}

    resumed = subprocess.run([*command, "--resume", run_id, "--json"], capture_output=True, text=True, timeout=300)

    assert resumed.returncode == 0, resumed.stderr
    results = sorted(p.name for p in pulled[0].parent.glob("*.json"))
    assert len(results) == len(set(results)) == 4
    for name, content in kept.items():
        assert (pulled[0].parent / name).read_bytes() == content
    board_results = lab["board"] / "runs" / run_id / "results"
    assert sorted(p.name for p in board_results.glob("*.json")) == results
    assert len(stored_run(lab["store"], run_id).cells) == 4


def test_sigterm_lets_go_of_the_board_at_once_and_resume_collects_what_it_measured(
    sshd: SshServer, lab: dict[str, Path]
) -> None:
    command = [EDGEBENCH, *push_argv("pi", lab, "--runs", "5", "--min-secs", "2", "--warmup-secs", "0")]
    earlier_runs = set(lab["workdir"].glob("runs/*"))
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pulled = first_results(lab["workdir"], earlier_runs, time.monotonic() + 120)
    run_id = pulled[0].parent.parent.name

    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=10)  # not after the board's remaining cells

    assert first.returncode == 2, err
    lines = [line for line in err.splitlines() if line.startswith("edgebench:")]
    assert lines == [f"edgebench: interrupted; finished cells are kept: edgebench run --resume {run_id}"], err
    resumed = subprocess.run([*command, "--resume", run_id], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    board_results = lab["board"] / "runs" / run_id / "results"
    assert len(list(board_results.glob("*.json"))) == 4  # the sweep went on, each cell measured once
    assert len(stored_run(lab["store"], run_id).cells) == 4


def test_an_unknown_host_key_is_refused_until_accepted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sshd: SshServer
) -> None:
    inventory = write_inventory(tmp_path / "edgebench.toml", sshd, tmp_path / "board", host_key=None)
    code = invoke(["devices", "--inventory", str(inventory), "check", "pi"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"host key of 127.0.0.1:{sshd.port} is unknown" in err and "--accept-new-host-key" in err

    code = invoke(["devices", "--inventory", str(inventory), "check", "pi", "--accept-new-host-key", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["device"]["runtime"] == "ai_edge_litert" and report["free_disk_mb"] > 0
    assert sshd.host_key_line.split()[1] in (tmp_path / "known_hosts").read_text()
    assert invoke(["devices", "--inventory", str(inventory), "check", "pi"]) == 0  # remembered


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"key": "WRONG_KEY"}, "was not accepted by"),
        ({"port": "CLOSED_PORT"}, "cannot connect to"),
        ({"python": "/nonexistent/bin/python3"}, "python /nonexistent/bin/python3 not found on the device"),
    ],
    ids=["wrong-key", "closed-port", "missing-python"],
)
def test_each_fault_is_one_line_naming_the_device_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    workdir: Path,
    sshd: SshServer,
    overrides: dict[str, object],
    expected: str,
) -> None:
    if overrides.get("key") == "WRONG_KEY":
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
        overrides = {"key": str(tmp_path / "other")}
    if overrides.get("port") == "CLOSED_PORT":
        from tests.support.sshd import free_port

        overrides = {"port": free_port()}
    inventory = write_inventory(tmp_path / "edgebench.toml", sshd, tmp_path / "board", **overrides)
    # the session's work directory: its variants are made once, not once a fault
    place = {"inventory": inventory, "workdir": workdir, "store": tmp_path / "h.sqlite"}
    code = invoke(push_argv("pi", place, "--variants", "fp32", *QUICK_ARGS))
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("edgebench:")]
    assert len(lines) == 1 and re.match(r"edgebench: run \S+: device pi: ", lines[0]) and expected in lines[0], err
    assert "Traceback" not in err


def test_several_devices_run_at_once_and_one_failing_does_not_stop_the_others(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sshd: SshServer, lab: dict[str, Path]
) -> None:
    inventory = lab["inventory"]
    broken = write_inventory(tmp_path / "broken.toml", sshd, tmp_path / "b2", python="/nonexistent/python")
    inventory.write_text(inventory.read_text() + broken.read_text().replace("[devices.pi]", "[devices.pi_broken]"))
    code = invoke(push_argv("pi,pi_broken,local", lab, "--json", *QUICK_ARGS))
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == report["exit_code"] == 2  # the worst of 0, 2, 0
    by_device = {run["device"]: run for run in report["runs"]}
    assert by_device["pi"]["exit_code"] == by_device["local"]["exit_code"] == 0
    assert len(by_device["pi"]["rows"]) == len(by_device["local"]["rows"]) == 4
    assert "python /nonexistent/python not found" in by_device["pi_broken"]["error"]
    assert re.search(r"edgebench: run \S+: device pi_broken: python /nonexistent/python not found", captured.err)


def test_names_and_paths_reach_the_board_quoted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sshd: SshServer, lab: dict[str, Path]
) -> None:
    board = tmp_path / "board $(touch INJECTED); echo"
    inventory = write_inventory(tmp_path / "quoted.toml", sshd, board)
    code = invoke(
        push_argv("pi", {**lab, "inventory": inventory}, "--variants", "fp32", "--delegates", "cpu", *QUICK_ARGS)
    )
    assert code == 0, capsys.readouterr().err
    assert (board / "blobs").is_dir()
    assert not list(tmp_path.rglob("INJECTED")) and not Path("INJECTED").exists()


def test_devices_lists_local_and_the_inventory(capsys: pytest.CaptureFixture[str], lab: dict[str, Path]) -> None:
    assert invoke(["devices", "--inventory", str(lab["inventory"]), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listed["devices"]] == ["local", "pi"]
    assert os.fspath(lab["inventory"]) == listed["inventory"]


def test_a_run_folder_reused_for_another_file_measures_it_again_and_brings_back_only_its_results(
    lab: dict[str, Path], converted: tuple[Manifest, Path], tmp_path: Path
) -> None:
    """Two plans under one run id on one board (a bench whose run folder outlives it): the second names another
    file `int8`. The board's runner measures it again rather than skip it, and the host stores the second
    file's figures, not the first's."""
    manifest, directory = converted
    measure = Measurement(delegates=["xnnpack"], runs=5, min_s=0.0, warmup_min_s=0.0)
    first = build_plan("reused", manifest, measure)
    fp32 = first.variant("fp32")
    second = dataclasses.replace(first, variants=[fp32, dataclasses.replace(fp32, name="int8")])
    board = get_device("pi", load_inventory(str(lab["inventory"])))
    results = {}
    for name, plan in (("first", first), ("second", second)):
        results[name] = tmp_path / name / "results"
        board.run(stage(plan, directory, tmp_path / name / "plan"), results[name], lambda event: None)
    measured = {r.variant: r.file_sha256 for r in collect_results(second, results["second"], "pi")}
    assert measured == {"fp32": fp32.sha256, "int8": fp32.sha256}  # the first plan's int8 was another file
