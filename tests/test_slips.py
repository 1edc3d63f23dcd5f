"""Printed slips: text extracted from the PDF, and the QR decoded from a rendering."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from pypdf import PdfReader
from reportlab.graphics.barcode.qrencoder import QRErrorCorrectLevel

from desktop_app.documents import fonts
from desktop_app.documents.slip_parts import AgencyHeader, FeeLine, _Qr
from desktop_app.documents.slips import (
    REISSUE_LINE,
    ComponentLine,
    ReceiptData,
    RefusalData,
    SupplementData,
    SupplementItem,
    render_receipt,
    render_refusal,
    render_supplement_request,
)
from desktop_app.domain.errors import DomainError
from desktop_app.scanning.barcodes import decode_qr

pytestmark = pytest.mark.nodb

HEADER = AgencyHeader("UBND xã Nà Phặc", "UBND tỉnh Thái Nguyên", "Nà Phặc")
CODE = "000.00.12.H12-231027-1001"
QR = f"https://dichvucong.example.vn/tra-cuu?ma={CODE}"
LONG_ADDRESS = "Số 7, ngõ 12, đường Hoàng Văn Thụ, tổ dân phố Đồng Tâm, " * 8
DPI = 150
needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                    reason="poppler-utils (pdftoppm) not installed")


def receipt(n_components: int = 2, address: str = "Thôn Nà Lẹng, xã Nà Phặc",
            **changes: object) -> ReceiptData:
    comps = [ComponentLine(f"Giấy tờ số {i + 1}: bản sao sổ hộ khẩu, giấy chứng nhận quyền "
                           "sử dụng đất và tài sản gắn liền với đất", 1, i % 2, 1)
             for i in range(n_components)]
    data = ReceiptData(
        HEADER, CODE, datetime(2023, 10, 27, 9, 32),
        datetime(2023, 11, 3, 9, 32), "Hoàng Thị Mai", "019190001234", address,
        "0912345678", "mai@example.vn", "Cấp Giấy xác nhận tình trạng hôn nhân", "1.004873",
        comps, 1, "05 ngày làm việc", "Tại Bộ phận tiếp nhận và trả kết quả",
        [FeeLine("Lệ phí", 2000)], "01", 12, "Triệu Thị Hương", QR)
    return dataclasses.replace(data, **changes)  # type: ignore[arg-type]


def supplement(**changes: object) -> SupplementData:
    data = SupplementData(
        HEADER, "BS-231027-1001", datetime(2023, 10, 27, 9, 32), "Hoàng Thị Mai",
        "019190001234", "Thôn Nà Lẹng", "0912345678", "Đăng ký khai sinh",
        [SupplementItem("Giấy chứng sinh", "Nộp bản chính"),
         SupplementItem("Tờ khai đăng ký khai sinh", "Ghi đủ họ tên cha, mẹ\nKý, ghi rõ họ tên")],
        "Thiếu giấy chứng sinh", "Luật Hộ tịch số 60/2014/QH13", "Triệu Thị Hương",
        "0208 3888 999")
    return dataclasses.replace(data, **changes)  # type: ignore[arg-type]


def refusal() -> RefusalData:
    return RefusalData(
        HEADER, "TC-231027-1001", datetime(2023, 10, 27, 9, 32), "Hoàng Thị Mai",
        "019190001234", "Thôn Nà Lẹng", "0912345678", "Đăng ký khai sinh",
        "Không thuộc thẩm quyền giải quyết", "Triệu Thị Hương")


def page_texts(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [unicodedata.normalize("NFC", p.extract_text()) for p in reader.pages]


def text_of(pdf: bytes) -> str:
    """Whitespace collapsed: a phrase is found even where the paragraph wrapped it."""
    return re.sub(r"\s+", " ", "\n".join(page_texts(pdf)))


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


# --- receipt text -----------------------------------------------------------------------


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_receipt_text(size: str) -> None:
    pdf = render_receipt(receipt(), size)  # type: ignore[arg-type]
    text = text_of(pdf)
    for expected in ("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", f"Mã hồ sơ: {CODE}",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "UBND TỈNH THÁI NGUYÊN", "UBND XÃ NÀ PHẶC",
                     "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", "Nà Phặc, ngày 27 tháng 10 năm 2023",
                     "tiếp nhận hồ sơ của:", "Hoàng Thị Mai", "019190001234",
                     "Thôn Nà Lẹng, xã Nà Phặc", "0912345678", "mai@example.vn",
                     "Cấp Giấy xác nhận tình trạng hôn nhân", "1.004873",
                     "1. Thành phần hồ sơ nộp gồm:", "Số lượng", "Bản chính",
                     "2. Số lượng hồ sơ: 01 (bộ)", "05 ngày làm việc",
                     "Thời gian nhận hồ sơ: 09 giờ 32 phút, ngày 27 tháng 10 năm 2023",
                     "09 giờ 32 phút, ngày 03 tháng 11 năm 2023",
                     "Đăng ký nhận kết quả tại: Tại Bộ phận tiếp nhận và trả kết quả",
                     "2.000 đồng", "Quyển số: 01", "Số thứ tự: 12",
                     "NGƯỜI NỘP HỒ SƠ", "NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)",
                     "Triệu Thị Hương", COPIES_1, COPIES_2):
        assert expected in text, expected
    assert text.count("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ") == 2  # two copies
    assert "nộp thay cho" not in text


COPIES_1 = "Liên 1: Lưu tại Bộ phận tiếp nhận và trả kết quả"
COPIES_2 = "Liên 2: Giao người nộp hồ sơ"


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_each_copy_starts_on_its_own_page(size: str) -> None:
    texts = page_texts(render_receipt(receipt(1), size))  # type: ignore[arg-type]
    assert len(texts) == 2
    assert COPIES_1 in texts[0] and COPIES_2 not in texts[0]
    assert COPIES_2 in texts[1] and COPIES_1 not in texts[1]
    assert all("Trang 1/1" in t for t in texts)


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_long_receipts_flow_onto_more_pages(size: str) -> None:
    pdf = render_receipt(receipt(15, LONG_ADDRESS), size)  # type: ignore[arg-type]
    texts = page_texts(pdf)
    assert len(texts) >= 4 and len(texts) % 2 == 0  # both copies run to the same length
    half = len(texts) // 2
    first, second = "\n".join(texts[:half]), "\n".join(texts[half:])
    for copy_text in (first, second):
        for i in range(1, 16):
            assert f"Giấy tờ số {i}:" in copy_text, i
        assert "Triệu Thị Hương" in copy_text
        assert "đường Hoàng Văn Thụ" in copy_text
    assert f"Trang 1/{half}" in texts[0] and f"Trang {half}/{half}" in texts[half - 1]
    assert f"Trang 1/{half}" in texts[half]
    assert all(COPIES_1.split(":")[0] in t for t in texts[:half])
    assert all(COPIES_2.split(":")[0] in t for t in texts[half:])
    # The signatures come after the last component, on the copy's last page.
    assert "NGƯỜI TIẾP NHẬN HỒ SƠ" in texts[half - 1]


def test_short_receipt_fits_one_page_per_copy_on_a5() -> None:
    assert pages(render_receipt(receipt(3), "A5")) == 2


def test_owner_named_when_submitted_on_their_behalf() -> None:
    text = text_of(render_receipt(receipt(owner_name="Nguyễn Văn Đức")))
    assert "nộp thay cho: Nguyễn Văn Đức" in text


def test_fees_are_totalled_in_vietnamese_format() -> None:
    fees = [FeeLine("Phí thẩm định", 1_500_000), FeeLine("Lệ phí", 25_000)]
    text = text_of(render_receipt(receipt(fees=fees)))
    assert "Phí thẩm định 1.500.000 đồng" in text
    assert "Tổng cộng: 1.525.000 đồng" in text
    assert "Phí, lệ phí: Không thu" in text_of(render_receipt(receipt(fees=[])))


def test_decomposed_input_is_drawn_composed() -> None:
    nfd = unicodedata.normalize("NFD", "Hoàng Thị Mai")
    assert nfd != "Hoàng Thị Mai"
    pdf = render_receipt(receipt(applicant_name=nfd))
    assert pdf == render_receipt(receipt())  # NFD and NFC input give the same document


def test_empty_optional_fields_print_dotted_blanks() -> None:
    text = text_of(render_receipt(receipt(0, "", phone="", email="", id_number="")))
    assert "Địa chỉ: ……" in text and "Email: ……" in text
    assert "(Không có giấy tờ kèm theo)" in text


def test_markup_characters_in_data_are_escaped() -> None:
    text = text_of(render_receipt(receipt(address="Lô 3 <B> & C")))
    assert "Lô 3 <B> & C" in text


# --- PDF properties ---------------------------------------------------------------------


def test_same_data_gives_identical_bytes() -> None:
    assert render_receipt(receipt()) == render_receipt(receipt())
    assert render_receipt(receipt(), "A5") == render_receipt(receipt(), "A5")
    assert render_supplement_request(supplement()) == render_supplement_request(supplement())
    assert render_refusal(refusal()) == render_refusal(refusal())
    assert render_receipt(receipt()) != render_receipt(receipt(sequence_number=13))


def test_metadata() -> None:
    meta = PdfReader(io.BytesIO(render_receipt(receipt()))).metadata
    assert meta is not None
    assert meta.title == "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
    assert meta.author == "UBND xã Nà Phặc"
    assert meta.subject == CODE


@pytest.mark.parametrize(("size", "expected"), [("A4", (595, 842)), ("A5", (420, 595))])
def test_page_size(size: str, expected: tuple[int, int]) -> None:
    reader = PdfReader(io.BytesIO(render_receipt(receipt(), size)))  # type: ignore[arg-type]
    for page in reader.pages:
        assert (round(page.mediabox.width), round(page.mediabox.height)) == expected


def test_unknown_page_size_is_refused() -> None:
    with pytest.raises(ValueError):
        render_receipt(receipt(), "Letter")  # type: ignore[arg-type]


def test_only_embedded_fonts() -> None:
    for pdf in (render_receipt(receipt()), render_supplement_request(supplement()),
                render_refusal(refusal())):
        reader = PdfReader(io.BytesIO(pdf))
        names = set()
        for page in reader.pages:
            for f in page["/Resources"]["/Font"].values():
                names.add(str(f.get_object()["/BaseFont"]))
        assert names and all("Liberation" in f for f in names), names


# --- QR ---------------------------------------------------------------------------------


def _rasterise(pdf: bytes, tmp: Path, page: int = 1, dpi: int = DPI) -> Image.Image:
    src = tmp / "slip.pdf"
    src.write_bytes(pdf)
    for old in tmp.glob("page*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page),
                    str(src), str(tmp / "page")], check=True)
    with Image.open(next(tmp.glob("page*.png"))) as im:
        im.load()
        return im


@needs_pdftoppm
@pytest.mark.parametrize("size", ["A4", "A5"])
@pytest.mark.parametrize("payload", [QR, CODE, "Mã hồ sơ 000.00.12.H12-231027-1001 — Nà Phặc"])
def test_receipt_qr_decodes_from_a_rendering(size: str, payload: str, tmp_path: Path) -> None:
    image = _rasterise(render_receipt(receipt(qr_payload=payload), size),  # type: ignore[arg-type]
                       tmp_path)
    codes = decode_qr(image)
    assert [c.text for c in codes] == [payload]
    # Printed large enough to scan: the symbol itself at least 22 mm wide.
    _left, top, width, height = codes[0].rect
    assert min(width, height) >= 22 / 25.4 * DPI - 3
    # On page 1, in the upper part (title area).
    assert top < image.height * 0.3


@needs_pdftoppm
def test_second_copy_carries_the_qr_too(tmp_path: Path) -> None:
    image = _rasterise(render_receipt(receipt()), tmp_path, page=2)
    assert [c.text for c in decode_qr(image)] == [QR]


def test_qr_uses_error_correction_m() -> None:
    assert _Qr(QR, 30).error_level == QRErrorCorrectLevel.M


@needs_pdftoppm
@pytest.mark.parametrize("size", ["A4", "A5"])
def test_long_content_stays_inside_the_margins(size: str, tmp_path: Path) -> None:
    unbroken = "X" * 200  # no break opportunity: must be split, not run off the page
    data = receipt(15, LONG_ADDRESS + unbroken, email=f"{'a' * 90}@example.vn",
                   owner_name="Nguyễn Văn Đức " * 6)
    pdf = render_receipt(data, size)  # type: ignore[arg-type]
    for page in range(1, pages(pdf) + 1):
        gray = ImageOps.invert(_rasterise(pdf, tmp_path, page, dpi=60).convert("L"))
        strip = round(5 / 25.4 * 60)  # 5 mm at each side, inside the page margins
        assert gray.crop((gray.width - strip, 0, gray.width, gray.height)).getbbox() is None
        assert gray.crop((0, 0, strip, gray.height)).getbbox() is None
        assert gray.crop((0, gray.height - strip, gray.width, gray.height)).getbbox() is None


# --- Mẫu 02 and Mẫu 03 ------------------------------------------------------------------


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_supplement_text(size: str) -> None:
    pdf = render_supplement_request(supplement(), size)  # type: ignore[arg-type]
    texts = page_texts(pdf)
    assert len(texts) == 2
    text = "\n".join(texts)
    for expected in ("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "Số: BS-231027-1001",
                     "Nà Phặc, ngày 27 tháng 10 năm 2023", "Hoàng Thị Mai", "Đăng ký khai sinh",
                     "Yêu cầu Ông/Bà hoàn thiện hồ sơ gồm những nội dung như sau:",
                     "Giấy chứng sinh", "Nộp bản chính", "Ký, ghi rõ họ tên",
                     "Lý do: Thiếu giấy chứng sinh", "Căn cứ: Luật Hộ tịch số 60/2014/QH13",
                     "Triệu Thị Hương", "0208 3888 999", "NGƯỜI HƯỚNG DẪN"):
        assert expected in text, expected
    assert COPIES_1 in texts[0] and COPIES_2 in texts[1]


def test_supplement_without_phone_or_items() -> None:
    text = text_of(render_supplement_request(supplement(items=[], official_phone="")))
    # The form asks for the official's phone: without one, a blank to fill by hand.
    assert "Triệu Thị Hương, số điện thoại: ……………, thư điện tử: ……………" in text
    assert "(Xem lý do dưới đây)" in text


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_refusal_text(size: str) -> None:
    texts = page_texts(render_refusal(refusal(), size))  # type: ignore[arg-type]
    assert len(texts) == 2
    text = "\n".join(texts)
    for expected in ("PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", "Số: TC-231027-1001",
                     "Không thuộc thẩm quyền giải quyết", "Hoàng Thị Mai", "Đăng ký khai sinh",
                     "Triệu Thị Hương", "Xin thông báo để Ông/Bà được biết và thực hiện"):
        assert expected in text, expected
    assert COPIES_1 in texts[0] and COPIES_2 in texts[1]


# --- fonts ------------------------------------------------------------------------------


def test_register_fonts_is_idempotent() -> None:
    fonts.register_fonts()
    fonts.register_fonts()


def test_missing_fonts_raise_a_domain_error(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setattr(fonts, "_registered", False)
    monkeypatch.setattr(fonts, "fonts_dir", lambda: tmp_path)
    with pytest.raises(DomainError) as err:
        fonts.register_fonts()
    assert "phông chữ" in err.value.message_vi
    assert "LiberationSerif-Regular.ttf" in err.value.detail


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_a_reissued_receipt_says_so_and_keeps_the_original_receipt_time(size: str) -> None:
    """After a supplement: same code and book entry, so the original receipt time stays
    on line 4; the supplement's time on a line of its own; the new appointment on line
    5; the document is dated the day it is issued again."""
    again = receipt(appointment_at=datetime(2023, 11, 13, 16, 0),
                    reissued_at=datetime(2023, 11, 6, 16, 0))
    texts = page_texts(render_receipt(again, size))  # type: ignore[arg-type]
    assert len(texts) == 2  # still one page per copy
    for text in (re.sub(r"\s+", " ", t) for t in texts):
        assert REISSUE_LINE in text
        assert "4. Thời gian nhận hồ sơ: 09 giờ 32 phút, ngày 27 tháng 10 năm 2023" in text
        assert ("Thời gian nhận hồ sơ bổ sung, hoàn thiện: 16 giờ 00 phút, ngày 06 tháng 11 "
                "năm 2023") in text
        assert ("5. Thời gian trả kết quả giải quyết hồ sơ: 16 giờ 00 phút, ngày 13 tháng 11 "
                "năm 2023") in text
        assert "Nà Phặc, ngày 06 tháng 11 năm 2023" in text
        assert "Số thứ tự: 12" in text
    assert REISSUE_LINE not in text_of(render_receipt(receipt()))
