"""blob bytes in the shared database; identifier columns long enough for what they hold

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:45:00

With several counters on one PostgreSQL server, a file lived only on the disk of the PC
that received it: another counter could not print its slip, show its scan or send it.
``shared_blobs`` / ``shared_blob_chunks`` hold the bytes (1 MiB rows, index row written
after the last chunk); they stay empty on SQLite, where the disk store is the only one.

``audit_log.entity_id`` was VARCHAR(60) and receives a file's 64-digit SHA-256 (a
refused upload): PostgreSQL refused the audit row and the sync run died. It becomes 100
like ``outbox.entity_id``. ``outbox.leased_by`` (``agency-digit@host#pid``) becomes 320 so
a long host name fits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _sqlite_audit_triggers() -> None:
    # A batch alter on SQLite rebuilds the table without its triggers: put them back.
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb.lower()}")
        op.execute(
            f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log BEGIN "
            "SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def _resize(audit_len: int, audit_was: int, lease_len: int, lease_was: int) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("entity_id", type_=sa.String(length=audit_len),
                           existing_type=sa.String(length=audit_was), existing_nullable=False)
    if sqlite:
        _sqlite_audit_triggers()
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("leased_by", type_=sa.String(length=lease_len),
                           existing_type=sa.String(length=lease_was), existing_nullable=False,
                           existing_server_default="")


def upgrade() -> None:
    _resize(100, 60, 320, 60)
    op.create_table(
        "shared_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_shared_blobs")),
    )
    op.create_table(
        "shared_blob_chunks",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "seq", name=op.f("pk_shared_blob_chunks")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Scans and PDFs are already compressed: storing them out of line without a
        # compression attempt saves CPU on every write.
        op.execute("ALTER TABLE shared_blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("shared_blob_chunks")
    op.drop_table("shared_blobs")
    _resize(60, 100, 60, 320)
