"""one row per counter PC sharing the database (station digit, hot folders)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 14:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stations",
        sa.Column("install_id", sa.String(length=36), nullable=False),
        sa.Column("station_digit", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=200), nullable=False),
        sa.Column("hot_folders", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("install_id", name=op.f("pk_stations")),
        sa.UniqueConstraint("station_digit", name=op.f("uq_stations_station_digit")),
    )


def downgrade() -> None:
    op.drop_table("stations")
