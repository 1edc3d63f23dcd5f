"""A database that cannot store anything (SQLite's "database or disk is full" and
"attempt to write a readonly database", PostgreSQL read-only): a Vietnamese message at
intake, `sync --once` exits 6 without a traceback, and the doctor says so."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import event, func, select

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext, DatabaseNotWritable, open_context
from desktop_app.intake.service import IntakeService
from desktop_app.setup.doctor_checks import check_writable
from desktop_app.setup.doctor_report import FAIL, OK
from desktop_app.station import StationService
from local_db.engine import FULL, READ_ONLY
from local_db.models import Dossier, OutboxEntry
from tests.conftest import ON_POSTGRESQL, TEST_STATION

from .test_intake import OWNER, complete_draft, intake  # noqa: F401


@contextmanager
def on_every_connection(engine: sqlalchemy.Engine, statement: Any) -> Iterator[None]:
    """Run ``statement`` (SQL, or a callable of the DB-API connection) on each new
    connection of ``engine`` while inside; the pool is emptied on the way in and out."""
    def connected(dbapi_connection: Any, _record: Any) -> None:
        if callable(statement):
            statement(dbapi_connection)
            return
        cur = dbapi_connection.cursor()
        cur.execute(statement)
        cur.close()
        dbapi_connection.commit()  # a PostgreSQL SET is undone with its transaction

    engine.dispose()
    event.listen(engine, "connect", connected)
    try:
        yield
    finally:
        event.remove(engine, "connect", connected)
        engine.dispose()


def read_only(ctx: AppContext) -> Any:
    """Every connection refuses writes, as a read-only database does: SQLite's
    query_only (works as root too, who may write a chmod 0444 file anyway), a PostgreSQL
    session whose transactions are read-only (a standby answers the same 25006)."""
    sql = ("SET default_transaction_read_only = on" if ctx.db.is_postgresql
           else "PRAGMA query_only = ON")
    return on_every_connection(ctx.db.engine, sql)


def disk_full(ctx: AppContext) -> Any:
    """SQLite may not grow the file by one page: it answers SQLITE_FULL exactly as on a
    full disk."""
    def cap(conn: Any) -> None:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")

    return on_every_connection(ctx.db.engine, cap)


def counts(ctx: AppContext) -> tuple[int, int]:
    with ctx.db.read() as s:
        return (int(s.scalar(select(func.count()).select_from(Dossier)) or 0),
                int(s.scalar(select(func.count()).select_from(OutboxEntry)) or 0))


def test_receive_on_a_read_only_database_is_a_message_and_nothing_stored(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:  # noqa: F811
    draft = complete_draft(intake)
    with read_only(ctx), pytest.raises(DatabaseNotWritable) as caught:
        intake.receive(draft, clerk)
    assert caught.value.kind == READ_ONLY
    assert "chế độ chỉ đọc" in caught.value.message_vi
    assert "thông tin đang nhập trên màn hình vẫn được giữ" in caught.value.message_vi
    assert "not writable (read_only)" in caught.value.detail
    assert counts(ctx) == (0, 0)
    intake.receive(draft, clerk)  # writable again: the same draft goes through
    assert counts(ctx)[0] == 1


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite's own page limit stands in for the disk")
def test_receive_on_a_full_disk_is_a_message_and_nothing_stored(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:  # noqa: F811
    # An address long enough that its rows cannot fit in the pages the file already has
    # (the first dossier of a fresh file otherwise fits in its tables' empty root pages).
    draft = complete_draft(intake, owner=replace(OWNER, address="Thôn Nà Lẹng, " * 400))
    with disk_full(ctx), pytest.raises(DatabaseNotWritable) as caught:
        intake.receive(draft, clerk)
    assert caught.value.kind == FULL
    assert caught.value.message_vi.startswith("Ổ đĩa của máy này đã đầy")
    assert "database or disk is full" in caught.value.detail
    assert counts(ctx) == (0, 0)


def _motcua(data_dir: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MOTCUA_DATA_DIR=str(data_dir), MOTCUA_DB_URL=db_url,
               PYTHONIOENCODING="utf-8", MOTCUA_NO_KEYRING="1")
    return subprocess.run([sys.executable, "-m", "desktop_app.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, encoding="utf-8")


def test_sync_once_on_a_read_only_database_exits_6_without_a_traceback(
        tmp_path: Path, db_url: str) -> None:
    data = tmp_path / "data"
    ctx = open_context(data, db_url)
    StationService(ctx).save(TEST_STATION)
    try:
        if ctx.db.is_postgresql:
            name = ctx.db.url.database
            with ctx.db.engine.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET '
                                     "default_transaction_read_only = on")
                conn.commit()
            url = db_url
        else:
            # The file opened read-only, as SQLite does for a file it may not write.
            url = f"sqlite:///file:{ctx.db.sqlite_path}?mode=ro&uri=true"
        result = _motcua(data, url, "sync", "--once")
        assert result.returncode == 6, result.stderr
        assert "Traceback" not in result.stderr
        assert "chế độ chỉ đọc" in result.stderr
        assert "not writable (read_only)" in result.stderr  # the log line on stderr

    finally:
        if ctx.db.is_postgresql:
            with ctx.db.engine.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{ctx.db.url.database}" RESET '
                                     "default_transaction_read_only")
                conn.commit()
        ctx.close()


def test_the_doctor_calls_a_read_only_database_unhealthy_and_changes_nothing(
        ctx: AppContext) -> None:
    StationService(ctx).save(TEST_STATION)
    with ctx.db.read() as s:
        before = s.execute(sqlalchemy.text("SELECT key, value FROM sync_state")).all()
    with read_only(ctx):
        check = check_writable(ctx)
    assert check.status == FAIL and "CSDL đang ở chế độ chỉ đọc" in check.message_vi
    assert check.detail["write_probe"] == READ_ONLY and check.detail["query_only"] is True
    check = check_writable(ctx)
    assert check.status == OK and check.detail["write_probe"] == "ok"
    with ctx.db.read() as s:  # the probe's row was rolled back both times
        assert s.execute(sqlalchemy.text("SELECT key, value FROM sync_state")).all() == before
