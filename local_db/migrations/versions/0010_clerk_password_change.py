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
    # A constant default ("0", not sa.false()) lets SQLite ALTER TABLE ADD COLUMN in place;
    # rebuilding `clerks` would trip the foreign keys that point at it.
    with op.batch_alter_table("clerks") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("from_province", sa.Boolean(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # in place (SQLite 3.35+), as above
        for column in ("from_province", "must_change_password"):
            op.execute(f"ALTER TABLE clerks DROP COLUMN {column}")
        return
    op.drop_column("clerks", "from_province")
    op.drop_column("clerks", "must_change_password")
