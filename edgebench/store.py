"""History store: every run and every cell, SQLite by default, PostgreSQL by URL (SQLAlchemy Core).

A run and its cells are written in one transaction, so a crash mid-insert leaves the store as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from converter.manifest import Manifest
from device_runner import schema
from device_runner.schema import CellResult, Plan
from edgebench import __version__
from edgebench.errors import EdgebenchError

STORE_SCHEMA_VERSION = 1
DEFAULT_STORE = Path(".edgebench") / "history.sqlite"

metadata = sa.MetaData()
meta_table = sa.Table(
    "edgebench_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)
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
    sa.Column("manifest", sa.Text, nullable=False),  # JSON
)
cells_table = sa.Table(
    "cells",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("cell_id", sa.String(256), primary_key=True),
    sa.Column("variant", sa.String(128), nullable=False),
    sa.Column("delegate", sa.String(512), nullable=False),
    sa.Column("threads", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("p50_ms", sa.Float),
    sa.Column("peak_rss_mb", sa.Float),
    sa.Column("top1", sa.Float),
    sa.Column("result", sa.Text, nullable=False),  # the cell's JSON, raw samples included
)


@dataclass(frozen=True)
class StoredRun:
    run_id: str
    created_at: str
    device: str
    plan: Plan
    manifest: Manifest
    git_commit: str | None
    cells: list[CellResult]


def store_url(value: str | None) -> str:
    """``--store`` / EDGEBENCH_STORE: a URL (``postgresql://…``, ``sqlite:///…``) or a file path."""
    value = value or os.environ.get("EDGEBENCH_STORE") or str(DEFAULT_STORE)
    if "://" in value:
        return value
    path = Path(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = sa.create_engine(url)
            with self.engine.begin() as conn:
                metadata.create_all(conn)
                self._check_version(conn)
        except (sa.exc.SQLAlchemyError, ValueError) as exc:
            raise EdgebenchError(f"cannot open store {self._safe_url()}: {str(exc).splitlines()[0]}") from exc

    def _safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def _check_version(self, conn: sa.Connection) -> None:
        row = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first()
        if row is None:
            conn.execute(meta_table.insert().values(key="schema_version", value=str(STORE_SCHEMA_VERSION)))
        elif int(row.value) > STORE_SCHEMA_VERSION:
            raise EdgebenchError(
                f"store {self._safe_url()} has schema version {row.value}; this edgebench knows up to "
                f"{STORE_SCHEMA_VERSION}: upgrade edgebench"
            )

    def save_run(
        self,
        *,
        device: str,
        plan: Plan,
        manifest: Manifest,
        created_at: str,
        git_commit: str | None,
        cells: Iterable[CellResult],
    ) -> None:
        with self.engine.begin() as conn:  # one transaction: all or nothing
            conn.execute(sa.delete(cells_table).where(cells_table.c.run_id == plan.run_id))
            conn.execute(sa.delete(runs_table).where(runs_table.c.run_id == plan.run_id))
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
            rows = [_cell_row(plan.run_id, cell) for cell in cells]
            if rows:
                conn.execute(cells_table.insert(), rows)

    def load_run(self, run_id: str) -> StoredRun:
        with self.engine.connect() as conn:
            run = conn.execute(sa.select(runs_table).where(runs_table.c.run_id == run_id)).first()
            if run is None:
                raise EdgebenchError(f"no run {run_id!r} in store {self._safe_url()}")
            cells = conn.execute(
                sa.select(cells_table.c.result).where(cells_table.c.run_id == run_id).order_by(cells_table.c.cell_id)
            ).all()
        source = f"store run {run_id}"
        return StoredRun(
            run_id=run.run_id,
            created_at=run.created_at,
            device=run.device,
            plan=schema.loads(Plan, run.plan, source),
            manifest=schema.loads(Manifest, run.manifest, source),
            git_commit=run.git_commit,
            cells=[schema.loads(CellResult, row.result, source) for row in cells],
        )


def _cell_row(run_id: str, cell: CellResult) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "cell_id": cell.key.id,
        "variant": cell.variant,
        "delegate": cell.delegate,
        "threads": cell.threads,
        "status": cell.status,
        "p50_ms": cell.timing.p50_ms if cell.timing else None,
        "peak_rss_mb": cell.memory.peak_rss_mb if cell.memory else None,
        "top1": cell.accuracy.top1 if cell.accuracy else None,
        "result": json.dumps(schema.to_dict(cell), sort_keys=True),
    }
