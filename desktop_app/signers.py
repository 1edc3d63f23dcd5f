"""Who signs the documents that speak in the agency's name, and their numbers.

Mẫu 04 (apology and new appointment) and Mẫu 05 (stop / withdrawal notice) are acts of
the commune, not of the counter clerk: Decree 30/2020 wants the signature block of the
person signing for the agency — the authority line ("TM. ỦY BAN NHÂN DÂN"), a
delegation where a deputy signs ("KT. CHỦ TỊCH"), the title ("PHÓ CHỦ TỊCH") and the
name. The block is data (provisioning, F9), per agency and document kind. A kind without
one prints a generic block with "chưa cấu hình người ký" where the name goes, so the
gap is seen before the paper is signed, and the doctor warns.

Numbered documents ("Số: 1007/TB-UBND") take their number from a per-year series of
this PC (the station digit first, as in the dossier code), taken in the transaction that
records the document: offline PCs of one agency never give the same number twice and a
rolled-back document gives its number back. The symbols after the slash are in
``resources/documents/numbering.json``: their wording is the agency's to confirm."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from local_db import repositories as repo
from local_db.models import SignerRow
from sync_contract import settings_rules

log = logging.getLogger(__name__)

MAX_LINE = settings_rules.SIGNER_MAX_LINE
NOT_CONFIGURED = "(chưa cấu hình người ký)"
GENERIC_TITLE = "NGƯỜI ĐỨNG ĐẦU CƠ QUAN"


class SignedKind(StrEnum):
    """Documents signed in the agency's name, by their form number (Circular 03/2025)."""

    APOLOGY = "04"
    STOP_NOTICE = "05"

    @property
    def label_vi(self) -> str:
        return {SignedKind.APOLOGY: "Mẫu 04 — văn bản xin lỗi và đề nghị gia hạn",
                SignedKind.STOP_NOTICE: "Mẫu 05 — thông báo dừng giải quyết hồ sơ"}[self]


class SignerError(DomainError):
    pass


@dataclass(frozen=True)
class SignerBlock:
    authority: str = ""  # "TM. ỦY BAN NHÂN DÂN"
    delegation: str = ""  # "KT. CHỦ TỊCH" when a deputy signs; "" otherwise
    title: str = GENERIC_TITLE  # "CHỦ TỊCH", "PHÓ CHỦ TỊCH"
    name: str = ""

    def title_lines(self) -> list[str]:
        """The lines above the signature, top down (printed in capitals, bold)."""
        return [line for line in (self.authority, self.delegation, self.title) if line]


@dataclass(frozen=True)
class Signature:
    block: SignerBlock
    configured: bool

    @property
    def name_line(self) -> str:
        """What goes under the signature space: the name, or the visible gap."""
        return self.block.name if self.configured else NOT_CONFIGURED


FALLBACK = Signature(SignerBlock(), configured=False)


def check_block(raw: SignerBlock, require_name: bool = True) -> SignerBlock:
    """Trimmed, NFC, signature lines in capitals; refuses what cannot be printed. The
    rules are the province settings' (``settings_rules.signer_problems``); only a block
    the province publishes may leave the name to the commune."""
    problems = settings_rules.signer_problems(
        {"authority": raw.authority, "delegation": raw.delegation, "title": raw.title,
         "name": raw.name}, require_name=require_name)
    if problems:
        raise SignerError(problems[0], f"signer block refused ({len(problems)} problem(s))")
    line = settings_rules.signer_line
    return SignerBlock(line(raw.authority, True), line(raw.delegation, True),
                       line(raw.title, True), line(raw.name, False))


class SignerService:
    def __init__(self, ctx: AppContext, agency_code: str) -> None:
        self.ctx = ctx
        self.agency_code = agency_code

    def get(self, kind: SignedKind) -> Signature:
        with self.ctx.db.read() as s:
            return signature_in(s, self.agency_code, kind)

    def all(self) -> dict[SignedKind, Signature]:
        with self.ctx.db.read() as s:
            return {k: signature_in(s, self.agency_code, k) for k in SignedKind}

    def missing(self) -> list[SignedKind]:
        return [k for k, sig in self.all().items() if not sig.configured]

    def save(self, kind: SignedKind, block: SignerBlock, by: str) -> SignerBlock:
        checked = check_block(block)
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            row = s.get(SignerRow, (self.agency_code, kind.value))
            if row is None:
                row = SignerRow(agency_code=self.agency_code, kind=kind.value)
                s.add(row)
            row.authority, row.delegation = checked.authority, checked.delegation
            row.title, row.name = checked.title, checked.name
            row.updated_at, row.updated_by = now, by
        # Who signs is not citizen data; the name is still left out of the log.
        log.info("signer for form %s set by %s", kind.value, by)
        return checked


def signature_in(s: Session, agency_code: str, kind: SignedKind) -> Signature:
    row = s.scalars(select(SignerRow).where(SignerRow.agency_code == agency_code,
                                            SignerRow.kind == kind.value)).first()
    if row is None or not row.title:
        return FALLBACK
    block = SignerBlock(row.authority, row.delegation, row.title, row.name)
    # The province's block may come without a name (it cannot know each commune's
    # signer): its lines are printed, and the name's place shows the gap.
    return Signature(block, configured=bool(row.name))


# --- numbers ----------------------------------------------------------------------------


@cache
def _symbols() -> dict[str, str]:
    text = (resources.files("resources") / "documents" / "numbering.json").read_text("utf-8")
    data = json.loads(text)
    return {str(k): str(v) for k, v in data["symbols"].items()}


def symbol_for(kind: SignedKind) -> str:
    return _symbols()[kind.value]


def take_number(s: Session, kind: SignedKind, station_digit: int, when: datetime) -> str:
    """The next "Số" of ``kind`` for this PC and year, inside the caller's transaction:
    the station digit, then the year's sequence of this PC (at least 3 digits)."""
    seq = repo.next_counter(s, f"doc-{kind.value}-{station_digit}", date(when.year, 1, 1))
    return f"{station_digit}{seq:03d}/{symbol_for(kind)}"
