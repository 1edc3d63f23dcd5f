"""The audit log as hash chains, on the real database (SQLite, and PostgreSQL under
MOTCUA_TEST_DB=postgresql): untampered chains verify; with the append-only triggers
dropped, a row deleted, back-dated or edited, and the triggers put back, the verifier and
`motcua doctor` name the first broken link; concurrent appends keep one valid chain;
migration 0018 chains the entries it finds."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text

from desktop_app.accounts import ClerkInfo
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.intake.service import IntakeService
from desktop_app.setup.doctor import run_doctor
from desktop_app.setup.doctor_report import FAIL, OK
from local_db import audit_chain
from local_db import repositories as repo
from local_db.audit_chain import LEGACY_CHAIN, ZERO_HASH
from local_db.engine import Database
from local_db.migrate import upgrade
from local_db.models import AuditEntry
from tests.conftest import ON_POSTGRESQL

from .test_intake import OWNER, complete_draft, intake  # noqa: F401


def write_entries(db: Database, n: int, start: datetime) -> None:
    for i in range(n):
        with db.write() as s:
            repo.add_audit(s, start + timedelta(minutes=i), None, "catalog_imported",
                           "catalog", f"v{i}", {"procedures": i, "ratio": i / 3})


def chain_rows(db: Database) -> list[tuple[int, int]]:
    """(id, seq) of this PC's chain, in order."""
    with db.read() as s:
        return [(r.id, r.seq) for r in s.execute(
            select(AuditEntry.id, AuditEntry.seq).where(AuditEntry.chain == db.audit_chain)
            .order_by(AuditEntry.seq))]


def tamper(db: Database, sql: str, params: dict[str, object]) -> None:
    """What someone with the database password can do: drop the append-only triggers,
    change the log, put the triggers back."""
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        conn.execute(text(sql), params)
        if db.is_sqlite:
            for verb in ("UPDATE", "DELETE"):
                conn.execute(text(
                    f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"))
        else:
            conn.execute(text("CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON "
                              "audit_log FOR EACH ROW EXECUTE FUNCTION "
                              "audit_log_append_only()"))


def test_untampered_chain_verifies(ctx: AppContext, intake: IntakeService,  # noqa: F811
                                   clerk: ClerkInfo, clock: FixedClock) -> None:
    intake.receive(complete_draft(intake), clerk)
    write_entries(ctx.db, 5, clock.now())
    rows = chain_rows(ctx.db)
    assert ctx.db.audit_chain == ctx.paths.install_id()
    assert [seq for _, seq in rows] == list(range(1, len(rows) + 1)) and len(rows) >= 7
    with ctx.db.read() as s:
        first = s.scalars(select(AuditEntry).where(AuditEntry.seq == 1)).one()
        assert first.prev_hash == ZERO_HASH  # no entries from before chaining here
        [report] = audit_chain.verify_all(s, batch=3)  # several batches
    assert report.broken is None and report.entries == len(rows)
    assert report.head is not None and report.head.seq == len(rows)
    check = run_doctor(ctx.paths.root, str(ctx.db.url), probe_deadline_s=0.5,
                       device_deadline_s=0.5).check("audit_chain")
    assert check.status == OK, check.message_vi
    assert f"{len(rows)} mục trong 1 chuỗi" in check.message_vi


@pytest.mark.parametrize("how", ["delete", "backdate", "edit"])
def test_tampering_is_found_at_the_first_broken_link(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
        clock: FixedClock, how: str, caplog: pytest.LogCaptureFixture) -> None:
    received = intake.receive(complete_draft(intake), clerk)
    write_entries(ctx.db, 6, clock.now())
    rows = chain_rows(ctx.db)
    target_id, target_seq = rows[3]
    if how == "delete":
        tamper(ctx.db, "DELETE FROM audit_log WHERE id = :id", {"id": target_id})
        # The next entry is where the sequence jumps.
        kind, at_id, at_seq = "gap", rows[4][0], rows[4][1]
    elif how == "backdate":
        sql = ("UPDATE audit_log SET at = datetime(at, '-1 day') WHERE id = :id"
               if ctx.db.is_sqlite else
               "UPDATE audit_log SET at = at - interval '1 day' WHERE id = :id")
        tamper(ctx.db, sql, {"id": target_id})
        kind, at_id, at_seq = "hash", target_id, target_seq
    else:
        sql = ("UPDATE audit_log SET detail = :d WHERE id = :id" if ctx.db.is_sqlite else
               "UPDATE audit_log SET detail = CAST(:d AS json) WHERE id = :id")
        tamper(ctx.db, sql, {"id": target_id, "d": '{"procedures": 99, "ratio": 0}'})
        kind, at_id, at_seq = "hash", target_id, target_seq
    with ctx.db.read() as s:
        [report] = audit_chain.verify_all(s, batch=2)
    assert report.broken is not None
    assert (report.broken.kind, report.broken.entry_id, report.broken.seq) == (
        kind, at_id, at_seq)
    assert report.head is not None and report.head.seq == target_seq - 1  # last good

    caplog.set_level(logging.ERROR)
    caplog.clear()  # the intake's own log lines name the dossier: only the doctor's here
    check = run_doctor(ctx.paths.root, str(ctx.db.url), probe_deadline_s=0.5,
                       device_deadline_s=0.5).check("audit_chain")
    assert check.status == FAIL
    assert f"số thứ tự {at_seq} (mã mục {at_id})" in check.message_vi
    assert "đã bị can thiệp" in check.message_vi
    line = f"broken at entry id={at_id} seq={at_seq}: {kind}"
    assert any(line in r.getMessage() for r in caplog.records), caplog.text
    # Ids, sequence numbers and hashes only: no citizen's data, no dossier code.
    everything = check.message_vi + str(check.detail) + caplog.text
    assert OWNER.full_name not in everything and OWNER.id_number not in everything
    assert received.code not in everything


def test_the_triggers_still_refuse_changes(ctx: AppContext, clock: FixedClock) -> None:
    write_entries(ctx.db, 2, clock.now())
    with pytest.raises(sa.exc.DatabaseError), ctx.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))


