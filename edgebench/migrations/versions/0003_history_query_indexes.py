"""Indexes for the history queries of report and gate (newest runs of a device × model, runs by tag).

The report's plot over time and the gate's run-to-run noise read the newest runs of one device and model,
newest first, ties by run id: with (device, model_name, created_at, run_id) that is a walk down one index
that stops at the limit, however long the history. A tag ref (``--baseline release=4.1``) looks its runs
up by key and value. Cells need no new index: they are read by run, the leading column of their key.

Revision ID: 0003
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_index("runs_by_device_model_time", "runs", ["device", "model_name", "created_at", "run_id"])
    op.create_index("run_tags_by_key_value", "run_tags", ["key", "value"])


def downgrade() -> None:
    op.drop_index("run_tags_by_key_value", "run_tags")
    op.drop_index("runs_by_device_model_time", "runs")
