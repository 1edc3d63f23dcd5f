"""Tracking book and counter dashboard, on a database built through the real services
(intake, digitization), on SQLite and PostgreSQL; the PDF read back with pypdf and the
workbook with openpyxl."""

from __future__ import annotations

import argparse
import io
import json
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select, update

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.commands import report_cmd
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService, link_files
from desktop_app.documents.tracking_book import (
    BookHeader,
    render_tracking_book_pdf,
    render_tracking_book_xlsx,
)
from desktop_app.domain.errors import DomainError
from desktop_app.intake.drafts import PersonInfo
from desktop_app.intake.service import IntakeOutcome, IntakeService
from desktop_app.paths import DataPaths
from desktop_app.report_model import DayCount, ProcedureCount, TrackingBookRow
from desktop_app.reports import ReportService, book_notes, locality_of, percentile
from desktop_app.scanning.model import ColourMode, OutputPart
from desktop_app.startup import open_station
from desktop_app.station import StationService
from local_db.models import ComponentFile, Dossier, DossierComponent, OutboxEntry
from local_db.report_queries import ChangeRecord

from .conftest import TEST_STATION
from .test_intake import TEST_CATALOG, complete_draft

NOW = datetime(2023, 10, 31, 12, 0)
OCT_1, OCT_31 = date(2023, 10, 1), date(2023, 10, 31)

AN = PersonInfo("Đặng Văn Ấn", "019090000001", address="Thôn Nà Lẹng, Xã Nà Phặc, tỉnh Thái "
                "Nguyên", phone="0912 000 001")
ANH = PersonInfo("Nguyễn Thị Ánh", "019190000002",
                 address="Tổ 3, phường Đức Xuân, thành phố Bắc Kạn", phone="0912000002")
# Markup characters must print as they are.
UN = PersonInfo("Lò Văn Ún", "019090000003",
                address="Bản Pác Nặm <b>số 5</b> & 7, THỊ TRẤN CHỢ RÃ, huyện Ba Bể",
                phone="0912000003")
UNG = PersonInfo("Hà Thị Ưng", "019190000004", address="Xóm Nà Mò, Nà Phặc, Thái Nguyên",
                 phone="0912000004")


# --- pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "expected"), [
    ("Thôn Nà Lẹng, Xã Nà Phặc, tỉnh Thái Nguyên", "Xã Nà Phặc"),
    ("Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên", "Xã Nà Phặc"),
    ("Tổ 3, phường Đức Xuân, thành phố Bắc Kạn", "Phường Đức Xuân"),
    ("Bản Pác Nặm, THỊ TRẤN CHỢ RÃ, huyện Ba Bể", "THỊ TRẤN CHỢ RÃ"),
    ("Ban Pac Nam, Thi tran Cho Ra, Bac Kan", "Thi tran Cho Ra"),
    # Decomposed input (a keyboard that types combining marks) is recognised too.
    (unicodedata.normalize("NFD", "Thôn Bản Mòng, Xã Chiềng Cơi, Sơn La"), "Xã Chiềng Cơi"),
    ("Xóm Nà Mò, Nà Phặc, Thái Nguyên", "Nà Phặc"),  # no unit word: second-to-last part
    ("Số 5 Lê Lợi, Hà Nội", ""),  # two parts cannot be told apart
    ("Xã Nà Phặc", "Xã Nà Phặc"),
    ("Thôn Xạ Hương, Nà Phặc, Thái Nguyên", "Nà Phặc"),  # "Xạ" is not "Xã "
    ("", ""),
])
def test_locality_is_the_commune_or_ward_part_of_the_address(address: str,
                                                              expected: str) -> None:
    assert locality_of(address) == unicodedata.normalize("NFC", expected)


def test_notes_say_how_the_dossier_ended_or_stands() -> None:
    """Lateness comes from the one SQL rule (late_condition); the notes only word it."""
    back = datetime(2023, 10, 10, 7, 0)
    assert book_notes(10, False, back, "counter") == "Đúng hạn"
    assert book_notes(10, True, back, "post") == "Trễ hạn; Trả qua bưu chính"
    assert book_notes(2, True, None, "") == "Trễ hạn"
    assert book_notes(2, False, None, "") == ""
    assert book_notes(5, True, None, "") == "Yêu cầu bổ sung; Trễ hạn"
    assert book_notes(7, False, None, "") == "Đã rút hồ sơ"
    assert book_notes(8, False, None, "") == "Dừng xử lý"
    assert book_notes(9, False, None, "") == "Đã có kết quả"
    apology = ChangeRecord(1, "apology", datetime(2026, 12, 9, 17, 0),
                           datetime(2026, 12, 15, 17, 0), "Chờ xác minh",
                           datetime(2026, 12, 10, 9, 0))
    assert book_notes(2, True, None, "", [apology]) == (
        "Trễ hạn; Hẹn lại 15/12/2026 (văn bản xin lỗi 10/12/2026)")


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 95) is None
    assert percentile([60.0, 120.0, 600.0], 95) == 600.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert percentile([5.0], 50) == 5.0


