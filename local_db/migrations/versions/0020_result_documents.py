"""result documents pulled from the province, and how a result was handed over

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 15:40:00

Two new tables, nothing existing changes: `result_documents` (DanhSachGiayToKetQua of
the change feed, with the fetched file's blob once its hash matched) and
`result_handovers` (append-only facts: paper at the counter, by post, electronic copy).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "result_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("gateway_id", sa.String(length=64), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("component_code", sa.String(length=60), nullable=False),
        sa.Column("signer", sa.String(length=200), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("announced_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("download_path", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=True),
        sa.Column("refused_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"],
                                name=op.f("fk_result_documents_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(["blob_sha256"], ["blobs.sha256"],
                                name=op.f("fk_result_documents_blob_sha256_blobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_documents")),
        sa.UniqueConstraint("dossier_id", "gateway_id",
                            name=op.f("uq_result_documents_dossier_id")),
    )
    op.create_index(op.f("ix_result_documents_dossier_id"), "result_documents",
                    ["dossier_id"])
    op.create_index(op.f("ix_result_documents_state"), "result_documents", ["state"])
    op.create_table(
        "result_handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"],
                                name=op.f("fk_result_handovers_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(["clerk_id"], ["clerks.id"],
                                name=op.f("fk_result_handovers_clerk_id_clerks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_handovers")),
    )
    op.create_index(op.f("ix_result_handovers_dossier_id"), "result_handovers",
                    ["dossier_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_result_handovers_dossier_id"), table_name="result_handovers")
    op.drop_table("result_handovers")
    op.drop_index(op.f("ix_result_documents_state"), table_name="result_documents")
    op.drop_index(op.f("ix_result_documents_dossier_id"), table_name="result_documents")
    op.drop_table("result_documents")
