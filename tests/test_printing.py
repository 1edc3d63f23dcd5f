"""Printing core: the slip PDF through a real CUPS scheduler (a private cupsd), the
Windows GDI path's arithmetic and job loop, Qt's banded fallback, and the printer choice."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.documents.slips import render_receipt
from desktop_app.printers import PrinterChoice, printer_choice
from desktop_app.printing.choose import backend_named, choose_backend
from desktop_app.printing.cups import CupsBackend, lp_command
from desktop_app.printing.errors import JobRefused, PrinterNotFound, PrintServiceDown
from desktop_app.printing.gdi_layout import (
    DM_COPIES,
    DM_ORIENTATION,
    DM_PAPERSIZE,
    DeviceCaps,
    Placement,
    devmode_fields,
    paper_matches,
    place_page,
)
from desktop_app.printing.job import PAPER_POINTS, NoControl, PrintJob, paper_of
from desktop_app.printing.pdf_pages import page_count, page_sizes
from desktop_app.printing.raster_bands import (
    BAND_BUDGET,
    PAGE_BUDGET,
    bands,
    capped_dpi,
    raster_bytes,
)
from desktop_app.printing.windows_gdi import print_on_gdi, windows_gdi_available
from desktop_app.scanning.model import CancelledError, CancelToken
from tests.support.cups_server import CupsServer, job_number, running_cups
from tests.test_slips import receipt

pytestmark = pytest.mark.nodb


def misplacement(a: Any, b: Any, reach: int = 4) -> int:
    """How many pixels image ``a``'s ink is off from ``b``'s: the shift (within
    ``reach``) that lines the ink up best, and the gap between the ink's bounding boxes
    (a page scaled even 1 % would be off by ~10 px at the far edge). A page moved by the
    printer's margin would be tens of pixels off."""
    import numpy as np

    ink_a = np.asarray(a).reshape(a.shape[0], -1)[:, :b.shape[1]] < 128
    ink_b = np.asarray(b).reshape(b.shape[0], -1) < 128

    def box(ink: Any) -> tuple[int, ...]:
        rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
        return rows[0], rows[-1], cols[0], cols[-1]

    scores = {(dy, dx): int((np.roll(np.roll(ink_a, dy, 0), dx, 1) & ink_b).sum())
              for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1)}
    dy, dx = max(scores, key=lambda k: scores[k])
    edges = max(abs(p - q) for p, q in zip(box(ink_a), box(ink_b), strict=True))
    return max(abs(dy), abs(dx), edges)


@pytest.fixture(scope="module")
def slip_a5() -> bytes:
    return render_receipt(receipt(), "A5")


@pytest.fixture(scope="module")
def slip_a4() -> bytes:
    return render_receipt(receipt(), "A4")


@pytest.fixture(scope="module")
def cups() -> Iterator[CupsServer]:
    with running_cups() as server:
        yield server


# --- CUPS: the PDF itself is the job --------------------------------------------------------


def test_lp_is_asked_for_the_paper_at_full_size_collated() -> None:
    args = lp_command(PrintJob(b"%PDF", "Canon_LBP2900", 2, "A5", "Giấy tiếp nhận"))
    assert args[:2] == ["-d", "Canon_LBP2900"]
    pairs = dict(zip(args[2::2], args[3::2], strict=True))
    assert pairs["-n"] == "2" and pairs["-t"] == "Giấy tiếp nhận"
    options = [args[i + 1] for i, a in enumerate(args) if a == "-o"]
    assert {"media=A5", "print-scaling=none", "fit-to-page=false", "collate=true"} <= set(
        options)
    assert "-d" not in lp_command(PrintJob(b"%PDF", "", 1, "A4"))  # the system default


