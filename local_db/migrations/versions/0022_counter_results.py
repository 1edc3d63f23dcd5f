"""result documents digitized at the counter: their origin and the clerk who digitized them

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 16:00:00

Two columns on ``result_documents``; every existing row came from the province's change
feed, hence the server default. The table is young and small, so SQLite's batch rebuild
(needed for the foreign key) costs nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("result_documents") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=10), nullable=False,
                                   server_default="province"))
        batch.add_column(sa.Column("clerk_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_result_documents_clerk_id_clerks"), "clerks",
                                 ["clerk_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("result_documents") as batch:
        batch.drop_constraint(op.f("fk_result_documents_clerk_id_clerks"), type_="foreignkey")
        batch.drop_column("clerk_id")
        batch.drop_column("origin")
