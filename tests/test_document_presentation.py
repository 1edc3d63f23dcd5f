"""Decree 30/2020/NĐ-CP presentation of the printed documents, checked on the PDFs: dates
in words with the decree's leading zeros, the motto's sizes and rule, the margins, the
agency's name in running text, unjustified contact lines, and each receipt copy keeping
its signatures on the page of its last component line."""

from __future__ import annotations

import dataclasses
import io
import re
import unicodedata
from datetime import datetime
from typing import Any

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import HRFlowable

from desktop_app.documents.fonts import SERIF_BOLD, register_fonts
from desktop_app.documents.letters import render_apology
from desktop_app.documents.slip_parts import (
    _LAYOUTS,
    MOTTO_1,
    MOTTO_2,
    AgencyHeader,
    _header,
    _styles,
)
from desktop_app.documents.slips import (
    ComponentLine,
    render_receipt,
    render_receipt_fitted,
    render_refusal,
    render_supplement_request,
)
from desktop_app.documents.wording import agency_in_sentence, date_in_words, time_in_words
from tests.test_letters import apology
from tests.test_slips import receipt, refusal, supplement

pytestmark = pytest.mark.nodb

CAPS = AgencyHeader("UBND XÃ NÀ PHẶC", "UBND TỈNH THÁI NGUYÊN", "Nà Phặc")


def page_texts(pdf: bytes) -> list[str]:
    return [unicodedata.normalize("NFC", p.extract_text())
            for p in PdfReader(io.BytesIO(pdf)).pages]


