"""sync: dossier revisions, outbox leases and upload URLs, cursors, gateway settings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False,
                                   server_default="1"))
        batch.add_column(sa.Column("remote_status_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("remote_note", sa.Text(), nullable=False,
                                   server_default=""))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("leased_by", sa.String(length=60), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("upload_url", sa.String(length=500), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("response", sa.JSON(), nullable=False,
                                   server_default="{}"))
    with op.batch_alter_table("station_settings") as batch:
        batch.add_column(sa.Column("gateway_url", sa.String(length=300), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("ca_bundle", sa.Text(), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("unsynced_warn_days", sa.Integer(), nullable=False,
                                   server_default="3"))
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sync_state")),
    )
    op.create_index("ix_outbox_entity", "outbox", ["entity_type", "entity_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_entity", table_name="outbox")
    op.drop_table("sync_state")
    with op.batch_alter_table("station_settings") as batch:
        for col in ("unsynced_warn_days", "ca_bundle", "gateway_url"):
            batch.drop_column(col)
    with op.batch_alter_table("outbox") as batch:
        for col in ("response", "upload_url", "lease_until", "leased_by"):
            batch.drop_column(col)
    with op.batch_alter_table("dossiers") as batch:
        for col in ("remote_note", "remote_status_at", "revision"):
            batch.drop_column(col)
