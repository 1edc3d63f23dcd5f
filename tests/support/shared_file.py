"""A second PC on the first one's SQLite file, for tests that run on both engines.

In the field only PostgreSQL is shared between counters; an encrypted SQLite file belongs
to one data directory's key. A test that stands in a second PC on the same SQLite file
gives that PC the first one's data key, as a technician's recovery would."""

from __future__ import annotations

from pathlib import Path

from desktop_app.context import AppContext
from desktop_app.data_key import DataKeyStore


def second_pc(ctx: AppContext, root: Path) -> Path:
    """``root`` made ready to open ``ctx``'s database as another PC's data directory."""
    if ctx.db.is_sqlite:
        DataKeyStore(root).store(DataKeyStore(ctx.paths.root).get())
    return root