def test_cups_spools_the_slip_pdf_itself_with_copies_and_media(cups: CupsServer,
                                                                slip_a5: bytes) -> None:
    cups.add_printer("quay1")
    outcome = CupsBackend(env=cups.env).print_pdf(
        PrintJob(slip_a5, "quay1", 2, "A5", "Giấy tiếp nhận — 000.00.12.H12-231027-1001"),
        NoControl())
    assert outcome.method == "cups" and outcome.job_id.startswith("quay1-")
    assert outcome.copies == 2 and outcome.pages == 2 and outcome.spool_bytes == len(slip_a5)
    job = job_number(outcome.job_id)
    assert cups.spooled(job) == slip_a5  # the spool is the PDF: ~100 KB, not 2 × 133 MB
    attrs = cups.job_attributes(job)
    assert attrs["copies"] == "2"
    assert attrs["media"] == "A5"
    assert attrs["document-format"] == "application/pdf"
    assert attrs["collate"] == "true" and attrs["print-scaling"] == "none"
    assert outcome.note_vi == ""


def test_cups_unknown_printer_is_reported_in_vietnamese(cups: CupsServer,
                                                        slip_a5: bytes) -> None:
    with pytest.raises(PrinterNotFound) as caught:
        CupsBackend(env=cups.env).print_pdf(PrintJob(slip_a5, "may-in-da-go", 1, "A5"),
                                            NoControl())
    assert "Không tìm thấy máy in “may-in-da-go”" in caught.value.message_vi
    assert "does not exist" in caught.value.detail


def test_cups_refusing_printer_is_reported(cups: CupsServer, slip_a5: bytes) -> None:
    cups.add_printer("tu-choi")
    cups.run("cupsreject", "tu-choi")
    with pytest.raises(JobRefused) as caught:
        CupsBackend(env=cups.env).print_pdf(PrintJob(slip_a5, "tu-choi", 1, "A5"),
                                            NoControl())
    assert "đang từ chối nhận lệnh in" in caught.value.message_vi
    assert "not accepting jobs" in caught.value.detail


def test_cups_paused_printer_keeps_the_job_and_says_so(cups: CupsServer,
                                                       slip_a5: bytes) -> None:
    cups.add_printer("tam-dung")
    cups.run("cupsdisable", "tam-dung")
    outcome = CupsBackend(env=cups.env).print_pdf(PrintJob(slip_a5, "tam-dung", 1, "A5"),
                                                  NoControl())
    assert "tạm dừng" in outcome.note_vi
    assert cups.spooled(job_number(outcome.job_id)) == slip_a5


def test_cups_down_is_told_apart_from_a_missing_printer(tmp_path: Path,
                                                        slip_a5: bytes) -> None:
    if shutil.which("lp") is None or shutil.which("lpstat") is None:
        pytest.skip("CUPS client (lp, lpstat) not installed")
    env = {"CUPS_SERVER": str(tmp_path / "no-cupsd.sock"), "PATH": "/usr/bin:/bin"}
    with pytest.raises(PrintServiceDown) as caught:
        CupsBackend(env=env).print_pdf(PrintJob(slip_a5, "quay1", 1, "A5"), NoControl())
    assert "Dịch vụ in của máy tính không chạy" in caught.value.message_vi
    assert "scheduler running: False" in caught.value.detail


def test_missing_lp_is_a_print_service_error(slip_a5: bytes) -> None:
    with pytest.raises(PrintServiceDown) as caught:
        CupsBackend(lp="/nonexistent/lp").print_pdf(PrintJob(slip_a5, "x", 1, "A5"),
                                                    NoControl())
    assert "không chạy" in caught.value.message_vi


# --- raster bands (Qt fallback) -------------------------------------------------------------


@pytest.mark.parametrize(("paper", "device_dpi", "dpi"), [
    ("A4", 600, 200), ("A4", 1200, 200), ("A4", 300, 150),
    ("A5", 600, 300), ("A5", 1200, 300), ("A5", 300, 300),
])
def test_capped_dpi_divides_the_device_resolution_within_the_budget(
        paper: str, device_dpi: int, dpi: int) -> None:
    page = PAPER_POINTS[paper]  # type: ignore[index]
    assert capped_dpi(page, device_dpi) == dpi
    assert device_dpi % dpi == 0
    assert raster_bytes(page, dpi) <= PAGE_BUDGET
    # The old way: a whole page at the device's resolution, 32 bits a pixel.
    assert raster_bytes(PAPER_POINTS["A4"], 600) > 130 * 1024 * 1024


