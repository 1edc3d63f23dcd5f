"""digitized component files and scan profiles

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "component_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("dpi", sa.Integer(), nullable=False),
        sa.Column("colour_modes", sa.String(length=40), nullable=False),
        sa.Column("digitization_state", sa.Integer(), nullable=False),
        sa.Column("profile", sa.String(length=40), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["blob_sha256"], ["blobs.sha256"],
                                name=op.f("fk_component_files_blob_sha256_blobs")),
        sa.ForeignKeyConstraint(["clerk_id"], ["clerks.id"],
                                name=op.f("fk_component_files_clerk_id_clerks")),
        sa.ForeignKeyConstraint(["component_id"], ["dossier_components.id"],
                                name=op.f("fk_component_files_component_id_dossier_components")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_files")),
    )
    op.create_index("ix_component_files_component", "component_files", ["component_id"])
    op.create_table(
        "scan_profiles",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("label_vi", sa.String(length=200), nullable=False),
        sa.Column("dpi", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("duplex", sa.Boolean(), nullable=False),
        sa.Column("page_size", sa.String(length=4), nullable=False),
        sa.Column("drop_blank", sa.Boolean(), nullable=False),
        sa.Column("deskew", sa.Boolean(), nullable=False),
        sa.Column("crop_borders", sa.Boolean(), nullable=False),
        sa.Column("jpeg_quality", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scan_profiles")),
    )


def downgrade() -> None:
    op.drop_table("scan_profiles")
    op.drop_index("ix_component_files_component", table_name="component_files")
    op.drop_table("component_files")
