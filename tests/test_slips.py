"""Printed slips: text extracted from the PDF, and the QR decoded from a rendering."""

from __future__ import annotations

import io
import shutil
import subprocess
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from desktop_app.documents.slips import (
    AgencyHeader,
    ComponentLine,
    FeeLine,
    ReceiptData,
    RefusalData,
    SupplementData,
    SupplementItem,
    render_receipt,
    render_refusal,
    render_supplement_request,
)
from desktop_app.scanning.barcodes import decode_qr

HEADER = AgencyHeader("UBND xã Nà Phặc", "UBND tỉnh Thái Nguyên", "Nà Phặc")
QR = "https://dichvucong.thainguyen.gov.vn/tra-cuu?ma=000.00.12.H12-231027-1001"


def receipt(n_components: int = 2, address: str = "Thôn Nà Lẹng, xã Nà Phặc") -> ReceiptData:
    comps = [ComponentLine(f"Giấy tờ số {i + 1}: bản sao sổ hộ khẩu, giấy chứng nhận quyền "
                           "sử dụng đất và tài sản gắn liền với đất", 1, i % 2, 1)
             for i in range(n_components)]
    return ReceiptData(
        HEADER, "000.00.12.H12-231027-1001", datetime(2023, 10, 27, 9, 32),
        datetime(2023, 11, 3, 9, 32), "Hoàng Thị Mai", "019190001234", address,
        "0912345678", "mai@example.vn", "Cấp Giấy xác nhận tình trạng hôn nhân", "1.004873",
        comps, 1, "05 ngày làm việc", "Tại Bộ phận tiếp nhận và trả kết quả",
        [FeeLine("Lệ phí", 2000)], "01", 12, "Triệu Thị Hương", QR)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_receipt_text(size: str) -> None:
    pdf = render_receipt(receipt(), size)  # type: ignore[arg-type]
    text = text_of(pdf)
    for expected in ("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "000.00.12.H12-231027-1001",
                     "Hoàng Thị Mai", "019190001234", "03/11/2023", "09 giờ 32 phút",
                     "2.000 đồng", "Liên 1", "Liên 2", "Triệu Thị Hương", "Quyển số: 01",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Nà Phặc, ngày 27 tháng 10 năm 2023"):
        assert expected in text, expected
    assert text.count("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ") == 2  # two copies


def test_long_receipts_flow_onto_more_pages() -> None:
    short = render_receipt(receipt(2), "A5")
    long = render_receipt(receipt(15, "Số 7, ngõ 12, " * 20), "A5")
    assert pages(short) == 2
    assert pages(long) > 2
    assert "Giấy tờ số 15" in text_of(long)


def test_same_data_gives_identical_bytes() -> None:
    assert render_receipt(receipt()) == render_receipt(receipt())


def test_only_embedded_fonts() -> None:
    reader = PdfReader(io.BytesIO(render_receipt(receipt())))
    fonts = set()
    for page in reader.pages:
        for f in page["/Resources"]["/Font"].values():
            fonts.add(str(f.get_object()["/BaseFont"]))
    assert fonts and all("Liberation" in f for f in fonts), fonts


def _rasterise(pdf: bytes, tmp: Path) -> Image.Image:
    src = tmp / "slip.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(src),
                    str(tmp / "page")], check=True)
    return Image.open(next(tmp.glob("page*.png")))


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
@pytest.mark.parametrize("size", ["A4", "A5"])
def test_receipt_qr_decodes_from_a_rendering(size: str, tmp_path: Path) -> None:
    image = _rasterise(render_receipt(receipt(), size), tmp_path)  # type: ignore[arg-type]
    assert [c.text for c in decode_qr(image)] == [QR]


def test_supplement_and_refusal_text() -> None:
    sup = render_supplement_request(SupplementData(
        HEADER, "BS-231027-1001", datetime(2023, 10, 27, 9, 32), "Hoàng Thị Mai",
        "019190001234", "Thôn Nà Lẹng", "0912345678", "Đăng ký khai sinh",
        [SupplementItem("Giấy chứng sinh", "Nộp bản chính")], "Thiếu giấy chứng sinh",
        "Luật Hộ tịch số 60/2014/QH13", "Triệu Thị Hương", "0208 3888 999"))
    text = text_of(sup)
    for expected in ("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "BS-231027-1001",
                     "Giấy chứng sinh", "Nộp bản chính", "0208 3888 999", "Liên 2"):
        assert expected in text
    ref = render_refusal(RefusalData(
        HEADER, "TC-231027-1001", datetime(2023, 10, 27, 9, 32), "Hoàng Thị Mai",
        "019190001234", "Thôn Nà Lẹng", "0912345678", "Đăng ký khai sinh",
        "Không thuộc thẩm quyền giải quyết", "Triệu Thị Hương"))
    text = text_of(ref)
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text
    assert "Không thuộc thẩm quyền giải quyết" in text