def test_capped_dpi_never_goes_below_legibility() -> None:
    assert capped_dpi(PAPER_POINTS["A4"], 600, budget=1000) == 100


@pytest.mark.parametrize(("width", "height", "budget"),
                         [(1654, 2339, BAND_BUDGET), (1748, 2480, BAND_BUDGET),
                          (100, 7, 400), (4961, 7016, 1)])
def test_bands_cover_each_row_once_within_the_budget(width: int, height: int,
                                                     budget: int) -> None:
    parts = bands(width, height, budget)
    rows = [r for b in parts for r in range(b.top, b.top + b.height)]
    assert rows == list(range(height))
    assert all(b.height * width * 4 <= max(budget, width * 4) for b in parts)


def test_paper_of_page_sizes(slip_a4: bytes, slip_a5: bytes) -> None:
    assert paper_of(*page_sizes(slip_a4)[0]) == "A4"
    assert paper_of(*page_sizes(slip_a5)[0]) == "A5"
    assert paper_of(842, 595) == "A4"  # landscape
    assert page_count(slip_a5) == 2


def test_qt_fallback_prints_bands_that_match_the_whole_page(qapp: Any, tmp_path: Path,
                                                            slip_a4: bytes) -> None:
    """Through Qt's print support into a PDF file (what Qt would spool to CUPS): every
    page is there, drawn from bands no larger than the budget, and the bands add up to
    the page as rendered whole."""
    import pypdfium2 as pdfium
    from PySide6.QtPrintSupport import QPrinter

    from desktop_app.printing.qt_raster import QtRasterBackend

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "spool.pdf"
    printer.setOutputFileName(str(out))
    steps: list[tuple[int, int]] = []

    class Steps(NoControl):
        def progress(self, done: int, total: int, text: str = "") -> None:
            steps.append((done, total))

    backend = QtRasterBackend()
    outcome = backend.print_to(printer, PrintJob(slip_a4, "", 1, "A4"), Steps())
    assert outcome.pages == 2 and outcome.method == "qt-raster"
    assert steps[-1][0] == steps[-1][1] > 2  # more than one band a page
    printed = pdfium.PdfDocument(out.read_bytes())
    original = pdfium.PdfDocument(slip_a4)
    assert len(printed) == 2
    dpi = capped_dpi(PAPER_POINTS["A4"], printer.resolution())
    for i in range(2):
        a = printed[i].render(scale=100 / 72, grayscale=True).to_numpy()
        b = original[i].render(scale=100 / 72, grayscale=True).to_numpy()
        assert a.shape[:2] == b.shape[:2]
        assert misplacement(a, b) <= 1, (i, dpi)  # neither moved nor scaled
    assert out.stat().st_size < 2 * PAGE_BUDGET


def test_qt_fallback_stops_between_bands_when_cancelled(qapp: Any, tmp_path: Path,
                                                       slip_a4: bytes) -> None:
    from PySide6.QtPrintSupport import QPrinter

    from desktop_app.printing.qt_raster import QtRasterBackend

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "spool.pdf"))
    token = CancelToken()

    class CancelAfterTwo(NoControl):
        def progress(self, done: int, total: int, text: str = "") -> None:
            if done == 2:
                token.cancel()

        def check(self) -> None:
            token.raise_if_cancelled()

    with pytest.raises(CancelledError):
        QtRasterBackend().print_to(printer, PrintJob(slip_a4, "", 1, "A4"), CancelAfterTwo())


