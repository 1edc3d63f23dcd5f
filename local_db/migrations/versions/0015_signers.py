"""who signs each kind of document in the agency's name

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:40:00

Mẫu 04 and 05 speak in the agency's name and are signed by its head or a deputy
("TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", then the name). The block is data,
set by provisioning or F9; a document kind without one prints the generic block marked
"chưa cấu hình người ký", and the doctor warns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signers",
        sa.Column("agency_code", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("authority", sa.String(120), nullable=False, server_default=""),
        sa.Column("delegation", sa.String(120), nullable=False, server_default=""),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("name", sa.String(120), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("signers")
