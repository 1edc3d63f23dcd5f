"""Receive, request a supplement, or refuse a dossier at the counter.

Each action is one short database transaction: the dossier, its numbers (daily code,
book entry), its appointment, fees, an outbox entry for sync and an audit entry commit
together or not at all. The slip is then drawn from what was stored and kept in a second
transaction, so no counter waits on another's PDF."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService, ProcedureInfo
from desktop_app.context import AppContext
from desktop_app.digitization import link_files
from desktop_app.documents.slip_parts import AgencyHeader, FeeLine, FeesPaid
from desktop_app.documents.slips import (
    ComponentLine,
    ReceiptData,
    RefusalData,
    SupplementData,
    SupplementItem,
    render_receipt,
    render_refusal,
    render_supplement_request,
)
from desktop_app.documents.watermark import mark_document
from desktop_app.domain.calendar import compute_appointment
from desktop_app.domain.dossier_code import make_dossier_code
from desktop_app.domain.dossier_status import DossierStatus
from desktop_app.domain.errors import DomainError
from desktop_app.domain.fees import AssessedFee, FeeBasis, PaymentEntry
from desktop_app.domain.text import fold, nfc
from desktop_app.fees import (
    FeeError,
    FeeStatement,
    add_payment,
    assess_procedure,
    checked_payment,
    fee_key,
    fee_rows,
    payment_detail,
    statement_of,
)
from desktop_app.intake.draft_store import DraftRef, forget_draft
from desktop_app.intake.drafts import Delivery, DraftError, IntakeDraft, PersonInfo
from desktop_app.intake.reuse import check_reused
from desktop_app.station import StationInfo, StationService
from desktop_app.sync import clock_offset
from desktop_app.sync.national import dossier_document
from local_db import repositories as repo
from local_db.engine import is_lock_timeout
from local_db.models import Applicant, Dossier, DossierComponent

log = logging.getLogger(__name__)


class IntakeKind(StrEnum):
    RECEIVED = "received"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    REFUSED = "refused"


@dataclass(frozen=True)
class IntakeOutcome:
    kind: IntakeKind
    dossier_id: int
    dossier_uuid: str
    code: str | None
    slip_number: str
    status: DossierStatus
    received_at: datetime
    appointment_at: datetime | None
    slip_pdf: bytes
    slip_sha256: str

    @property
    def reference(self) -> str:
        """What the clerk reads out: the dossier code, or the slip number without one."""
        return self.code or self.slip_number


def search_text(code: str | None, slip: str, *people: PersonInfo | None) -> str:
    parts = [code or "", slip]
    for p in people:
        if p is not None:
            parts += [p.full_name, p.id_number, p.phone]
    return fold(" ".join(x for x in parts if x))


def _upsert_applicant(s: Session, person: PersonInfo, now: datetime) -> Applicant:
    """Reuse the applicant row of a known ID number so look-ups by person work later."""
    row = repo.applicant_by_id_number(s, person.id_number)
    if row is None:
        row = Applicant(created_at=now)
        s.add(row)
    row.full_name = person.full_name
    row.id_number = person.id_number
    row.birth_date = person.birth_date or row.birth_date
    row.sex = person.sex or row.sex
    row.address = person.address or row.address
    row.phone = person.phone or row.phone
    row.email = person.email or row.email
    row.updated_at = now
    return row


class IntakeService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.catalog = CatalogService(ctx)
        self.stations = StationService(ctx)
        self._clock_note = ""  # the last clock warning read

    # --- previews (no writes) ---------------------------------------------------------

    def appointment_for(self, proc: ProcedureInfo, at: datetime | None = None) -> datetime:
        return compute_appointment(
            at or self.ctx.clock.now(), proc.time_limit_amount, proc.time_limit_unit,
            self.ctx.calendar,
        )

    def clock_warning(self) -> str:
        """Vietnamese, before Receive: this PC's clock was more than 5 minutes off the
        gateway's when they last talked ("" otherwise, or when they never did). A warning,
        not a block: see `desktop_app.sync.clock_offset`.

        Never raises: with the database away the last text read stands, and the failed
        action itself says what is wrong (the review is refilled after a failed Receive)."""
        try:
            note = clock_offset.warning_vi(clock_offset.last_offset(self.ctx))
        except DomainError as exc:
            log.warning("clock offset not read: %s", exc.detail)
            return self._clock_note
        self._clock_note = note
        return note

    # --- actions ------------------------------------------------------------------------

    # ``finishes``: the saved draft (``draft_store``) this action turns into a dossier or
    # a slip; it is removed in the action's own transaction.

    def receive(self, draft: IntakeDraft, clerk: ClerkInfo, finishes: DraftRef | None = None
                ) -> IntakeOutcome:
        draft = draft.normalised()
        problems = draft.receive_problems()
        proc = self.catalog.get(draft.procedure_code)
        problems += self.fee_problems(draft, proc)
        if problems:
            raise DraftError(problems)
        known = clock_offset.last_offset(self.ctx)
        if known is not None and known.off:  # received anyway: say so for the technician
            log.warning("receiving with the station clock %+.0f s off the gateway's "
                        "(measured %s)", known.offset_s, known.measured_at.isoformat())
        return self._record(draft, clerk, IntakeKind.RECEIVED, "", finishes)

    def assess(self, draft: IntakeDraft, proc: ProcedureInfo) -> list[AssessedFee]:
        """The fees ``draft`` owes under ``proc``'s schedule (what Receive records)."""
        return assess_procedure(proc, draft.fee_counts)

    def fee_problems(self, draft: IntakeDraft, proc: ProcedureInfo) -> list[str]:
        """What stops the fees from being recorded as entered (Vietnamese, one per line)."""
        out = [f"Chưa nhập số bản{', số trang' if r.basis is FeeBasis.PAGE else ''} để "
               f"tính “{r.name}”."
               for r in proc.fees if r.counted and not any(
                   c.copies > 0 and c.pages > 0 for c in draft.fee_counts.get(fee_key(r), ()))]
        if out or draft.payment is None:
            return out
        owed = sum(a.amount for a in self.assess(draft, proc))
        try:
            checked_payment(draft.payment, owed, draft.applicant.full_name)
        except FeeError as exc:
            out.append(exc.message_vi)
        return out

    def request_supplement(self, draft: IntakeDraft, clerk: ClerkInfo, reason: str,
                           finishes: DraftRef | None = None) -> IntakeOutcome:
        draft = draft.normalised()
        problems = draft.applicant_problems()
        if not any(c.problem or (c.required and not c.provided) for c in draft.components):
            problems.append("Hãy đánh dấu ít nhất một thành phần còn thiếu hoặc cần bổ sung.")
        if problems:
            raise DraftError(problems)
        return self._record(draft, clerk, IntakeKind.SUPPLEMENT_REQUESTED, nfc(reason), finishes)

    def refuse(self, draft: IntakeDraft, clerk: ClerkInfo, reason: str,
               finishes: DraftRef | None = None) -> IntakeOutcome:
        draft = draft.normalised()
        problems = draft.owner.problems("chủ hồ sơ")
        if not nfc(reason):
            problems.append("Phiếu từ chối phải ghi rõ lý do từ chối.")
        if problems:
            raise DraftError(problems)
        return self._record(draft, clerk, IntakeKind.REFUSED, nfc(reason), finishes)

    def _record(self, draft: IntakeDraft, clerk: ClerkInfo, kind: IntakeKind, reason: str,
                finishes: DraftRef | None = None) -> IntakeOutcome:
        """Two short transactions: the facts and their numbers commit first; the slip is
        rendered from what was stored and kept in a second one (``ensure_slip``). No row
        another counter needs stays locked while a PDF is drawn."""
        station = self.stations.require()
        proc = self.catalog.get(draft.procedure_code)
        now = self.ctx.clock.now()
        appointment = self.appointment_for(proc, now) if kind is IntakeKind.RECEIVED else None
        status = {
            IntakeKind.RECEIVED: DossierStatus.RECEIVED,
            IntakeKind.SUPPLEMENT_REQUESTED: DossierStatus.SUPPLEMENT_REQUESTED,
            IntakeKind.REFUSED: DossierStatus.NOT_ACCEPTED,
        }[kind]
        assessed = self.assess(draft, proc) if kind is IntakeKind.RECEIVED else []
        fee_total = sum(a.amount for a in assessed)
        payment: PaymentEntry | None = None
        if kind is IntakeKind.RECEIVED and draft.payment is not None:
            payment = checked_payment(draft.payment, fee_total, draft.applicant.full_name)
        try:
            with self.ctx.db.write() as s:
                self.ctx.db.holds_shared_rows(s)
                dossier_id, uuid_, code, slip_number = self._store_facts(
                    s, draft, clerk, kind, reason, finishes, station, proc, now, status,
                    appointment, assessed, fee_total, payment)
        except OperationalError as exc:
            if not is_lock_timeout(exc):
                raise
            log.warning("intake %s gave up waiting for a database lock held by another "
                        "counter (%s); nothing was stored", kind.value,
                        type(exc.orig).__name__)
            raise CounterBusy() from exc
        log.info("dossier %s %s by clerk %s", code or slip_number, kind.value, clerk.id)
        try:
            pdf, sha = self.ensure_slip(dossier_id, proc)
        except Exception as exc:
            # The dossier and its numbers are recorded: receiving again would make a
            # second dossier. The slip is drawn later from what was stored.
            log.exception("dossier %s recorded but its slip was not stored", dossier_id)
            raise SlipNotStored(code or slip_number) from exc
        return IntakeOutcome(kind, dossier_id, uuid_, code, slip_number, status, now,
                             appointment, pdf, sha)

    def _store_facts(self, s: Session, draft: IntakeDraft, clerk: ClerkInfo,
                     kind: IntakeKind, reason: str, finishes: DraftRef | None,
                     station: StationInfo, proc: ProcedureInfo, now: datetime,
                     status: DossierStatus, appointment: datetime | None,
                     assessed: list[AssessedFee], fee_total: int,
                     payment: PaymentEntry | None) -> tuple[int, str, str | None, str]:
        # Before any number is taken: a reused copy superseded since it was offered.
        check_reused(s, draft.owner.id_number, [(c.name, c.files) for c in draft.components])
        code: str | None = None
        if kind is IntakeKind.RECEIVED:
            # Numbers are taken inside this transaction: a crash or rollback gives them
            # back, and nothing was printed with them. This PC's own series first (no
            # other counter waits on its row).
            seq = repo.next_counter(s, f"dossier-{station.station_digit}", now.date())
            code = str(make_dossier_code(station.agency_code, now.date(),
                                         station.station_digit, seq))
            slip_number = code
        else:
            prefix = "BS" if kind is IntakeKind.SUPPLEMENT_REQUESTED else "TC"
            seq = repo.next_counter(s, f"{prefix}-{station.station_digit}", now.date())
            slip_number = f"{prefix}-{now:%y%m%d}-{station.station_digit}{seq:03d}"
        owner = _upsert_applicant(s, draft.owner, now)
        submitter: Applicant | None = None
        sub = draft.submitter
        if sub is not None and not (sub.id_number and sub.id_number == draft.owner.id_number):
            submitter = _upsert_applicant(s, sub, now)
        s.flush()
        dossier = Dossier(
            uuid=str(uuid.uuid4()),
            code=code,
            slip_number=slip_number,
            status=int(status),
            channel=1,
            procedure_code=proc.code,
            procedure_name=proc.name,
            owner=owner,
            submitter=submitter,
            received_at=now,
            appointment_at=appointment,
            due_at=appointment,
            current_appointment_at=appointment,
            time_limit_amount=proc.time_limit_amount,
            time_limit_unit=proc.time_limit_unit.value,
            set_count=draft.set_count,
            delivery=draft.delivery.value,
            delivery_address=draft.delivery_address,
            fee_total=fee_total,
            reason=reason,
            note=draft.note,
            book_number="",
            sequence_number=None,
            clerk_id=clerk.id,
            search_text=search_text(code, slip_number, draft.owner, draft.submitter),
            created_at=now,
            updated_at=now,
        )
        for pos, c in enumerate(draft.components):
            dossier.components.append(
                DossierComponent(
                    component_code=c.code,
                    name=c.name,
                    originals=c.originals if c.provided else 0,
                    certified_copies=c.certified_copies if c.provided else 0,
                    photocopies=c.photocopies if c.provided else 0,
                    provided=c.provided,
                    problem=c.problem,
                    position=pos,
                )
            )
            link_files(dossier.components[-1], c.files, clerk.id, now)
        dossier.fees.extend(fee_rows(assessed))
        paid = add_payment(dossier, payment, "intake", clerk, now) if payment else None
        s.add(dossier)
        s.flush()
        if kind is IntakeKind.RECEIVED:
            # The agency-wide book is the one row every counter shares: taken last, its
            # lock lasts from here to the commit a few statements below.
            dossier.sequence_number = repo.next_counter(
                s, "book", now.date().replace(month=1, day=1))
            dossier.book_number = station.book_number
        # Files first: the provincial system accepts a dossier whose files it has. The
        # slip does not travel (the document carries the facts it prints).
        for c in draft.components:
            for f in c.files:
                repo.add_outbox(s, "file", f.sha256, "upload",
                                {"dossier": dossier.uuid, "component": c.code,
                                 "file_name": f.file_name, "size": f.size,
                                 "part": f.part, "parts": f.parts}, now)
        repo.add_outbox(s, "dossier", dossier.uuid, kind.value,
                        dossier_document(dossier, station.agency_code), now)
        repo.add_audit(
            s, now, clerk.id, f"dossier_{kind.value}", "dossier", dossier.uuid,
            {"code": code, "slip_number": slip_number, "procedure": proc.code,
             "appointment": appointment.isoformat() if appointment else None,
             "fee_total": fee_total,
             **({"reused": reused} if (reused := [
                 {"position": pos, "source": f.source_code, "file": f.sha256,
                  **({"where": "province"} if f.source_kind == "province" else {})}
                 for pos, c in enumerate(draft.components) for f in c.files
                 if f.is_reuse]) else {}),
             **({"payment": payment_detail(paid)} if paid is not None else {})},
        )
        if finishes is not None:
            forget_draft(s, finishes)
        s.flush()
        return dossier.id, dossier.uuid, code, slip_number

    # --- printing -----------------------------------------------------------------------

    def ensure_slip(self, dossier_id: int, proc: ProcedureInfo | None = None
                    ) -> tuple[bytes, str]:
        """The dossier's intake slip (PDF, sha-256), rendered from its stored facts and
        stored once. Idempotent: after a crash between the two transactions of an intake
        the same slip is drawn again; a slip already stored is returned as it is."""
        station = self.stations.require()
        with self.ctx.db.read() as s:
            d = s.get(Dossier, dossier_id)
            if d is None:
                raise DomainError("Không tìm thấy hồ sơ.", f"dossier id {dossier_id} not found")
            if d.slip_blob is not None:
                sha = d.slip_blob
                return self.ctx.blobs.read_bytes(sha), sha
            if proc is None:
                proc = self.catalog.get(d.procedure_code)
            kind = _KIND_OF_STATUS.get(DossierStatus(d.status), IntakeKind.RECEIVED)
            data = _slip_data(kind, d, proc, station)
        pdf = mark_document(self.ctx, _render(data, station.receipt_page_size))
        sha = self.ctx.blobs.put_bytes(pdf)
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            repo.ensure_blob(s, sha, len(pdf), "application/pdf", now)
            row = s.get(Dossier, dossier_id, with_for_update=True)
            assert row is not None
            if row.slip_blob is not None and row.slip_blob != sha:
                # Another process stored it first (a reprint path racing): keep theirs.
                sha = row.slip_blob
                pdf = self.ctx.blobs.read_bytes(sha)
            row.slip_blob = sha
        return pdf, sha

    def store_missing_slips(self, min_age_s: float = 120.0, limit: int = 500) -> int:
        """Slips of dossiers whose intake committed but whose slip was not stored (the
        PC stopped between the two steps): drawn now, e.g. at start-up. ``min_age_s``
        leaves alone an intake another counter is finishing this very moment."""
        before = self.ctx.clock.now() - timedelta(seconds=min_age_s)
        with self.ctx.db.read() as s:
            ids = list(s.scalars(select(Dossier.id).where(Dossier.slip_blob.is_(None),
                                                          Dossier.created_at <= before)
                                 .order_by(Dossier.id).limit(limit)))
        done = 0
        for dossier_id in ids:
            try:
                self.ensure_slip(dossier_id)
                done += 1
            except DomainError as exc:
                log.warning("slip of dossier id %s not drawn: %s", dossier_id, exc.detail)
        if done:
            log.info("%d intake slip(s) drawn after an interrupted intake", done)
        return done