# --- a month at the counter --------------------------------------------------------------


@dataclass
class Month:
    ctx: AppContext
    clerk: ClerkInfo
    out: dict[str, IntakeOutcome]


def _fake_pdf(tmp: Path, name: str) -> OutputPart:
    path = tmp / name
    path.write_bytes(b"%PDF-1.4\n% " + name.encode() + b"\n%%EOF\n")
    return OutputPart(path, 1, path.stat().st_size, 1, 1, 200, (ColourMode.GREY,), "")


def _receive(ctx: AppContext, intake: IntakeService, clerk: ClerkInfo, at: datetime,
             owner: PersonInfo, code: str = "9.000005") -> IntakeOutcome:
    ctx.clock.set(at)  # type: ignore[attr-defined]
    return intake.receive(complete_draft(intake, code, owner), clerk)


def build_month(ctx: AppContext, tmp: Path, link_directly: bool = False) -> Month:
    """October 2023 at the Nà Phặc counter (see the expectations in the tests).

    ``link_directly`` links the digitized files without DigitizationService.attach, whose
    file outbox entries (a 64-character SHA-256 in outbox.entity_id, String(60)) are
    refused by PostgreSQL."""
    StationService(ctx).save(TEST_STATION)
    CatalogService(ctx).import_data(TEST_CATALOG)
    clerk = AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                             Role.CLERK)
    intake = IntakeService(ctx)
    r = lambda at, owner, code="9.000005": _receive(ctx, intake, clerk, at, owner, code)  # noqa: E731
    out = {
        "sep": r(datetime(2023, 9, 29, 10, 0), UNG),  # returned in October, on time
        "d1": r(datetime(2023, 10, 2, 8, 0), AN),  # returned on time, fully digitized
        "d2": r(datetime(2023, 10, 2, 9, 15), ANH, "9.000000"),  # same day, returned late
        "d3": r(datetime(2023, 10, 3, 14, 0), UN),  # still open, late
        "d4": r(datetime(2023, 10, 3, 15, 30), UNG),  # withdrawn
        "d5": r(datetime(2023, 10, 5, 8, 0), AN),  # supplement requested, late
        "d6": r(datetime(2023, 10, 5, 9, 0), ANH),  # processing stopped
    }
    ctx.clock.set(datetime(2023, 10, 5, 9, 30))  # type: ignore[attr-defined]
    intake.refuse(complete_draft(intake, "9.000005", UN), clerk, "Không thuộc thẩm quyền")
    out["d7"] = r(datetime(2023, 10, 30, 10, 0), UN)  # open, not yet due
    out["nov"] = r(datetime(2023, 11, 1, 8, 0), AN)  # after the period

    digit = DigitizationService(ctx)
    ctx.clock.set(datetime(2023, 10, 5, 11, 0))  # type: ignore[attr-defined]

    def attach(key: str, pos: int) -> None:
        files = digit.store([_fake_pdf(tmp, f"{key}-{pos}.pdf")])
        if not link_directly:
            digit.attach(out[key].dossier_id, pos, files, clerk)
            return
        with ctx.db.write() as s:
            comp = s.scalars(select(DossierComponent).where(
                DossierComponent.dossier_id == out[key].dossier_id,
                DossierComponent.position == pos)).one()
            link_files(comp, files, clerk.id, ctx.clock.now())

    attach("d1", 0)  # d1: both provided components digitized
    attach("d1", 1)
    attach("d3", 0)  # d3: the second one is missing
    attach("d5", 0)  # d5: both digitized, then one superseded (no current file)
    attach("d5", 1)
    legacy = digit.store([_fake_pdf(tmp, "d2-legacy.pdf")])[0].sha256

    with ctx.db.write() as s:
        def set_dossier(key: str, **values: object) -> None:
            s.execute(update(Dossier).where(Dossier.id == out[key].dossier_id).values(**values))

        set_dossier("sep", status=10, returned_at=datetime(2023, 10, 2, 16, 0),
                    returned_to="Hà Thị Ưng", return_method="counter")
        set_dossier("d1", status=10, returned_at=datetime(2023, 10, 6, 10, 0),
                    returned_to="Đặng Văn Ấn", return_method="counter")
        # Stored decomposed on purpose: the book must print NFC.
        set_dossier("d2", status=10, returned_at=datetime(2023, 10, 3, 8, 0),
                    returned_to=unicodedata.normalize("NFD", "Nguyễn Thị Ánh"),
                    return_method="post")
        set_dossier("d4", status=7)
        set_dossier("d5", status=5)
        set_dossier("d6", status=8)
        # d2 (same-day procedure): its only component carries a legacy single blob.
        s.execute(update(DossierComponent)
                  .where(DossierComponent.dossier_id == out["d2"].dossier_id)
                  .values(blob_sha256=legacy))
        d5_files = s.scalars(
            select(ComponentFile.id).join(DossierComponent)
            .where(DossierComponent.dossier_id == out["d5"].dossier_id,
                   DossierComponent.position == 1)).all()
        s.execute(update(ComponentFile).where(ComponentFile.id.in_(d5_files))
                  .values(superseded_at=datetime(2023, 10, 6, 9, 0)))
        # The province acknowledged d1 (first message after 60 s, its revision later), d2
        # after 120 s and d3 after 600 s; the others are not synchronised yet.
        for key, lags in (("d1", (60, 3600)), ("d2", (120,)), ("d3", (600,))):
            entries = s.scalars(
                select(OutboxEntry).where(OutboxEntry.entity_type == "dossier",
                                          OutboxEntry.entity_id == out[key].dossier_uuid)
                .order_by(OutboxEntry.id)).all()
            assert entries
            for entry, lag in zip(entries, lags, strict=False):
                entry.state = "sent"
                entry.sent_at = out[key].received_at + timedelta(seconds=lag)
    ctx.clock.set(NOW)  # type: ignore[attr-defined]
    return Month(ctx, clerk, out)


