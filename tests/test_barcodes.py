"""QR reading in zbar binary mode: Vietnamese UTF-8 survives; bad files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from desktop_app.scanning.barcodes import BarcodeError, decode_qr, decode_qr_file, make_qr_image

CARD = ("019190001234|095123456|Hoàng Thị Mai|12031992|Nữ|"
        "Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên|20042021")


def test_vietnamese_text_roundtrips() -> None:
    assert [c.text for c in decode_qr(make_qr_image(CARD))] == [CARD]


def test_a_photo_like_copy_still_reads(tmp_path: Path) -> None:
    qr = make_qr_image(CARD, box_size=5).convert("RGB")
    page = Image.new("RGB", (1800, 1400), (236, 232, 220))
    page.paste(qr.rotate(7, expand=True, fillcolor=(236, 232, 220)), (600, 300))
    page = page.filter(ImageFilter.GaussianBlur(1.2))
    path = tmp_path / "card.jpg"
    page.save(path, quality=70)
    assert [c.text for c in decode_qr_file(path)] == [CARD]


def test_large_pages_are_read_downscaled() -> None:
    page = Image.new("L", (7000, 9900), 255)  # A4 at 850 dpi, 69 MP
    page.paste(make_qr_image("000.00.12.H12-231027-1001|TK", box_size=40), (500, 500))
    assert [c.text for c in decode_qr(page)] == ["000.00.12.H12-231027-1001|TK"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "không phải ảnh"),
    (b"not an image at all", "không phải ảnh"),
])
def test_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(content)
    with pytest.raises(BarcodeError) as err:
        decode_qr_file(path)
    assert message in err.value.message_vi


def test_truncated_and_missing_files(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    make_qr_image(CARD).save(good)
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(BarcodeError) as err:
        decode_qr_file(cut)
    assert "bị hỏng" in err.value.message_vi
    with pytest.raises(BarcodeError) as err:
        decode_qr_file(tmp_path / "missing.png")
    assert "Không tìm thấy" in err.value.message_vi