class CounterBusy(DomainError):
    """Another counter held a shared row (the book, an applicant) past the lock timeout."""

    def __init__(self, press_again_vi: str = "hãy bấm Tiếp nhận lại") -> None:
        super().__init__(
            "Máy khác đang ghi vào sổ nên chưa lưu được, chưa có gì thay đổi. Thông tin "
            f"đã nhập vẫn được giữ nguyên — {press_again_vi}.",
            "database lock wait timed out; the action was rolled back")


class SlipNotStored(DomainError):
    """The intake committed, drawing or keeping its slip failed (disk full …)."""

    def __init__(self, reference: str) -> None:
        super().__init__(
            f"Hồ sơ đã được lưu với số {reference} nhưng chưa tạo được phiếu. Không bấm "
            "Tiếp nhận lại; mở hồ sơ trong Tra cứu (F3) để in phiếu.",
            f"slip of {reference} not stored after the intake committed")
        self.reference = reference


# Which slip a dossier without a code was given (one with a code got the receipt,
# whatever its status became later).
_KIND_OF_STATUS = {
    DossierStatus.SUPPLEMENT_REQUESTED: IntakeKind.SUPPLEMENT_REQUESTED,
    DossierStatus.NOT_ACCEPTED: IntakeKind.REFUSED,
}


