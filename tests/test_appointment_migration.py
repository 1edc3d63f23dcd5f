"""Migration 0013 on a station database where a supplement and an apology had already
overwritten the appointment: the receipt's date, the supplement's date and the apology's
date are recovered from the audit log and the outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from desktop_app.clock import FixedClock
from desktop_app.reports import ReportService
from desktop_app.startup import open_station
from local_db.models import AppointmentChange, Dossier

from .test_upgrades import CODE, VALUES, _neutral, build_old_database

pytestmark = pytest.mark.migrations

UUID = VALUES["dossiers"]["uuid"]
RECEIPT = datetime(2023, 11, 3, 9, 32)  # what build_old_database's dossier was given
SUPPLIED = datetime(2023, 11, 6, 8, 0)
AFTER_SUPPLEMENT = datetime(2023, 11, 13, 8, 0)
APOLOGISED = datetime(2023, 11, 14, 9, 0)
APOLOGY_DATE = datetime(2023, 11, 20, 17, 0)


def _insert(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> None:
    row = {c.name: _neutral(c) for c in table.columns
           if not c.nullable and c.server_default is None and c.name != "id"}
    row.update(values)
    conn.execute(table.insert().values(**row))


def _overwritten_history(db_url: str) -> None:
    """As the version before 0013 left a dossier that was supplemented, then apologised
    for: dossiers.appointment_at holds the apology's date and nothing else."""
    db = build_old_database(db_url, "0012")
    meta = sa.MetaData()
    meta.reflect(db.engine)
    audit, outbox = meta.tables["audit_log"], meta.tables["outbox"]

    def entry(at: datetime, action: str, detail: dict[str, Any]) -> dict[str, Any]:
        return {"at": at, "clerk_id": 1, "action": action, "entity_type": "dossier",
                "entity_id": UUID, "detail": detail}

    with db.engine.begin() as conn:
        _insert(conn, audit, entry(datetime(2023, 10, 27, 9, 32), "dossier_received",
                                   {"code": CODE, "appointment": RECEIPT.isoformat()}))
        # A status change from the province without a date: no appointment change.
        _insert(conn, audit, entry(datetime(2023, 10, 30, 8, 0), "status_pulled",
                                   {"from": 2, "to": 5, "new_appointment": ""}))
        _insert(conn, audit, entry(SUPPLIED, "dossier_supplement_received",
                                   {"note": "Bản sao giấy khai sinh", "from": 5, "to": 2}))
        _insert(conn, outbox, {"id": 2, "entity_type": "dossier", "entity_id": UUID,
                               "operation": "supplement_received", "state": "sent",
                               "created_at": SUPPLIED,
                               "payload": {"MaHoSo": CODE, "NgayHenTra": "20231113080000"}})
        _insert(conn, audit, entry(APOLOGISED, "dossier_apology",
                                   {"reason": "Chờ xác minh", "unit": "Tư pháp",
                                    "new_appointment": APOLOGY_DATE.isoformat()}))
        conn.execute(sa.text("UPDATE dossiers SET appointment_at = :d"), {"d": APOLOGY_DATE})
    db.dispose()


def _check_recovered(data: Path, db_url: str) -> None:
    ctx = open_station(data, db_url=db_url, sample_catalog=False,
                       clock=FixedClock(datetime(2023, 11, 15, 8, 0)))
    try:
        with ctx.db.read() as s:
            d = s.scalars(sa.select(Dossier)).one()
            assert (d.appointment_at, d.due_at, d.current_appointment_at) == (
                RECEIPT, AFTER_SUPPLEMENT, APOLOGY_DATE)
            changes = [(c.kind, c.old_at, c.new_at, c.restarts_clock, c.reason, c.clerk_id,
                        c.decided_by, c.decided_at)
                       for c in s.scalars(sa.select(AppointmentChange)
                                          .order_by(AppointmentChange.id))]
        assert changes == [
            ("supplement", RECEIPT, AFTER_SUPPLEMENT, True, "Bản sao giấy khai sinh", 1,
             "Triệu Thị Hương", SUPPLIED),
            ("apology", AFTER_SUPPLEMENT, APOLOGY_DATE, False, "Chờ xác minh", 1,
             "Triệu Thị Hương", APOLOGISED)]
        # The register now shows it late (past the supplement's legal date on 13/11).
        [row] = list(ReportService(ctx).tracking_book(date(2023, 10, 1), date(2023, 10, 31)))
        assert (row.appointment_at, row.late) == (RECEIPT, True)
        assert row.notes == ("Trễ hạn; Hẹn lại 13/11/2023 (nhận bổ sung 06/11/2023); "
                             "Hẹn lại 20/11/2023 (văn bản xin lỗi 14/11/2023)")
        assert ReportService(ctx).dashboard(date(2023, 10, 1), date(2023, 10, 31)
                                            ).late_open == 1
    finally:
        ctx.close()


def test_migration_recovers_overwritten_appointments_on_sqlite(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'motcua.sqlite3'}"
    _overwritten_history(url)
    _check_recovered(data, url)


def test_migration_recovers_overwritten_appointments_on_postgresql(tmp_path: Path,
                                                                   pg_url: str) -> None:
    _overwritten_history(pg_url)
    _check_recovered(tmp_path / "data", pg_url)


def test_migration_keeps_the_present_date_when_nothing_older_is_stored(
        tmp_path: Path) -> None:
    """No audit entry and no outbox document with a date: the only date there is stays,
    and no event is invented."""
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'motcua.sqlite3'}"
    build_old_database(url, "0012").dispose()
    ctx = open_station(data, db_url=url, sample_catalog=False)
    try:
        with ctx.db.read() as s:
            d = s.scalars(sa.select(Dossier)).one()
            assert (d.appointment_at, d.due_at, d.current_appointment_at) == (
                RECEIPT, RECEIPT, RECEIPT)
            assert s.scalar(sa.select(sa.func.count(AppointmentChange.id))) == 0
    finally:
        ctx.close()
