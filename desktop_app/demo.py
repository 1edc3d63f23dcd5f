"""A headless demonstration: a fresh station receives a few dossiers through the same
services the counter GUI uses and writes their slips to a folder.

Technicians use it to check an installation (fonts, PDF, database, calendar) without a
display; it is also the quickest way to see what the product prints."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import Clock
from desktop_app.context import AppContext
from desktop_app.domain.citizen_qr import parse_citizen_qr
from desktop_app.domain.fees import FeeCount, PaymentEntry
from desktop_app.fees import fee_key
from desktop_app.intake.drafts import Delivery, IntakeDraft, PersonInfo
from desktop_app.intake.service import IntakeOutcome, IntakeService
from desktop_app.signers import SignedKind, SignerBlock, SignerService
from desktop_app.startup import open_station
from desktop_app.station import StationInfo, StationService

log = logging.getLogger(__name__)

DEMO_PROCEDURES = ("2.000815", "1.004873", "1.001193", "1.000894")

DEMO_STATION = StationInfo(
    agency_code="000.00.12.H12",
    agency_name="UBND XÃ NÀ PHẶC",
    parent_name="UBND TỈNH THÁI NGUYÊN",
    place_name="Nà Phặc",
    station_digit=1,
    receipt_page_size="A4",
    book_number="01",
    tracking_url="https://dichvucong.thainguyen.gov.vn/tra-cuu-ho-so",
)

# Shaped like the QR on the chip ID card: ID|old ID|name|birth|sex|address|issue date.
DEMO_CARDS = (
    "019190001234|095123456|Hoàng Thị Mai|12031992|Nữ|"
    "Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên|20042021",
    "019088004321||Nông Văn Thắng|05111988|Nam|"
    "Tổ dân phố Bản Pá, xã Nà Phặc, tỉnh Thái Nguyên|15082022",
    "019195007788|095987654|Lục Thị Ngọc Ánh|30061995|Nữ|"
    "Thôn Khuổi Ác, xã Nà Phặc, tỉnh Thái Nguyên|01072021",
    "019201009900||Đàm Quốc Khánh|02092001|Nam|"
    "Số 7, đường Quốc lộ 3, xã Nà Phặc, tỉnh Thái Nguyên|10102024",
)


@dataclass
class DemoResult:
    data_dir: Path
    out_dir: Path
    outcomes: list[IntakeOutcome] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir),
            "out_dir": str(self.out_dir),
            "dossiers": [
                {
                    "kind": o.kind.value,
                    "code": o.code,
                    "slip_number": o.slip_number,
                    "status": int(o.status),
                    "received_at": o.received_at.isoformat(sep=" "),
                    "appointment_at": o.appointment_at.isoformat(sep=" ")
                    if o.appointment_at else None,
                    "file": str(f),
                    "bytes": len(o.slip_pdf),
                    "sha256": o.slip_sha256,
                }
                for o, f in zip(self.outcomes, self.files, strict=True)
            ],
        }


def _clerk(ctx: AppContext) -> ClerkInfo:
    accounts = AccountService(ctx)
    if not accounts.has_clerks():
        accounts.create_clerk("kythuat", "Kỹ thuật viên", "kythuat-demo-2026", Role.TECHNICIAN)
        return accounts.create_clerk("tiepnhan", "Triệu Thị Hương", "tiepnhan-demo-2026",
                                     Role.CLERK)
    return accounts.authenticate("tiepnhan", "tiepnhan-demo-2026")


def _draft(catalog: CatalogService, code: str, payload: str, phone: str) -> IntakeDraft:
    proc = catalog.get(code)
    draft = IntakeDraft.for_procedure(proc)
    draft.owner = PersonInfo.from_card(parse_citizen_qr(payload), phone=phone)
    for c in draft.components:
        c.provided = c.required
    # The citizen asks for two copies of a three-page document on a line charged per
    # copy or per page (certified copies, extracts).
    draft.fee_counts = {fee_key(r): [FeeCount(2, 3)] for r in proc.fees if r.counted}
    return draft


def run_demo(out_dir: Path, data_dir: Path, clock: Clock | None = None) -> DemoResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = open_station(data_dir, db_url=f"sqlite:///{data_dir / 'motcua.sqlite3'}",
                       clock=clock)
    try:
        StationService(ctx).save(DEMO_STATION)
        # Who signs forms 04/05 for the demo commune (a real one sets this in F9).
        signers = SignerService(ctx, DEMO_STATION.agency_code)
        signers.save(SignedKind.APOLOGY, SignerBlock("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH",
                                                     "PHÓ CHỦ TỊCH", "Hoàng Văn Thụ"), "demo")
        signers.save(SignedKind.STOP_NOTICE, SignerBlock("TM. ỦY BAN NHÂN DÂN", "",
                                                         "CHỦ TỊCH", "Lường Thị Hoa"), "demo")
        clerk = _clerk(ctx)
        catalog = CatalogService(ctx)
        intake = IntakeService(ctx)
        result = DemoResult(data_dir, out_dir)

        # The most common counter work of a commune: certification, civil status.
        codes = [c for c in DEMO_PROCEDURES if catalog.exists(c)] or [
            p.code for p in catalog.search("", limit=3)
        ]
        for i, code in enumerate(codes):
            draft = _draft(catalog, code, DEMO_CARDS[i % len(DEMO_CARDS)], f"09{i}8123456")
            if i == 1:
                draft.delivery = Delivery.POST
                draft.delivery_address = draft.owner.address
            owed = sum(a.amount for a in intake.assess(draft, catalog.get(code)))
            if owed and i % 2 == 0:  # paid at the counter, against a numbered receipt
                draft.payment = PaymentEntry(owed, f"00{1234 + i}")
            result.outcomes.append(intake.receive(draft, clerk))

        first = codes[0]
        draft = _draft(catalog, first, DEMO_CARDS[2], "0978111222")
        for c in draft.components:
            c.provided = False
        draft.components[0].problem = "Tờ khai chưa ghi đủ thông tin, chưa có chữ ký"
        result.outcomes.append(intake.request_supplement(
            draft, clerk, "Hồ sơ chưa đầy đủ thành phần theo quy định"))

        draft = _draft(catalog, first, DEMO_CARDS[3], "0912000111")
        result.outcomes.append(intake.refuse(
            draft, clerk, "Yêu cầu không thuộc thẩm quyền giải quyết của UBND cấp xã"))

        for o in result.outcomes:
            name = f"{o.reference}.pdf"
            path = out_dir / name
            path.write_bytes(o.slip_pdf)
            result.files.append(path)
        return result
    finally:
        ctx.close()

