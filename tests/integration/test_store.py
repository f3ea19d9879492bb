"""The history store: the same behaviour on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import edgebench_records as schema
from edgebench.cli import invoke
from edgebench.errors import EdgebenchError
from edgebench.report.analysis import ComparisonRow, comparison_rows, history_rows
from edgebench.store import Store, head_revision, store_url
from edgebench_records import CellResult, StoredRun
from tests.conftest import missing_part, rebuilt, save
from tests.e2e.test_report_trust import flagged, quiet
from tests.support.postgres import postgres_bin, postgres_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        missing_part("PostgreSQL server not found: apt-get install postgresql")
    with postgres_server(bin_dir) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield store_url(str(tmp_path / "history.sqlite"))
        return
    base = request.getfixturevalue("postgres_url")
    database = f"t{abs(hash(str(tmp_path))) % 10**9}"
    admin = sa.create_engine(store_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {database}"))
    yield store_url(base.rsplit("/", 1)[0] + f"/{database}")
    admin.dispose()


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with Store(url) as opened:
        yield opened


def test_a_run_comes_back_exactly_as_it_went_in(store: Store, measured: StoredRun) -> None:
    save(store, measured, "r1", "pi4", "2026-11-20T10:00:00+00:00", {"release": "4.1", "ci": "yes"})
    back = store.load_run("r1")
    assert back.cells == [dataclasses.replace(c, run_id="r1") for c in measured.cells]
    assert back.cells[0].timing and back.cells[0].timing.samples_ms  # raw samples kept
    assert back.cells[0].accuracy and len(back.cells[0].accuracy.correct) == 360  # per-sample correctness kept
    assert back.manifest == measured.manifest and back.tags == {"release": "4.1", "ci": "yes"}
    assert (back.device, back.git_commit, back.plan.run_id) == ("pi4", "abc123", "r1")


def test_history_filters_by_device_model_tag_and_date(store: Store, measured: StoredRun) -> None:
    save(store, measured, "old", "pi4", "2026-10-01T09:00:00+00:00", {"release": "4.0"})
    save(store, measured, "new", "pi4", "2026-11-20T09:00:00+00:00", {"release": "4.1"})
    save(store, measured, "phone", "pixel", "2026-11-21T09:00:00+00:00", {"release": "4.1"})

    def ids(**filters: Any) -> list[str]:
        return [r.run_id for r in store.list_runs(**filters)]

    assert ids() == ["old", "new", "phone"]
    assert ids(device="pi4") == ["old", "new"]
    assert ids(tags={"release": "4.1"}) == ["new", "phone"]
    assert ids(device="pi4", tags={"release": "4.1"}) == ["new"]
    assert ids(model="no-such-model") == []
    from datetime import datetime

    assert ids(since=datetime(2026, 11, 1)) == ["new", "phone"]
    summary = store.list_runs(device="pixel")[0]
    assert summary.cells == len(measured.cells) and summary.failed_cells == 0


def test_a_failed_insert_leaves_the_store_as_it_was(store: Store, measured: StoredRun) -> None:
    save(store, measured, "kept", "pi4", "2026-11-20T10:00:00+00:00", {})
    twice = [*measured.cells, measured.cells[0]]  # the same cell twice: the insert fails half-way
    with pytest.raises(
        EdgebenchError, match=r"run broken: cannot write to store .*(UNIQUE constraint failed|duplicate key)"
    ):
        store.save_run(
            device="pi4",
            plan=dataclasses.replace(measured.plan, run_id="broken"),
            manifest=measured.manifest,
            created_at="2026-11-21T10:00:00+00:00",
            git_commit=None,
            cells=twice,
            tags={"x": "y"},
        )
    assert [r.run_id for r in store.list_runs()] == ["kept"]
    with pytest.raises(EdgebenchError, match="no run 'broken'"):
        store.load_run("broken")


def test_a_stored_run_is_never_rewritten(store: Store, measured: StoredRun) -> None:
    save(store, measured, "once", "pi4", "2026-11-20T10:00:00+00:00", {"release": "4.1"})
    before = store.load_run("once")
    with pytest.raises(EdgebenchError, match=r"run once is already in store .*never rewritten"):
        save(store, measured, "once", "pixel", "2026-11-21T10:00:00+00:00", {})
    assert store.load_run("once") == before


def test_a_store_of_the_previous_schema_is_migrated_forward_with_its_runs(url: str, measured: StoredRun) -> None:
    cell = measured.cells[0]
    with Store(url, migrate_to="0001") as old, old.engine.begin() as conn:
        assert old.revision() == "0001"  # what the previous edgebench wrote: no tags, no api column
        conn.execute(
            sa.text(
                "INSERT INTO runs VALUES ('legacy', '2026-09-01T00:00:00+00:00', 'pi3', :model, :sha, NULL, '0.0.9', "
                ":plan, :manifest)"
            ),
            {
                "model": measured.manifest.model_name,
                "sha": measured.manifest.model_sha256,
                "plan": schema.dumps(dataclasses.replace(measured.plan, run_id="legacy")),
                "manifest": schema.dumps(measured.manifest),
            },
        )
        conn.execute(
            sa.text("INSERT INTO cells VALUES ('legacy', :id, :variant, :delegate, 1, 'ok', 0.1, 40.0, 0.98, :result)"),
            {
                "id": cell.key.id,
                "variant": cell.variant,
                "delegate": cell.delegate,
                "result": json.dumps(schema.to_dict(cell)),
            },
        )

    with Store(url) as migrated, migrated.engine.connect() as conn:
        assert migrated.revision() == head_revision()
        back = migrated.load_run("legacy")
        assert back.cells == [cell] and back.tags == {}
        assert conn.execute(sa.text("SELECT api FROM cells")).scalar() == "interpreter"


def test_a_store_from_before_alembic_is_adopted_and_migrated(url: str, measured: StoredRun) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the layout edgebench's first commits wrote, version in edgebench_meta
        conn.execute(sa.text("CREATE TABLE edgebench_meta (key VARCHAR(64) PRIMARY KEY, value VARCHAR(256))"))
        conn.execute(sa.text("INSERT INTO edgebench_meta VALUES ('schema_version', '1')"))
    with Store(url, migrate_to="0001") as tables, tables.engine.begin() as conn:  # the tables of revision 0001
        conn.execute(sa.text("DROP TABLE alembic_version"))
    engine.dispose()

    with Store(url) as adopted:
        assert adopted.revision() == head_revision()
        assert not sa.inspect(adopted.engine).has_table("edgebench_meta")
        save(adopted, measured, "after", "pi4", "2026-11-22T00:00:00+00:00", {"a": "b"})
        assert adopted.load_run("after").tags == {"a": "b"}


def test_a_store_written_by_a_newer_edgebench_is_refused_clearly(url: str, store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(EdgebenchError, match=r"9999.*upgrade edgebench"):
        Store(url)


def test_history_cli_prints_json_and_writes_csv(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, measured: StoredRun
) -> None:
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        save(store, measured, "r1", "pi4", "2026-11-20T10:00:00+00:00", {"release": "4.2"})
        save(store, measured, "r2", "pi5", "2026-11-21T10:00:00+00:00", {"release": "4.3"})
    assert invoke(["history", "--store", url, "--tag", "release=4.2", "--json", "--csv", str(tmp_path / "r.csv")]) == 0
    listed = json.loads(capsys.readouterr().out)["runs"]
    assert [r["run_id"] for r in listed] == ["r1"] and listed[0]["tags"] == {"release": "4.2"}
    rows = list(csv.DictReader((tmp_path / "r.csv").read_text().splitlines()))
    assert [(r["run_id"], r["device"], r["tags"]) for r in rows] == [("r1", "pi4", "release=4.2")]
    assert invoke(["history", "--store", url]) == 0
    assert "2 runs" in capsys.readouterr().out
    assert invoke(["history", "--store", url, "--tag", "release"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_the_tag_given_to_run_is_kept(measured: StoredRun) -> None:
    assert measured.tags == {"release": "4.1"}
    assert isinstance(measured.cells[0], CellResult)


def slower(run: StoredRun, factor: float) -> StoredRun:
    """The run with every p50 ``factor`` times its own, measured on a quiet machine: a history with
    run-to-run noise."""
    return dataclasses.replace(
        run,
        cells=[
            dataclasses.replace(c, timing=dataclasses.replace(c.timing, p50_ms=(c.timing.p50_ms or 1.0) * factor))
            if c.timing
            else c
            for c in map(quiet, run.cells)
        ],
    )


def test_latest_run_ids_are_the_newest_run_of_each_device_in_the_order_list_runs_meets_them(
    store: Store, measured: StoredRun
) -> None:
    save(store, measured, "pixel-old", "pixel", "2026-10-01T09:00:00+00:00", {"release": "4.0"})
    save(store, measured, "pi-old", "pi4", "2026-10-02T09:00:00+00:00", {"release": "4.1"})
    save(store, measured, "pi-a", "pi4", "2026-11-01T09:00:00+00:00", {"release": "4.0"})
    save(store, measured, "pi-b", "pi4", "2026-11-01T09:00:00+00:00", {})  # same time: the larger id is newer
    save(store, measured, "pixel-new", "pixel", "2026-11-02T09:00:00+00:00", {"release": "4.1"})
    assert store.latest_run_ids() == ["pixel-new", "pi-b"]
    assert store.latest_run_ids(device="pi4") == ["pi-b"]
    assert store.latest_run_ids(tags={"release": "4.0"}) == ["pixel-old", "pi-a"]
    assert store.latest_run_ids(model="no-such-model") == []
    for filters in ({}, {"device": "pixel"}, {"tags": {"release": "4.1"}}, {"model": measured.manifest.model_name}):
        # what report and gate computed before, from every run's summary
        assert store.latest_run_ids(**filters) == list(
            {r.device: r.run_id for r in store.list_runs(**filters)}.values()
        )


def test_cell_points_are_the_columns_of_the_newest_runs_oldest_first(store: Store, measured: StoredRun) -> None:
    model = measured.manifest.model_name
    for i in range(4):
        save(store, slower(measured, 1 + i / 10), f"r{i}", "pi4", f"2026-11-0{i + 1}T09:00:00+00:00", {})
    save(store, measured, "elsewhere", "pixel", "2026-11-09T09:00:00+00:00", {})
    points = store.cell_points("pi4", [model], limit=2)
    loaded = [store.load_run("r2"), store.load_run("r3")]
    assert [(p.run_id, p.cell_id) for p in points] == [(r.run_id, c.key.id) for r in loaded for c in r.cells]
    # the plot over time gets the same points it got from loading every run (the table's order aside: fp32 first)
    fields = ("run_id", "created_at", "device", "variant", "delegate", "api", "threads", "status", "p50_ms", "top1")

    def plotted(rows: list[ComparisonRow]) -> list[tuple[object, ...]]:
        return sorted(tuple([*(getattr(r, f) for f in fields), r.ok]) for r in rows)

    assert plotted(history_rows(points)) == plotted(comparison_rows(loaded))
    assert len(store.cell_points("pi4", [model])) == 4 * len(measured.cells)
    assert [p.run_id for p in store.cell_points("pi4", [model], exclude={"r3"}, limit=1)] == ["r2"] * len(
        measured.cells
    )
    one = measured.cells[0].key.id
    assert {p.cell_id for p in store.cell_points("pi4", [model], cell_ids=[one])} == {one}
    assert store.cell_points("pi4", ["no-such-model"]) == []


def test_history_counts_each_runs_cells_measured_under_contention(
    capsys: pytest.CaptureFixture[str], store: Store, measured: StoredRun
) -> None:
    cells = [flagged(c) if c.variant == "int8" else quiet(c) for c in measured.cells]
    save(store, dataclasses.replace(measured, cells=cells), "noisy", "pi4", "2026-11-20T10:00:00+00:00", {})
    save(store, slower(measured, 1.0), "calm", "pi4", "2026-11-21T10:00:00+00:00", {})
    counted = {r.run_id: r.contended_cells for r in store.list_runs()}
    assert counted == {"noisy": sum(c.variant == "int8" for c in measured.cells), "calm": 0}
    assert invoke(["history", "--store", store.url, "--json"]) == 0
    assert {r["run_id"]: r["contended_cells"] for r in json.loads(capsys.readouterr().out)["runs"]} == counted
    assert invoke(["history", "--store", store.url]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "contended" in line and "run" in line)
    row = next(line for line in out.splitlines() if line.startswith("│ noisy"))
    column = [c.strip() for c in header.split("┃")].index("contended")
    assert row.split("│")[column].strip() == str(counted["noisy"])


def test_a_store_from_before_0004_gets_each_cells_contention_from_its_json(url: str, measured: StoredRun) -> None:
    cells = {"flagged": flagged(measured.cells[0]), "quiet": quiet(measured.cells[1])}
    cells["unobserved"] = dataclasses.replace(measured.cells[2], conditions=None)  # a runner that did not look
    with Store(url, migrate_to="0003") as old, old.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO runs VALUES ('before', '2026-11-01T00:00:00+00:00', 'pi4', :model, :sha, NULL, '0.1.0', "
                ":plan, :manifest)"
            ),
            {
                "model": measured.manifest.model_name,
                "sha": measured.manifest.model_sha256,
                "plan": schema.dumps(dataclasses.replace(measured.plan, run_id="before")),
                "manifest": schema.dumps(measured.manifest),
            },
        )
        for name, cell in cells.items():
            conn.execute(
                sa.text(
                    "INSERT INTO cells (run_id, cell_id, variant, delegate, api, threads, status, result) "
                    "VALUES ('before', :id, :variant, :delegate, :api, 1, 'ok', :result)"
                ),
                {
                    "id": name,
                    "variant": cell.variant,
                    "delegate": cell.delegate,
                    "api": cell.api,
                    "result": json.dumps(schema.to_dict(cell)),
                },
            )
    with Store(url) as migrated, migrated.engine.connect() as conn:
        assert migrated.revision() == head_revision()
        found: dict[str, object] = {row.cell_id: row.contended for row in conn.execute(sa.text("SELECT * FROM cells"))}
        assert {k: None if v is None else bool(v) for k, v in found.items()} == {
            "flagged": True,
            "quiet": False,
            "unobserved": None,
        }
        assert [r.contended_cells for r in migrated.list_runs()] == [1]


def test_history_indexes_are_added_to_an_older_store(url: str) -> None:
    with Store(url, migrate_to="0002"):
        pass
    with Store(url) as migrated:
        inspector = sa.inspect(migrated.engine)
        assert "runs_by_device_model_time" in {i["name"] for i in inspector.get_indexes("runs")}
        assert "run_tags_by_key_value" in {i["name"] for i in inspector.get_indexes("run_tags")}


def test_report_and_gate_load_only_the_runs_they_show_not_the_history(
    tmp_path: Path, measured: StoredRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        for i in range(6):
            run = slower(measured, 1 + i / 100)
            latest = rebuilt(run) if i == 5 else run  # a new build: two runs of the same files are not gated
            save(store, latest, f"r{i}", "local", f"2026-11-0{i + 1}T09:00:00+00:00", {})
    loaded: list[str] = []
    load_run = Store.load_run

    def counting(self: Store, run_id: str) -> StoredRun:
        loaded.append(run_id)
        return load_run(self, run_id)

    monkeypatch.setattr(Store, "load_run", counting)
    page = tmp_path / "report.html"
    assert invoke(["report", "--store", url, "--html", str(page)]) == 0
    assert loaded == ["r5"]  # the latest run, whole; the plot over time came from the columns
    assert "Latency and accuracy over time" in page.read_text()
    loaded.clear()
    assert invoke(["gate", "--store", url, "--baseline", "r0", "--candidate", "latest", "--json"]) in (0, 1)
    assert loaded == ["r0", "r5"]  # the two sides; the noise came from the p50 column