@pytest.fixture
def month(ctx: AppContext, tmp_path: Path) -> Month:
    return build_month(ctx, tmp_path)


def _expected_rows(m: Month) -> list[tuple[object, ...]]:
    o = m.out
    return [
        # number, code, count, owner, locality, notes, status, returned_to
        (2, o["d1"].code, AN.full_name, "Xã Nà Phặc", "Đúng hạn", 10, "Đặng Văn Ấn"),
        (3, o["d2"].code, ANH.full_name, "Phường Đức Xuân", "Trễ hạn; Trả qua bưu chính", 10,
         "Nguyễn Thị Ánh"),
        (4, o["d3"].code, UN.full_name, "THỊ TRẤN CHỢ RÃ", "Trễ hạn", 2, ""),
        (5, o["d4"].code, UNG.full_name, "Nà Phặc", "Đã rút hồ sơ", 7, ""),
        (6, o["d5"].code, AN.full_name, "Xã Nà Phặc", "Yêu cầu bổ sung; Trễ hạn", 5, ""),
        (7, o["d6"].code, ANH.full_name, "Phường Đức Xuân", "Dừng xử lý", 8, ""),
        (8, o["d7"].code, UN.full_name, "THỊ TRẤN CHỢ RÃ", "", 2, ""),
    ]


def test_tracking_book_lists_the_month_in_book_order(month: Month) -> None:
    rows = list(ReportService(month.ctx).tracking_book(OCT_1, OCT_31))
    assert [(r.number, r.code, r.owner, r.locality, r.notes, r.status, r.returned_to)
            for r in rows] == _expected_rows(month)
    first = rows[0]
    assert first.code == "000.00.12.H12-231002-1001"
    assert first.content == "Cấp Giấy xác nhận thử nghiệm năm ngày"
    assert first.count == 1
    assert first.address == "Thôn Nà Lẹng, Xã Nà Phặc, tỉnh Thái Nguyên"
    assert first.phone == "0912000001"
    assert first.clerk == "Triệu Thị Hương"
    assert first.received_at == datetime(2023, 10, 2, 8, 0)
    # DOMAIN.md: five working days from Monday 08:00 is the next Monday 08:00.
    assert first.appointment_at == datetime(2023, 10, 9, 8, 0)
    assert first.returned_at == datetime(2023, 10, 6, 10, 0)
    assert rows[1].appointment_at == datetime(2023, 10, 2, 17, 0)  # same-day procedure
    assert all(unicodedata.is_normalized("NFC", r.returned_to) for r in rows)
    # One day, inclusive end: only that day's dossiers; the refusal has no line.
    assert [r.number for r in ReportService(month.ctx).tracking_book(date(2023, 10, 5),
                                                                     date(2023, 10, 5))] == [6, 7]


