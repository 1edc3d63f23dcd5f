"""The station's SQLite file encrypted at rest (SQLCipher) and kept owner-only.

A database written by a version without encryption is encrypted in place at start-up:
exported into a new encrypted file beside it, checked (integrity, rows per table), then
renamed over the plaintext one. A power cut at any point leaves either the plaintext
file (the export is redone next start) or the complete encrypted one: the key is stored
before the rename, and the plaintext WAL is folded into its file before, so no plaintext
journal is ever left beside an encrypted file."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

from desktop_app.files import fsync_dir, fsync_file
from desktop_app.paths import DataPaths
from local_db.engine import connect_sqlite, is_plaintext_sqlite, key_pragma

log = logging.getLogger(__name__)

KEEP_BACKUPS = 3  # newest encrypted backups kept in the backups directory
SIDE_FILES = ("-wal", "-shm", "-journal")


class EncryptionCheckFailed(RuntimeError):
    """The encrypted copy did not match the plaintext database: nothing was replaced."""


def _side(path: Path, suffix: str) -> Path:
    return Path(f"{path}{suffix}")


def work_file(path: Path) -> Path:
    """Where the encrypted copy is built before it replaces ``path``."""
    return _side(path, ".encrypting")


def _tables(conn) -> list[str]:  # type: ignore[no-untyped-def]
    # Virtual tables (FTS5) are counted through their shadow tables, which are ordinary.
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' "
                        "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    return [r[0] for r in rows]


def _counts(conn) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            for t in _tables(conn)}


def fold_wal(path: Path) -> None:
    """Write a plaintext database's WAL into its file and end WAL mode, so the file alone
    is the whole database and no -wal/-shm remains beside it."""
    conn = connect_sqlite(path, None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    finally:
        conn.close()


def export_encrypted(path: Path, key: bytes) -> Path:
    """Build the encrypted, checked copy of plaintext ``path``; returns its path."""
    target = work_file(path)
    for leftover in (target, *(_side(target, s) for s in SIDE_FILES)):
        leftover.unlink(missing_ok=True)  # an export a power cut interrupted
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)  # created owner-only: SQLite keeps the mode it finds
    from local_db.engine import sqlcipher_module

    src = sqlcipher_module().connect(str(path), isolation_level=None)
    try:
        expected = _counts(src)
        version = src.execute("PRAGMA user_version").fetchone()[0]
        # The ATTACH statement carries the key: it is never logged, and is built here only.
        attach_key = key_pragma(key).split("=", 1)[1].strip()
        src.execute(f"ATTACH DATABASE ? AS encrypted KEY {attach_key}", (str(target),))
        src.execute("SELECT sqlcipher_export('encrypted')").fetchone()
        src.execute(f"PRAGMA encrypted.user_version = {int(version)}")
        src.execute("DETACH DATABASE encrypted")
    finally:
        src.close()
    check = connect_sqlite(target, key)
    try:
        integrity = check.execute("PRAGMA integrity_check").fetchone()[0]
        got = _counts(check)
    finally:
        check.close()
    if integrity != "ok" or got != expected:
        target.unlink(missing_ok=True)
        raise EncryptionCheckFailed(
            f"encrypted copy differs: integrity {integrity!r}, "
            f"tables {sorted(t for t in expected if expected[t] != got.get(t))}")
    fsync_file(target)
    return target


def encrypt_in_place(path: Path, key: bytes) -> None:
    """Replace plaintext ``path`` by its encrypted copy under ``key`` (already stored)."""
    fold_wal(path)
    target = export_encrypted(path, key)
    os.replace(target, path)
    fsync_dir(path.parent)
    for suffix in SIDE_FILES:  # none after fold_wal; a stale one must never meet the
        _side(path, suffix).unlink(missing_ok=True)  # encrypted file
    log.info("database %s encrypted in place", path.name)


def discard_unfinished_export(path: Path) -> None:
    """An encrypted copy a power cut left half-built beside an already encrypted file."""
    target = work_file(path)
    for leftover in (target, *(_side(target, s) for s in SIDE_FILES)):
        leftover.unlink(missing_ok=True)


def prune_backups(backup_dir: Path, keep: int = KEEP_BACKUPS) -> list[Path]:
    """Remove every plaintext database backup and all but the newest ``keep`` others;
    returns what was removed."""
    if not backup_dir.is_dir():
        return []
    removed: list[Path] = []
    kept: list[Path] = []
    for p in backup_dir.glob("*.sqlite3"):
        if is_plaintext_sqlite(p):
            p.unlink(missing_ok=True)
            removed.append(p)
        else:
            kept.append(p)
    kept.sort(key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    for p in kept[keep:]:
        p.unlink(missing_ok=True)
        removed.append(p)
    if removed:
        log.info("%d old database backups removed from %s", len(removed), backup_dir)
    return removed


def restrict_to_owner(paths: DataPaths, database: Path | None, *, acl: bool = True) -> None:
    """Data directories 0700 and database files 0600 on POSIX; on Windows (when ``acl``:
    a new or just encrypted database) an ACL inherited by everything inside: the PC's
    station in %ProgramData% for the clerks' group (desktop_app.machine_station), any
    other data directory for the signed-in account only."""
    if sys.platform == "win32":
        if acl:
            from desktop_app.machine_station import apply_acl, is_machine_station

            if is_machine_station(paths.root):
                apply_acl(paths.root)  # the clerks' group, not this account alone
            else:
                _windows_owner_only(paths.root)
        return
    dirs = [paths.root, paths.backups, paths.blobs, paths.logs, paths.scan_work,
            paths.root / "secrets"]
    for d in dirs:
        if d.is_dir():
            os.chmod(d, 0o700)
    files = list(paths.backups.glob("*.sqlite3")) if paths.backups.is_dir() else []
    if database is not None:
        files += [database, *(_side(database, s) for s in SIDE_FILES)]
    for f in files:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f, 0o600)


def _windows_owner_only(root: Path) -> None:  # pragma: no cover - Windows only
    user = os.environ.get("USERNAME", "")
    domain = os.environ.get("USERDOMAIN", "")
    if not user:
        log.warning("no USERNAME: the data directory keeps its inherited ACL")
        return
    account = f"{domain}\\{user}" if domain else user
    # /inheritance:r drops the ACEs inherited from the profile (Users, Administrators);
    # (OI)(CI) passes full control of everything inside to this account only.
    # Windows passes the new inheritable ACE down to what is already inside.
    cmd = ["icacls", str(root), "/inheritance:r", "/grant:r", f"{account}:(OI)(CI)F",
           "/C", "/Q"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
    except OSError as exc:
        log.warning("icacls on the data directory failed: %s", exc)
        return
    if done.returncode != 0:
        log.warning("icacls on the data directory exited %d: %s", done.returncode,
                    (done.stdout + done.stderr).strip()[:300])


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    if u.query.get("uri") == "true" and u.database.startswith("file:"):
        # An SQLite URI (`sqlite:///file:/path?mode=ro&uri=true`): the file is its path,
        # never a relative file named "file:…" beside the working directory.
        return Path(urllib.parse.unquote(u.database.removeprefix("file:")))
    return Path(u.database)


def open_key(paths: DataPaths, url: str) -> bytes | None:
    """The SQLCipher key of the station's SQLite file at ``url`` (None for PostgreSQL),
    making one for a new file and encrypting a plaintext one in place.

    Raises DataKeyUnavailable when the file is encrypted and this PC has no key."""
    from desktop_app.data_key import PURPOSE_DATABASE, DataKeyStore, subkey

    path = _sqlite_file(url)
    if path is None:
        return None
    store = DataKeyStore(paths.root)
    new = not path.exists() or path.stat().st_size == 0
    plaintext = not new and is_plaintext_sqlite(path)
    if new or plaintext:
        key = subkey(store.get_or_create(), PURPOSE_DATABASE)
    else:
        key = subkey(store.get(), PURPOSE_DATABASE)
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    elif plaintext:
        encrypt_in_place(path, key)
    discard_unfinished_export(path)
    prune_backups(paths.backups)
    restrict_to_owner(paths, path, acl=new or plaintext)
    return key


def existing_key(paths: DataPaths, url: str) -> bytes | None:
    """The key to read the SQLite file at ``url`` as it is, changing nothing: None for a
    plaintext file or PostgreSQL. Raises DataKeyUnavailable when the key is missing."""
    from desktop_app.data_key import PURPOSE_DATABASE, DataKeyStore, subkey

    path = _sqlite_file(url)
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return None
    if is_plaintext_sqlite(path):
        return None
    return subkey(DataKeyStore(paths.root).get(), PURPOSE_DATABASE)
