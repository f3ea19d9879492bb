"""Whether each cell was measured under contention (the noise guard's flag), as a column.

``edgebench history`` counts a run's flagged cells, the plot over time marks them, and the gate's
run-to-run noise leaves them out: all from the column, without parsing every cell's JSON. Cells stored
before are filled in from their JSON (``conditions.contended``); a result without ``conditions`` (a runner
that did not look) stays NULL, unknown rather than quiet.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

FROM_JSON = {
    "sqlite": "UPDATE cells SET contended = json_extract(result, '$.conditions.contended')",
    "postgresql": "UPDATE cells SET contended = (result::json -> 'conditions' ->> 'contended')::boolean",
}


def upgrade() -> None:
    with op.batch_alter_table("cells") as batch:
        batch.add_column(sa.Column("contended", sa.Boolean))
    op.execute(FROM_JSON[op.get_bind().dialect.name])


def downgrade() -> None:
    with op.batch_alter_table("cells") as batch:
        batch.drop_column("contended")
