"""A dossier's fees: what was assessed at receipt, and the money recorded as collected.

Both are facts and both are append-only (``dossier_fees``, ``fee_payments``). The
documents print "đã thu" only for what is recorded here; a payment that differs from
what is owed (a reduction, an exemption, a different schedule) needs its reason, and a
mistaken entry is corrected by a reversing entry, never by changing the first one."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import ProcedureInfo
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.domain.fees import (
    AssessedFee,
    FeeCount,
    FeeCountError,
    FeeRule,
    PaymentEntry,
    PaymentMethod,
    assess,
)
from desktop_app.domain.text import nfc, vnd
from desktop_app.station import StationService
from desktop_app.sync.national import dossier_document, national_time
from local_db import repositories as repo
from local_db.models import Dossier, DossierFee, FeePayment

log = logging.getLogger(__name__)


class FeeError(DomainError):
    pass


def fee_key(rule: FeeRule) -> str:
    """How a draft names a schedule line it counted for: its code, else its name."""
    return rule.code or rule.name


def assess_procedure(proc: ProcedureInfo, counts: Mapping[str, Sequence[FeeCount]]
                     ) -> list[AssessedFee]:
    """Every schedule line of ``proc`` applied to what the clerk counted."""
    try:
        return [assess(rule, counts.get(fee_key(rule), ())) for rule in proc.fees]
    except FeeCountError as exc:
        raise FeeError("Số bản hoặc số trang tính phí không hợp lệ (0–999 bản, "
                       "0–9.999 trang).", str(exc)) from exc


def fee_rows(assessed: Sequence[AssessedFee]) -> list[DossierFee]:
    return [DossierFee(position=i, fee_code=a.rule.code, name=a.rule.name, kind=a.rule.kind,
                       basis=a.rule.basis.value, rate_text=a.rule.rate_text(),
                       counts=[{"copies": c.copies, "pages": c.pages} for c in a.counts],
                       quantity_text=a.quantity_text, amount=a.amount)
            for i, a in enumerate(assessed)]


# --- the statement ----------------------------------------------------------------------


@dataclass(frozen=True)
class FeeLineView:
    name: str
    rate_text: str
    quantity_text: str
    amount: int


@dataclass(frozen=True)
class PaymentView:
    id: int
    amount: int
    payer_name: str
    method: PaymentMethod
    receipt_number: str
    reason: str
    stage: str
    reverses_id: int | None
    reversed: bool
    collected_by: str
    collected_at: datetime

    @property
    def method_vi(self) -> str:
        return self.method.label_vi


@dataclass(frozen=True)
class FeeStatement:
    """What a dossier owes and what was recorded as paid, as of now."""

    lines: tuple[FeeLineView, ...]
    payments: tuple[PaymentView, ...]

    @property
    def owed(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def live(self) -> tuple[PaymentView, ...]:
        """Payments that stand: not reversed, and not reversals themselves."""
        return tuple(p for p in self.payments if not p.reversed and p.reverses_id is None)

    @property
    def paid(self) -> int:
        return sum(p.amount for p in self.live)

    @property
    def settled(self) -> bool:
        """Nothing more to collect: paid in full, or a payment (an exemption, a
        reduction) recorded with its reason as what is due."""
        return self.paid >= self.owed or any(p.reason for p in self.live)

    @property
    def outstanding(self) -> int:
        return 0 if self.settled else self.owed - self.paid

    @property
    def receipt_numbers(self) -> tuple[str, ...]:
        return tuple(p.receipt_number for p in self.live if p.receipt_number)

    @property
    def note(self) -> str:
        """Why what was collected differs from what was owed ("" when it does not)."""
        return "; ".join(p.reason for p in self.live if p.reason)

    def summary_vi(self) -> str:
        """One line for the clerk, e.g. "Phải nộp 14.000 đồng; đã thu 14.000 đồng (biên
        lai số 0012345)"."""
        if not self.owed and not self.live:
            return "Không thu phí, lệ phí."
        text = f"Phải nộp {vnd(self.owed)}"
        if self.live:
            text += f"; đã thu {vnd(self.paid)}"
            if self.receipt_numbers:
                text += f" (biên lai số {', '.join(self.receipt_numbers)})"
            if self.note:
                text += f" — {self.note}"
        if self.outstanding:
            text += f"; còn phải thu {vnd(self.outstanding)}"
        return text + "."


def statement_of(d: Dossier) -> FeeStatement:
    reversed_ids = {p.reverses_id for p in d.payments if p.reverses_id is not None}
    return FeeStatement(
        tuple(FeeLineView(f.name, f.rate_text, f.quantity_text, f.amount) for f in d.fees),
        tuple(PaymentView(p.id, p.amount, p.payer_name, PaymentMethod(p.method),
                          p.receipt_number, p.reason, p.stage, p.reverses_id,
                          p.id in reversed_ids, p.collected_by, p.collected_at)
              for p in d.payments))


# --- recording ----------------------------------------------------------------------------

_RECEIPT = re.compile(r"^[0-9A-Za-zÀ-ỹ./\- ]{1,60}$")


