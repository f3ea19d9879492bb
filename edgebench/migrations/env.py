"""Alembic environment: edgebench hands over an open connection (see edgebench/store.py)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)  # batch: SQLite's ALTER TABLE is limited
with context.begin_transaction():
    context.run_migrations()