def test_qt_fallback_unknown_printer(qapp: Any, slip_a5: bytes) -> None:
    from desktop_app.printing.qt_raster import QtRasterBackend

    with pytest.raises(PrinterNotFound):
        QtRasterBackend().print_pdf(PrintJob(slip_a5, "khong-co-may-nay", 1, "A5"),
                                    NoControl())


# --- Windows: pdfium on the printer's device context ----------------------------------------

# GetDeviceCaps of a 600-dpi host-based laser on A5 with the ~4.2 mm unprintable edge
# such printers report (Canon LBP2900's driver class); to be replaced by values recorded
# on a Windows PC (README, "Printing").
LASER_600_A5 = DeviceCaps(dpi_x=600, dpi_y=600, offset_x=100, offset_y=100,
                          paper_w=3496, paper_h=4961)


def test_page_is_placed_at_full_size_from_the_paper_corner() -> None:
    place = place_page(PAPER_POINTS["A5"], LASER_600_A5)
    assert place == Placement(-100, -100, 3496, 4961)
    assert paper_matches("A5", LASER_600_A5)
    assert not paper_matches("A4", LASER_600_A5)
    letter = DeviceCaps(600, 600, 100, 100, 5100, 6600)
    assert not paper_matches("A4", letter)


def test_devmode_asks_for_the_paper_portrait_one_copy() -> None:
    paper, orient, copies, fields = devmode_fields("A5", 0x10)
    assert (paper, orient, copies) == (11, 1, 1)
    assert fields == 0x10 | DM_PAPERSIZE | DM_ORIENTATION | DM_COPIES
    assert devmode_fields("A4", 0)[0] == 9


