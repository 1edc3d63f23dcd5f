"""clerks: the phone and e-mail printed on the slips as the official to contact

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:00:00

Mẫu 02 tells the citizen whom to call while completing a dossier (and Mẫu 03 whom to ask):
the clerk's own work phone and e-mail, "" when not given (the slip then prints a dotted
blank to fill by hand).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant server default lets SQLite ALTER TABLE ADD COLUMN in place; rebuilding
    # `clerks` would trip the foreign keys that point at it.
    with op.batch_alter_table("clerks") as batch:
        batch.add_column(sa.Column("phone", sa.String(20), nullable=False, server_default=""))
        batch.add_column(sa.Column("email", sa.String(120), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # in place (SQLite 3.35+), as above
        for column in ("email", "phone"):
            op.execute(f"ALTER TABLE clerks DROP COLUMN {column}")
        return
    op.drop_column("clerks", "email")
    op.drop_column("clerks", "phone")
