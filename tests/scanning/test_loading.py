"""Opening untrusted input files: formats, limits, dpi and refusals with clear messages."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from desktop_app.scanning.loading import (
    CorruptInput,
    EmptyInputFile,
    EncryptedPdf,
    InputFileTooLarge,
    TooManyPixels,
    UnsupportedInput,
    load_image,
    materialize,
    open_document,
    sniff_format,
)
from desktop_app.scanning.model import DigitizationRules
from desktop_app.scanning.profiles import builtin_profile
from tests.scanning import synthetic

pytestmark = pytest.mark.nodb

PROFILE = builtin_profile("a4-auto")
RULES = DigitizationRules()


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return synthetic.text_page(dpi=150, lines=8)


def test_jpeg_records_real_dpi(tmp_path: Path, page: Image.Image) -> None:
    path = synthetic.save_jpeg(page, tmp_path / "to-khai.jpg", dpi=150)
    doc = open_document(path, PROFILE, RULES)
    assert doc.format == "jpeg"
    (p,) = doc.pages
    assert (p.kind, p.dpi, p.dpi_assumed) == ("jpeg", 150, False)
    assert (p.width, p.height) == page.size
    assert "150 dpi" in p.notes[0] and "200" in p.notes[0]  # below the legal minimum


def test_missing_dpi_assumes_profile_and_says_so(tmp_path: Path, page: Image.Image) -> None:
    path = synthetic.save_png(page, tmp_path / "khong-dpi.png", dpi=None)
    (p,) = open_document(path, PROFILE, RULES).pages
    assert (p.dpi, p.dpi_assumed) == (PROFILE.dpi, True)
    assert "khong-dpi.png" in p.notes[0] and "300 dpi" in p.notes[0]


@pytest.mark.parametrize("dpi", [72, 5000])
def test_implausible_dpi_is_replaced(tmp_path: Path, dpi: int) -> None:
    # 72 dpi on a 3720-px-wide scan would be a 1.3 m sheet: a camera default, not a scan;
    # 5000 dpi is above rules.max_dpi. Only the header is read, so no pixel data is needed.
    path = _png_header_only(tmp_path / f"d{dpi}.png", 3720, 5262, dpi=dpi)
    (p,) = open_document(path, PROFILE, RULES).pages
    assert p.dpi == PROFILE.dpi and p.dpi_assumed
    assert f"{dpi} dpi" in p.notes[0]


def test_empty_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "rong.jpg"
    path.write_bytes(b"")
    with pytest.raises(EmptyInputFile, match=r"rong\.jpg"):
        open_document(path, PROFILE, RULES)


def test_unsupported_format_refused_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "anh.jpg"
    path.write_text("đây không phải ảnh", encoding="utf-8")
    with pytest.raises(UnsupportedInput, match=r"anh\.jpg.*không phải JPEG.*hỏng hoặc bị đổi tên"):
        open_document(path, PROFILE, RULES)
    gif = tmp_path / "hinh.gif"
    Image.new("L", (10, 10)).save(gif, "GIF")
    with pytest.raises(UnsupportedInput):
        open_document(gif, PROFILE, RULES)


def test_input_too_large_refused(tmp_path: Path, page: Image.Image) -> None:
    path = synthetic.save_jpeg(page, tmp_path / "lon.jpg", dpi=150)
    with pytest.raises(InputFileTooLarge, match=r"lon\.jpg"):
        open_document(path, PROFILE, DigitizationRules(max_input_bytes=1000))


def _png_header_only(path: Path, width: int, height: int, dpi: int | None = None) -> Path:
    """A PNG whose header claims width×height but holds no pixel data (a bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    phys = b""
    if dpi is not None:
        ppm = round(dpi / 0.0254)
        phys = chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + phys + chunk(b"IEND", b""))
    return path


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_pixel_limit_checked_from_header_before_decoding(tmp_path: Path) -> None:
    bomb = _png_header_only(tmp_path / "bom.png", 20_000, 20_000)  # 400 MP, 57 bytes
    with pytest.raises(TooManyPixels, match=r"bom\.png"):
        open_document(bomb, PROFILE, RULES)
    assert RULES.max_pixels == Image.MAX_IMAGE_PIXELS  # set deliberately, never None
    small_limit = DigitizationRules(max_pixels=1_000_000)
    ok = synthetic.save_png(Image.new("L", (1200, 1000), 255), tmp_path / "vua.png")
    with pytest.raises(TooManyPixels, match="megapixel"):
        open_document(ok, PROFILE, small_limit)


