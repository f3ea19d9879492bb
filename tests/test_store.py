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

from device_runner import schema
from device_runner.schema import CellResult
from edgebench.cli import invoke
from edgebench.errors import EdgebenchError
from edgebench.store import Store, StoredRun, head_revision, store_url
from tests.conftest import missing_part, save
from tests.postgres import postgres_bin, postgres_server

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
