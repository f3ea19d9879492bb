"""`edgebench report`: the comparison with fp32, the Pareto front, the variant to ship, as text, Markdown,
JSON and a self-contained HTML page rendered by a real headless Chromium."""

from __future__ import annotations

import dataclasses
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
from edgebench.records import StoredRun
from edgebench.report.analysis import ComparisonRow, Constraints, mark_pareto, recommend
from edgebench.report.speedup import Speedup, Verdict
from edgebench.store import Store, store_url
from tests.conftest import require, save
from tests.support.chromium import chromium_command
from tests.support.postgres import postgres_bin, postgres_server

BASE = ComparisonRow(
    run_id="r",
    created_at="2026-11-24T00:00:00+00:00",
    device="pi4",
    variant="fp32",
    delegate="xnnpack",
    api="interpreter",
    threads=1,
    status="ok",
    top1=0.99,
    top1_drop_points=0.0,
    fp32_agreement=1.0,
    p50_ms=10.0,
    p90_ms=11.0,
    speedup=Speedup(1.0, None, None, Verdict.BASELINE),
    peak_rss_mb=50.0,
    size_kb=4000.0,
    gzip_kb=3700.0,
    size_reduction=0.0,
    coverage=1.0,
    fully_accelerated=None,
    samples_ms=(10.0,),
    message="",
)


def row(**changes: object) -> ComparisonRow:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def faster(ratio: float) -> Speedup:
    """A speed-up over fp32 whose interval (±4 %) lies clear of 1."""
    return Speedup(ratio, 0.96 * ratio, 1.04 * ratio, Verdict.FASTER)


def test_pareto_marks_what_nothing_beats_on_latency_size_and_accuracy() -> None:
    rows = mark_pareto(
        [
            row(variant="fp32"),
            row(variant="int8", p50_ms=4.0, size_kb=1000.0, top1=0.98),  # faster, smaller, less accurate
            row(variant="fp16", p50_ms=10.0, size_kb=2000.0, top1=0.99),  # beats fp32: as fast and accurate, smaller
            row(variant="slow", p50_ms=12.0, size_kb=2000.0, top1=0.97),  # beaten by fp16 on all three
            row(variant="broken", status="crashed", p50_ms=None),
        ]
    )
    assert {r.variant: r.pareto for r in rows} == {
        "fp32": False,
        "int8": True,
        "fp16": True,
        "slow": False,
        "broken": False,
    }


def test_the_recommendation_is_the_fastest_cell_meeting_every_constraint() -> None:
    rows = [
        row(variant="fp32"),
        row(variant="int8", p50_ms=4.0, p90_ms=5.0, size_kb=1000.0, top1=0.975, top1_drop_points=1.5),
        row(variant="fp16", p50_ms=8.0, p90_ms=9.0, size_kb=2000.0, top1=0.99, top1_drop_points=0.0),
    ]
    rows = [r if r.variant == "fp32" else dataclasses.replace(r, speedup=faster(10.0 / (r.p50_ms or 1))) for r in rows]
    (rec,) = recommend(rows, Constraints(max_accuracy_drop=1.0, max_size_mb=4))
    assert rec.row is not None and rec.row.variant == "fp16"  # int8 is faster but drops 1.5 points
    assert rec.reason.startswith(
        "fp16 × xnnpack (interpreter, 1 thr) — fastest of 2 cells meeting top-1 drop ≤ 1 pts, size ≤ 4 MB. "
        "p50 8.000 ms (1.25× fp32, 95 % CI 1.20–1.30), 2000.0 KB"
    )
    (none,) = recommend(rows, Constraints(max_p90_ms=1.0))
    assert none.row is None and none.reason.startswith("nothing meets p90 ≤ 1 ms; nearest:")


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
    for header in ("top-1 %", "Δ pts", "p50 ms", "p90 ms", "speed-up", "RSS MB", "gzip KB", "size −%", "Pareto"):
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