def checked_payment(entry: PaymentEntry, owed: int, counter_person: str) -> PaymentEntry:
    """``entry`` normalised, or FeeError naming every problem in Vietnamese."""
    problems = []
    receipt = nfc(entry.receipt_number)
    payer = nfc(entry.payer_name) or nfc(counter_person)
    reason = nfc(entry.reason)
    if entry.amount < 0:
        problems.append("số tiền thu không được âm")
    if entry.amount > 100_000_000:
        problems.append("số tiền thu quá lớn (kiểm tra lại số đã nhập)")
    if entry.amount > 0 and not receipt:
        problems.append("số biên lai thu phí, lệ phí (hoặc mã giao dịch chuyển khoản)")
    elif receipt and not _RECEIPT.match(receipt):
        problems.append("số biên lai chỉ gồm chữ, số và các dấu . / -")
    if not payer:
        problems.append("họ tên người nộp tiền")
    if entry.amount != owed and not reason:
        problems.append(f"lý do thu {vnd(entry.amount)} khác số phải nộp {vnd(owed)} "
                        "(miễn, giảm, thu theo mức khác…)")
    if entry.amount == 0 and owed == 0:
        problems.append("không có khoản phí, lệ phí nào để thu")
    if problems:
        raise FeeError("Chưa ghi nhận được khoản thu: " + "; ".join(problems) + ".",
                       f"payment refused: {len(problems)} problem(s): "
                       + "; ".join(p.split(" (")[0] for p in problems))
    return replace(entry, receipt_number=receipt, payer_name=payer, reason=reason)


def add_payment(d: Dossier, entry: PaymentEntry, stage: str, clerk: ClerkInfo,
                now: datetime) -> FeePayment:
    """Record ``entry`` (already checked) for ``d`` in the caller's transaction."""
    row = FeePayment(amount=entry.amount, payer_name=entry.payer_name,
                     method=entry.method.value, receipt_number=entry.receipt_number,
                     reason=entry.reason, stage=stage, collected_by_id=clerk.id,
                     collected_by=clerk.full_name, collected_at=now)
    d.payments.append(row)
    return row


def payment_detail(p: FeePayment) -> dict[str, object]:
    """A payment as the audit log and the province's event keep it (no payer name: the
    dossier names its people; the log keeps none)."""
    return {"amount": p.amount, "method": p.method, "receipt_number": p.receipt_number,
            "reason": p.reason, "stage": p.stage, "reverses": p.reverses_id,
            "collected_at": national_time(p.collected_at)}


class FeeService:
    """Fees at the return counter: the statement, a collection, a reversal."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def statement(self, dossier_id: int) -> FeeStatement:
        with self.ctx.db.read() as s:
            return statement_of(self._dossier(s, dossier_id))

    @staticmethod
    def _dossier(s: Session, dossier_id: int, lock: bool = False) -> Dossier:
        d = repo.dossier_by_id(s, dossier_id, for_update=lock)
        if d is None or not d.code:
            raise FeeError("Không tìm thấy hồ sơ.", f"dossier {dossier_id} missing")
        return d

    def collect(self, dossier_id: int, entry: PaymentEntry, clerk: ClerkInfo
                ) -> FeeStatement:
        """Record money collected at the return counter (or any time after intake)."""

        def change(d: Dossier, now: datetime) -> FeePayment:
            before = statement_of(d)
            if before.settled and before.live:
                raise FeeError(
                    f"Hồ sơ {d.code} đã thu đủ phí, lệ phí ({vnd(before.paid)}). Nếu ghi "
                    "nhầm, hãy hủy khoản thu đó trước.", "payment on a settled dossier")
            checked = checked_payment(entry, before.outstanding, d.returned_to
                                      or (d.submitter or d.owner).full_name)
            return add_payment(d, checked, "return", clerk, now)

        return self._record(dossier_id, clerk, "fee_collected", "Thu phí, lệ phí", change)

    def reverse(self, dossier_id: int, payment_id: int, reason: str, clerk: ClerkInfo
                ) -> FeeStatement:
        """Cancel a mistaken payment by a reversing entry (the first one stays)."""
        reason = nfc(reason)
        if not reason:
            raise FeeError("Vui lòng ghi lý do hủy khoản thu.", "reversal without reason")

        def change(d: Dossier, now: datetime) -> FeePayment:
            view = next((p for p in statement_of(d).live if p.id == payment_id), None)
            if view is None:
                raise FeeError("Khoản thu này không còn hiệu lực (đã hủy hoặc không thuộc "
                               "hồ sơ).", f"reverse: payment {payment_id} not live")
            original = next(p for p in d.payments if p.id == payment_id)
            row = FeePayment(amount=-original.amount, payer_name=original.payer_name,
                             method=original.method, receipt_number=original.receipt_number,
                             reason=reason, stage="reversal", reverses_id=original.id,
                             collected_by_id=clerk.id, collected_by=clerk.full_name,
                             collected_at=now)
            d.payments.append(row)
            return row

        return self._record(dossier_id, clerk, "fee_reversed", "Hủy khoản thu phí, lệ phí",
                            change)

    def _record(self, dossier_id: int, clerk: ClerkInfo, event: str, title: str,
                change: Callable[[Dossier, datetime], FeePayment]) -> FeeStatement:
        station = StationService(self.ctx).require()
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            d = self._dossier(s, dossier_id, lock=True)
            row = change(d, now)
            s.flush()
            d.revision = (d.revision or 1) + 1
            d.updated_at = now
            detail = payment_detail(row)
            repo.add_outbox(s, "dossier", d.uuid, event,
                            dossier_document(d, station.agency_code), now)
            event_id = str(uuid.uuid4())
            repo.add_outbox(s, "event", event_id, event, {
                "EventId": event_id, "ClientId": d.uuid, "MaHoSo": d.code, "Loai": event,
                "ThoiDiem": national_time(now), "NguoiXuLy": clerk.full_name[:50],
                "NoiDung": title, "TrangThaiHoSo": int(d.status), "ChiTiet": detail}, now)
            repo.add_audit(s, now, clerk.id, f"dossier_{event}", "dossier", d.uuid, detail)
            out = statement_of(d)
            code = d.code
        log.info("dossier %s: %s %s by clerk %s", code, event, row.amount, clerk.id)
        return out
