"""What the clerk fills in before pressing Receive (plain values, no DB rows), and the
wizard's state around it as it is kept between steps and across restarts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from desktop_app.catalog import ProcedureInfo
from desktop_app.digitization import DigitizedFile
from desktop_app.domain.citizen_qr import CitizenCard
from desktop_app.domain.errors import DomainError
from desktop_app.domain.fees import FeeCount, PaymentEntry
from desktop_app.domain.text import nfc

_PHONE = re.compile(r"^\+?[0-9 .]{8,15}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Delivery(StrEnum):
    COUNTER = "counter"
    POST = "post"

    @property
    def label_vi(self) -> str:
        return {
            Delivery.COUNTER: "Tại Bộ phận tiếp nhận và trả kết quả",
            Delivery.POST: "Qua dịch vụ bưu chính công ích",
        }[self]


class DraftError(DomainError):
    """The draft cannot be received as it is; ``problems`` lists every defect."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems), "; ".join(problems))
        self.problems = problems


@dataclass
class PersonInfo:
    full_name: str = ""
    id_number: str = ""
    birth_date: date | None = None
    sex: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""

    @classmethod
    def from_card(cls, card: CitizenCard, phone: str = "", email: str = "") -> PersonInfo:
        return cls(card.full_name, card.id_number, card.birth_date, card.sex, card.address,
                   phone, email)

    def normalised(self) -> PersonInfo:
        return replace(
            self,
            full_name=nfc(self.full_name),
            id_number=re.sub(r"\s", "", self.id_number),
            address=nfc(self.address),
            phone=re.sub(r"[ .]", "", self.phone),
            email=self.email.strip(),
            sex=nfc(self.sex),
        )

    def problems(self, who: str) -> list[str]:
        out = []
        if not self.full_name:
            out.append(f"Chưa nhập họ và tên {who}.")
        if self.id_number and not re.fullmatch(r"\d{12}|\d{9}", self.id_number):
            out.append(f"Số định danh/CCCD của {who} phải gồm 12 chữ số (hoặc CMND 9 số).")
        if self.phone and not _PHONE.match(self.phone):
            out.append(f"Số điện thoại của {who} không hợp lệ.")
        if self.email and not _EMAIL.match(self.email):
            out.append(f"Địa chỉ thư điện tử của {who} không hợp lệ.")
        return out


@dataclass
class ComponentEntry:
    code: str
    name: str
    originals: int = 0
    certified_copies: int = 0
    photocopies: int = 0
    required: bool = True
    provided: bool = False
    problem: str = ""
    # Digitized PDFs already in the blob store, linked to the component at Receive.
    files: list[DigitizedFile] = field(default_factory=list)


@dataclass
class IntakeDraft:
    procedure_code: str
    owner: PersonInfo = field(default_factory=PersonInfo)
    submitter: PersonInfo | None = None
    components: list[ComponentEntry] = field(default_factory=list)
    set_count: int = 1
    delivery: Delivery = Delivery.COUNTER
    delivery_address: str = ""
    note: str = ""
    # What the citizen asks for, per fee line charged per copy or per page (keyed by
    # desktop_app.fees.fee_key): one count per document.
    fee_counts: dict[str, list[FeeCount]] = field(default_factory=dict)
    # Money collected at the counter together with Receive; None = not collected now.
    payment: PaymentEntry | None = None

    @classmethod
    def for_procedure(cls, proc: ProcedureInfo) -> IntakeDraft:
        return cls(
            procedure_code=proc.code,
            components=[
                ComponentEntry(c.code, c.name, c.originals, c.certified_copies, c.photocopies,
                               c.required)
                for c in proc.components
            ],
        )

    def normalised(self) -> IntakeDraft:
        return replace(
            self,
            owner=self.owner.normalised(),
            submitter=self.submitter.normalised() if self.submitter else None,
            delivery_address=nfc(self.delivery_address),
            note=nfc(self.note),
            components=[replace(c, name=nfc(c.name), problem=nfc(c.problem))
                        for c in self.components],
            payment=replace(self.payment, receipt_number=nfc(self.payment.receipt_number),
                            payer_name=nfc(self.payment.payer_name),
                            reason=nfc(self.payment.reason)) if self.payment else None,
        )

    def missing_required(self) -> list[ComponentEntry]:
        return [c for c in self.components if c.required and not c.provided]

    def applicant_problems(self) -> list[str]:
        out = self.owner.problems("chủ hồ sơ")
        if self.submitter is not None:
            out += self.submitter.problems("người nộp hồ sơ")
        if self.delivery is Delivery.POST and not self.delivery_address:
            out.append("Nhận kết quả qua bưu chính: chưa nhập địa chỉ nhận.")
        if not 1 <= self.set_count <= 99:
            out.append("Số lượng hồ sơ (bộ) phải từ 1 đến 99.")
        return out

    def receive_problems(self) -> list[str]:
        out = self.applicant_problems()
        missing = self.missing_required()
        if missing:
            names = "; ".join(c.name for c in missing)
            out.append(
                "Còn thiếu thành phần hồ sơ bắt buộc: " + names
                + ". Hãy lập Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ."
            )
        for c in self.components:
            if c.provided and c.originals + c.certified_copies + c.photocopies <= 0:
                out.append(f"Thành phần “{c.name}”: số bản phải lớn hơn 0.")
        return out

    @property
    def applicant(self) -> PersonInfo:
        """Who stands at the counter: the submitter when given, else the owner."""
        return self.submitter or self.owner


@dataclass
class SavedIntake:
    """The intake wizard as the clerk left it: the draft, the step on screen, and what the
    form holds that a draft cannot (a birth date typed halfway). Kept in the database at
    every step (``draft_store``), so a closed window, a crash or a power cut loses
    nothing typed."""

    draft: IntakeDraft
    step: int = 0
    # One per dossier being received: a save that arrives after that dossier was
    # received, refused or abandoned is recognised and dropped.
    draft_id: str = ""
    # Shown when the procedure has left the catalog by the time the draft is resumed.
    procedure_name: str = ""
    # A birth date as typed when it is not a date yet ("12/03/19"); the draft has None.
    owner_birth_text: str = ""
    submitter_birth_text: str = ""
    # The folder (under the data directory's scan-work) of pages scanned in the studio
    # for this dossier and not yet stored as PDFs; "" when the studio was not opened.
    studio_workspace: str = ""

    def is_blank(self) -> bool:
        """Nothing typed, ticked or digitized yet: not worth keeping (a procedure chosen
        and nothing else is redone in two keystrokes)."""
        d = self.draft
        return (
            d.owner == PersonInfo()
            and (d.submitter is None or d.submitter == PersonInfo())
            and not any(c.provided or c.problem or c.files for c in d.components)
            and d.set_count == 1
            and d.delivery is Delivery.COUNTER
            and not d.delivery_address
            and not d.note
            and not d.fee_counts
            and d.payment is None
            and not self.owner_birth_text
            and not self.submitter_birth_text
        )
