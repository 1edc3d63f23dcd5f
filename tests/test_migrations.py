"""The schema Alembic builds is exactly the one the models describe, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from desktop_app.context import AppContext
from local_db.migrate import head_revision
from local_db.models import Base


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
