"""The receipt's appointment is never overwritten; each later change is an event row; a
late dossier stays late in the tracking book, the dashboard, the late page (F8), the
look-up filter and the sync document, whatever an apology promised since."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from desktop_app.accounts import ClerkInfo
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.documents.tracking_book import BookHeader, render_tracking_book_xlsx
from desktop_app.dossiers import DossierQueries, SearchFilters
from desktop_app.intake.returns import Receiver, ReturnService
from desktop_app.intake.service import IntakeService
from desktop_app.reports import ReportService
from desktop_app.sync.pull import Puller
from local_db.models import AppointmentChange, Dossier, OutboxEntry
from sync_contract import wire

from .test_intake import complete_draft, intake  # noqa: F401

RECEIVED = datetime(2026, 12, 2, 10, 0)  # Wednesday; 5 working days → 09/12 10:00
DUE = datetime(2026, 12, 9, 10, 0)
APOLOGY_AT = datetime(2026, 12, 10, 9, 0)
NEW_DATE = datetime(2026, 12, 15, 17, 0)
DECEMBER = (date(2026, 12, 1), date(2026, 12, 31))


def _dossier(ctx: AppContext, dossier_id: int) -> Dossier:
    with ctx.db.read() as s:
        d = s.get(Dossier, dossier_id)
        assert d is not None
        s.expunge(d)
        return d


def _changes(ctx: AppContext, dossier_id: int) -> list[tuple[object, ...]]:
    with ctx.db.read() as s:
        return [tuple(r) for r in s.execute(
            select(AppointmentChange.kind, AppointmentChange.old_at, AppointmentChange.new_at,
                   AppointmentChange.restarts_clock, AppointmentChange.reason,
                   AppointmentChange.clerk_id, AppointmentChange.decided_by,
                   AppointmentChange.decided_at)
            .where(AppointmentChange.dossier_id == dossier_id)
            .order_by(AppointmentChange.id))]


def _set_status(ctx: AppContext, dossier_id: int, status: int) -> None:
    with ctx.db.write() as s:
        s.get(Dossier, dossier_id).status = status  # type: ignore[union-attr]


def _late_codes(ctx: AppContext) -> list[str]:
    return [r.code or "" for r in DossierQueries(ctx).search("",
                                                             filters=SearchFilters(late=True))]


def test_apology_keeps_a_late_dossier_late_in_every_register(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
        clock: FixedClock) -> None:
    clock.set(RECEIVED)
    out = intake.receive(complete_draft(intake), clerk)
    assert out.appointment_at == DUE
    service = ReturnService(ctx)
    clock.set(APOLOGY_AT)  # the appointment passed yesterday
    service.apologise(out.dossier_id, "Chờ xác minh nơi cư trú", "Công chức Tư pháp",
                      NEW_DATE, clerk)
    clock.set(datetime(2026, 12, 12, 9, 0))  # before the apology's date, after the legal one

    reports = ReportService(ctx)
    [row] = list(reports.tracking_book(*DECEMBER))
    assert (row.appointment_at, row.current_appointment_at, row.late) == (DUE, NEW_DATE, True)
    assert row.notes == "Trễ hạn; Hẹn lại 15/12/2026 (văn bản xin lỗi 10/12/2026)"
    figures = reports.dashboard(*DECEMBER)
    assert figures.late_open == 1
    assert [(p.code, p.late) for p in figures.late_by_procedure] == [("9.000005", 1)]
    [late] = service.late(horizon_days=0)  # F8
    assert (late.code, late.overdue, late.appointment_at, late.current_appointment_at) == (
        out.code, True, DUE, NEW_DATE)
    assert service.view(out.dossier_id).late
    assert _late_codes(ctx) == [out.code]
    shown = DossierQueries(ctx).detail(out.dossier_id).row  # the dossier page (F3)
    assert (shown.appointment_at, shown.current_appointment_at) == (DUE, NEW_DATE)

    # Returned on 14/12: before the apology's date, still after the legal appointment.
    _set_status(ctx, out.dossier_id, 9)
    clock.set(datetime(2026, 12, 14, 10, 0))
    service.record_return(out.dossier_id, Receiver("Nguyễn Thị Ánh Tuyết"), clerk)
    [row] = list(reports.tracking_book(*DECEMBER))
    assert row.late and row.notes.startswith("Trễ hạn; Hẹn lại 15/12/2026")
    figures = reports.dashboard(*DECEMBER)
    assert (figures.returned, figures.returned_on_time, figures.late_open) == (1, 0, 0)
    assert _late_codes(ctx) == [out.code]

    # The printed book: the receipt's date in "Ngày hẹn trả", the new one in the note.
    buf = io.BytesIO()
    render_tracking_book_xlsx(iter([row]), BookHeader("UBND XÃ NÀ PHẶC", "", *DECEMBER), buf)
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    assert ws["H7"].value == DUE
    assert ws["M7"].value == "Trễ hạn; Hẹn lại 15/12/2026 (văn bản xin lỗi 10/12/2026)"


def test_apologising_twice_keeps_both_events_and_the_receipt_date(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
        clock: FixedClock) -> None:
    clock.set(RECEIVED)
    out = intake.receive(complete_draft(intake), clerk)
    service = ReturnService(ctx)
    clock.set(APOLOGY_AT)
    service.apologise(out.dossier_id, "Chờ xác minh", "Tư pháp", NEW_DATE, clerk)
    clock.set(datetime(2026, 12, 16, 8, 0))
    later = datetime(2026, 12, 18, 17, 0)
    done = service.apologise(out.dossier_id, "Chờ ý kiến huyện", "Tư pháp", later, clerk)
    assert done.appointment_at == later

    assert _changes(ctx, out.dossier_id) == [
        ("apology", DUE, NEW_DATE, False, "Chờ xác minh", clerk.id, clerk.full_name,
         APOLOGY_AT),
        ("apology", NEW_DATE, later, False, "Chờ ý kiến huyện", clerk.id, clerk.full_name,
         datetime(2026, 12, 16, 8, 0)),
    ]
    d = _dossier(ctx, out.dossier_id)
    assert (d.appointment_at, d.due_at, d.current_appointment_at) == (DUE, DUE, later)
    [row] = list(ReportService(ctx).tracking_book(*DECEMBER))
    assert row.notes == ("Trễ hạn; Hẹn lại 15/12/2026 (văn bản xin lỗi 10/12/2026); "
                         "Hẹn lại 18/12/2026 (văn bản xin lỗi 16/12/2026)")

    # The province gets the date last given (as before) and, added, the whole history.
    with ctx.db.read() as s:
        doc = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "dossier")
                        .order_by(OutboxEntry.id.desc())).first()
        assert doc is not None
        payload = doc.payload
    assert (payload["NgayHenTra"], payload["NgayHenTraBanDau"], payload["HanGiaiQuyet"]) == (
        "20261218170000", "20261209100000", "20261209100000")
    assert [(c["Loai"], c["NgayHenTraTruoc"], c["NgayHenTraMoi"])
            for c in payload["DanhSachHenLai"]] == [
        ("apology", "20261209100000", "20261215170000"),
        ("apology", "20261215170000", "20261218170000")]

    # Nothing updates or deletes the events, not even SQL typed by hand.
    for statement in ("UPDATE appointment_changes SET new_at = old_at",
                      "DELETE FROM appointment_changes"):
        with pytest.raises(DBAPIError, match="append-only"), ctx.db.write() as s:
            s.execute(text(statement))
    assert len(_changes(ctx, out.dossier_id)) == 2


def test_supplement_restarts_the_deadline_and_keeps_the_earlier_date(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
        clock: FixedClock) -> None:
    clock.set(RECEIVED)
    out = intake.receive(complete_draft(intake), clerk)
    _set_status(ctx, out.dossier_id, 5)  # the processing agency asked for a supplement
    supplied = datetime(2026, 12, 8, 9, 0)
    clock.set(supplied)
    done = ReturnService(ctx).receive_supplement(out.dossier_id, clerk, "Bản sao sổ hộ khẩu")
    new_due = datetime(2026, 12, 15, 9, 0)  # 5 working days from the complete dossier
    assert done.appointment_at == new_due
    assert _changes(ctx, out.dossier_id) == [
        ("supplement", DUE, new_due, True, "Bản sao sổ hộ khẩu", clerk.id, clerk.full_name,
         supplied)]
    d = _dossier(ctx, out.dossier_id)
    assert (d.appointment_at, d.due_at, d.current_appointment_at) == (DUE, new_due, new_due)

    # On 10/12 the receipt's first date has passed, but the clock restarted: not late.
    clock.set(datetime(2026, 12, 10, 9, 0))
    [row] = list(ReportService(ctx).tracking_book(*DECEMBER))
    assert (row.appointment_at, row.current_appointment_at, row.late) == (DUE, new_due, False)
    assert row.notes == "Hẹn lại 15/12/2026 (nhận bổ sung 08/12/2026)"
    assert ReportService(ctx).dashboard(*DECEMBER).late_open == 0
    [soon] = ReturnService(ctx).late(horizon_days=7)
    assert not soon.overdue
    # Past the new legal date, it is late like any other.
    clock.set(datetime(2026, 12, 15, 10, 0))
    assert ReportService(ctx).dashboard(*DECEMBER).late_open == 1
    assert [r.overdue for r in ReturnService(ctx).late(horizon_days=0)] == [True]


def test_dates_pulled_from_the_province_are_events_too(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
        clock: FixedClock) -> None:
    """A new date after the supplement the province asked for restarts the clock; any other
    (an extension) is recorded and leaves the legal deadline."""
    clock.set(RECEIVED)
    out = intake.receive(complete_draft(intake), clerk)
    uuid, code = out.dossier_uuid, out.code or ""

    def pulled(seq: int, status: int, at: str, new: str) -> None:
        with ctx.db.write() as s:
            Puller._apply(s, wire.Change(seq=seq, ClientId=uuid, MaHoSo=code,
                                         TrangThaiHoSo=status, ThoiDiem=at,
                                         NoiDungXuLy="Gia hạn", NguoiXuLy="Lò Văn Sơn",
                                         NgayHenTraMoi=new), clock.now())

    pulled(1, 4, "20261207080000", "20261211170000")
    pulled(2, 4, "20261207090000", "20261211170000")  # the same date again: no event
    d = _dossier(ctx, out.dossier_id)
    assert (d.appointment_at, d.due_at, d.current_appointment_at) == (
        DUE, DUE, datetime(2026, 12, 11, 17, 0))
    pulled(3, 5, "20261208080000", "")
    pulled(4, 4, "20261209080000", "20261216170000")
    assert [(k, old, new, restarts, by) for k, old, new, restarts, _, _, by, _ in
            _changes(ctx, out.dossier_id)] == [
        ("province", DUE, datetime(2026, 12, 11, 17, 0), False, "Lò Văn Sơn"),
        ("supplement", datetime(2026, 12, 11, 17, 0), datetime(2026, 12, 16, 17, 0), True,
         "Lò Văn Sơn")]
    d = _dossier(ctx, out.dossier_id)
    assert (d.appointment_at, d.due_at) == (DUE, datetime(2026, 12, 16, 17, 0))


def test_no_code_path_can_change_the_receipt_appointment(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
        clock: FixedClock) -> None:
    clock.set(RECEIVED)
    out = intake.receive(complete_draft(intake), clerk)
    with pytest.raises(ValueError, match="never changed"), ctx.db.write() as s:
        d = s.get(Dossier, out.dossier_id)
        assert d is not None
        d.appointment_at = NEW_DATE
    assert _dossier(ctx, out.dossier_id).appointment_at == DUE