def _slip_data(kind: IntakeKind, d: Dossier, proc: ProcedureInfo, station: StationInfo
               ) -> ReceiptData | SupplementData | RefusalData:
    """What the intake slip prints, from the stored dossier (inside its session)."""
    header = AgencyHeader(station.agency_name, station.parent_name, station.place_name)
    who = d.submitter or d.owner
    clerk = d.clerk
    if d.code is not None and d.sequence_number is not None:
        assert d.appointment_at
        delivery = Delivery(d.delivery)
        return ReceiptData(
            header=header,
            dossier_code=d.code,
            received_at=d.received_at,
            appointment_at=d.appointment_at,
            applicant_name=who.full_name,
            id_number=who.id_number,
            address=who.address,
            phone=who.phone,
            email=who.email,
            procedure_name=d.procedure_name,
            procedure_code=d.procedure_code,
            components=[
                ComponentLine(c.name, c.originals, c.certified_copies, c.photocopies)
                for c in d.components if c.provided
            ],
            set_count=d.set_count,
            time_limit_text=proc.time_limit_label,
            delivery_text=delivery.label_vi
            + (f": {d.delivery_address}" if d.delivery_address else ""),
            fees=[FeeLine(f.name, f.amount, f.quantity_text) for f in d.fees],
            fees_paid=fees_paid(statement_of(d)),
            book_number=d.book_number,
            sequence_number=d.sequence_number,
            clerk_name=clerk.full_name,
            qr_payload=receipt_qr_payload(station, d.code),
            owner_name=d.owner.full_name if d.submitter else None,
        )
    contact = (clerk.phone, clerk.email)
    if kind is IntakeKind.SUPPLEMENT_REQUESTED:
        required = {c.code for c in proc.components if c.required}
        items = [
            SupplementItem(c.name, c.problem or "Chưa nộp thành phần hồ sơ này")
            for c in d.components
            if c.problem or (c.component_code in required and not c.provided)
        ]
        return SupplementData(
            header=header,
            number=d.slip_number,
            issued_at=d.received_at,
            applicant_name=who.full_name,
            id_number=who.id_number,
            address=who.address,
            phone=who.phone,
            procedure_name=d.procedure_name,
            items=items,
            reason=d.reason,
            rules_reference="; ".join(proc.legal_basis)
            or "Bộ thủ tục hành chính niêm yết tại Bộ phận Một cửa",
            official_name=clerk.full_name,
            official_phone=contact[0],
            official_email=contact[1],
        )
    return RefusalData(
        header=header,
        number=d.slip_number,
        issued_at=d.received_at,
        applicant_name=who.full_name,
        id_number=who.id_number,
        address=who.address,
        phone=who.phone,
        procedure_name=d.procedure_name,
        reason=d.reason,
        official_name=clerk.full_name,
        official_phone=contact[0],
        official_email=contact[1],
    )


def _render(data: ReceiptData | SupplementData | RefusalData, size: str) -> bytes:
    if isinstance(data, ReceiptData):
        return render_receipt(data, size)  # type: ignore[arg-type]
    if isinstance(data, SupplementData):
        return render_supplement_request(data, size)  # type: ignore[arg-type]
    return render_refusal(data, size)  # type: ignore[arg-type]


def fees_paid(statement: FeeStatement) -> FeesPaid | None:
    """What a document prints as collected: None when no payment was recorded."""
    if not statement.live:
        return None
    return FeesPaid(statement.paid, statement.receipt_numbers, statement.note,
                    statement.outstanding)


def receipt_qr_payload(station: StationInfo, code: str) -> str:
    """The receipt's QR: the tracking URL with the code when the province has one."""
    if station.tracking_url:
        sep = "&" if "?" in station.tracking_url else "?"
        return f"{station.tracking_url}{sep}ma={code}"
    return code

