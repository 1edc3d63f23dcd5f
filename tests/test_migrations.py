"""The schema Alembic builds is exactly the one the models describe, on both databases."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from desktop_app.context import AppContext
from local_db.engine import Database, connect_sqlite, sqlite_url
from local_db.migrate import head_revision, upgrade
from local_db.models import Base
from tests.conftest import TEMPLATE_SQLITE_KEY

pytestmark = pytest.mark.migrations


def _differences(ctx: AppContext) -> list[Any]:
    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        # FTS5 virtual tables and their shadow tables live outside the models.
        return not (type_ == "table" and name is not None and name.startswith("dossier_fts"))

    with ctx.db.engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True,
                                                    "include_object": include})
        return list(compare_metadata(mc, Base.metadata))


def test_sqlite_schema_matches_models(ctx: AppContext) -> None:
    assert ctx.migration.to_revision == head_revision()
    assert _differences(ctx) == []


def test_postgresql_schema_matches_models(pg_ctx: AppContext) -> None:
    assert _differences(pg_ctx) == []


def test_search_index_triggers_survive_every_migration(ctx: AppContext) -> None:
    """SQLite table copies (batch migrations) drop triggers; the FTS ones must be there."""
    if not ctx.db.is_sqlite:
        pytest.skip("SQLite only")
    with ctx.db.read() as s:
        names = set(s.scalars(text("SELECT name FROM sqlite_master WHERE type='trigger'")))
    assert {"dossiers_fts_ai", "dossiers_fts_ad", "dossiers_fts_au"} <= names


def test_the_tests_template_is_what_migrating_builds(_sqlite_template: Path,
                                                      tmp_path: Path) -> None:
    """Most tests' ``ctx`` starts from a copy of one file migrated once per session: the
    copy must hold exactly what running every migration builds, in WAL mode."""
    fresh = tmp_path / "fresh.sqlite3"
    db = Database(sqlite_url(fresh), sqlite_key=TEMPLATE_SQLITE_KEY)
    upgrade(db)
    db.dispose()
    copy = tmp_path / "copy.sqlite3"
    shutil.copyfile(_sqlite_template, copy)

    def dump(path: Path) -> tuple[str, list[str]]:
        """Schema and rows; the order of constraints within a table and of the statements
        is left out (a table copied by a batch migration lists its constraints in an order
        that varies from one process to the next)."""
        # SQLCipher's module has no iterdump: dump a plaintext export with sqlite3.
        plain = path.with_suffix(".plain")
        plain.unlink(missing_ok=True)
        keyed = connect_sqlite(path, TEMPLATE_SQLITE_KEY)
        try:
            mode = keyed.execute("PRAGMA journal_mode").fetchone()[0]
            keyed.execute("ATTACH DATABASE ? AS plain KEY ''", (str(plain),))
            keyed.execute("SELECT sqlcipher_export('plain')").fetchone()
            keyed.execute("DETACH DATABASE plain")
        finally:
            keyed.close()
        conn = sqlite3.connect(plain)
        try:
            statements = []
            for statement in conn.iterdump():
                lines = [line.strip().rstrip(",") for line in statement.splitlines()]
                kept = [line for line in lines if not line.startswith("CONSTRAINT ")]
                statements.append("\n".join(kept + sorted(set(lines) - set(kept))))
            return mode, sorted(statements)
        finally:
            conn.close()

    assert dump(copy) == dump(fresh)
    assert dump(copy)[0] == "wal"
