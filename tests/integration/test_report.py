"""`edgebench report`: the comparison with fp32, the Pareto front, the variant to ship, as text, Markdown,
JSON and a self-contained HTML page rendered by a real headless Chromium."""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from edgebench.cli import invoke
from edgebench.store import Store, store_url
from edgebench_records import StoredRun
from tests.conftest import require, save
from tests.support.chromium import chromium_command
from tests.support.postgres import postgres_bin, postgres_server


@pytest.fixture
def history(tmp_path: Path, measured: StoredRun) -> str:
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        save(store, measured, "before", "local", "2026-11-20T10:00:00+00:00", {})
        save(store, measured, "latest", "local", "2026-11-24T10:00:00+00:00", {"release": "4.2"})
    return url


def test_the_terminal_report_compares_each_variant_with_fp32_and_names_what_to_ship(
    capsys: pytest.CaptureFixture[str], history: str
) -> None:
    assert invoke(["report", "--store", history, "--max-accuracy-drop", "1.0"]) == 0
    out = capsys.readouterr().out
    assert "run latest" in out and "run before" not in out  # the latest run of each device by default
    headers = ("top-1 %", "Δ pts", "p50 ms", "p90 ms", "speed-up", "load MB", "peak MB", "gzip KB", "size −%")
    for header in (*headers, "Pareto"):
        assert header in out
    assert re.search(r"Ship on local: \w+ × \w+ .*meeting top-1 drop ≤ 1 pts", out)


def test_json_and_markdown_carry_the_same_rows(capsys: pytest.CaptureFixture[str], history: str) -> None:
    assert invoke(["report", "latest", "--store", history, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["runs"] == ["latest"] and len(report["rows"]) == 4
    fp32 = next(r for r in report["rows"] if r["variant"] == "fp32" and r["delegate"] == "cpu")
    assert fp32["speedup"]["verdict"] == "baseline" and fp32["size_reduction"] == 0.0
    assert invoke(["report", "latest", "--store", history, "--markdown", "-"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("# edgebench report") and markdown.count("| int8 |") == 2


def test_an_unknown_run_is_exit_2_naming_it(capsys: pytest.CaptureFixture[str], history: str) -> None:
    assert invoke(["report", "no-such-run", "--store", history]) == 2
    assert "no run 'no-such-run'" in capsys.readouterr().err


@pytest.mark.slow
def test_sqlite_and_postgresql_give_the_same_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    bin_dir = postgres_bin()
    if bin_dir is None:
        require("postgres", "postgresql")
    assert bin_dir is not None
    outputs = []
    with postgres_server(bin_dir) as postgres:
        for url in (store_url(str(tmp_path / "h.sqlite")), store_url(postgres)):
            with Store(url) as store:
                save(store, measured, "r1", "pi4", "2026-11-20T10:00:00+00:00", {"release": "4.2"})
            assert invoke(["report", "--store", url, "--json", "--max-p90-ms", "1"]) == 0
            outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]


# Google services Chromium calls on its own (component updates, time, accounts), with or without a page.
CHROMIUM_SERVICES = {"update.googleapis.com", "clients2.google.com", "accounts.google.com"}


def host_of(request: str) -> str:
    """The host of a proxied request: ``http://host/path`` (plain) or ``host:443`` (CONNECT)."""
    return re.sub(r"^https?://", "", request).split("/", 1)[0].split(":", 1)[0]


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_error(404)

    do_CONNECT = do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recording_proxy() -> Iterator[tuple[int, list[str]]]:
    """An HTTP proxy on 127.0.0.1 that only records: every request the browser makes lands here."""
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Recorder.requests
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_the_html_report_renders_offline_in_chromium_with_its_plots_and_tables(
    tmp_path: Path, history: str, recording_proxy: tuple[int, list[str]], measured: StoredRun
) -> None:
    chromium = require("chromium", "chromium")
    page = tmp_path / "report.html"
    assert invoke(["report", "--store", history, "--html", str(page)]) == 0
    port, requests = recording_proxy
    browser = chromium_command(chromium, tmp_path / "profile", proxy_port=port, window=(1300, 2600))
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><title>blank</title>")
    subprocess.run([*browser, "--dump-dom", blank.as_uri()], capture_output=True, timeout=120, check=True)
    browsers_own = {host_of(r) for r in requests} | CHROMIUM_SERVICES  # update checks etc., page or not
    requests.clear()
    shot = tmp_path / "report.png"
    subprocess.run([*browser, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    dom = subprocess.run(
        [*browser, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout

    assert shot.stat().st_size > 50_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert dom.count("<svg") == 5  # accuracy vs latency, distribution, speed-up, coverage, over time
    tables = {(c.delegate, c.api, c.threads) for c in measured.cells}  # one per delegate × API × threads
    ops_tables = dom.count('<table class="ops"')  # op types per variant, placement per cell (report/ops.py)
    assert dom.count("<table") - ops_tables == len(tables) and ops_tables >= 1 and "Ship on local" in dom
    for title in (
        "Accuracy vs latency",
        "Latency distribution per cell",
        "Speed-up over fp32",
        "Delegate coverage per cell",
        "Latency and accuracy over time",
    ):
        assert title in dom
    assert {host_of(r) for r in requests} - browsers_own == set()  # the page fetched nothing
    assert not re.search(r"""(src|href|srcset)=["']?(https?:)?//|url\(["']?(https?:)?//|@import""", page.read_text())
