"""Who signs Mẫu 04 and 05 for the agency, and their numbers: data, not code; a missing
signer is visible on the paper; numbers never repeat, per PC and per year."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader

from desktop_app.accounts import ClerkInfo
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.intake.returns import ReturnService
from desktop_app.intake.service import IntakeService
from desktop_app.signers import (
    NOT_CONFIGURED,
    SignedKind,
    SignerBlock,
    SignerError,
    SignerService,
    take_number,
)
from desktop_app.station import StationInfo

from .test_intake import complete_draft, intake  # noqa: F401

DEPUTY = SignerBlock("TM. Ủy ban nhân dân", "KT. Chủ tịch", "Phó Chủ tịch", "Hoàng Văn Thụ")


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_signer_is_data_checked_and_kept_per_kind(ctx: AppContext,
                                                   station: StationInfo) -> None:
    signers = SignerService(ctx, station.agency_code)
    assert signers.missing() == [SignedKind.APOLOGY, SignedKind.STOP_NOTICE]
    assert signers.get(SignedKind.APOLOGY).name_line == NOT_CONFIGURED
    saved = signers.save(SignedKind.APOLOGY, DEPUTY, by="Lò Văn Kỹ")
    assert saved.title_lines() == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    assert signers.get(SignedKind.APOLOGY).block == saved
    assert signers.get(SignedKind.APOLOGY).name_line == "Hoàng Văn Thụ"
    assert signers.missing() == [SignedKind.STOP_NOTICE]
    chair = SignerBlock("TM. ỦY BAN NHÂN DÂN", "", "CHỦ TỊCH", "Lường Thị Hoa")
    signers.save(SignedKind.APOLOGY, chair, by="Lò Văn Kỹ")  # the chair signs from now on
    assert signers.get(SignedKind.APOLOGY).block.title_lines() == ["TM. ỦY BAN NHÂN DÂN",
                                                                   "CHỦ TỊCH"]
    with pytest.raises(SignerError, match="chức vụ"):
        signers.save(SignedKind.STOP_NOTICE, SignerBlock("TM. UBND", "", " ", "A"), by="x")
    with pytest.raises(SignerError, match="họ tên"):
        signers.save(SignedKind.STOP_NOTICE, SignerBlock("", "", "CHỦ TỊCH", ""), by="x")
    assert SignerService(ctx, "000.00.99.H99").missing() == list(SignedKind)  # per agency


def test_apology_is_signed_for_the_agency_and_numbered(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
        clock: FixedClock, station: StationInfo) -> None:
    first = intake.receive(complete_draft(intake), clerk)
    second = intake.receive(complete_draft(intake), clerk)
    service = ReturnService(ctx)
    due = service.view(first.dossier_id).appointment_at
    assert due is not None
    clock.set(due + timedelta(hours=1))
    unsigned = text_of(service.apologise(first.dossier_id, "Chờ xác minh", "Tư pháp",
                                         due + timedelta(days=3), clerk).pdf)
    # No signer yet: the generic block, and the gap said on the paper itself.
    assert "NGƯỜI ĐỨNG ĐẦU CƠ QUAN" in unsigned and NOT_CONFIGURED in unsigned
    assert "Số: 1001/PXL-UBND" in unsigned
    SignerService(ctx, station.agency_code).save(SignedKind.APOLOGY, DEPUTY, by="Lò Văn Kỹ")
    signed = text_of(service.apologise(second.dossier_id, "Chờ xác minh", "Tư pháp",
                                       due + timedelta(days=3), clerk).pdf)
    for line in ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Hoàng Văn Thụ",
                 "Số: 1002/PXL-UBND"):
        assert line in signed
    assert NOT_CONFIGURED not in signed and clerk.full_name not in signed


def test_stop_notice_speaks_for_the_agency_not_the_clerk(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
        station: StationInfo) -> None:
    chair = SignerBlock("TM. ỦY BAN NHÂN DÂN", "", "CHỦ TỊCH", "Lường Thị Hoa")
    SignerService(ctx, station.agency_code).save(SignedKind.STOP_NOTICE, chair, by="kt")
    service = ReturnService(ctx)
    a = intake.receive(complete_draft(intake), clerk)
    b = intake.receive(complete_draft(intake), clerk)
    withdrawn = text_of(service.withdraw(a.dossier_id, "Công dân không còn nhu cầu",
                                         clerk).pdf)
    assert "Số: 1001/TB-UBND" in withdrawn and "Lường Thị Hoa" in withdrawn
    assert "CHỦ TỊCH" in withdrawn
    stopped = text_of(service.withdraw(b.dossier_id, "Không còn nhu cầu", clerk).pdf)
    assert "Số: 1002/TB-UBND" in stopped  # Mẫu 05's one series


def test_numbers_are_per_pc_and_per_year_and_given_back_on_rollback(ctx: AppContext) -> None:
    day = datetime(2026, 12, 31, 16, 0)
    with ctx.db.write() as s:
        assert take_number(s, SignedKind.APOLOGY, 1, day) == "1001/PXL-UBND"
        assert take_number(s, SignedKind.APOLOGY, 2, day) == "2001/PXL-UBND"  # another PC
        assert take_number(s, SignedKind.APOLOGY, 1, day) == "1002/PXL-UBND"
        assert take_number(s, SignedKind.STOP_NOTICE, 1, day) == "1001/TB-UBND"
    with pytest.raises(RuntimeError), ctx.db.write() as s:
        assert take_number(s, SignedKind.APOLOGY, 1, day) == "1003/PXL-UBND"
        raise RuntimeError("the document was not recorded")
    with ctx.db.write() as s:
        assert take_number(s, SignedKind.APOLOGY, 1, day) == "1003/PXL-UBND"  # given back
        assert take_number(s, SignedKind.APOLOGY, 1, day + timedelta(days=1)) == \
            "1001/PXL-UBND"  # a new year
