"""The return counter: hand over results, receive supplements, withdrawals, late dossiers.

Like intake, each action is one transaction: the dossier's new state, its next revision
for the province (outbox), a lifecycle event (outbox), the printed document (blob) and
the audit entry commit together or not at all."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, object_session

from desktop_app.accounts import ClerkInfo
from desktop_app.appointments import ChangeKind, change_appointment
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.documents import letters
from desktop_app.documents.letters import ResultDocument
from desktop_app.documents.slip_parts import AgencyHeader, FeeLine
from desktop_app.documents.slips import ComponentLine, ReceiptData, render_receipt
from desktop_app.documents.watermark import mark_document
from desktop_app.domain.calendar import TimeUnit, compute_appointment
from desktop_app.domain.dossier_status import DossierStatus, check_transition
from desktop_app.domain.errors import DomainError
from desktop_app.domain.fees import PaymentEntry
from desktop_app.domain.text import nfc
from desktop_app.fees import (
    FeeError,
    FeeStatement,
    add_payment,
    checked_payment,
    payment_detail,
    statement_of,
)
from desktop_app.intake.result_documents import (
    ELECTRONIC,
    PAPER,
    POST,
    ResultDocView,
    add_handover,
    documents_of,
)
from desktop_app.intake.service import CounterBusy, fees_paid, receipt_qr_payload
from desktop_app.signers import Signature, SignedKind, signature_in, take_number
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.national import dossier_document, national_time
from local_db import repositories as repo
from local_db.engine import is_lock_timeout
from local_db.models import Dossier
from local_db.report_queries import late_condition

log = logging.getLogger(__name__)

# A dossier code as printed: {agency}-{yyMMdd}-{digit}{NNN}.
CODE_RE = re.compile(r"\b(\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4,})\b")
CLOSED = (DossierStatus.NOT_ACCEPTED, DossierStatus.WITHDRAWN, DossierStatus.RETURNED)


class ReturnError(DomainError):
    pass


def code_from_scan(text: str) -> str | None:
    """The dossier code in what a scanner typed: the bare code, or the province's
    tracking URL with ``?ma=…`` (DOMAIN.md: the receipt's QR)."""
    text = nfc(text).strip()
    if not text:
        return None
    if "://" in text:
        query = parse_qs(urlparse(text).query)
        for key in ("ma", "mahoso", "code"):
            if query.get(key):
                text = query[key][0]
                break
    found = CODE_RE.search(text.upper())
    return found.group(1) if found else None


@dataclass(frozen=True)
class Receiver:
    """Who takes the result: the owner, or someone with an authorisation."""

    full_name: str
    id_number: str = ""
    is_owner: bool = True
    authorisation: str = ""  # e.g. "Giấy ủy quyền số 12/UQ ngày 01/11/2026"

    def checked(self) -> Receiver:
        name = nfc(self.full_name)
        problems = []
        if not name:
            problems.append("họ tên người nhận kết quả")
        ident = re.sub(r"\s", "", self.id_number)
        if ident and not re.fullmatch(r"\d{9}|\d{12}", ident):
            problems.append("số định danh (12 chữ số) hoặc CMND (9 chữ số) của người nhận")
        if not self.is_owner and not ident:
            problems.append("số định danh của người được ủy quyền")
        if problems:
            raise ReturnError("Vui lòng nhập đúng: " + "; ".join(problems) + ".",
                              f"bad receiver: {problems}")
        return Receiver(name, ident, self.is_owner, nfc(self.authorisation))


@dataclass(frozen=True)
class ReturnView:
    """What the clerk sees after scanning the receipt."""

    dossier_id: int
    code: str
    owner_name: str
    owner_id_number: str
    procedure_name: str
    status: DossierStatus
    received_at: datetime
    appointment_at: datetime | None  # printed on the receipt at intake
    current_appointment_at: datetime | None  # the date the citizen was last given
    late: bool  # past the legal deadline (an apology does not change it)
    remote_note: str
    fee_total: int
    delivery: str
    delivery_address: str
    returned_at: datetime | None
    returned_to: str
    fees: FeeStatement
    result_name: str = ""  # what the catalog says the procedure results in
    # The province's result documents pulled for this dossier (DanhSachGiayToKetQua).
    result_documents: tuple[ResultDocView, ...] = ()

    @property
    def ready(self) -> bool:
        return self.status in (DossierStatus.RESULT_READY, DossierStatus.STOPPED)

    @property
    def state_vi(self) -> str:
        if self.status is DossierStatus.RETURNED:
            when = self.returned_at.strftime("%H:%M %d/%m/%Y") if self.returned_at else ""
            return f"Đã trả kết quả cho {self.returned_to} lúc {when}."
        if self.status is DossierStatus.RESULT_READY:
            return "Đã có kết quả: có thể trả cho công dân."
        if self.status is DossierStatus.STOPPED:
            return "Hồ sơ đã dừng giải quyết: trả lại hồ sơ và thông báo cho công dân."
        if self.status is DossierStatus.SUPPLEMENT_REQUESTED:
            return "Cơ quan giải quyết yêu cầu bổ sung hồ sơ: nhận thành phần bổ sung."
        if self.status is DossierStatus.OBLIGATION_REQUESTED:
            return "Công dân cần thực hiện nghĩa vụ tài chính trước khi nhận kết quả."
        return f"Chưa có kết quả ({self.status.label_vi})."


@dataclass(frozen=True)
class ActionOutcome:
    dossier_id: int
    code: str
    pdf: bytes
    sha256: str
    title: str
    appointment_at: datetime | None = None


@dataclass(frozen=True)
class LateRow:
    dossier_id: int
    code: str
    owner_name: str
    procedure_code: str
    procedure_name: str
    received_at: datetime
    appointment_at: datetime  # printed on the receipt at intake
    current_appointment_at: datetime  # the date the citizen was last given
    status: DossierStatus
    overdue: bool  # late by the legal deadline (else: due within the horizon)


def _is_late(s: Session, d: Dossier, now: datetime) -> bool:
    """The reports' rule (report_queries.late_condition), asked of one dossier."""
    return bool(s.scalar(select(late_condition(now)).where(Dossier.id == d.id)))


def _view(s: Session, d: Dossier, now: datetime) -> ReturnView:
    status = DossierStatus(d.status)
    late = status not in CLOSED and _is_late(s, d, now)
    return ReturnView(d.id, d.code or "", d.owner.full_name, d.owner.id_number,
                      d.procedure_name, status, d.received_at, d.appointment_at,
                      d.current_appointment_at, late,
                      d.remote_note, d.fee_total, d.delivery, d.delivery_address,
                      d.returned_at, d.returned_to, statement_of(d),
                      proc.result if (proc := repo.procedure(s, d.procedure_code)) else "",
                      documents_of(s, d.id))


class ReturnService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    # --- look-up -----------------------------------------------------------------------

    def find(self, scanned: str) -> ReturnView:
        code = code_from_scan(scanned)
        if code is None:
            raise ReturnError("Mã vừa quét không phải mã hồ sơ trên giấy tiếp nhận.",
                              f"not a dossier code: {scanned[:80]!r}")
        with self.ctx.db.read() as s:
            d = repo.dossier_by_code(s, code)
            if d is None:
                raise ReturnError(f"Không tìm thấy hồ sơ {code} trên máy này.",
                                  f"unknown dossier {code}")
            return _view(s, d, self.ctx.clock.now())

    def view(self, dossier_id: int) -> ReturnView:
        with self.ctx.db.read() as s:
            return _view(s, self._dossier(s, dossier_id), self.ctx.clock.now())

    @staticmethod
    def _dossier(s: Session, dossier_id: int, lock: bool = False) -> Dossier:
        d = repo.dossier_by_id(s, dossier_id, for_update=lock)
        if d is None or not d.code:
            raise ReturnError("Không tìm thấy hồ sơ.", f"dossier {dossier_id} missing")
        return d

    def late(self, horizon_days: int = 2, limit: int = 2000) -> list[LateRow]:
        """Open dossiers that are late (past the legal deadline, whatever date an apology
        gave since) or whose current appointment falls within the horizon."""
        now = self.ctx.clock.now()
        until = now + timedelta(days=horizon_days)
        open_states = [s.value for s in DossierStatus if s not in CLOSED
                       and s is not DossierStatus.NEW]
        late = late_condition(now)
        with self.ctx.db.read() as s:
            rows = s.execute(
                select(Dossier, late).where(Dossier.code.is_not(None),
                                            Dossier.current_appointment_at.is_not(None),
                                            or_(late, Dossier.current_appointment_at < until),
                                            Dossier.status.in_(open_states))
                .order_by(Dossier.current_appointment_at).limit(limit)).all()
            return [LateRow(d.id, d.code or "", d.owner.full_name, d.procedure_code,
                            d.procedure_name, d.received_at, d.appointment_at,  # type: ignore[arg-type]
                            d.current_appointment_at,  # type: ignore[arg-type]
                            DossierStatus(d.status), bool(overdue))
                    for d, overdue in rows]

    # --- the common write path ---------------------------------------------------------

    def _act(self, dossier_id: int, clerk: ClerkInfo, event: str, title: str,
             change: Callable[[Session, Dossier, StationInfo, datetime], bytes],
             detail: dict[str, object], new_status: DossierStatus | None = None,
             late_detail: dict[str, object] | None = None) -> ActionOutcome:
        """``late_detail``: filled by ``change`` while it runs (e.g. the payment's row)."""
        station = StationService(self.ctx).require()
        now = self.ctx.clock.now()
        try:
            return self._act_in(dossier_id, clerk, event, title, change, detail, station,
                                now, new_status, late_detail)
        except OperationalError as exc:
            if not is_lock_timeout(exc):
                raise
            log.warning("%s on dossier id %s gave up waiting for a database lock held by "
                        "another counter; nothing was stored", event, dossier_id)
            raise CounterBusy("hãy bấm lại") from exc

    def _act_in(self, dossier_id: int, clerk: ClerkInfo, event: str, title: str,
                change: Callable[[Session, Dossier, StationInfo, datetime], bytes],
                detail: dict[str, object], station: StationInfo, now: datetime,
                new_status: DossierStatus | None,
                late_detail: dict[str, object] | None) -> ActionOutcome:
        with self.ctx.db.write() as s:
            d = self._dossier(s, dossier_id, lock=True)
            old = DossierStatus(d.status)
            # checks its own preconditions first
            pdf = mark_document(self.ctx, change(s, d, station, now))
            if new_status is not None and new_status is not old:
                check_transition(old, new_status)
            if new_status is not None:
                d.status = new_status
            d.revision = (d.revision or 1) + 1
            d.updated_at = now
            sha = self.ctx.blobs.put_bytes(pdf)
            repo.ensure_blob(s, sha, len(pdf), "application/pdf", now)
            s.flush()
            detail = {**detail, **(late_detail or {})}
            repo.add_outbox(s, "dossier", d.uuid, event,
                            dossier_document(d, station.agency_code), now)
            event_id = str(uuid.uuid4())
            repo.add_outbox(s, "event", event_id, event, {
                "EventId": event_id, "ClientId": d.uuid, "MaHoSo": d.code, "Loai": event,
                "ThoiDiem": national_time(now), "NguoiXuLy": clerk.full_name[:50],
                "NoiDung": title, "TrangThaiHoSo": int(d.status),
                "ChiTiet": {**detail, "document_sha256": sha}}, now)
            repo.add_audit(s, now, clerk.id, f"dossier_{event}", "dossier", d.uuid,
                           {**detail, "document_sha256": sha, "from": int(old),
                            "to": int(d.status)})
            outcome = ActionOutcome(d.id, d.code or "", pdf, sha, title,
                                    d.current_appointment_at)
        log.info("dossier %s: %s by clerk %s", outcome.code, event, clerk.id)
        return outcome

    # --- actions -----------------------------------------------------------------------

    def record_return(self, dossier_id: int, receiver: Receiver, clerk: ClerkInfo,
                      method: str = "counter", post_address: str = "",
                      results: Sequence[str | ResultDocument] | None = None,
                      payment: PaymentEntry | None = None,
                      handover: str = "") -> ActionOutcome:
        """Hand the result over: who took it, how, which documents in how many copies
        (as counted at the counter; a bare name leaves the count blank on the form), and
        the fee collected now if any (recorded in the same transaction). ``handover``: how
        the result itself went (paper at the counter, the default, or an electronic copy;
        ``post`` follows from the method), added as a ``result_handovers`` fact and carried
        in the event's ChiTiet."""
        receiver = receiver.checked()
        if method not in ("counter", "post"):
            raise ReturnError("Hình thức trả kết quả không hợp lệ.", f"method {method!r}")
        if handover not in ("", PAPER, ELECTRONIC):
            raise ReturnError("Hình thức trao kết quả không hợp lệ.", f"handover {handover!r}")
        if method == "post" and not nfc(post_address):
            raise ReturnError("Vui lòng nhập địa chỉ gửi kết quả qua bưu chính.",
                              "post without address")
        handover = POST if method == "post" else (handover or PAPER)
        documents = [_result(r) for r in (results or [])]
        documents = [r for r in documents if r.name]
        for r in documents:
            if r.copies is not None and not 0 <= r.copies <= 99:
                raise ReturnError(f"Số bản của “{r.name}” phải từ 0 đến 99.",
                                  f"result copies {r.copies}")
        paid_detail: dict[str, object] = {}

        def change(s: Session, d: Dossier, station: StationInfo, now: datetime) -> bytes:
            if DossierStatus(d.status) not in (DossierStatus.RESULT_READY,
                                               DossierStatus.STOPPED):
                raise ReturnError(
                    f"Hồ sơ {d.code} chưa có kết quả ({DossierStatus(d.status).label_vi}); "
                    "chưa thể trả.", f"return refused in status {d.status}")
            d.returned_at = now
            d.returned_to = receiver.full_name
            d.returned_to_id = receiver.id_number
            d.return_method = method
            d.returned_by_id = clerk.id
            add_handover(s, d, handover, clerk, now)
            if method == "post":
                d.delivery_address = nfc(post_address)
            if payment is not None:
                before = statement_of(d)
                if before.settled and before.live:
                    raise FeeError(f"Hồ sơ {d.code} đã thu đủ phí, lệ phí.",
                                   "payment at return on a settled dossier")
                row = add_payment(d, checked_payment(payment, before.outstanding,
                                                     receiver.full_name),
                                  "return", clerk, now)
                s.flush()
                paid_detail["payment"] = payment_detail(row)
            return render_return(d, station, clerk, receiver, method, documents, now)

        return self._act(dossier_id, clerk, "returned", "Trả kết quả giải quyết hồ sơ",
                         change, {"receiver": receiver.full_name, "owner": receiver.is_owner,
                                  "method": method, "handover": handover,
                                  "results": [{"name": r.name, "copies": r.copies,
                                               "reference": r.reference}
                                              for r in documents]},
                         DossierStatus.RETURNED, paid_detail)

    def receive_supplement(self, dossier_id: int, clerk: ClerkInfo,
                           note: str = "") -> ActionOutcome:
        """The citizen brought what was missing: the clock starts again from now and a
        new receipt with the new appointment is printed (DOMAIN.md)."""

        def change(s: Session, d: Dossier, station: StationInfo, now: datetime) -> bytes:
            if d.status != DossierStatus.SUPPLEMENT_REQUESTED:
                raise ReturnError(f"Hồ sơ {d.code} không có yêu cầu bổ sung.",
                                  f"supplement received in status {d.status}")
            previous = d.current_appointment_at
            new = compute_appointment(now, d.time_limit_amount,
                                      TimeUnit(d.time_limit_unit), self.ctx.calendar)
            # The time limit counts again from the complete dossier (DOMAIN.md): the
            # new date is the legal deadline from now on; the old one stays recorded.
            change_appointment(d, ChangeKind.SUPPLEMENT, new, now, nfc(note), clerk.id,
                               clerk.full_name)
            d.note = nfc(f"{d.note}\nBổ sung ngày {now:%d/%m/%Y}: {note}".strip())
            log.info("dossier %s supplemented: appointment %s -> %s", d.code, previous,
                     new)
            return render_receipt_again(self.ctx, d, station, clerk)

        return self._act(dossier_id, clerk, "supplement_received",
                         "Tiếp nhận hồ sơ bổ sung, hẹn lại ngày trả kết quả", change,
                         {"note": nfc(note)}, DossierStatus.RECEIVED)

    def withdraw(self, dossier_id: int, reason: str, clerk: ClerkInfo) -> ActionOutcome:
        reason = nfc(reason)
        if not reason:
            raise ReturnError("Vui lòng ghi lý do công dân rút hồ sơ.", "withdraw no reason")

        def change(s: Session, d: Dossier, station: StationInfo, now: datetime) -> bytes:
            d.reason = reason
            return render_stop(d, station, clerk, reason, withdrawn=True, now=now)

        return self._act(dossier_id, clerk, "withdrawn", "Công dân rút hồ sơ", change,
                         {"reason": reason}, DossierStatus.WITHDRAWN)

    def stop_notice(self, dossier_id: int, reason: str, clerk: ClerkInfo) -> ActionOutcome:
        """Print the notice that processing stopped (status 8, usually pulled from the
        province) for the citizen."""
        reason = nfc(reason)

        def change(s: Session, d: Dossier, station: StationInfo, now: datetime) -> bytes:
            text = reason or d.remote_note or "Theo thông báo của cơ quan giải quyết."
            return render_stop(d, station, clerk, text, withdrawn=False, now=now)

        return self._act(dossier_id, clerk, "stop_notice", "Thông báo dừng giải quyết hồ sơ",
                         change, {"reason": reason}, DossierStatus.STOPPED)

    def apologise(self, dossier_id: int, reason: str, responsible_unit: str,
                  new_appointment: datetime, clerk: ClerkInfo) -> ActionOutcome:
        """Circular 03/2025 form 04: apology and new appointment for a late dossier."""
        reason, unit = nfc(reason), nfc(responsible_unit)
        if not reason or not unit:
            raise ReturnError("Vui lòng ghi lý do chậm trễ và đơn vị chịu trách nhiệm.",
                              "apology without reason/unit")

        def change(s: Session, d: Dossier, station: StationInfo, now: datetime) -> bytes:
            if new_appointment <= now:
                raise ReturnError("Ngày hẹn mới phải sau thời điểm hiện tại.",
                                  f"new appointment {new_appointment} <= {now}")
            if DossierStatus(d.status) in CLOSED:
                raise ReturnError("Hồ sơ đã kết thúc; không lập văn bản xin lỗi.",
                                  f"apology for closed dossier status {d.status}")
            # The legal deadline stays: the dossier remains late however often the
            # citizen is given a new date.
            original = d.due_at
            change_appointment(d, ChangeKind.APOLOGY, new_appointment, now, reason,
                               clerk.id, clerk.full_name)
            return render_apology_for(d, station, clerk, original, reason, unit, now)

        return self._act(dossier_id, clerk, "apology",
                         "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết", change,
                         {"reason": reason, "unit": unit,
                          "new_appointment": new_appointment.isoformat()})


# --- documents ------------------------------------------------------------------------


def _header(station: StationInfo) -> AgencyHeader:
    return AgencyHeader(station.agency_name, station.parent_name, station.place_name)


def render_receipt_again(ctx: AppContext, d: Dossier, station: StationInfo,
                         clerk: ClerkInfo) -> bytes:
    """Mẫu 01 issued again after a supplement: same code and book entry, marked as
    re-issued, the original and the supplement's receipt times, the new appointment."""
    try:
        time_limit = CatalogService(ctx).get(d.procedure_code).time_limit_label
    except DomainError:  # the procedure left the catalog since
        time_limit = ""
    owner, who = d.owner, d.submitter or d.owner
    assert d.code and d.current_appointment_at and d.sequence_number is not None
    data = ReceiptData(
        # The code and the book entry are the original receipt's: so is line 4; the
        # supplement's time gets its own line and dates the document (re-issued).
        header=_header(station), dossier_code=d.code, received_at=d.received_at,
        reissued_at=ctx.clock.now(),
        appointment_at=d.current_appointment_at, applicant_name=who.full_name,
        id_number=who.id_number, address=who.address, phone=who.phone, email=who.email,
        procedure_name=d.procedure_name, procedure_code=d.procedure_code,
        components=[ComponentLine(c.name, c.originals, c.certified_copies, c.photocopies)
                    for c in d.components if c.provided],
        set_count=d.set_count, time_limit_text=time_limit,
        delivery_text="Tại Bộ phận Một cửa" if d.delivery == "counter"
        else f"Qua dịch vụ bưu chính: {d.delivery_address}",
        fees=_fee_lines(d), fees_paid=fees_paid(statement_of(d)),
        book_number=d.book_number, sequence_number=d.sequence_number,
        clerk_name=clerk.full_name, qr_payload=receipt_qr_payload(station, d.code),
        owner_name=owner.full_name if d.submitter else None)
    return render_receipt(data, station.receipt_page_size)  # type: ignore[arg-type]


def _result(r: str | ResultDocument) -> ResultDocument:
    if isinstance(r, ResultDocument):
        return ResultDocument(nfc(r.name), r.copies, nfc(r.reference))
    return ResultDocument(nfc(r))


def _fee_lines(d: Dossier) -> list[FeeLine]:
    """The fees as assessed at receipt (what the receipt printed), never today's schedule."""
    return [FeeLine(f.name, f.amount, f.quantity_text) for f in d.fees]


def render_return(d: Dossier, station: StationInfo, clerk: ClerkInfo, receiver: Receiver,
                  method: str, documents: Sequence[ResultDocument], now: datetime) -> bytes:
    return letters.render_return_receipt(letters.ReturnSlipData(
        header=_header(station), dossier_code=d.code or "", procedure_name=d.procedure_name,
        owner_name=d.owner.full_name, received_at=d.received_at,
        receiver_name=receiver.full_name, receiver_id_number=receiver.id_number,
        receiver_is_owner=receiver.is_owner, authorisation=receiver.authorisation,
        returned_at=now, method=method, post_address=d.delivery_address,
        # "đã thu" only for payments recorded (at intake or here), else "phải nộp".
        fees_due=_fee_lines(d) or d.fee_total, fees_paid=fees_paid(statement_of(d)),
        documents=documents, clerk_name=clerk.full_name),
        station.receipt_page_size)


def _signed(d: Dossier, station: StationInfo, kind: SignedKind,
            now: datetime) -> tuple[Signature, str]:
    """Who signs ``kind`` for the agency, and the document's number, taken in the
    transaction recording the action (the one ``d`` is loaded in)."""
    s = object_session(d)
    assert s is not None, "documents in the agency's name are numbered when recorded"
    return (signature_in(s, station.agency_code, kind),
            take_number(s, kind, station.station_digit, now))


def render_stop(d: Dossier, station: StationInfo, clerk: ClerkInfo, reason: str,
                withdrawn: bool, now: datetime) -> bytes:
    # Mẫu 05 speaks in the agency's name: signed by whoever signs for it, not the clerk.
    signature, number = _signed(d, station, SignedKind.STOP_NOTICE, now)
    return letters.render_stop_notice(letters.StopNoticeData(
        header=_header(station), dossier_code=d.code or "", procedure_name=d.procedure_name,
        owner_name=d.owner.full_name, received_at=d.received_at, reason=reason,
        issued_at=now, signer_name=signature.name_line, withdrawn=withdrawn,
        signer_title="\n".join(signature.block.title_lines()), number=number),
        station.receipt_page_size)


def render_apology_for(d: Dossier, station: StationInfo, clerk: ClerkInfo,
                       original: datetime | None, reason: str, unit: str,
                       now: datetime) -> bytes:
    assert d.current_appointment_at is not None
    # Signed for the agency by its head or a deputy; the clerk only prepares it.
    signature, number = _signed(d, station, SignedKind.APOLOGY, now)
    return letters.render_apology(letters.ApologyData(
        header=_header(station), dossier_code=d.code or "", owner_name=d.owner.full_name,
        received_at=d.received_at, procedure_name=d.procedure_name,
        original_appointment=original or d.current_appointment_at, reason=reason,
        responsible_unit=unit, new_appointment=d.current_appointment_at, issued_at=now,
        signer_name=signature.name_line,
        signer_title="\n".join(signature.block.title_lines()), number=number),
        station.receipt_page_size)
