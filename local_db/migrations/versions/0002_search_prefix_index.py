"""prefix index on the dossier search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:10:00

Prefix queries of one to four characters ("09", "ng", "h1") made FTS5 merge the doclists of
every term with that prefix: 0.3-0.8 s with a million dossiers. A prefix index stores those
short prefixes as terms of their own, so they are read lazily, newest first, like any word
(about 75 % more index for 1M dossiers, ~115 bytes a dossier).
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TRIGGERS = ("dossiers_fts_ai", "dossiers_fts_ad", "dossiers_fts_au")


def _create(prefix: str) -> None:
    option = f", prefix='{prefix}'" if prefix else ""
    op.execute(
        "CREATE VIRTUAL TABLE dossier_fts USING fts5(search_text, content='dossiers', "
        f"content_rowid='id', tokenize='unicode61 remove_diacritics 2'{option})"
    )
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
    # External content: the index is rebuilt from the dossiers already stored.
    op.execute("INSERT INTO dossier_fts(dossier_fts) VALUES ('rebuild')")


def _drop() -> None:
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS dossier_fts")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop()
    _create("1 2 3 4")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop()
    _create("")
