"""The hot folder's journal: what was taken from one hot folder, one row per file, with
the step each take reached (claimed → committed → done) and the station that made it.
Every write is committed durably (SQLite, ``synchronous=FULL``, a rollback journal so it
also works on a network share) before the next step of a take starts, so after a crash
``HotFolder.recover`` knows exactly what to complete or roll back. Counters sharing one
hot folder share its journal, and each recovers only its own rows: another station's
copy is on that station's disk, not here."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS taken (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT,
    copy_path TEXT NOT NULL,
    move_to TEXT,
    state TEXT NOT NULL CHECK (state IN ('claimed', 'committed', 'done')),
    claimed_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX IF NOT EXISTS taken_key ON taken (name, size, mtime_ns);
"""
# Added when hot folders became shareable; rows written before have NULL in both.
_COLUMNS = {"station": "TEXT", "source": "TEXT"}


@dataclass(frozen=True)
class JournalRow:
    """One take as the journal recorded it."""

    id: int
    name: str
    size: int
    mtime_ns: int
    sha256: str | None
    copy_path: Path
    move_to: Path | None
    state: str
    source: Path | None = None  # the file the take reads; None: ``name`` in the folder


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Journal:
    """What was taken from one hot folder; every write is committed durably before the
    next step of a take starts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)
            have = {r[1] for r in conn.execute("PRAGMA table_info(taken)")}
            for column, kind in _COLUMNS.items():
                if column not in have:
                    with contextlib.suppress(sqlite3.OperationalError):  # another station
                        conn.execute(f"ALTER TABLE taken ADD COLUMN {column} {kind}")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per step: safe from any thread, nothing left open
        # when the studio closes.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("PRAGMA synchronous=FULL")
            yield conn
        finally:
            conn.close()

    def _write(self, sql: str, params: tuple[object, ...]) -> int:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute(sql, params)
            conn.execute("COMMIT")
            return int(cur.lastrowid or 0)

    def seen(self, name: str, size: int, mtime_ns: int) -> bool:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT 1 FROM taken WHERE name=? AND size=? AND mtime_ns=? "
                "AND state IN ('committed', 'done') LIMIT 1", (name, size, mtime_ns)).fetchone()
        return row is not None

    def claim(self, name: str, size: int, mtime_ns: int, copy_path: Path, *,
              station: str = "", source: Path | None = None) -> int:
        return self._write(
            "INSERT INTO taken (name, size, mtime_ns, copy_path, state, claimed_at, station, "
            "source) VALUES (?, ?, ?, ?, 'claimed', ?, ?, ?)",
            (name, size, mtime_ns, str(copy_path), _now_iso(), station,
             str(source) if source else None))

    def commit(self, row_id: int, sha256: str, move_to: Path | None) -> None:
        self._write("UPDATE taken SET state='committed', sha256=?, move_to=? WHERE id=?",
                    (sha256, str(move_to) if move_to else None, row_id))

    def done(self, row_id: int, copy_path: Path) -> None:
        self._write("UPDATE taken SET state='done', copy_path=?, done_at=? WHERE id=?",
                    (str(copy_path), _now_iso(), row_id))

    def drop(self, row_id: int) -> None:
        self._write("DELETE FROM taken WHERE id=? AND state='claimed'", (row_id,))

    def unfinished(self, station: str = "") -> list[JournalRow]:
        """Takes of ``station`` not done yet, and those written before takes had a station
        (one station per folder then)."""
        return self._rows("state != 'done' AND (station = ? OR station IS NULL)", (station,))

    def take_of(self, source: Path, size: int, mtime_ns: int) -> JournalRow | None:
        """The latest take that read this very file (path, size and mtime), if any."""
        rows = self._rows("source = ? AND size = ? AND mtime_ns = ?",
                          (str(source), size, mtime_ns))
        return rows[-1] if rows else None

    def _rows(self, where: str, params: tuple[object, ...]) -> list[JournalRow]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, name, size, mtime_ns, sha256, copy_path, move_to, state, source "
                f"FROM taken WHERE {where} ORDER BY id", params).fetchall()
        return [JournalRow(r[0], r[1], r[2], r[3], r[4], Path(r[5]), Path(r[6]) if r[6] else None,
                           r[7], Path(r[8]) if r[8] else None) for r in rows]

    def count_done(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM taken WHERE state='done'").fetchone()[0])
