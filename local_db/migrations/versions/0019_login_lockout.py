"""clerks: failed logins in a row, the back-off they earn and the lock after too many

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-07 07:10:00

Kept in the shared database, so counters on one PostgreSQL server see the same count.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_COLUMNS = ("locked_at", "login_blocked_until", "failed_logins")


def upgrade() -> None:
    # Constant or no defaults: SQLite adds the columns in place (see 0010), so the foreign
    # keys pointing at `clerks` are untouched.
    with op.batch_alter_table("clerks") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("login_blocked_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("locked_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # in place (SQLite 3.35+), as above
        for column in _COLUMNS:
            op.execute(f"ALTER TABLE clerks DROP COLUMN {column}")
        return
    for column in _COLUMNS:
        op.drop_column("clerks", column)
