"""each counter PC keeps the path of its own copy of the provincial CA

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 18:10:00

The CA file lives in each PC's data directory; on a shared database one agency-wide path
was only right on the PC provisioned last.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("ca_bundle", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE stations SET ca_bundle = COALESCE("
               "(SELECT ca_bundle FROM station_settings WHERE id = 1), '')")


def downgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("ca_bundle")
