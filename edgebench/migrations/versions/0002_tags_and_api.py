"""Free tags per run (--tag release=4.2), the LiteRT API of each cell, and indexes for history filters.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "run_tags",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(512), nullable=False),
    )
    with op.batch_alter_table("cells") as batch:
        batch.add_column(sa.Column("api", sa.String(32), nullable=False, server_default="interpreter"))
    op.create_index("runs_by_device_time", "runs", ["device", "created_at"])
    op.create_index("runs_by_model_time", "runs", ["model_name", "created_at"])


def downgrade() -> None:
    op.drop_index("runs_by_model_time", "runs")
    op.drop_index("runs_by_device_time", "runs")
    with op.batch_alter_table("cells") as batch:
        batch.drop_column("api")
    op.drop_table("run_tags")