def test_concurrent_appends_keep_one_valid_chain(ctx: AppContext, clock: FixedClock) -> None:
    """Two connections (as two processes of one PC would: the window and the sync
    service) appending to the same chain at once."""
    url = ctx.db.url.render_as_string(hide_password=False)
    dbs = [Database(url, sqlite_key=ctx.db.sqlite_key) for _ in range(2)]
    for db in dbs:
        db.audit_chain = ctx.db.audit_chain
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(db: Database, n: int) -> None:
        try:
            start.wait()
            for i in range(25):
                with db.write() as s:
                    repo.add_audit(s, clock.current, None, "login", "clerk", f"{n}-{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(db, n)) for n, db in enumerate(dbs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for db in dbs:
        db.dispose()
    assert errors == []
    with ctx.db.read() as s:
        report = audit_chain.verify_chain(s, ctx.db.audit_chain)
    assert report.broken is None and report.entries >= 50


def test_migration_chains_the_entries_it_finds(tmp_path: Path,
                                               request: pytest.FixtureRequest) -> None:
    url = (str(request.getfixturevalue("pg_url")) if ON_POSTGRESQL
           else f"sqlite:///{tmp_path / 'old.sqlite3'}")
    db = Database(url)
    try:
        upgrade(db, to="0017")
        with db.engine.begin() as conn:
            for i in range(7):
                conn.execute(text(
                    "INSERT INTO audit_log (at, clerk_id, action, entity_type, entity_id, "
                    "detail) VALUES (:at, NULL, 'login', 'clerk', :e, :d)"),
                    {"at": datetime(2026, 11, 1, 8, i), "e": str(i), "d": f'{{"n": {i}}}'})
        upgrade(db)
        db.audit_chain = "0b5e7c1e-0000-4000-8000-000000000001"
        write_entries(db, 2, datetime(2026, 12, 7, 8, 0))
        with db.read() as s:
            legacy, mine = (audit_chain.verify_chain(s, LEGACY_CHAIN),
                            audit_chain.verify_chain(s, db.audit_chain))
            first_prev = s.scalar(select(AuditEntry.prev_hash).where(
                AuditEntry.chain == db.audit_chain, AuditEntry.seq == 1))
        assert legacy.broken is None and legacy.entries == 7
        assert mine.broken is None and mine.entries == 2
        assert legacy.head is not None and first_prev == legacy.head.hash
        # Cutting the end of the old log shows at the start of every newer chain.
        with db.read() as s:
            last_id = s.scalar(select(sa.func.max(AuditEntry.id))
                               .where(AuditEntry.chain == LEGACY_CHAIN))
        tamper(db, "DELETE FROM audit_log WHERE id = :id", {"id": last_id})
        with db.read() as s:
            reports = {r.chain: r for r in audit_chain.verify_all(s)}
        assert reports[LEGACY_CHAIN].broken is None  # a cut end alone is not visible
        broken = reports[db.audit_chain].broken
        assert broken is not None and (broken.kind, broken.seq) == ("anchor", 1)
    finally:
        db.dispose()
