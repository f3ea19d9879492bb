"""Runs and their cells.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_sha256", sa.String(64), nullable=False),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("edgebench_version", sa.String(32), nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("manifest", sa.Text, nullable=False),
    )
    op.create_table(
        "cells",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("cell_id", sa.String(256), primary_key=True),
        sa.Column("variant", sa.String(128), nullable=False),
        sa.Column("delegate", sa.String(512), nullable=False),
        sa.Column("threads", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("p50_ms", sa.Float),
        sa.Column("peak_rss_mb", sa.Float),
        sa.Column("top1", sa.Float),
        sa.Column("result", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cells")
    op.drop_table("runs")
