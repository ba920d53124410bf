"""The history as the first release wrote it (runs and figures, by run time).

A database made by that release has these tables and no version table: creating them only
when missing lets this revision adopt it.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "xlplan_korningar" not in existing:
        op.create_table(
            "xlplan_korningar",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("tid", sa.String(32), nullable=False),
            sa.Column("budgetar", sa.Integer, nullable=False, index=True),
            sa.Column("inkorg", sa.String(1000), nullable=False),
            sa.Column("antal_filer", sa.Integer, nullable=False),
        )
    if "xlplan_nyckeltal" not in existing:
        op.create_table(
            "xlplan_nyckeltal",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("korning", sa.Integer, sa.ForeignKey("xlplan_korningar.id"), index=True,
                      nullable=False),
            sa.Column("namnd", sa.String(20), nullable=False),
            sa.Column("slag", sa.String(20), nullable=False),
            sa.Column("objekt", sa.String(500), nullable=False),
            sa.Column("varde", sa.String(60), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("xlplan_nyckeltal")
    op.drop_table("xlplan_korningar")
