"""History store: every run and every cell, SQLite by default, PostgreSQL by URL.

SQLAlchemy Core for the SQL (one code path for both databases) and Alembic for the schema: the
store's revision lives in ``alembic_version`` and is migrated forward when the store is opened.
A run, its tags and its cells are written in one transaction, so a crash mid-insert changes nothing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

import edgebench_records as schema
from edgebench import __version__
from edgebench.errors import EdgebenchError
from edgebench_records import CellResult, Manifest, Plan, Status, StoredRun

DEFAULT_STORE = Path(".edgebench") / "history.sqlite"
SQLITE_BUSY_WAIT_S = 60.0  # how long a writer waits for another one holding the file
WRITE_FIRST = "edgebench_write_first"  # execution option: an SQLite transaction that locks for writing at once
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

metadata = sa.MetaData()
runs_table = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("device", sa.String(128), nullable=False),
    sa.Column("model_name", sa.String(256), nullable=False),
    sa.Column("model_sha256", sa.String(64), nullable=False),
    sa.Column("git_commit", sa.String(64)),
    sa.Column("edgebench_version", sa.String(32), nullable=False),
    sa.Column("plan", sa.Text, nullable=False),  # JSON
    sa.Column("manifest", sa.Text, nullable=False),  # JSON: variants.json, figures included
)
tags_table = sa.Table(
    "run_tags",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(512), nullable=False),
)
cells_table = sa.Table(
    "cells",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("cell_id", sa.String(256), primary_key=True),
    sa.Column("variant", sa.String(128), nullable=False),
    sa.Column("delegate", sa.String(512), nullable=False),
    sa.Column("api", sa.String(32), nullable=False),
    sa.Column("threads", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("p50_ms", sa.Float),
    sa.Column("peak_rss_mb", sa.Float),
    sa.Column("top1", sa.Float),
    sa.Column("contended", sa.Boolean),  # the noise guard's flag; NULL: the runner did not look (0004)
    sa.Column("result", sa.Text, nullable=False),  # the cell's JSON: raw samples, per-sample correctness
)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    created_at: str
    device: str
    model_name: str
    git_commit: str | None
    tags: dict[str, str]
    cells: int
    failed_cells: int
    contended_cells: int  # measured under contention (the noise guard's flag)


@dataclass(frozen=True)
class CellPoint:
    """One stored cell as its indexed columns hold it, without its JSON: what plots over time need."""

    run_id: str
    created_at: str
    device: str
    cell_id: str
    variant: str
    delegate: str
    api: str
    threads: int
    status: str
    p50_ms: float | None
    peak_rss_mb: float | None
    top1: float | None
    contended: bool | None = None  # the noise guard's flag; None: not observed


def store_url(value: str | None) -> str:
    """``--store`` / EDGEBENCH_STORE: a URL (``postgresql://…``, ``sqlite:///…``) or a file path."""
    value = value or os.environ.get("EDGEBENCH_STORE") or str(DEFAULT_STORE)
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]  # psycopg 3, not SQLAlchemy's psycopg2 default
    if "://" in value:
        return value
    return f"sqlite:///{value}"


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite store (None for other databases). An SQLite URL without a file
    (``sqlite://``, ``sqlite:///``, ``:memory:``) is refused: a run stored there is gone when the command ends."""
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:  # e.g. a port that is not a number
        raise EdgebenchError(f"--store {_hide_password(url)}: not a database URL or file path ({exc})") from exc
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise EdgebenchError(
            f"--store {url}: an in-memory SQLite store keeps nothing; give a file (sqlite:///PATH or a path)"
        )
    return Path(parsed.database)


def _hide_password(url: str) -> str:
    """A URL SQLAlchemy could not parse, with whatever stands between ``user:`` and ``@`` masked."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _check_sqlite_file(path: Path, must_exist: bool) -> None:
    """Before SQLite answers with a bare "unable to open database file" (or creates an empty store for a
    mistyped path): a read-only command needs an existing store, a writing one a file and folder it may write."""
    if must_exist:
        if not path.is_file():
            raise EdgebenchError(f"store {path} does not exist (measure with `edgebench run`, or check --store)")
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EdgebenchError(f"cannot create store folder {path.parent}: {exc.strerror}") from exc
    if path.exists() and not path.is_file():
        raise EdgebenchError(f"store {path} is not a file")
    # SQLite writes a journal beside the file, so the folder must be writable too.
    for where in (path, path.parent) if path.exists() else (path.parent,):
        if not os.access(where, os.W_OK):
            raise EdgebenchError(f"store {path}: {where} is read-only; nothing was measured")


def alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


class Store:
    """Opened to write (the default: created when missing, refused when read-only, before anything is
    measured), or with ``must_exist`` by the commands that only read (report, history, stored gate)."""

    def __init__(self, url: str, *, must_exist: bool = False, migrate_to: str = "head") -> None:
        self.url = url
        path = sqlite_path(url)
        if path is not None:
            _check_sqlite_file(path, must_exist)
        try:
            if path is not None:
                # Another edgebench may be creating or writing the same file: wait for it rather than fail.
                self.engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_WAIT_S})
                _transactional_sqlite(self.engine)
            else:
                self.engine = sa.create_engine(url)
            with self.engine.connect() as conn:
                # Several first users of a new store race to create it: each migration reads, then writes.
                conn.execution_options(**{WRITE_FIRST: True})
                with conn.begin():
                    _adopt_pre_alembic_store(conn)
                    command.upgrade(alembic_config(conn), migrate_to)
        except CommandError as exc:  # e.g. a revision written by a newer edgebench
            self.close()
            raise EdgebenchError(f"store {self.safe_url()}: {exc}; upgrade edgebench") from exc
        except (sa.exc.SQLAlchemyError, ValueError, ImportError) as exc:
            self.close()
            raise EdgebenchError(f"cannot open store {self.safe_url()}: {_first_line(exc)}") from exc

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections now rather than whenever they are garbage-collected."""
        if hasattr(self, "engine"):
            self.engine.dispose()

    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    def save_run(
        self,
        *,
        device: str,
        plan: Plan,
        manifest: Manifest,
        created_at: str,
        git_commit: str | None,
        cells: Iterable[CellResult],
        tags: dict[str, str] | None = None,
    ) -> None:
        """Store a finished run; a run is stored once and never rewritten."""
        if self.has_run(plan.run_id):
            raise EdgebenchError(
                f"run {plan.run_id} is already in store {self.safe_url()}; stored runs are never rewritten"
            )
        with self._translated(f"run {plan.run_id}: cannot write to store"):
            self._insert_run(device, plan, manifest, created_at, git_commit, list(cells), tags or {})

    def has_run(self, run_id: str) -> bool:
        with self._translated("cannot read store"), self.engine.connect() as conn:
            query = sa.select(runs_table.c.run_id).where(runs_table.c.run_id == run_id)
            return conn.execute(query).first() is not None

    @contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """The database's errors (locked, disk full, connection gone) as one line naming the store."""
        try:
            yield
        except sa.exc.SQLAlchemyError as exc:
            raise EdgebenchError(f"{what} {self.safe_url()}: {_first_line(exc)}") from exc

    def _insert_run(
        self,
        device: str,
        plan: Plan,
        manifest: Manifest,
        created_at: str,
        git_commit: str | None,
        cells: list[CellResult],
        tags: dict[str, str],
    ) -> None:
        with self.engine.begin() as conn:  # one transaction: all or nothing
            conn.execute(
                runs_table.insert().values(
                    run_id=plan.run_id,
                    created_at=created_at,
                    device=device,
                    model_name=manifest.model_name,
                    model_sha256=manifest.model_sha256,
                    git_commit=git_commit,
                    edgebench_version=__version__,
                    plan=schema.dumps(plan),
                    manifest=schema.dumps(manifest),
                )
            )
            if tags:
                conn.execute(
                    tags_table.insert(), [{"run_id": plan.run_id, "key": k, "value": v} for k, v in tags.items()]
                )
            rows = [_cell_row(plan.run_id, cell) for cell in cells]
            if rows:
                conn.execute(cells_table.insert(), rows)

    def load_run(self, run_id: str) -> StoredRun:
        with self._translated("cannot read store"), self.engine.connect() as conn:
            run = conn.execute(sa.select(runs_table).where(runs_table.c.run_id == run_id)).first()
            if run is None:
                raise EdgebenchError(f"no run {run_id!r} in store {self.safe_url()}")
            cells = conn.execute(
                sa.select(cells_table.c.result).where(cells_table.c.run_id == run_id).order_by(cells_table.c.cell_id)
            ).all()
            tags = self._tags(conn, [run_id]).get(run_id, {})
        source = f"store run {run_id}"
        return StoredRun(
            run_id=run.run_id,
            created_at=run.created_at,
            device=run.device,
            plan=schema.loads(Plan, run.plan, source),
            manifest=schema.loads(Manifest, run.manifest, source),
            git_commit=run.git_commit,
            tags=tags,
            cells=[schema.loads(CellResult, row.result, source) for row in cells],
        )

    def list_runs(
        self,
        *,
        device: str | None = None,
        model: str | None = None,
        tags: dict[str, str] | None = None,
        since: datetime | None = None,
    ) -> list[RunSummary]:
        """Runs matching every filter given, oldest first."""
        failed = sa.func.sum(sa.case((cells_table.c.status.in_(sorted(s for s in Status if s.failed)), 1), else_=0))
        contended = sa.func.sum(sa.case((cells_table.c.contended.is_(True), 1), else_=0))
        query = (
            sa.select(
                runs_table.c.run_id,
                runs_table.c.created_at,
                runs_table.c.device,
                runs_table.c.model_name,
                runs_table.c.git_commit,
                sa.func.count(cells_table.c.cell_id).label("cells"),
                failed.label("failed"),
                contended.label("contended"),
            )
            .select_from(runs_table.outerjoin(cells_table, cells_table.c.run_id == runs_table.c.run_id))
            .group_by(runs_table.c.run_id)
            .order_by(runs_table.c.created_at, runs_table.c.run_id)
        )
        query = _matching(query, device, model, tags, since)
        with self._translated("cannot read store"), self.engine.connect() as conn:
            rows = conn.execute(query).all()
            all_tags = self._tags(conn, [row.run_id for row in rows])
        return [
            RunSummary(
                row.run_id,
                row.created_at,
                row.device,
                row.model_name,
                row.git_commit,
                all_tags.get(row.run_id, {}),
                int(row.cells),
                int(row.failed or 0),
                int(row.contended or 0),
            )
            for row in rows
        ]

    def latest_run_ids(
        self, *, device: str | None = None, model: str | None = None, tags: dict[str, str] | None = None
    ) -> list[str]:
        """The newest matching run of each device, devices in the order of their oldest matching run (the
        order ``list_runs`` meets them in). Reads the runs table only: no cell is counted or loaded."""
        created, run_id = runs_table.c.created_at, runs_table.c.run_id
        ranked = _matching(
            sa.select(
                run_id,
                runs_table.c.device,
                sa.func.row_number().over(order_by=(created, run_id)).label("position"),
                sa.func.row_number()
                .over(partition_by=runs_table.c.device, order_by=(created.desc(), run_id.desc()))
                .label("newest"),
            ),
            device,
            model,
            tags,
            None,
        ).subquery()
        # a window cannot nest in another: the device's first position comes one level up
        first = sa.func.min(ranked.c.position).over(partition_by=ranked.c.device)
        per_device = sa.select(ranked.c.run_id, ranked.c.newest, first.label("first")).subquery()
        query = sa.select(per_device.c.run_id).where(per_device.c.newest == 1).order_by(per_device.c.first)
        with self._translated("cannot read store"), self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def cell_points(
        self,
        device: str,
        models: Collection[str],
        *,
        limit: int | None = None,
        cell_ids: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> list[CellPoint]:
        """The cells (all, or those of ``cell_ids``) of the newest ``limit`` runs of ``device`` on any of
        ``models``, ``exclude`` aside; oldest run first, cells by id within a run, as ``load_run`` orders
        them. The runs are found by the (device, model_name, created_at) index, their cells by the key."""
        newest = self._newest_runs(device, models, limit, exclude)
        cells = cells_table.c
        query = (
            sa.select(
                newest.c.run_id,
                newest.c.created_at,
                cells.cell_id,
                cells.variant,
                cells.delegate,
                cells.api,
                cells.threads,
                cells.status,
                cells.p50_ms,
                cells.peak_rss_mb,
                cells.top1,
                cells.contended,
            )
            .select_from(newest.join(cells_table, cells.run_id == newest.c.run_id))
            .order_by(newest.c.created_at, newest.c.run_id, cells.cell_id)
        )
        if cell_ids is not None:
            query = query.where(cells.cell_id.in_(sorted(cell_ids)))
        with self._translated("cannot read store"), self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            CellPoint(
                row.run_id,
                row.created_at,
                device,
                row.cell_id,
                row.variant,
                row.delegate,
                row.api,
                int(row.threads),
                row.status,
                row.p50_ms,
                row.peak_rss_mb,
                row.top1,
                row.contended,
            )
            for row in rows
        ]

    def _newest_runs(
        self, device: str, models: Collection[str], limit: int | None, exclude: Collection[str]
    ) -> sa.Subquery:
        runs = runs_table.c
        query = (
            sa.select(runs.run_id, runs.created_at)
            .where(runs.device == device, runs.model_name.in_(sorted(models)))
            .order_by(runs.created_at.desc(), runs.run_id.desc())
        )
        if exclude:
            query = query.where(runs.run_id.not_in(sorted(exclude)))
        if limit is not None:
            query = query.limit(limit)
        return query.subquery("newest")

    def _tags(self, conn: sa.Connection, run_ids: list[str]) -> dict[str, dict[str, str]]:
        tags: dict[str, dict[str, str]] = {}
        if run_ids:
            for row in conn.execute(sa.select(tags_table).where(tags_table.c.run_id.in_(run_ids))):
                tags.setdefault(row.run_id, {})[row.key] = row.value
        return tags


def _matching(
    query: sa.Select[Any],
    device: str | None,
    model: str | None,
    tags: dict[str, str] | None,
    since: datetime | None,
) -> sa.Select[Any]:
    """``query`` over the runs table, narrowed to the runs matching every filter given."""
    if device:
        query = query.where(runs_table.c.device == device)
    if model:
        query = query.where(runs_table.c.model_name == model)
    if since:
        query = query.where(runs_table.c.created_at >= since.isoformat(timespec="seconds"))
    for key, value in (tags or {}).items():
        tagged = sa.select(tags_table.c.run_id).where(tags_table.c.key == key, tags_table.c.value == value)
        query = query.where(runs_table.c.run_id.in_(tagged))
    return query


def _first_line(exc: Exception) -> str:
    """SQLAlchemy's messages carry the SQL and a help link on later lines: the cause is the first."""
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]


