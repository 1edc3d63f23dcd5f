"""retention period (agency-wide) and receipt printer (per counter PC) in the database;
the audit log append-only on PostgreSQL too

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 17:00:00

Both lived in DATA_DIR/station-extra.json; open_context() imports that file once.
SQLite has had triggers refusing UPDATE and DELETE on audit_log since 0001; a shared
PostgreSQL database gets the same guard (and against TRUNCATE) here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("station_settings") as batch:
        batch.add_column(sa.Column("retention_days", sa.Integer(), nullable=False,
                                   server_default="365"))
    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("printer", sa.String(length=200), nullable=False,
                                   server_default=""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$")
        op.execute("CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("printer")
    with op.batch_alter_table("station_settings") as batch:
        batch.drop_column("retention_days")
