"""Run ids are never reused: a run removed with ``xlplan historik ta-bort`` keeps its number,
so a log line or a mail that names "körning 4" never comes to mean another run.

PostgreSQL's sequences never give a number twice. SQLite gives the largest id again once its
row is gone, unless the table is AUTOINCREMENT, which only a rebuilt table can become (the
rows, their ids and the indexes are copied as they are).

Revision ID: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("xlplan_korningar", recreate="always",
                              table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