def _transactional_sqlite(engine: sa.Engine) -> None:
    """pysqlite commits DDL on its own, so a failed migration could leave half a schema. Hand
    transactions to SQLAlchemy (its documented recipe): every migration and insert is all-or-nothing.
    A transaction marked ``WRITE_FIRST`` takes the write lock as it begins: two that both read and then
    write deadlock, and SQLite fails one at once with "database is locked" instead of letting it wait."""

    @sa.event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_FIRST) else "BEGIN")


def _adopt_pre_alembic_store(conn: sa.Connection) -> None:
    """Stores written by edgebench's first commits kept their version in ``edgebench_meta`` (version 1,
    the tables of revision 0001): record them as 0001 so they migrate forward like any other."""
    inspector = sa.inspect(conn)
    stamped = (
        inspector.has_table("alembic_version")
        and conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar()
    )
    if inspector.has_table("edgebench_meta") and not stamped:
        command.stamp(alembic_config(conn), "0001")
        conn.execute(sa.text("DROP TABLE edgebench_meta"))


def _cell_row(run_id: str, cell: CellResult) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "cell_id": cell.key.id,
        "variant": cell.variant,
        "delegate": cell.delegate,
        "api": cell.api,
        "threads": cell.threads,
        "status": cell.status,
        "p50_ms": cell.timing.p50_ms if cell.timing else None,
        "peak_rss_mb": cell.memory.peak_rss_mb if cell.memory else None,
        "top1": cell.accuracy.top1 if cell.accuracy else None,
        "contended": cell.conditions.contended if cell.conditions else None,
        "result": json.dumps(schema.to_dict(cell), sort_keys=True),
    }