def test_dashboard_figures_for_the_month(month: Month) -> None:
    f = ReportService(month.ctx).dashboard(OCT_1, OCT_31)
    assert (f.start, f.end) == (OCT_1, OCT_31)
    assert f.received == 7
    # Returned in October: the September dossier (on time), d1 (on time), d2 (late).
    assert (f.returned, f.returned_on_time) == (3, 2)
    assert f.on_time_rate == pytest.approx(2 / 3)
    assert f.late_open == 2  # d3 and d5; withdrawn d4 and stopped d6 are not late
    assert f.digitized_share == pytest.approx(2 / 7)  # d1 (files) and d2 (legacy blob)
    assert (f.sync_lag_median_s, f.sync_lag_p95_s, f.unsynced) == (120.0, 600.0, 4)
    assert len(f.per_day) == 31
    busy = [d for d in f.per_day if d.received or d.returned]
    assert busy == [DayCount(date(2023, 10, 2), 2, 1), DayCount(date(2023, 10, 3), 2, 1),
                    DayCount(date(2023, 10, 5), 2, 0), DayCount(date(2023, 10, 6), 0, 1),
                    DayCount(date(2023, 10, 30), 1, 0)]
    five_days = ProcedureCount("9.000005", "Cấp Giấy xác nhận thử nghiệm năm ngày", 6, 2)
    same_day = ProcedureCount("9.000000", "Chứng thực thử nghiệm trong ngày", 1, 1)
    assert f.top_procedures == [five_days, same_day]
    assert f.late_by_procedure == [five_days, same_day]
    assert ReportService(month.ctx).refused(OCT_1, OCT_31) == 1


def test_dashboard_depends_on_now_and_on_an_empty_period(month: Month) -> None:
    svc = ReportService(month.ctx)
    early = svc.dashboard(OCT_1, OCT_31, now=datetime(2023, 10, 11, 0, 0))
    assert early.late_open == 1  # d3 (due 10/10); d5 is due on 12/10
    assert early.top_procedures[0].late == 1
    empty = svc.dashboard(date(2023, 8, 1), date(2023, 8, 31))
    assert (empty.received, empty.returned, empty.late_open) == (0, 0, 0)
    assert empty.on_time_rate is None and empty.digitized_share is None
    assert empty.sync_lag_median_s is None and empty.sync_lag_p95_s is None
    assert empty.top_procedures == [] and len(empty.per_day) == 31
    with pytest.raises(DomainError, match="phải trước hoặc trùng"):
        svc.dashboard(OCT_31, OCT_1)


# --- documents ---------------------------------------------------------------------------


def _pdf_pages(path: Path) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(path).pages]


def test_pdf_tracking_book_prints_every_line_readably(month: Month, tmp_path: Path) -> None:
    target = tmp_path / "so.pdf"
    assert ReportService(month.ctx).export_tracking_book(OCT_1, OCT_31, target) == target
    pages = _pdf_pages(target)
    text = "\n".join(pages)
    assert unicodedata.is_normalized("NFC", text)
    flat = " ".join(text.split())  # cells wrap inside their column
    for needle in ("SỔ THEO DÕI HỒ SƠ", "UBND XÃ NÀ PHẶC", "UBND TỈNH THÁI NGUYÊN",
                   "Từ ngày 01/10/2023 đến ngày 31/10/2023", "Quyển số: 01",
                   "Đặng Văn Ấn", "Nguyễn Thị Ánh", "Lò Văn Ún", "Hà Thị Ưng",
                   "Xã Nà Phặc", "Phường Đức Xuân", "THỊ TRẤN CHỢ RÃ", "Triệu Thị Hương",
                   "Trễ hạn", "Đã rút hồ sơ", "Dừng xử lý", "Yêu cầu bổ sung", "Đúng hạn",
                   "<b>số 5</b> & 7", "02/10/2023", "09/10/2023", "Tổng số: 7 hồ sơ",
                   "Trễ hạn; Trả qua bưu chính"):
        assert needle in flat, needle
    assert "&amp;" not in text  # escaped once by nobody, printed as typed
    # Codes are wrapped after a hyphen in their narrow column, never mangled.
    joined = text.replace("-\n", "-")
    for key in ("d1", "d7"):
        assert month.out[key].code in joined
    assert month.out["nov"].code not in joined  # after the period
    assert "Trang 1/\n1" in pages[0] or "Trang 1/1" in pages[0]
    # Deterministic: the same data gives the same bytes.
    again = ReportService(month.ctx).export_tracking_book(OCT_1, OCT_31, tmp_path / "b.pdf")
    assert again.read_bytes() == target.read_bytes()


