"""component_reuses: a component file that reuses an earlier digitized copy, and its source

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:50:00

A new table rather than columns on ``component_files``: SQLite would rebuild that table
to add a foreign key, and the reuse facts are written once beside the file row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "component_reuses",
        sa.Column("file_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source_file_id", sa.Integer(), nullable=True),
        sa.Column("source_code", sa.String(length=60), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=True),
        sa.Column("reused_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["component_files.id"],
                                name=op.f("fk_component_reuses_file_id_component_files")),
        sa.ForeignKeyConstraint(
            ["source_file_id"], ["component_files.id"],
            name=op.f("fk_component_reuses_source_file_id_component_files")),
        sa.ForeignKeyConstraint(["clerk_id"], ["clerks.id"],
                                name=op.f("fk_component_reuses_clerk_id_clerks")),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_component_reuses")),
    )
    op.create_index("ix_component_reuses_source", "component_reuses", ["source_file_id"])


def downgrade() -> None:
    op.drop_index("ix_component_reuses_source", table_name="component_reuses")
    op.drop_table("component_reuses")
