"""History by month: a run belongs to (budget year, Rapportmånad); a re-run of a month
supersedes the earlier run (kept, marked with the run that replaced it). The output file
and its sha256 are kept so a run can be traced to the workbook it wrote.

Runs recorded before this revision have no month (NULL): they are kept and listed, but
not placed in a month, since their run time does not tell which month they reported.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("xlplan_korningar") as batch:
        batch.add_column(sa.Column("rapportmanad", sa.String(7), nullable=True))
        batch.add_column(sa.Column("ersatt_av", sa.Integer, nullable=True))
        batch.add_column(sa.Column("utfil", sa.String(1000), nullable=True))
        batch.add_column(sa.Column("utfil_sha256", sa.String(64), nullable=True))
        batch.create_index("ix_xlplan_korningar_ar_manad", ["budgetar", "rapportmanad"])


def downgrade() -> None:
    with op.batch_alter_table("xlplan_korningar") as batch:
        batch.drop_index("ix_xlplan_korningar_ar_manad")
        for name in ("utfil_sha256", "utfil", "ersatt_av", "rapportmanad"):
            batch.drop_column(name)
