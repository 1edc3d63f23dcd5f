"""PDF assembly: images embedded without re-encoding, 100 % scale, metadata, atomic write."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader

from desktop_app.scanning import imaging
from desktop_app.scanning.model import (
    CancelledError,
    CancelToken,
    ColourMode,
    PdfMetadata,
    ProcessedPage,
)
from desktop_app.scanning.pdf_assembly import PRODUCER, XMP_NAMESPACE, write_pdf
from tests.scanning import synthetic

pytestmark = pytest.mark.nodb

DPI = 150
META = PdfMetadata(title="Giấy chứng nhận quyền sử dụng đất",
                   dossier_code="000.00.12.H12-231027-1001",
                   component="Bản sao giấy chứng nhận", clerk="Triệu Thị Hương",
                   created_at_iso="2023-10-27T09:32:00+07:00", agency="UBND xã Nà Phặc")


def _page(path: Path, im: Image.Image, mode: ColourMode, rotation: int = 0) -> ProcessedPage:
    return ProcessedPage(path, path, im.width, im.height, DPI, mode, path.stat().st_size,
                         rotation=rotation)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[ProcessedPage]:
    d = tmp_path_factory.mktemp("pages")
    colour = synthetic.stamp_page(dpi=DPI)
    bw = imaging.to_bilevel(synthetic.text_page(dpi=DPI, lines=10))
    return [_page(imaging.encode(colour, d / "colour", DPI, 80), colour, ColourMode.COLOUR),
            _page(imaging.encode(bw, d / "bw", DPI, 80), bw, ColourMode.BILEVEL, rotation=90)]


def _g4_strip(path: Path) -> bytes:
    with Image.open(path) as im:
        (offset,), (length,) = im.tag_v2[273], im.tag_v2[279]
    return path.read_bytes()[offset:offset + length]


def test_images_are_embedded_as_is(tmp_path: Path, pages: list[ProcessedPage]) -> None:
    out = write_pdf(pages, tmp_path / "ho-so.pdf", META)
    with pikepdf.open(out.path) as pdf:
        (jpeg,) = pdf.pages[0].get_images().values()
        (ccitt,) = pdf.pages[1].get_images().values()
        assert jpeg.Filter == pikepdf.Name.DCTDecode
        assert bytes(jpeg.read_raw_bytes()) == pages[0].image_path.read_bytes()
        filters = ccitt.Filter if isinstance(ccitt.Filter, pikepdf.Array) else [ccitt.Filter]
        assert list(filters) == [pikepdf.Name.CCITTFaxDecode]
        assert bytes(ccitt.read_raw_bytes()) == _g4_strip(pages[1].image_path)
        assert "JBIG2Decode" not in str(pdf.pages[1].get_images())


def test_page_size_is_100_percent_scale(tmp_path: Path, pages: list[ProcessedPage]) -> None:
    out = write_pdf(pages, tmp_path / "ho-so.pdf", META)
    reader = PdfReader(out.path)
    for page, src in zip(reader.pages, pages, strict=True):
        box = page.mediabox
        assert float(box.width) == pytest.approx(src.width_px / DPI * 72, abs=0.05)
        assert float(box.height) == pytest.approx(src.height_px / DPI * 72, abs=0.05)
    assert reader.pages[1].get("/Rotate") == 90 and reader.pages[0].get("/Rotate") in (None, 0)


def test_metadata_in_docinfo_and_xmp(tmp_path: Path, pages: list[ProcessedPage]) -> None:
    out = write_pdf(pages, tmp_path / "ho-so.pdf", META)
    info = PdfReader(out.path).metadata
    assert info is not None
    assert info.title == META.title
    assert info.author == "Triệu Thị Hương"
    assert info.producer == PRODUCER == "Một Cửa Offline"
    assert "000.00.12.H12-231027-1001" in info.subject
    assert info["/CreationDate"].startswith("D:20231027093200+07")
    with pikepdf.open(out.path) as pdf:
        xmp = pdf.open_metadata()
        assert xmp["dc:title"] == META.title
        assert xmp["pdf:Producer"] == PRODUCER
        assert xmp[f"{{{XMP_NAMESPACE}}}dossierCode"] == META.dossier_code
        assert xmp[f"{{{XMP_NAMESPACE}}}component"] == META.component


def test_sha256_and_no_temporary_files(tmp_path: Path, pages: list[ProcessedPage]) -> None:
    out = write_pdf(pages, tmp_path / "ho-so.pdf", META)
    assert out.sha256 == hashlib.sha256(out.path.read_bytes()).hexdigest()
    assert out.bytes == out.path.stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ho-so.pdf"]
    assert out.path.stat().st_mode & 0o644 == 0o644


def test_bilevel_page_renders_black_on_white(tmp_path: Path) -> None:
    """CCITT polarity is easy to get backwards: render the PDF and look."""
    im = Image.new("L", (600, 400), 255)
    im.paste(0, (100, 100, 500, 140))  # a black bar
    bw = imaging.to_bilevel(im)
    path = imaging.encode(bw, tmp_path / "bar", DPI, 80)
    out = write_pdf([_page(path, bw, ColourMode.BILEVEL)], tmp_path / "bar.pdf", META)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-singlefile", str(out.path),
                    str(tmp_path / "render")], check=True)
    with Image.open(tmp_path / "render.pgm") as rendered:
        assert rendered.getpixel((300, 120)) < 50
        assert rendered.getpixel((300, 300)) > 200


def test_cancel_leaves_nothing_behind(tmp_path: Path, pages: list[ProcessedPage]) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        write_pdf(pages, tmp_path / "huy.pdf", META, token)
    assert list(tmp_path.iterdir()) == []


def test_replacing_an_existing_file_is_atomic(tmp_path: Path,
                                              pages: list[ProcessedPage]) -> None:
    target = tmp_path / "ho-so.pdf"
    target.write_bytes(b"%PDF-1.4 old")
    out = write_pdf(pages[:1], target, META)
    assert PdfReader(out.path).get_num_pages() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ho-so.pdf"]
