"""QR reading in zbar binary mode: Vietnamese UTF-8 survives; bad files are refused."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageFilter, ImageOps
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as pyzbar_decode

from desktop_app.scanning import barcodes
from desktop_app.scanning.barcodes import BarcodeError, decode_qr, decode_qr_file, make_qr_image

pytestmark = pytest.mark.nodb

CARD = ("019190001234|095123456|Hoàng Thị Mai|12031992|Nữ|"
        "Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên|20042021")
# Short UTF-8 that zbar's encoding guesser takes for Shift-JIS outside binary mode.
SHORT = ["Nữ", "Đặng", "Lẹng", "Ánh", "Phặc", "Bắc Kạn", "Sơn La", "Mường", "ư"]


def test_vietnamese_text_roundtrips() -> None:
    codes = decode_qr(make_qr_image(CARD))
    assert [c.text for c in codes] == [CARD]
    assert codes[0].data == CARD.encode()


@pytest.mark.parametrize("text", SHORT)
def test_short_vietnamese_text_is_not_mangled(text: str) -> None:
    image = make_qr_image(text)
    assert [c.text for c in decode_qr(image)] == [text]
    # The reason for binary mode: plain pyzbar "converts" these bytes.
    if pyzbar_decode(image, symbols=[ZBarSymbol.QRCODE])[0].data == text.encode():
        pytest.skip("this libzbar does not guess Shift-JIS here")


def test_non_utf8_payload_is_reported_as_undecodable() -> None:
    raw = "Hoàng Thị Mai".encode("utf-16-le")
    codes = decode_qr(make_qr_image(raw))
    assert codes[0].data == raw and codes[0].text is None


def test_a_photo_like_copy_still_reads(tmp_path: Path) -> None:
    qr = make_qr_image(CARD, box_size=5).convert("RGB")
    page = Image.new("RGB", (1800, 1400), (236, 232, 220))
    page.paste(qr.rotate(7, expand=True, fillcolor=(236, 232, 220)), (600, 300))
    page = page.filter(ImageFilter.GaussianBlur(1.2))
    path = tmp_path / "card.jpg"
    page.save(path, quality=70)
    assert [c.text for c in decode_qr_file(path)] == [CARD]


def test_noisy_faint_upside_down_copy_reads() -> None:
    qr = make_qr_image(CARD, box_size=4).rotate(180)
    faint = qr.point(lambda v: 150 if v < 128 else 190)  # grey on grey
    noise = Image.effect_noise(faint.size, 12)
    noisy = Image.blend(faint, noise, 0.15)
    assert [c.text for c in decode_qr(noisy)] == [CARD]


def test_large_pages_are_read_downscaled_with_rects_in_page_pixels() -> None:
    page = Image.new("L", (7000, 9900), 255)  # A4 at 850 dpi, 69 MP
    qr = make_qr_image("000.00.12.H12-231027-1001|TK", box_size=40)
    page.paste(qr, (500, 700))
    codes = decode_qr(page)
    assert [c.text for c in codes] == ["000.00.12.H12-231027-1001|TK"]
    left, top, width, _height = codes[0].rect
    quiet = 4 * 40
    assert abs(left - (500 + quiet)) < 60 and abs(top - (700 + quiet)) < 60
    assert abs(width - (qr.width - 2 * quiet)) < 80


def test_large_jpeg_is_decoded_at_reduced_scale(tmp_path: Path) -> None:
    page = Image.new("L", (5200, 7300), 255)
    page.paste(make_qr_image(CARD, box_size=24), (3000, 5000))
    path = tmp_path / "scan.jpg"
    page.save(path, quality=85)
    codes = decode_qr_file(path)
    assert [c.text for c in codes] == [CARD]
    assert codes[0].rect[0] > 2900 and codes[0].rect[1] > 4900


def test_transparent_png_and_negative_codes(tmp_path: Path) -> None:
    qr = make_qr_image(CARD)
    rgba = Image.new("RGBA", qr.size, (0, 0, 0, 0))
    rgba.putalpha(ImageOps.invert(qr))  # black modules, transparent background
    path = tmp_path / "export.png"
    rgba.save(path)
    assert [c.text for c in decode_qr_file(path)] == [CARD]
    assert [c.text for c in decode_qr(ImageOps.invert(qr))] == [CARD]


def test_every_page_of_a_multipage_tiff(tmp_path: Path) -> None:
    pages = [make_qr_image(f"Trang {i} – tờ phân cách") for i in (1, 2)]
    blank = Image.new("L", pages[0].size, 255)
    path = tmp_path / "batch.tif"
    pages[0].save(path, save_all=True, append_images=[blank, pages[1]])
    assert [c.text for c in decode_qr_file(path)] == ["Trang 1 – tờ phân cách",
                                                      "Trang 2 – tờ phân cách"]


def test_no_code_gives_an_empty_list() -> None:
    assert decode_qr(Image.new("RGB", (640, 480), "white")) == []


def test_oversized_images_are_refused(monkeypatch: pytest.MonkeyPatch,
                                      tmp_path: Path) -> None:
    monkeypatch.setattr(barcodes, "MAX_PIXELS", 100_000)
    big = Image.new("L", (400, 400), 255)
    with pytest.raises(BarcodeError) as err:
        decode_qr(big)
    assert "quá lớn" in err.value.message_vi
    path = tmp_path / "big.png"
    big.save(path)
    with pytest.raises(BarcodeError) as err:
        decode_qr_file(path)
    assert "quá lớn" in err.value.message_vi


@pytest.mark.parametrize(("content", "message"), [
    (b"", "không phải ảnh"),
    (b"not an image at all", "không phải ảnh"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "không phải ảnh"),
])
def test_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(content)
    with pytest.raises(BarcodeError) as err:
        decode_qr_file(path)
    assert message in err.value.message_vi
    assert str(path) in err.value.detail


@pytest.mark.parametrize("suffix", ["png", "jpg"])
def test_truncated_and_missing_files(tmp_path: Path, suffix: str) -> None:
    good = tmp_path / f"good.{suffix}"
    make_qr_image(CARD).save(good)
    cut = tmp_path / f"cut.{suffix}"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(BarcodeError) as err:
        decode_qr_file(cut)
    assert "bị hỏng" in err.value.message_vi
    with pytest.raises(BarcodeError) as err:
        decode_qr_file(tmp_path / "missing.png")
    assert "Không tìm thấy" in err.value.message_vi
    with pytest.raises(BarcodeError) as err:
        decode_qr_file(tmp_path)
    assert "thư mục" in err.value.message_vi


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="root and Windows ignore the permission bits")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.png"
    make_qr_image(CARD).save(path)
    path.chmod(0)
    with pytest.raises(BarcodeError) as err:
        decode_qr_file(path)
    assert "quyền" in err.value.message_vi


def test_make_qr_image_shape_and_overflow() -> None:
    image = make_qr_image("A", box_size=3, border=4)
    assert image.mode == "L" and image.width == image.height == (21 + 8) * 3
    assert image.getpixel((0, 0)) == 255 and image.getpixel((4 * 3, 4 * 3)) == 0
    with pytest.raises(BarcodeError) as err:
        make_qr_image("x" * 5000)
    assert "quá dài" in err.value.message_vi
