"""Optional OCR text layer: Vietnamese words found where they are drawn, image streams
untouched, failing pages left as images, atomic rewrite, clean absence of the engine."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import img2pdf
import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader

from desktop_app.scanning import imaging, ocr
from desktop_app.scanning.model import (
    CancelledError,
    CancelToken,
    ColourMode,
    PdfMetadata,
    ProcessedPage,
    page_pixels,
)
from desktop_app.scanning.pdf_assembly import write_pdf

pytestmark = pytest.mark.nodb

DPI = 300
FONTS = Path(__file__).resolve().parents[2] / "resources" / "fonts"
META = PdfMetadata(title="Giấy tiếp nhận hồ sơ", dossier_code="000.00.12.H12-231027-1001",
                   created_at_iso="2023-10-27T09:32:00+07:00")
# 16 pt at 300 dpi: large and clean, so the assertions test the layer, not OCR accuracy.
FONT_PX = 67
UPPER = ["Ủy ban nhân dân xã Nà Phặc", "Hồ sơ của ông Nguyễn Văn Hùng",
         "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"]
LOWER = ["Biên nhận số 128 ngày 27 tháng 10", "Người nộp: Trần Thị Thu Hà"]
LEFT_PX = 240  # 0.8 inch: 57.6 pt
UPPER_TOP_PX = 300
LOWER_TOP_PX = 2600

needs_engine = pytest.mark.skipif(
    not ocr.ocr_available("vie"),
    reason="tesseract with Vietnamese data not installed "
           "(apt-get install tesseract-ocr tesseract-ocr-vie)")


def _page_image(lines: list[str], top_px: int) -> Image.Image:
    w, h = page_pixels("A4", DPI)
    im = Image.new("L", (w, h), 244)
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype(str(FONTS / "LiberationSerif-Regular.ttf"), FONT_PX)
    for i, line in enumerate(lines):
        draw.text((LEFT_PX, top_px + i * 2 * FONT_PX), line, font=font, fill=25)
    return im


@dataclass(frozen=True)
class Doc:
    pdf: Path
    images: list[Path]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Doc:
    """Page 1: greyscale JPEG, text in the upper half. Page 2: CCITT G4, text in the lower
    half. Assembled by the application's own writer."""
    d = tmp_path_factory.mktemp("ocr-pages")
    grey = _page_image(UPPER, UPPER_TOP_PX)
    bw = imaging.to_bilevel(_page_image(LOWER, LOWER_TOP_PX))
    pages = []
    for im, stem, mode in ((grey, "p1", ColourMode.GREY), (bw, "p2", ColourMode.BILEVEL)):
        path = imaging.encode(im, d / stem, DPI, 80)
        pages.append(ProcessedPage(path, path, im.width, im.height, DPI, mode,
                                   path.stat().st_size))
    out = write_pdf(pages, d / "ho-so.pdf", META)
    return Doc(out.path, [p.image_path for p in pages])