def flat(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", "\n".join(page_texts(pdf)))


def numbered(n: int) -> list[ComponentLine]:
    return [ComponentLine(f"Giấy tờ số {i}: bản sao sổ hộ khẩu, giấy chứng nhận quyền sử "
                          "dụng đất và tài sản gắn liền với đất", 1, i % 2, 1)
            for i in range(1, n + 1)]


# --- wording ----------------------------------------------------------------------------


@pytest.mark.parametrize(("when", "words"), [
    (datetime(2026, 2, 5), "ngày 05 tháng 02 năm 2026"),
    (datetime(2026, 3, 15), "ngày 15 tháng 3 năm 2026"),
    (datetime(2026, 1, 31), "ngày 31 tháng 01 năm 2026"),
    (datetime(2026, 12, 9), "ngày 09 tháng 12 năm 2026"),
    (datetime(2026, 10, 10), "ngày 10 tháng 10 năm 2026"),
])
def test_dates_in_words_take_the_decrees_leading_zeros(when: datetime, words: str) -> None:
    assert date_in_words(when) == words


def test_time_in_words() -> None:
    assert time_in_words(datetime(2026, 3, 5, 9, 2)) == "09 giờ 02 phút, ngày 05 tháng 3 năm 2026"


@pytest.mark.parametrize(("name", "sentence"), [
    ("UBND XÃ NÀ PHẶC", "Ủy ban nhân dân xã Nà Phặc"),
    ("UBND PHƯỜNG BẾN THÀNH", "Ủy ban nhân dân phường Bến Thành"),
    ("ỦY BAN NHÂN DÂN THỊ TRẤN ĐÌNH LẬP", "Ủy ban nhân dân thị trấn Đình Lập"),
    ("UỶ BAN NHÂN DÂN XÃ ĐẮK R'LẤP", "Ủy ban nhân dân xã Đắk R'Lấp"),
    ("UBND THỊ XÃ SƠN TÂY", "Ủy ban nhân dân thị xã Sơn Tây"),
    ("UBND THÀNH PHỐ HỒ CHÍ MINH", "Ủy ban nhân dân thành phố Hồ Chí Minh"),
    ("UBND PHƯỜNG 12", "Ủy ban nhân dân phường 12"),
    ("UBND XÃ TÂN PHÚ, TỈNH ĐỒNG NAI", "Ủy ban nhân dân xã Tân Phú, tỉnh Đồng Nai"),
    ("UBND xã Nà Phặc", "Ủy ban nhân dân xã Nà Phặc"),  # already as written
    ("Ủy ban nhân dân phường Đống Đa", "Ủy ban nhân dân phường Đống Đa"),
    ("TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG TỈNH LẠNG SƠN",
     "Trung tâm phục vụ hành chính công tỉnh Lạng Sơn"),
    ("  UBND   XÃ  NÀ PHẶC ", "Ủy ban nhân dân xã Nà Phặc"),
    ("", ""),
])
def test_agency_in_sentence(name: str, sentence: str) -> None:
    assert agency_in_sentence(name) == sentence


def test_agency_in_sentence_takes_decomposed_input() -> None:
    assert agency_in_sentence(unicodedata.normalize("NFD", "UBND XÃ NÀ PHẶC")) == \
        "Ủy ban nhân dân xã Nà Phặc"


# --- dates on the documents ------------------------------------------------------------


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_receipt_writes_its_dates_in_words(size: str) -> None:
    pdf = render_receipt(receipt(received_at=datetime(2026, 3, 5, 9, 2),  # type: ignore[arg-type]
                                 appointment_at=datetime(2026, 2, 12, 14, 0)), size)
    text = flat(pdf)
    assert "Nà Phặc, ngày 05 tháng 3 năm 2026" in text
    assert "4. Thời gian nhận hồ sơ: 09 giờ 02 phút, ngày 05 tháng 3 năm 2026" in text
    assert ("5. Thời gian trả kết quả giải quyết hồ sơ: 14 giờ 00 phút, ngày 12 tháng 02 "
            "năm 2026") in text
    assert "tháng 03" not in text and "/2026" not in text


def test_letters_write_their_dates_in_words() -> None:
    text = flat(render_apology(apology(issued_at=datetime(2026, 4, 1, 8, 0))))
    assert "Nà Phặc, ngày 01 tháng 4 năm 2026" in text
    assert not re.search(r"ngày \d\d/\d\d/\d{4}", text)


# --- header -----------------------------------------------------------------------------


def _spans(pdf: bytes, page: int = 0) -> list[tuple[str, str, float]]:
    out: list[tuple[str, str, float]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            out.append((text.strip(), str(font.get("/BaseFont", "")) if font else "", size))

    PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return out


@pytest.mark.parametrize(("size", "motto", "motto2"), [("A4", 12, 13), ("A5", 8.5, 9)])
def test_motto_sizes_and_weight(size: str, motto: float, motto2: float) -> None:
    spans = _spans(render_receipt(receipt(), size))  # type: ignore[arg-type]
    first = next(s for s in spans if s[0] == MOTTO_1)  # whole, on one line
    second = next(s for s in spans if s[0] == MOTTO_2)
    assert first[2] == motto and "Bold" in first[1]
    assert second[2] == motto2 and "Bold" in second[1]
    if size == "A4":  # Decree 30: 12–13 pt and 13–14 pt
        assert 12 <= first[2] <= 13 and 13 <= second[2] <= 14


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_motto_rule_is_as_long_as_the_motto(size: str) -> None:
    register_fonts()
    lay = _LAYOUTS[size]
    table = _header(CAPS, datetime(2026, 3, 5), lay, _styles(lay))
    right = table._cellvalues[0][1]
    rule = next(f for f in right if isinstance(f, HRFlowable))
    assert rule.width == pytest.approx(stringWidth(MOTTO_2, SERIF_BOLD, lay.motto2_size))
    # The motto's column holds its first line; both columns fill the text width.
    assert table._colWidths[1] >= stringWidth(MOTTO_1, SERIF_BOLD, lay.motto_size)
    assert sum(table._colWidths) == pytest.approx(lay.width)


def test_a4_margins_are_within_decree_30() -> None:
    lay = _LAYOUTS["A4"]
    assert 30 * mm <= lay.left <= 35 * mm and 15 * mm <= lay.right <= 20 * mm
    assert 20 * mm <= lay.top <= 25 * mm and 20 * mm <= lay.bottom <= 25 * mm
    assert lay.font_size == 13


def test_a5_margins_are_the_a4_ones_scaled_to_the_page() -> None:
    a4, a5 = _LAYOUTS["A4"], _LAYOUTS["A5"]
    ratio = a5.page[0] / a4.page[0]
    for side in ("left", "right", "top", "bottom"):
        assert getattr(a5, side) == pytest.approx(getattr(a4, side) * ratio, abs=1 * mm)


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_text_stays_between_the_margins(size: str) -> None:
    lay = _LAYOUTS[size]
    pdf = render_receipt(receipt(4, header=CAPS), size)  # type: ignore[arg-type]
    page = pdfium.PdfDocument(pdf)[0]
    tp = page.get_textpage()
    boxes = [tp.get_charbox(i) for i in range(tp.count_chars())]
    boxes = [b for b in boxes if b[2] > b[0]]
    assert min(b[0] for b in boxes) >= lay.left - 0.5
    assert max(b[2] for b in boxes) <= lay.page[0] - lay.right + 0.5


# --- agency name in running text --------------------------------------------------------


@pytest.mark.parametrize("render", [
    lambda: render_receipt(receipt(header=CAPS)),
    lambda: render_supplement_request(supplement(header=CAPS)),
    lambda: render_refusal(dataclasses.replace(refusal(), header=CAPS)),
])
def test_agency_written_as_written_in_sentences(render: Any) -> None:
    text = flat(render())
    assert "UBND XÃ NÀ PHẶC" in text  # the header keeps its capitals
    assert "Bộ phận tiếp nhận và trả kết quả Ủy ban nhân dân xã Nà Phặc tiếp nhận hồ sơ " \
           "của:" in text
    assert "kết quả UBND XÃ" not in text


def test_letters_write_the_agency_as_written() -> None:
    text = flat(render_apology(apology(header=CAPS)))
    assert "Ủy ban nhân dân xã Nà Phặc thành thật xin lỗi" in text
    assert "UBND XÃ NÀ PHẶC thành thật" not in text


# --- contact lines ----------------------------------------------------------------------


def _gap_after(pdf: bytes, phrase: str, word: str) -> float:
    """Horizontal gap between ``word`` and the next word in ``phrase`` on page 1, in
    units of the font size."""
    tp = pdfium.PdfDocument(pdf)[0].get_textpage()
    text = tp.get_text_range()
    at = text.find(phrase)
    assert at >= 0, phrase
    last = tp.get_charbox(at + len(word) - 1)
    nxt = tp.get_charbox(at + len(word) + 1)
    return (nxt[0] - last[2]) / (last[3] - last[1])


LONG_EMAIL = "nguyen.thi.hoang.mai.phuong.contact@example-provincial.gov.vn"


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_contact_line_with_a_long_email_is_not_justified(size: str) -> None:
    pdf = render_receipt(receipt(email=LONG_EMAIL), size)  # type: ignore[arg-type]
    assert _gap_after(pdf, "Số điện thoại", "Số") < 0.5  # an ordinary space
    assert LONG_EMAIL in flat(pdf)


def test_an_email_longer_than_the_line_wraps_inside_the_margins() -> None:
    email = "a" * 70 + "@" + "b" * 60 + ".gov.vn"
    lay = _LAYOUTS["A5"]
    pdf = render_receipt(receipt(email=email), "A5")
    tp = pdfium.PdfDocument(pdf)[0].get_textpage()
    right = max(tp.get_charbox(i)[2] for i in range(tp.count_chars()))
    assert right <= lay.page[0] - lay.right + 0.5
    assert "a" * 20 in flat(pdf)


# --- receipt copies keep their signatures ----------------------------------------------


def _copies(pdf: bytes) -> list[list[str]]:
    """Pages per copy, by the copy label in the footer."""
    copies: dict[str, list[str]] = {}
    for text in page_texts(pdf):
        label = "Liên 1" if "Liên 1" in text else "Liên 2"
        copies.setdefault(label, []).append(text)
    return [copies["Liên 1"], copies["Liên 2"]]


def _assert_signatures_with_last_line(pdf: bytes, n: int) -> None:
    for copy in _copies(pdf):
        last = next(i for i, t in enumerate(copy) if f"Giấy tờ số {n}:" in t)
        signed = next(i for i, t in enumerate(copy) if "NGƯỜI TIẾP NHẬN HỒ SƠ" in t)
        assert last == signed, (n, last, signed)
        assert "NGƯỜI NỘP HỒ SƠ" in copy[last] and "Triệu Thị Hương" in copy[last]


@pytest.mark.parametrize(("n", "paper"), [(1, "A5"), (4, "A5"), (8, "A4")])
def test_a5_receipt_keeps_each_copy_with_its_signatures(n: int, paper: str) -> None:
    fitted = render_receipt_fitted(receipt(components=numbered(n)), "A5")
    _assert_signatures_with_last_line(fitted.pdf, n)
    assert fitted.page_size == paper and fitted.requested == "A5"
    assert fitted.fell_back_to_a4 == (paper == "A4")
    width = round(PdfReader(io.BytesIO(fitted.pdf)).pages[0].mediabox.width)
    assert width == (595 if paper == "A4" else 420)
    if paper == "A5":  # each copy on one page
        assert [len(c) for c in _copies(fitted.pdf)] == [1, 1]
    assert render_receipt(receipt(components=numbered(n)), "A5") == fitted.pdf


def test_a4_receipt_running_onto_more_pages_keeps_the_last_line_with_the_signatures() -> None:
    fitted = render_receipt_fitted(receipt(components=numbered(15)), "A4")
    assert not fitted.fell_back_to_a4
    assert all(len(c) >= 2 for c in _copies(fitted.pdf))
    _assert_signatures_with_last_line(fitted.pdf, 15)


def test_a5_fallback_is_logged_for_the_technician(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="desktop_app.documents.slips"):
        render_receipt_fitted(receipt(components=numbered(8)), "A5")
    assert "does not fit one A5 page per copy; laid out on A4" in caplog.text
    assert "Hoàng Thị Mai" not in caplog.text


def test_fitted_receipt_is_byte_identical_on_rerender() -> None:
    data = receipt(components=numbered(4))
    assert render_receipt_fitted(data, "A5").pdf == render_receipt_fitted(data, "A5").pdf


# --- the official's contact on Mẫu 02 and 03 --------------------------------------------


def test_supplement_prints_the_officials_phone_and_email() -> None:
    text = flat(render_supplement_request(supplement(official_email="huong@nanphac.gov.vn")))
    assert ("liên hệ với Triệu Thị Hương, số điện thoại: 0208 3888 999, thư điện tử: "
            "huong@nanphac.gov.vn để được hướng dẫn") in text


def test_refusal_prints_the_officials_contact_or_blanks() -> None:
    full = dataclasses.replace(refusal(), official_phone="0912 000 111",
                               official_email="huong@nanphac.gov.vn")
    text = flat(render_refusal(full))
    assert "Triệu Thị Hương, số điện thoại: 0912 000 111, thư điện tử: huong@nanphac.gov.vn" \
        in text
    assert "Triệu Thị Hương, số điện thoại: ……………, thư điện tử: ……………" in \
        flat(render_refusal(refusal()))
