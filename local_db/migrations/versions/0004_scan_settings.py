"""paper source and OCR per scan profile; hot folders in the station settings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scan_profiles") as batch:
        batch.add_column(sa.Column("paper", sa.String(length=10), nullable=False,
                                   server_default="auto"))
        batch.add_column(sa.Column("ocr", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("station_settings") as batch:
        batch.add_column(sa.Column("hot_folders", sa.JSON(), nullable=False,
                                   server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("station_settings") as batch:
        batch.drop_column("hot_folders")
    with op.batch_alter_table("scan_profiles") as batch:
        batch.drop_column("ocr")
        batch.drop_column("paper")
