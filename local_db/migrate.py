"""Apply Alembic migrations at start-up, with a backup taken first (SQLite backup API)."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from local_db.engine import Database, connect_sqlite

log = logging.getLogger(__name__)


class MigrationFailed(RuntimeError):
    """The upgrade failed; the database was restored from ``backup`` when one was taken."""

    def __init__(self, message: str, backup: Path | None) -> None:
        super().__init__(message)
        self.backup = backup


@dataclass(frozen=True)
class MigrationReport:
    from_revision: str | None
    to_revision: str
    backup: Path | None

    @property
    def upgraded(self) -> bool:
        return self.from_revision != self.to_revision


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("local_db") / "migrations"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def is_known_revision(revision: str) -> bool:
    """False for a schema written by a newer version of the application."""
    try:
        ScriptDirectory.from_config(_config()).get_revision(revision)
    except Exception:
        return False
    return True


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def backup_sqlite(source: Path, backup_dir: Path, label: str,
                  key: bytes | None = None) -> Path:
    """Consistent online copy through the SQLite backup API (safe while WAL is active).
    With ``key`` (an SQLCipher database) the copy is encrypted under the same key, and
    owner-only like its source."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = backup_dir / f"{source.stem}-{stamp}-{label}.sqlite3"
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    src = connect_sqlite(source, key)
    try:
        dst = connect_sqlite(target, key)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


def _restore_sqlite(backup: Path, target: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, target)


def upgrade(db: Database, backup_dir: Path | None = None, to: str = "head") -> MigrationReport:
    """Bring the schema to ``to``. A non-empty SQLite database is backed up first, and
    restored from that backup if the upgrade fails."""
    before = current_revision(db)
    target = head_revision() if to == "head" else to
    if before == target:
        return MigrationReport(before, target, None)
    backup: Path | None = None
    path = db.sqlite_path
    if before is not None and path is not None and path.exists() and backup_dir is not None:
        backup = backup_sqlite(path, backup_dir, f"before-{target}", db.sqlite_key)
        log.info("database backed up to %s before upgrade %s -> %s", backup, before, target)
    cfg = _config()
    try:
        with db.engine.begin() as conn:
            db.relax_timeouts(conn)  # a migration may rewrite a large table
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, to)
    except Exception as exc:
        log.exception("migration %s -> %s failed", before, target)
        if backup is not None and path is not None:
            db.dispose()
            _restore_sqlite(backup, path)
            log.error("database restored from %s", backup)
        raise MigrationFailed(str(exc), backup) from exc
    return MigrationReport(before, target, backup)