def test_placement_puts_the_page_where_it_is_on_paper(slip_a5: bytes) -> None:
    """FPDF_RenderPage (Windows) and FPDF_RenderPageBitmap (here) take the same start and
    size: rendering into a printable-area-sized bitmap at the computed placement gives
    the paper's rendering shifted by the unprintable edge — the page is neither scaled
    nor moved."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as c

    caps = DeviceCaps(150, 150, 25, 25, 874, 1240)  # the laser above at 150 dpi
    doc = pdfium.PdfDocument(slip_a5)
    page = doc[0]
    place = place_page(page.get_size(), caps)
    w, h = caps.paper_w - 2 * caps.offset_x, caps.paper_h - 2 * caps.offset_y
    bitmap = pdfium.PdfBitmap.new_native(w, h, c.FPDFBitmap_Gray)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, w, h)
    c.FPDF_RenderPageBitmap(bitmap.raw, page.raw, place.x, place.y, place.width,
                            place.height, 0, c.FPDF_ANNOT | c.FPDF_PRINTING)
    on_dc = bitmap.to_numpy().reshape(h, -1)[:, :w]
    whole = page.render(scale=caps.dpi_x / 72, grayscale=True).to_numpy()
    expected = whole[caps.offset_y:caps.offset_y + h, caps.offset_x:caps.offset_x + w]
    assert on_dc.shape == expected.shape
    assert misplacement(on_dc, expected) <= 1  # rounding of a device pixel
    assert (on_dc < 128).mean() > 0.01  # something was drawn


class RecordingGdi:
    """The Win32 calls, recorded (they cannot run on this system)."""

    def __init__(self, caps: DeviceCaps = LASER_600_A5, fail_on_page: int = -1) -> None:
        self.caps = caps
        self.calls: list[tuple[Any, ...]] = []
        self.fail_on_page = fail_on_page
        self.pages = 0

    def open(self, printer: str, paper: str) -> DeviceCaps:
        self.calls.append(("open", printer, paper))
        return self.caps

    def start_doc(self, title: str) -> None:
        self.calls.append(("start_doc", title))

    def start_page(self) -> None:
        self.calls.append(("start_page",))

    def render(self, page: Any, placement: Placement) -> None:
        if self.pages == self.fail_on_page:
            raise OSError("driver failed")
        self.pages += 1
        text = page.get_textpage().get_text_range()
        self.calls.append(("render", "Liên 1" in text, "Liên 2" in text, placement))

    def end_page(self) -> None:
        self.calls.append(("end_page",))

    def end_doc(self) -> None:
        self.calls.append(("end_doc",))

    def abort_doc(self) -> None:
        self.calls.append(("abort_doc",))

    def close(self) -> None:
        self.calls.append(("close",))


def test_gdi_job_sends_whole_copies_in_order(slip_a5: bytes) -> None:
    gdi = RecordingGdi()
    outcome = print_on_gdi(PrintJob(slip_a5, "Canon LBP2900", 2, "A5", "Phiếu"), gdi,
                           NoControl())
    assert outcome.method == "windows-gdi" and outcome.pages == 2 and outcome.copies == 2
    assert gdi.calls[:2] == [("open", "Canon LBP2900", "A5"), ("start_doc", "Phiếu")]
    renders = [c for c in gdi.calls if c[0] == "render"]
    # Collated: Liên 1, Liên 2, Liên 1, Liên 2 — each at full size from the paper corner.
    assert [(r[1], r[2]) for r in renders] == [(True, False), (False, True)] * 2
    assert {r[3] for r in renders} == {Placement(-100, -100, 3496, 4961)}
    assert gdi.calls[-2:] == [("end_doc",), ("close",)]
    assert gdi.calls.count(("start_page",)) == gdi.calls.count(("end_page",)) == 4


def test_gdi_job_is_aborted_on_cancel_and_on_failure(slip_a5: bytes) -> None:
    token = CancelToken()

    class CancelAfterFirstPage(NoControl):
        def progress(self, done: int, total: int, text: str = "") -> None:
            token.cancel()

        def check(self) -> None:
            token.raise_if_cancelled()

    gdi = RecordingGdi()
    with pytest.raises(CancelledError):
        print_on_gdi(PrintJob(slip_a5, "p", 1, "A5"), gdi, CancelAfterFirstPage())
    assert gdi.calls[-2:] == [("abort_doc",), ("close",)] and ("end_doc",) not in gdi.calls

    failing = RecordingGdi(fail_on_page=1)
    with pytest.raises(OSError):
        print_on_gdi(PrintJob(slip_a5, "p", 1, "A5"), failing, NoControl())
    assert failing.calls[-2:] == [("abort_doc",), ("close",)]


def test_gdi_path_is_off_outside_windows() -> None:
    assert windows_gdi_available() is False
    assert choose_backend("win32", env={}) == "qt-raster"  # no pywin32 here


# --- choosing --------------------------------------------------------------------------------


def test_backend_choice_by_platform_and_override() -> None:
    assert choose_backend("linux", env={"MOTCUA_PRINT_BACKEND": "qt-raster"}) == "qt-raster"
    assert choose_backend("linux", env={"MOTCUA_PRINT_BACKEND": "bogus"}) in ("cups",
                                                                               "qt-raster")
    assert backend_named("cups").name == "cups"
    with pytest.raises(ValueError):
        backend_named("postscript")


def test_printer_choice_prefers_the_provisioned_then_the_default() -> None:
    installed = ["Brother HL-L2321D", "Canon LBP2900"]
    both = printer_choice("Canon LBP2900", installed, "Brother HL-L2321D")
    assert both.preselected == "Canon LBP2900" and not both.provisioned_missing
    gone = printer_choice("Canon LBP3000", installed, "Brother HL-L2321D")
    assert gone.provisioned_missing and gone.preselected == "Brother HL-L2321D"
    assert printer_choice("", installed, "").preselected == "Brother HL-L2321D"
    assert PrinterChoice([], "", "").preselected == ""


def test_job_checks_its_values() -> None:
    with pytest.raises(ValueError):
        PrintJob(b"", "p", 0, "A4")
    with pytest.raises(ValueError):
        PrintJob(b"", "p", 1, "Letter")  # type: ignore[arg-type]
