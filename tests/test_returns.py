"""Return counter core: receipt scans, return, supplement, withdrawal, late list, apology."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.domain.dossier_status import IllegalTransition
from desktop_app.intake.returns import Receiver, ReturnError, ReturnService, code_from_scan
from desktop_app.intake.service import IntakeService
from desktop_app.station import StationInfo
from desktop_app.wedge_codes import is_receipt
from local_db.models import AuditEntry, Dossier, OutboxEntry, ResultHandover

from .test_intake import complete_draft, intake  # noqa: F401

CODE = "000.00.12.H12-231027-1001"


@pytest.mark.parametrize(("text", "code"), [
    (CODE, CODE),
    (f"  {CODE}\n", CODE),
    (f"https://dichvucong.thainguyen.gov.vn/tra-cuu?ma={CODE}", CODE),
    (f"https://x.gov.vn/a?b=1&ma={CODE}", CODE),
    ("001099012345|123456789|Nguyễn Văn An|01011990|Nam|Sơn La|15082021", None),
    ("000.00.12.H12-2310", None),
    ("", None),
])
def test_code_from_scan(text: str, code: str | None) -> None:
    assert code_from_scan(text) == code


def test_wedge_takes_a_whole_receipt_payload_only() -> None:
    assert not is_receipt(f"abc{CODE}")  # glued to other text: not a receipt's QR
    assert not is_receipt(f"xyz {CODE}")
    assert is_receipt(CODE) and is_receipt(CODE.lower())
    assert not is_receipt(f"{CODE} ghi chú")
    assert is_receipt(f"https://x.gov.vn/t?ma={CODE}")
    assert not is_receipt(f"https://x.gov.vn/t?ma={CODE} ghi chú")
    assert not is_receipt("https://x.gov.vn/t?ma=123")


def _set_status(ctx: AppContext, dossier_id: int, status: int) -> None:
    with ctx.db.write() as s:
        s.get(Dossier, dossier_id).status = status  # type: ignore[union-attr]


def test_return_only_when_ready_then_recorded_and_queued(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
        station: StationInfo) -> None:
    out = intake.receive(complete_draft(intake), clerk)
    service = ReturnService(ctx)
    view = service.find(out.code or "")
    assert view.code == out.code and not view.ready
    with pytest.raises(ReturnError, match="chưa có kết quả"):
        service.record_return(out.dossier_id, Receiver("Nguyễn Thị Ánh Tuyết"), clerk)
    _set_status(ctx, out.dossier_id, 9)
    with pytest.raises(ReturnError, match="người được ủy quyền"):
        service.record_return(out.dossier_id, Receiver("Lò Văn Ún", is_owner=False), clerk)
    with pytest.raises(ReturnError, match="địa chỉ"):
        service.record_return(out.dossier_id, Receiver("Nguyễn Thị Ánh Tuyết"), clerk,
                              method="post")
    done = service.record_return(out.dossier_id, Receiver("Lò Văn Ún", "019190009999",
                                                          False, "UQ số 3"), clerk,
                                 results=["Giấy xác nhận"])
    assert done.pdf.startswith(b"%PDF") and ctx.blobs.read_bytes(done.sha256) == done.pdf
    with ctx.db.read() as s:
        d = s.get(Dossier, out.dossier_id)
        assert d is not None and d.status == 10 and d.returned_to == "Lò Văn Ún"
        assert d.revision == 2
        kinds = [(e.entity_type, e.operation) for e in s.scalars(select(OutboxEntry)
                                                                 .order_by(OutboxEntry.id))]
        assert kinds[-2:] == [("dossier", "returned"), ("event", "returned")]
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "dossier_returned")
                          ).one()
        assert audit.detail["receiver"] == "Lò Văn Ún" and audit.detail["to"] == 10
        # How it went: paper at the counter, a fact beside the return record.
        assert [h.method for h in s.scalars(select(ResultHandover))] == ["paper"]
        assert audit.detail["handover"] == "paper"
    with pytest.raises(ReturnError):  # twice is refused; nothing changes
        service.record_return(out.dossier_id, Receiver("Lò Văn Ún", "019190009999"), clerk)


def test_a_result_sent_by_post_is_a_post_handover(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
        station: StationInfo) -> None:
    out = intake.receive(complete_draft(intake), clerk)
    service = ReturnService(ctx)
    _set_status(ctx, out.dossier_id, 9)
    with pytest.raises(ReturnError, match="trao kết quả không hợp lệ"):
        service.record_return(out.dossier_id, Receiver("Nguyễn Thị Ánh Tuyết"), clerk,
                              handover="fax")
    service.record_return(out.dossier_id, Receiver("Nguyễn Thị Ánh Tuyết"), clerk,
                          method="post", post_address="Bản Chang, xã Nà Phặc")
    with ctx.db.read() as s:
        assert [h.method for h in s.scalars(select(ResultHandover))] == ["post"]
        event = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "event")).one()
        assert event.payload["ChiTiet"]["handover"] == "post"


def test_supplement_restarts_the_clock(ctx: AppContext, intake: IntakeService,  # noqa: F811
                                       clerk: ClerkInfo, clock: FixedClock) -> None:
    out = intake.receive(complete_draft(intake), clerk)
    service = ReturnService(ctx)
    with pytest.raises(ReturnError, match="không có yêu cầu bổ sung"):
        service.receive_supplement(out.dossier_id, clerk)
    with pytest.raises(IllegalTransition):  # the state machine guards every action
        _set_status(ctx, out.dossier_id, 10)
        service.withdraw(out.dossier_id, "thử", clerk)
    _set_status(ctx, out.dossier_id, 2)
    _set_status(ctx, out.dossier_id, 5)
    clock.set(datetime(2023, 11, 6, 16, 0))  # Monday
    done = service.receive_supplement(out.dossier_id, clerk, "giấy xác nhận cư trú")
    # 5 working days from Monday 06/11/2023 16:00 → Monday 13/11/2023 16:00.
    assert done.appointment_at == datetime(2023, 11, 13, 16, 0)
    assert service.view(out.dossier_id).status == 2


def test_withdrawal_needs_a_reason_and_closes_the_dossier(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:  # noqa: F811
    out = intake.receive(complete_draft(intake), clerk)
    service = ReturnService(ctx)
    with pytest.raises(ReturnError, match="lý do"):
        service.withdraw(out.dossier_id, "  ", clerk)
    done = service.withdraw(out.dossier_id, "Công dân không còn nhu cầu", clerk)
    assert done.pdf.startswith(b"%PDF")
    assert service.view(out.dossier_id).status == 7
    assert service.late(horizon_days=365) == []  # closed dossiers are never late


def test_late_list_and_apology(ctx: AppContext, intake: IntakeService,  # noqa: F811
                               clerk: ClerkInfo, clock: FixedClock) -> None:
    first = intake.receive(complete_draft(intake), clerk)
    second = intake.receive(complete_draft(intake, code="9.000000"), clerk)
    service = ReturnService(ctx)
    due = service.view(first.dossier_id).appointment_at
    assert due is not None
    clock.set(due + timedelta(hours=1))
    rows = service.late(horizon_days=0)
    assert [r.code for r in rows] == [second.code, first.code]  # by appointment
    assert all(r.overdue for r in rows)
    with pytest.raises(ReturnError, match="sau thời điểm"):
        service.apologise(first.dossier_id, "Chờ xác minh", "Tư pháp", due, clerk)
    new = due + timedelta(days=3)
    done = service.apologise(first.dossier_id, "Chờ xác minh", "Tư pháp", new, clerk)
    assert done.appointment_at == new  # the date the letter gives
    # An apology does not make a late dossier on time: it stays on the late page, still
    # overdue, listed by the date the citizen now holds; the receipt's date is kept.
    rows = service.late(horizon_days=0)
    assert [(r.code, r.overdue) for r in rows] == [(second.code, True), (first.code, True)]
    assert (rows[1].appointment_at, rows[1].current_appointment_at) == (due, new)
    view = service.view(first.dossier_id)
    assert (view.appointment_at, view.current_appointment_at, view.late) == (due, new, True)


def test_timeline_tells_the_whole_story(ctx: AppContext, intake: IntakeService,  # noqa: F811
                                        clerk: ClerkInfo, clock: FixedClock) -> None:
    from desktop_app.dossiers import DossierQueries

    out = intake.receive(complete_draft(intake), clerk)
    now = ctx.clock.now()
    with ctx.db.write() as s:  # as the sync pull records a status change
        from local_db import repositories as repo

        repo.add_audit(s, now, None, "status_pulled", "dossier", out.dossier_uuid,
                       {"to": 9, "note": "Đã ký kết quả"})
    _set_status(ctx, out.dossier_id, 9)
    ReturnService(ctx).record_return(out.dossier_id, Receiver("Nguyễn Thị Ánh Tuyết"), clerk)
    lines = [h.what for h in DossierQueries(ctx).detail(out.dossier_id).history]
    assert lines[0].startswith("Tiếp nhận hồ sơ")
    assert "Tỉnh cập nhật trạng thái: Đã có kết quả — Đã ký kết quả" in lines
    assert "Trả kết quả cho Nguyễn Thị Ánh Tuyết, tại quầy" in lines
    assert any(line.startswith("Đồng bộ lên hệ thống một cửa tỉnh: chưa đồng bộ")
               for line in lines)


def test_look_up_filters(ctx: AppContext, intake: IntakeService,  # noqa: F811
                         clerk: ClerkInfo, clock: FixedClock) -> None:
    from desktop_app.accounts import AccountService, Role
    from desktop_app.dossiers import DossierQueries, SearchFilters
    from desktop_app.intake.drafts import PersonInfo

    other_clerk = AccountService(ctx).create_clerk("lan", "Hà Thị Lan", "mat-khau-3",
                                                   Role.CLERK)
    a = intake.receive(complete_draft(intake), clerk)
    clock.set(datetime(2023, 10, 30, 8, 0))
    b = intake.receive(complete_draft(intake, code="9.000000", owner=PersonInfo(
        full_name="Nguyễn Văn Ấn", id_number="019088004321")), other_clerk)
    q = DossierQueries(ctx)

    def codes(query: str = "", **kw: object) -> list[str]:
        return [r.code or "" for r in q.search(query, filters=SearchFilters(**kw))]

    assert codes() == [b.code, a.code]
    assert codes("nguyen", clerk_id=other_clerk.id) == [b.code]
    assert codes(procedure_code="9.000005") == [a.code]
    assert codes("nguyen", date_from=datetime(2023, 10, 30).date()) == [b.code]
    assert codes(date_to=datetime(2023, 10, 27).date()) == [a.code]
    assert codes(status=2) == [b.code, a.code] and codes(status=9) == []
    clock.set(datetime(2023, 11, 20, 8, 0))  # both appointments have passed
    assert codes(late=True) == [b.code, a.code]
    _set_status(ctx, a.dossier_id, 9)
    ReturnService(ctx).record_return(a.dossier_id, Receiver("Nguyễn Thị Ánh Tuyết"), clerk)
    assert codes("tuyet", late=True) == [a.code]  # returned after its appointment
    procs, clerks = q.filter_choices()
    assert [c for c, _ in procs] == ["9.000005", "9.000000"]  # "Cấp…" before "Chứng…"
    assert {name for _, name in clerks} >= {"Hà Thị Lan"}
