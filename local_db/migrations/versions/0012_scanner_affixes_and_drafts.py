"""each counter PC's scanner prefix/suffix, and the intake draft it is working on

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 00:30:00

A handheld scanner can be set to send fixed characters before and after each code; the
technician tells the PC which (per PC: each counter has its own scanner). The draft of
the dossier being received is kept at every step of the wizard, so a closed window, a
crash or a power cut loses nothing the clerk typed: one open draft per counter PC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("scanner_prefix", sa.String(16), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("scanner_suffix", sa.String(16), nullable=False,
                                   server_default=""))
    op.create_table(
        "intake_drafts",
        sa.Column("install_id", sa.String(36), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["clerk_id"], ["clerks.id"],
                                name="fk_intake_drafts_clerk_id_clerks"),
        sa.PrimaryKeyConstraint("install_id", name="pk_intake_drafts"),
    )


def downgrade() -> None:
    op.drop_table("intake_drafts")
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("scanner_suffix")
        batch.drop_column("scanner_prefix")
