"""Fallback for platforms with neither CUPS nor the Windows GDI path: Qt's print support,
fed the page in bands at a capped resolution (``raster_bands``).

Runs on a worker thread: Qt allows a QPainter on a QImage or a QPrinter outside the GUI
thread ("Thread-Support in Qt Modules": painting in threads). The bands are rendered by
pypdfium2 rather than QtPdf: QPdfDocument.render's ``scaledClipRect`` offsets every band
but the first by the wrong sign in Qt 6.12 (checked: bands below the top came out of
the wrong part of the page), while pdfium's own start offset is exact."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from desktop_app.printing.errors import PrinterNotFound, PrintError
from desktop_app.printing.job import Control, Paper, PrintJob, PrintOutcome
from desktop_app.printing.pdfium_lock import PDFIUM_LOCK
from desktop_app.printing.raster_bands import (
    BAND_BUDGET,
    PAGE_BUDGET,
    Band,
    bands,
    capped_dpi,
    page_pixels,
)

log = logging.getLogger(__name__)

_PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "A5": QPageSize.PageSizeId.A5}


def make_printer(job: PrintJob) -> QPrinter:
    """A QPrinter for ``job``: the named (or default) printer, paper, copies, full page."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if job.printer:
        if QPrinterInfo.printerInfo(job.printer).isNull():
            raise PrinterNotFound(job.printer, f"QPrinterInfo has no printer {job.printer!r}")
        printer.setPrinterName(job.printer)
    elif QPrinterInfo.defaultPrinter().isNull():
        raise PrintError("Máy tính này chưa có máy in mặc định. Hãy chọn máy in bằng “In…” "
                         "(Ctrl+Shift+P) hoặc báo kỹ thuật viên cài máy in.",
                         "no default printer (QPrinterInfo)")
    printer.setDocName(job.title)
    printer.setCollateCopies(True)
    printer.setCopyCount(job.copies)
    return printer


def render_band(page: Any, width: int, height: int, band: Band) -> QImage:
    """Rows ``band`` of ``page`` rendered at ``width`` × ``height`` pixels: pdfium draws
    the whole page shifted up by ``band.top`` into a band-sized bitmap and clips the rest,
    so no page-sized bitmap exists. 8-bit grey on white (a slip is black and white): a
    quarter of the bytes wherever the engine keeps the image as it is (Qt's PDF spool)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    bitmap = pdfium.PdfBitmap.new_native(width, band.height, pdfium_c.FPDFBitmap_Gray)
    try:
        bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, band.height)
        pdfium_c.FPDF_RenderPageBitmap(bitmap.raw, page.raw, 0, -band.top, width, height, 0,
                                       pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_PRINTING)
        pixels = bytes(bitmap.buffer)
        view = QImage(pixels, width, band.height, bitmap.stride,
                      QImage.Format.Format_Grayscale8)
        return view.copy()  # owns its pixels, unlike ``view`` (a view of ``pixels``)
    finally:
        bitmap.close()


def set_paper(printer: QPrinter, paper: Paper) -> None:
    printer.setPageLayout(QPageLayout(QPageSize(_PAGE_SIZES[paper]),
                                      QPageLayout.Orientation.Portrait,
                                      printer.pageLayout().margins()))
    # After the layout, which would reset it: coordinates from the paper's corner, so the
    # page prints at 100 % where it is on paper, not shifted by the printer's margins.
    printer.setFullPage(True)


class QtRasterBackend:
    name = "qt-raster"

    def __init__(self, page_budget: int = PAGE_BUDGET, band_budget: int = BAND_BUDGET) -> None:
        self.page_budget = page_budget
        self.band_budget = band_budget

    def print_pdf(self, job: PrintJob, control: Control) -> PrintOutcome:
        printer = make_printer(job)
        return self.print_to(printer, job, control)

    def print_to(self, printer: QPrinter, job: PrintJob, control: Control) -> PrintOutcome:
        """Print ``job`` on an already configured ``printer`` (also a PDF-file QPrinter in
        tests and the benchmark)."""
        import pypdfium2 as pdfium

        set_paper(printer, job.paper)
        with PDFIUM_LOCK:
            doc = pdfium.PdfDocument(job.pdf)
            try:
                return self._paint(doc, printer, job, control)
            finally:
                doc.close()

    def _paint(self, doc: Any, printer: QPrinter, job: PrintJob,
               control: Control) -> PrintOutcome:
        pages = len(doc)
        # Where the driver cannot make copies itself, the document is sent that many times.
        loops = 1 if printer.supportsMultipleCopies() else job.copies
        device_dpi = printer.resolution()
        plan = []
        for i in range(pages):
            page_pt = doc[i].get_size()
            dpi = capped_dpi(page_pt, device_dpi, self.page_budget)
            w, h = page_pixels(page_pt, dpi)
            plan.append((i, dpi, w, h, bands(w, h, self.band_budget)))
        total = loops * sum(len(p[4]) for p in plan)
        done = 0
        painter = QPainter()
        if not painter.begin(printer):
            raise PrintError("Không mở được máy in. Hãy kiểm tra máy in (đã bật, còn giấy, đã "
                             "kết nối) rồi in lại; phiếu đã được lưu trong hồ sơ.",
                             f"QPainter.begin failed on {printer.printerName()!r}")
        try:
            first = True
            for _ in range(loops):
                for i, dpi, w, h, page_bands in plan:
                    if not first and not printer.newPage():
                        raise PrintError("Máy in ngừng nhận trang. Hãy kiểm tra máy in rồi in "
                                         "lại.", f"QPrinter.newPage failed at page {i}")
                    first = False
                    scale = device_dpi / dpi
                    page = doc[i]
                    try:
                        for band in page_bands:
                            control.check()
                            image = render_band(page, w, h, band)
                            target = QRectF(0, band.top * scale, w * scale, band.height * scale)
                            painter.drawImage(target, image)
                            done += 1
                            control.progress(done, total, f"Đang in trang {i + 1}/{pages}…")
                    finally:
                        page.close()
        except BaseException:
            printer.abort()
            raise
        finally:
            painter.end()
        log.info("print: %d page(s) to %r via Qt in bands (%s dpi, device %d dpi), %d copies",
                 pages, printer.printerName() or "(default)",
                 "/".join(str(p[1]) for p in plan), device_dpi, job.copies)
        return PrintOutcome(printer.printerName() or job.printer, job.copies, pages, self.name)
