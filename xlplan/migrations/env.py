"""Alembic environment: migrations run on the connection :mod:`xlplan.store` hands over."""

from __future__ import annotations

from alembic import context

VERSION_TABLE = "xlplan_alembic_version"  # own name: a shared PostgreSQL may hold others'

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE,
                  render_as_batch=True)  # SQLite alters tables by copying them
with context.begin_transaction():
    context.run_migrations()