def _synthetic(n: int) -> Iterator[TrackingBookRow]:
    names = ["Đặng Văn Ấn", "Nguyễn Thị Ánh", "Lò Văn Ún", "Hà Thị Ưng"]
    base = datetime(2023, 10, 2, 7, 30)
    for i in range(n):
        at = base + timedelta(minutes=7 * i)
        yield TrackingBookRow(
            number=i + 1, code=f"000.00.12.H12-{at:%y%m%d}-1{i % 1000:03d}",
            content="Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm "
            "quyền của Việt Nam cấp" if i % 2 else "Đăng ký khai sinh",
            count=1, owner=names[i % 4], address="Thôn Nà Lẹng, Xã Nà Phặc, Thái Nguyên",
            phone="0912345678", received_at=at, appointment_at=at + timedelta(days=5),
            returned_at=None, returned_to="", clerk="Triệu Thị Hương", locality="Xã Nà Phặc",
            notes="", status=2)


HEADER = BookHeader("UBND XÃ NÀ PHẶC", "UBND TỈNH THÁI NGUYÊN", OCT_1, OCT_31, "01")


def test_pdf_of_many_rows_repeats_the_heading_and_numbers_every_page(tmp_path: Path) -> None:
    buf = io.BytesIO()
    stats = render_tracking_book_pdf(_synthetic(400), HEADER, buf)
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(buf.getvalue())).pages]
    assert stats.rows == 400 and stats.pages == len(pages) > 10
    for i, page in enumerate(pages, 1):
        assert "SỔ THEO DÕI HỒ SƠ" in page
        for heading in ("STT", "Mã hồ sơ", "Ngày nhận", "Ngày hẹn trả", "Cán bộ tiếp",
                        "Địa bàn", "Ghi chú"):
            assert heading in page, (i, heading)
        assert f"Trang {i}/\n{len(pages)}" in page or f"Trang {i}/{len(pages)}" in page
    assert "Tổng số: 400 hồ sơ" in pages[-1]
    # Every line number printed once, in order.
    numbers = [int(line.split()[0]) for page in pages for line in page.splitlines()
               if line.split() and line.split()[0].isdigit() and len(line.split()) > 1
               and line.split()[1].startswith("000.00.12.H12-")]
    assert numbers == list(range(1, 401))


def test_pdf_wraps_long_text_and_cuts_absurd_cells(tmp_path: Path) -> None:
    row = next(_synthetic(1))
    huge = TrackingBookRow(**{**row.__dict__, "address": "Thôn Nà Lẹng " * 400,
                              "owner": "Nguyễn" + "A" * 300, "number": 654321})
    buf = io.BytesIO()
    stats = render_tracking_book_pdf(iter([huge, row]), HEADER, buf)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(buf.getvalue())).pages)
    assert stats.pages == 1 and "…" in text and "Tổng số: 2 hồ sơ" in text
    assert "\n654321 " in text  # a year's six-digit sequence number stays on one line


def test_empty_period_prints_one_page_saying_so(month: Month, tmp_path: Path) -> None:
    target = ReportService(month.ctx).export_tracking_book(
        date(2023, 8, 1), date(2023, 8, 31), tmp_path / "trong.pdf")
    pages = _pdf_pages(target)
    assert len(pages) == 1
    assert "Không có hồ sơ nào được tiếp nhận trong kỳ này." in pages[0]