@pytest.fixture
def doc(built: Doc, tmp_path: Path) -> Doc:
    target = tmp_path / "ho-so.pdf"
    shutil.copyfile(built.pdf, target)
    return Doc(target, built.images)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _image_streams(path: Path) -> list[list[bytes]]:
    with pikepdf.open(path) as pdf:
        return [[bytes(img.read_raw_bytes()) for img in page.get_images().values()]
                for page in pdf.pages]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _lines(path: Path, page: int) -> list[tuple[str, float, float]]:
    """(text, x, y) in page space for each text run pypdf finds on ``page``."""
    found: list[tuple[str, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((_nfc(text), x, y))

    PdfReader(path).pages[page].extract_text(visitor_text=visit)
    return found


def _text(path: Path, page: int) -> str:
    return _nfc(PdfReader(path).pages[page].extract_text())


def _no_temp_files(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


# --- with the engine ---------------------------------------------------------------------------


@needs_engine
def test_words_found_where_drawn_and_images_untouched(doc: Doc) -> None:
    before = _image_streams(doc.pdf)
    report = ocr.add_text_layer(doc.pdf, doc.images)

    assert report.available
    assert (report.pages_done, report.pages_failed, report.errors) == (2, 0, {})
    assert report.seconds > 0
    page1, page2 = _text(doc.pdf, 0), _text(doc.pdf, 1)
    for word in ("Ủy ban", "Hồ sơ", "Nguyễn", "Phặc", "hẹn trả kết quả"):
        assert word in page1
    for word in ("Biên nhận", "Trần Thị Thu Hà"):
        assert word in page2
    assert "Nguyễn" not in page2

    height = 841.92
    hits = [(x, y) for text, x, y in _lines(doc.pdf, 0) if "Nguyễn" in text]
    assert hits, _lines(doc.pdf, 0)
    x, y = hits[0]
    # The line starts at the left margin and its baseline sits about one line below the
    # drawn top (line 2: top 300 + 134 px, ascent ~60 px, 0.24 pt per px).
    assert x == pytest.approx(LEFT_PX * 72 / DPI, abs=6)
    assert y == pytest.approx(height - (UPPER_TOP_PX + 2 * FONT_PX + 0.9 * FONT_PX) * 0.24,
                              abs=12)
    lower = [y for text, _x, y in _lines(doc.pdf, 1) if "Trần" in text]
    assert lower and lower[0] < height / 2

    # Image data byte for byte as assembled, equal to the encoded files.
    assert _image_streams(doc.pdf) == before
    assert before[0] == [doc.images[0].read_bytes()]
    with pikepdf.open(doc.pdf) as pdf:
        assert pdf.docinfo["/Title"] == META.title  # metadata kept
        assert all(p.mediabox == pdf.pages[0].mediabox for p in pdf.pages)
    assert _no_temp_files(doc.pdf.parent)

    # A second run finds the layer and adds nothing (no doubled text).
    digest = _sha(doc.pdf)
    again = ocr.add_text_layer(doc.pdf, doc.images)
    assert (again.pages_done, again.pages_skipped) == (0, 2)
    assert _sha(doc.pdf) == digest


@needs_engine
def test_bytes_input_and_wrong_dpi_still_land_on_the_page(doc: Doc) -> None:
    """A wrong resolution makes tesseract's page twice the size; the overlay scales it
    back onto the real MediaBox."""
    images = [p.read_bytes() for p in doc.images]
    report = ocr.add_text_layer(doc.pdf, images, dpi_of=[150, 150])
    assert report.pages_done == 2
    assert "Nguyễn" in _text(doc.pdf, 0)
    with pikepdf.open(doc.pdf) as pdf:
        ops = [op for _operands, op in pikepdf.parse_content_stream(pdf.pages[0])]
        matrices = [[float(v) for v in operands]
                    for operands, op in pikepdf.parse_content_stream(pdf.pages[0])
                    if str(op) == "cm"]
    assert ops.count(pikepdf.Operator("Do")) == 2  # the image and the text layer
    assert matrices[-1][0] == pytest.approx(0.5, rel=0.01)
    assert matrices[-1][3] == pytest.approx(0.5, rel=0.01)
    if shutil.which("pdftotext"):  # poppler applies the full matrix chain
        bbox = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", str(doc.pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        line = next(ln for ln in bbox.splitlines() if ">Nguyễn<" in _nfc(ln))
        x_min = float(line.split('xMin="')[1].split('"')[0])
        assert 57.6 < x_min < 400  # inside the page, not at twice the coordinates


@needs_engine
def test_large_page_is_read_from_a_reduced_copy(doc: Doc,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "MAX_OCR_PIXELS", 4_000_000)  # forces the reduced path
    report = ocr.add_text_layer(doc.pdf, doc.images)
    assert report.pages_done == 2
    hits = [y for text, _x, y in _lines(doc.pdf, 0) if "Hồ sơ" in text]
    assert hits and hits[0] > 841.92 / 2
    assert "Nguyễn" in _text(doc.pdf, 0)


@needs_engine
def test_corrupt_page_keeps_its_image_page(doc: Doc) -> None:
    with pikepdf.open(doc.pdf) as pdf:
        page2_before = pdf.pages[1].obj.Contents.read_bytes()
    before = _image_streams(doc.pdf)
    report = ocr.add_text_layer(doc.pdf, [doc.images[0], b"\x89PNG\r\n\x1a\n broken"])

    assert (report.pages_done, report.pages_failed) == (1, 1)
    assert list(report.errors) == [2]
    assert report.errors[2].startswith("Trang 2:")
    assert "giữ nguyên" in report.errors[2]
    assert "1 trang không nhận dạng được" in report.summary_vi
    with pikepdf.open(doc.pdf) as pdf:  # valid, complete, page 2 as it was
        assert len(pdf.pages) == 2
        assert pdf.pages[1].obj.Contents.read_bytes() == page2_before
        assert not ocr._has_layer(pdf.pages[1])
        assert ocr._has_layer(pdf.pages[0])
    assert _image_streams(doc.pdf) == before
    assert "Nguyễn" in _text(doc.pdf, 0)
    assert _text(doc.pdf, 1).strip() == ""


@needs_engine
def test_wrong_image_for_a_page_is_refused(doc: Doc, tmp_path: Path) -> None:
    square = tmp_path / "square.png"
    Image.new("L", (1000, 1000), 255).save(square)
    report = ocr.add_text_layer(doc.pdf, [square, doc.images[1]])
    assert (report.pages_done, report.pages_failed) == (1, 1)
    assert "không khớp" in report.errors[1]


@needs_engine
def test_timeout_leaves_the_file_untouched(doc: Doc) -> None:
    digest = _sha(doc.pdf)
    report = ocr.add_text_layer(doc.pdf, doc.images, timeout_s=0.02)
    assert (report.pages_done, report.pages_failed) == (0, 2)
    assert all("quá 0.02 giây" in msg for msg in report.errors.values())
    assert _sha(doc.pdf) == digest
    assert _no_temp_files(doc.pdf.parent)


@needs_engine
def test_cancel_before_start_keeps_the_file(doc: Doc) -> None:
    digest = _sha(doc.pdf)
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        ocr.add_text_layer(doc.pdf, doc.images, cancel=token)
    assert _sha(doc.pdf) == digest


@needs_engine
def test_page_count_mismatch_is_refused(doc: Doc) -> None:
    with pytest.raises(ocr.OcrError, match="không khớp"):
        ocr.add_text_layer(doc.pdf, doc.images[:1])


# --- without the engine ------------------------------------------------------------------------


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    ocr.clear_cache()
    yield
    ocr.clear_cache()  # later tests probe the real machine again


def test_missing_engine_is_reported_cleanly(doc: Doc, tmp_path: Path, fresh_probe: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("MOTCUA_TESSERACT", "/nonexistent/tesseract")
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(ocr, "WINDOWS_CANDIDATES", ())
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    digest = _sha(doc.pdf)

    assert ocr.find_engine() is None
    assert not ocr.ocr_available()
    report = ocr.add_text_layer(doc.pdf, doc.images)
    assert not report.available
    assert (report.pages_done, report.pages_failed) == (0, 0)
    assert "Tesseract" in report.summary_vi
    assert _sha(doc.pdf) == digest


@pytest.mark.skipif(os.name != "posix", reason="fake engine is a shell script")
def test_engine_without_vietnamese_is_not_available(tmp_path: Path, fresh_probe: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "tesseract"
    fake.write_text("#!/bin/sh\n"
                    'if [ "$1" = "--version" ]; then echo "tesseract 5.3.0"; exit 0; fi\n'
                    'printf \'List of available languages in "/x/" (2):\\neng\\nosd\\n\'\n')
    fake.chmod(0o755)
    monkeypatch.setenv("MOTCUA_TESSERACT", str(fake))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    engine = ocr.find_engine()
    assert engine is not None and engine.binary == fake
    assert engine.languages == frozenset({"eng", "osd"})
    assert ocr.ocr_available("eng")
    assert not ocr.ocr_available("vie")
    assert not ocr.ocr_available("vie+eng")


@pytest.mark.skipif(os.name != "posix", reason="fake engine is a shell script")
def test_tesseract_3_is_refused(tmp_path: Path, fresh_probe: None,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "tesseract"
    fake.write_text("#!/bin/sh\necho 'tesseract 3.05.02' >&2\necho vie >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("MOTCUA_TESSERACT", str(fake))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert ocr.find_engine() is None


def _fake_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    fake = tmp_path / "tesseract"
    fake.write_text("#!/bin/sh\n"
                    'if [ "$1" = "--version" ]; then echo "tesseract 5.3.0"; exit 0; fi\n'
                    'if [ "$1" = "--list-langs" ]; then echo vie; exit 0; fi\n' + body)
    fake.chmod(0o755)
    monkeypatch.setenv("MOTCUA_TESSERACT", str(fake))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    return fake


@pytest.mark.skipif(os.name != "posix", reason="fake engine is a shell script")
def test_cancel_kills_a_running_tesseract(doc: Doc, tmp_path: Path, fresh_probe: None,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A hung engine: the cancel must stop it within a poll interval, not at the timeout
    (an hour here, so only the cancel can end the call)."""
    pids = tmp_path / "engine-pids"
    _fake_engine(tmp_path, monkeypatch, f'echo $$ >> "{pids}"\nexec {shutil.which("sleep")} 3600\n')
    digest = _sha(doc.pdf)
    token = CancelToken()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            ocr.add_text_layer(doc.pdf, doc.images, cancel=token, timeout_s=3600, workers=2)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        for _ in range(3000):  # up to a minute for the engine to start
            if pids.is_file() and pids.read_text().strip():
                break
            time.sleep(0.02)
        assert pids.is_file(), "the engine never started"
        token.cancel()
        worker.join(60)  # generous: the cancel is seen within one poll (0.2 s)
        assert not worker.is_alive(), "the cancel did not stop the engine"
        assert len(outcome) == 1 and isinstance(outcome[0], CancelledError), outcome
        for pid in pids.read_text().split():  # killed and reaped, not left sleeping
            with pytest.raises(ProcessLookupError):
                os.kill(int(pid), 0)
    finally:
        token.cancel()
        for pid in pids.read_text().split() if pids.is_file() else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
    assert _sha(doc.pdf) == digest
    assert _no_temp_files(doc.pdf.parent)


@pytest.mark.skipif(os.name != "posix", reason="fake engine is a shell script")
def test_engine_output_with_images_is_refused(doc: Doc, tmp_path: Path, fresh_probe: None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine that ignores textonly_pdf would add a second copy of the page image."""
    one_page = tmp_path / "one-page.pdf"
    one_page.write_bytes(img2pdf.convert([str(doc.images[0])]))
    _fake_engine(tmp_path, monkeypatch, f'{shutil.which("cat")} "{one_page}"\n')
    digest = _sha(doc.pdf)
    report = ocr.add_text_layer(doc.pdf, doc.images)
    assert (report.pages_done, report.pages_failed) == (0, 2)
    assert all("lớp chữ riêng" in msg for msg in report.errors.values())
    assert _sha(doc.pdf) == digest


@needs_engine
@pytest.mark.skipif(os.name != "posix", reason="the guard around tesseract is a shell script")
def test_no_path_reaches_tesseract_so_a_vietnamese_profile_folder_works(
        doc: Doc, tmp_path: Path, fresh_probe: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Tesseract on Windows cannot open a path outside the ANSI code page, such as a data
    folder or %TEMP% under C:\\Users\\Nguyễn…: the real engine behind a guard that, like
    it, fails on any argument that is not plain ASCII. The PDF, the page images (as files
    and as bytes) and the scratch copies all live under Vietnamese folder names."""
    real = ocr.find_engine()
    assert real is not None
    calls = tmp_path / "calls.txt"
    guard = tmp_path / "bin" / "tesseract"
    guard.parent.mkdir()
    guard.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{calls}"\n'
        'for a in "$@"; do\n'
        "  if printf '%s' \"$a\" | LC_ALL=C grep -q '[^ -~]'; then\n"
        '    echo "Error, cannot read input file $a" >&2; exit 1\n'
        "  fi\n"
        "done\n"
        f'exec "{real.binary}" "$@"\n')
    guard.chmod(0o755)
    monkeypatch.setenv("MOTCUA_TESSERACT", str(guard))
    ocr.clear_cache()
    engine = ocr.find_engine()
    assert engine is not None and engine.binary == guard
    home = tmp_path / "Nguyễn Thị Hằng" / "Dữ liệu một cửa"
    (home / "tạm").mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(home / "tạm"))  # scratch copies here
    monkeypatch.setattr(ocr, "MAX_OCR_PIXELS", 4_000_000)  # so they are made
    pdf = home / "hồ sơ.pdf"
    shutil.copyfile(doc.pdf, pdf)
    page1 = home / f"trang 1{doc.images[0].suffix}"
    shutil.copyfile(doc.images[0], page1)
    assert subprocess.run([str(guard), str(page1), "stdout"], capture_output=True,
                          check=False).returncode == 1  # the guard does refuse such a path

    report = ocr.add_text_layer(pdf, [page1, doc.images[1].read_bytes()])
    assert (report.pages_done, report.pages_failed, report.errors) == (2, 0, {})
    assert "Nguyễn" in _text(pdf, 0) and "Trần Thị Thu Hà" in _text(pdf, 1)
    assert calls.read_text().count("stdin stdout") == 2
    assert list((home / "tạm").iterdir()) == []  # scratch cleaned up


@needs_engine
def test_digitize_with_ocr_profile_gives_a_searchable_pdf_under_the_limit(
        tmp_path: Path) -> None:
    """The pipeline's OCR step: same pages, a text layer, the part's hash updated."""
    from desktop_app.scanning.model import DigitizationRules, PdfMetadata, ScanProfile
    from desktop_app.scanning.pipeline import digitize_document

    src = tmp_path / "don.png"
    _page_image(UPPER, UPPER_TOP_PX).save(src, dpi=(DPI, DPI))
    profile = ScanProfile("ocr", "OCR", dpi=DPI, ocr=True)
    (tmp_path / "out").mkdir()
    (tmp_path / "plain").mkdir()
    result = digitize_document(src, tmp_path / "out", profile, DigitizationRules(),
                               PdfMetadata(title="don"))
    assert result.ok, result.error_vi
    [part] = result.parts
    assert part.sha256 == _sha(part.path) and part.bytes == part.path.stat().st_size
    assert "Nguyễn" in _nfc(_text(part.path, 0))
    assert any("lớp chữ nhận dạng" in a for a in result.actions)
    plain = digitize_document(src, tmp_path / "plain", ScanProfile("p", "P", dpi=DPI),
                              DigitizationRules(), PdfMetadata(title="don"))
    assert _text(plain.parts[0].path, 0).strip() == ""
