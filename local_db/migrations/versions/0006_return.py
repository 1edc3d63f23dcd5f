"""return of results: who received it, when, how

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("returned_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("returned_to", sa.Text(), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("returned_to_id", sa.String(length=20), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("return_method", sa.String(length=10), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("returned_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_dossiers_returned_by_id_clerks"), "clerks",
                                 ["returned_by_id"], ["id"])
    op.create_index("ix_dossiers_appointment_at", "dossiers", ["appointment_at"])


def downgrade() -> None:
    op.drop_index("ix_dossiers_appointment_at", table_name="dossiers")
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_constraint(op.f("fk_dossiers_returned_by_id_clerks"), type_="foreignkey")
        for col in ("returned_by_id", "return_method", "returned_to_id", "returned_to",
                    "returned_at"):
            batch.drop_column(col)