def test_xlsx_tracking_book_has_real_dates_and_a_frozen_heading(month: Month,
                                                                 tmp_path: Path) -> None:
    target = ReportService(month.ctx).export_tracking_book(OCT_1, OCT_31, tmp_path / "so.xlsx")
    wb = load_workbook(target)
    assert wb.sheetnames == ["Sổ theo dõi"]
    ws = wb["Sổ theo dõi"]
    assert ws.freeze_panes == "A7"
    assert ws["A2"].value == "SỔ THEO DÕI HỒ SƠ"
    assert ws["A3"].value == "Quyển số: 01 – Từ ngày 01/10/2023 đến ngày 31/10/2023"
    assert [c.value for c in ws[5]][:4] == ["STT", "Mã hồ sơ", "Tên TTHC / nội dung",
                                           "Số lượng hồ sơ"]
    assert [c.value for c in ws[6]] == [f"({i})" for i in range(1, 14)]  # column numbers
    assert ws.column_dimensions["C"].width == 22
    data = [[c.value for c in row] for row in ws.iter_rows(min_row=7)]
    expected = _expected_rows(month)
    assert [(r[0], r[1], r[4], r[11], r[12] or "") for r in data] == [
        (e[0], e[1], e[2], e[3], e[4]) for e in expected]
    first = ws["G7"]
    assert first.is_date and first.value == datetime(2023, 10, 2, 8, 0)
    assert first.number_format == "dd/mm/yyyy hh:mm"
    assert ws["H7"].value == datetime(2023, 10, 9, 8, 0)
    assert ws["I7"].value == datetime(2023, 10, 6, 10, 0)
    assert ws["I9"].value is None  # d3 not returned
    assert data[1][9] == "Nguyễn Thị Ánh"  # NFC although stored decomposed
    assert data[2][5] == ("Bản Pác Nặm <b>số 5</b> & 7, THỊ TRẤN CHỢ RÃ, huyện Ba Bể; "
                          "ĐT: 0912000003")
    assert ws.auto_filter.ref == "A6:M13"


def test_xlsx_tracking_book_is_ready_to_print() -> None:
    """As the paper form: every table cell boxed and wrapped, the column numbers under
    the headings, both repeated on each printed page, A4 landscape fitted to the width."""
    buf = io.BytesIO()
    render_tracking_book_xlsx(_synthetic(40), HEADER, buf)
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    assert [c.value for c in ws[6]] == [f"({i})" for i in range(1, 14)]
    assert ws.print_title_rows == "$5:$6"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    for row in ws.iter_rows(min_row=5, max_row=6 + 40):
        for cell in row:
            sides = (cell.border.left, cell.border.right, cell.border.top, cell.border.bottom)
            assert all(side.style == "thin" for side in sides), cell.coordinate
    for row in ws.iter_rows(min_row=7, max_row=6 + 40):
        assert all(cell.alignment.wrap_text for cell in row)
    assert ws.max_row == 46
    widths = [ws.column_dimensions[chr(ord("A") + i)].width for i in range(13)]
    # Wide enough for a date and time on one line; about one A4 width at ~85 %.
    assert min(widths[6:9]) >= 13 and 150 <= sum(widths) <= 190


def test_xlsx_keeps_formula_like_text_as_text(tmp_path: Path) -> None:
    row = next(_synthetic(1))
    evil = TrackingBookRow(**{**row.__dict__, "owner": "=HYPERLINK(\"http://x\")",
                              "notes": "a\x00b\x07c"})
    buf = io.BytesIO()
    render_tracking_book_xlsx(iter([evil]), HEADER, buf)
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    assert ws["E7"].value == "=HYPERLINK(\"http://x\")" and ws["E7"].data_type == "s"
    assert ws["M7"].value == "abc"


def test_export_replaces_the_target_only_when_complete(month: Month, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "so.pdf"
    target.write_bytes(b"previous book")
    import desktop_app.reports as reports

    def broken(rows: Iterator[TrackingBookRow], header: BookHeader, out: io.BytesIO) -> None:
        out.write(b"half a PDF")
        raise RuntimeError("disk unplugged")

    monkeypatch.setattr(reports, "render_tracking_book_pdf", broken)
    with pytest.raises(RuntimeError):
        ReportService(month.ctx).export_tracking_book(OCT_1, OCT_31, target)
    assert target.read_bytes() == b"previous book"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    with pytest.raises(DomainError, match="không tồn tại"):
        ReportService(month.ctx).export_tracking_book(OCT_1, OCT_31,
                                                      tmp_path / "missing" / "so.pdf")
    with pytest.raises(DomainError, match="PDF"):
        ReportService(month.ctx).export_tracking_book(OCT_1, OCT_31, tmp_path / "so.csv")


# --- command line --------------------------------------------------------------------------


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="motcua")
    report_cmd.add_parsers(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    return int(args.func(args))


@pytest.fixture
def cli_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             migrated_sqlite: Callable[[Path], None]) -> Path:
    """A data directory with the default database name, as the command line opens it."""
    monkeypatch.delenv("MOTCUA_DB_URL", raising=False)
    data = tmp_path / "cli-data"
    migrated_sqlite(DataPaths(data).database)
    ctx = open_station(data, clock=FixedClock(NOW))
    build_month(ctx, tmp_path)
    ctx.close()
    return data


