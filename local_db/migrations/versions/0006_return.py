"""return of results: who received it, when, how

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("returned_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("returned_to", sa.Text(), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("returned_to_id", sa.String(length=20), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("return_method", sa.String(length=10), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("returned_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_dossiers_returned_by_id_clerks"), "clerks",
                                 ["returned_by_id"], ["id"])
    op.create_index("ix_dossiers_appointment_at", "dossiers", ["appointment_at"])
    if op.get_bind().dialect.name == "sqlite":
        _restore_search_triggers()


def _restore_search_triggers() -> None:
    """Adding a foreign key makes SQLite's batch mode copy the table, which drops the
    triggers that keep the external-content FTS index in step: put them back, and
    rebuild the index from the (unchanged) rows."""
    for name in ("dossiers_fts_ai", "dossiers_fts_ad", "dossiers_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(
        "CREATE TRIGGER dossiers_fts_ai AFTER INSERT ON dossiers BEGIN "
        "INSERT INTO dossier_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER dossiers_fts_ad AFTER DELETE ON dossiers BEGIN "
        "INSERT INTO dossier_fts(dossier_fts, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER dossiers_fts_au AFTER UPDATE OF search_text ON dossiers BEGIN "
        "INSERT INTO dossier_fts(dossier_fts, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO dossier_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    op.execute("INSERT INTO dossier_fts(dossier_fts) VALUES ('rebuild')")


def downgrade() -> None:
    op.drop_index("ix_dossiers_appointment_at", table_name="dossiers")
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_constraint(op.f("fk_dossiers_returned_by_id_clerks"), type_="foreignkey")
        for col in ("returned_by_id", "return_method", "returned_to_id", "returned_to",
                    "returned_at"):
            batch.drop_column(col)
    if op.get_bind().dialect.name == "sqlite":
        _restore_search_triggers()