def test_truncated_jpeg_refused_when_decoded(tmp_path: Path, page: Image.Image) -> None:
    full = synthetic.save_jpeg(page, tmp_path / "day-du.jpg", dpi=150)
    cut = tmp_path / "cut-cut.jpg"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    (p,) = open_document(cut, PROFILE, RULES).pages  # the header is intact
    with pytest.raises(CorruptInput, match=r"cut-cut\.jpg.*bị cắt cụt"):
        load_image(p)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF")
def test_garbage_after_magic_refused(tmp_path: Path) -> None:
    path = tmp_path / "hong.tif"
    path.write_bytes(b"II*\x00" + b"\xff" * 200)
    with pytest.raises(CorruptInput, match=r"hong\.tif"):
        open_document(path, PROFILE, RULES)


def test_multipage_tiff_with_g4_bilevel(tmp_path: Path, page: Image.Image) -> None:
    bw = synthetic.bilevel(page)
    path = synthetic.save_multipage_tiff([bw, bw, bw], tmp_path / "fax.tif", dpi=150,
                                         compression="group4")
    doc = open_document(path, PROFILE, RULES)
    assert [p.label for p in doc.pages] == [f"fax.tif, trang {i}" for i in (1, 2, 3)]
    assert all(p.dpi == 150 and p.kind == "raster" for p in doc.pages)
    im = load_image(doc.pages[2])
    assert im.mode == "L" and im.size == page.size
    assert set(np.unique(np.asarray(im)).tolist()) <= {0, 255}


def test_scanner_pdf_pages_are_extracted_byte_for_byte(tmp_path: Path,
                                                       page: Image.Image) -> None:
    path = synthetic.scanner_pdf([page, page.rotate(180)], tmp_path / "scan.pdf", dpi=150)
    doc = open_document(path, PROFILE, RULES)
    assert [(p.kind, p.dpi) for p in doc.pages] == [("pdf-image", 150)] * 2
    extracted = materialize(doc.pages[1], tmp_path / "work")
    assert extracted.kind == "jpeg"
    with pikepdf.open(path) as pdf:
        raw = next(iter(pdf.pages[1].get_images().values())).read_raw_bytes()
    assert extracted.path.read_bytes() == bytes(raw)


def test_born_digital_pdf_is_rendered(tmp_path: Path) -> None:
    path = synthetic.text_pdf(tmp_path / "to-khai.pdf")
    (p,) = open_document(path, PROFILE, RULES).pages
    assert p.kind == "pdf-render" and p.dpi == PROFILE.dpi
    rendered = materialize(p, tmp_path / "work")
    im = load_image(rendered)
    assert abs(im.width - 2480) <= 2 and abs(im.height - 3508) <= 2  # A4 at 300 dpi
    assert min(im.convert("L").getextrema()) < 100  # the text is there


def test_encrypted_pdf_refused(tmp_path: Path, page: Image.Image) -> None:
    plain = synthetic.scanner_pdf([page], tmp_path / "plain.pdf", dpi=150)
    locked = tmp_path / "mat-khau.pdf"
    with pikepdf.open(plain) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(user="1234", owner="5678"))
    with pytest.raises(EncryptedPdf, match=r"mat-khau\.pdf.*mật khẩu"):
        open_document(locked, PROFILE, RULES)


def test_sniff_format() -> None:
    assert sniff_format(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff_format(b"junk\n%PDF-1.7") == "pdf"
    assert sniff_format(b"MM\x00*") == "tiff"
    assert sniff_format(b"GIF89a") is None