def test_cli_exports_the_book_and_prints_the_dashboard(
        cli_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    period = ["--from", "2023-10-01", "--to", "2023-10-31", "--data-dir", str(cli_data)]
    for name in ("so.pdf", "so.xlsx"):
        assert _cli("report", "tracking-book", *period, "--out", str(tmp_path / name)) == 0
        assert "Đã xuất sổ theo dõi hồ sơ" in capsys.readouterr().out
    assert len(PdfReader(tmp_path / "so.pdf").pages) == 1
    assert load_workbook(tmp_path / "so.xlsx").active["B7"].value.endswith("-231002-1001")

    assert _cli("report", "dashboard", *period, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["received"], data["returned"], data["refused"]) == (7, 3, 1)
    assert data["start"] == "2023-10-01" and data["per_day"][1]["day"] == "2023-10-02"
    assert data["top_procedures"][0]["code"] == "9.000005"

    assert _cli("report", "dashboard", *period) == 0
    text = capsys.readouterr().out
    assert "Hồ sơ tiếp nhận:            7" in text
    assert "tỉ lệ đúng hạn 66,7 %" in text
    # The command runs on the real clock: by now d7 (due 06/11/2023) is overdue as well.
    assert "Quá hạn chưa trả kết quả:   3" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["tracking-book", "--from", "01/10/2023", "--to", "2023-10-31", "--out", "so.pdf"],
     "không hợp lệ"),
    (["tracking-book", "--from", "2023-10-31", "--to", "2023-10-01", "--out", "so.pdf"],
     "ở sau ngày cuối kỳ"),
    (["tracking-book", "--from", "2023-10-01", "--to", "2023-10-31", "--out", "so.docx"],
     "phải có đuôi .pdf hoặc .xlsx"),
    (["dashboard", "--from", "2023-02-30", "--to", "2023-10-31"], "không hợp lệ"),
])
def test_cli_refuses_bad_input_with_exit_2(
        cli_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
        message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _cli("report", *argv, "--data-dir", str(cli_data)) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "so.pdf").exists()


def test_cli_says_when_the_data_directory_has_no_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTCUA_DB_URL", raising=False)
    assert _cli("report", "dashboard", "--from", "2023-10-01", "--to", "2023-10-31",
                "--data-dir", str(tmp_path / "nowhere")) == 2
    assert "Không có dữ liệu" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()
    assert _cli("report") == 2


# --- PostgreSQL ----------------------------------------------------------------------------


def test_reports_on_postgresql(pg_ctx: AppContext, tmp_path: Path) -> None:
    m = build_month(pg_ctx, tmp_path, link_directly=True)
    svc = ReportService(pg_ctx)
    rows = list(svc.tracking_book(OCT_1, OCT_31))
    assert [(r.number, r.code, r.owner, r.locality, r.notes, r.status, r.returned_to)
            for r in rows] == _expected_rows(m)
    f = svc.dashboard(OCT_1, OCT_31)
    assert (f.received, f.returned, f.returned_on_time, f.late_open, f.unsynced) == (
        7, 3, 2, 2, 4)
    assert f.digitized_share == pytest.approx(2 / 7)
    assert (f.sync_lag_median_s, f.sync_lag_p95_s) == (120.0, 600.0)
    assert [(d.day.day, d.received, d.returned) for d in f.per_day
            if d.received or d.returned] == [(2, 2, 1), (3, 2, 1), (5, 2, 0), (6, 0, 1),
                                             (30, 1, 0)]
    assert [(p.code, p.received, p.late) for p in f.top_procedures] == [
        ("9.000005", 6, 2), ("9.000000", 1, 1)]
    target = svc.export_tracking_book(OCT_1, OCT_31, tmp_path / "pg.xlsx")
    assert load_workbook(target).active.max_row == 13
