"""clerks: a password that must be changed at the next login (one-time passwords), and
whether the account comes from the province (its password is changed there)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clerks") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("from_province", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("clerks") as batch:
        batch.drop_column("from_province")
        batch.drop_column("must_change_password")
