"""outbox entity ids long enough for a SHA-256; indexes the reports need

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A file's entry is keyed by its 64-digit SHA-256: String(60) was silently accepted by
    # SQLite and refused by PostgreSQL.
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("entity_id", type_=sa.String(length=100),
                           existing_type=sa.String(length=60), existing_nullable=False)
    op.create_index("ix_dossier_components_dossier", "dossier_components", ["dossier_id"])
    op.create_index("ix_dossiers_returned_at", "dossiers", ["returned_at"])


def downgrade() -> None:
    op.drop_index("ix_dossiers_returned_at", table_name="dossiers")
    op.drop_index("ix_dossier_components_dossier", table_name="dossier_components")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("entity_id", type_=sa.String(length=60),
                           existing_type=sa.String(length=100), existing_nullable=False)
