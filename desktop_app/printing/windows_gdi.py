"""Printing on Windows without a page bitmap: pdfium draws each PDF page straight onto
the printer's device context (``FPDF_RenderPage(HDC, …)``, Windows-only in pdfium), so
text, lines and the QR go to the spooler as GDI vector records (EMF) of a few hundred KB,
and a host-based printer's driver rasterises them itself, band by band, in the spooler.

``print_on_gdi`` is the job loop, written against the small ``Gdi`` interface; ``Win32Gdi``
is its only implementation, the one part that needs Windows (pywin32 for the printer and
its DC, pypdfium2's raw binding for the drawing). Imports of both are guarded: on other
systems ``windows_gdi_available()`` is False and nothing here is loaded."""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Any, Protocol

from desktop_app.printing.errors import PrinterNotFound, PrintError, PrintServiceDown
from desktop_app.printing.gdi_layout import (
    LOGPIXELSX,
    LOGPIXELSY,
    PHYSICALHEIGHT,
    PHYSICALOFFSETX,
    PHYSICALOFFSETY,
    PHYSICALWIDTH,
    DeviceCaps,
    Placement,
    devmode_fields,
    paper_matches,
    place_page,
)
from desktop_app.printing.job import Control, Paper, PrintJob, PrintOutcome
from desktop_app.printing.pdfium_lock import PDFIUM_LOCK

log = logging.getLogger(__name__)

# winerror.h
ERROR_INVALID_PRINTER_NAME = 1801
RPC_S_SERVER_UNAVAILABLE = 1722  # the Print Spooler service is stopped
ERROR_CANCELLED = 1223


class Gdi(Protocol):
    """The Win32 calls of one print job on one printer DC."""

    def open(self, printer: str, paper: Paper) -> DeviceCaps: ...
    def start_doc(self, title: str) -> None: ...
    def start_page(self) -> None: ...
    def render(self, page: Any, placement: Placement) -> None: ...
    def end_page(self) -> None: ...
    def end_doc(self) -> None: ...
    def abort_doc(self) -> None: ...
    def close(self) -> None: ...


def print_on_gdi(job: PrintJob, gdi: Gdi, control: Control) -> PrintOutcome:
    with PDFIUM_LOCK:
        return _print_on_gdi(job, gdi, control)


def _print_on_gdi(job: PrintJob, gdi: Gdi, control: Control) -> PrintOutcome:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(job.pdf)
    try:
        pages = len(doc)
        caps = gdi.open(job.printer, job.paper)
        if not paper_matches(job.paper, caps):
            log.warning("printer %r gave a %dx%d px sheet at %d dpi, not %s",
                        job.printer, caps.paper_w, caps.paper_h, caps.dpi_x, job.paper)
        started = False
        try:
            gdi.start_doc(job.title)
            started = True
            total = pages * job.copies
            for copy in range(job.copies):
                for i in range(pages):
                    control.check()
                    page = doc[i]
                    try:
                        gdi.start_page()
                        gdi.render(page, place_page(page.get_size(), caps))
                        gdi.end_page()
                    finally:
                        page.close()
                    control.progress(copy * pages + i + 1, total,
                                     f"Đang gửi trang {i + 1}/{pages} tới máy in…")
            gdi.end_doc()
        except BaseException:
            if started:
                gdi.abort_doc()  # nothing half-printed stays in the queue
            raise
        finally:
            gdi.close()
    finally:
        doc.close()
    log.info("print: %d page(s) x %d to %r via GDI at %d dpi", pages, job.copies,
             job.printer or "(default)", caps.dpi_x)
    return PrintOutcome(job.printer, job.copies, pages, "windows-gdi")


class Win32Gdi:
    """``Gdi`` on a real Windows printer (pywin32 + pypdfium2's raw pdfium binding)."""

    def __init__(self) -> None:
        import pypdfium2.raw as pdfium_c
        import win32gui
        import win32print

        self._c = pdfium_c
        self._gui = win32gui
        self._print = win32print
        self.hdc = 0
        if hasattr(pdfium_c, "FPDF_SetPrintMode"):
            pdfium_c.FPDF_SetPrintMode(pdfium_c.FPDF_PRINTMODE_EMF)  # vectors, not bitmaps

    def open(self, printer: str, paper: Paper) -> DeviceCaps:
        import pywintypes

        name = printer
        try:
            name = printer or self._print.GetDefaultPrinter()
            handle = self._print.OpenPrinter(name)
            try:
                devmode = self._print.GetPrinter(handle, 2)["pDevMode"]
            finally:
                self._print.ClosePrinter(handle)
            (devmode.PaperSize, devmode.Orientation, devmode.Copies,
             devmode.Fields) = devmode_fields(paper, devmode.Fields)
            self.hdc = self._gui.CreateDC("WINSPOOL", name, devmode)
        except pywintypes.error as exc:
            raise _error_of(name, exc) from exc
        cap = self._print.GetDeviceCaps
        return DeviceCaps(cap(self.hdc, LOGPIXELSX), cap(self.hdc, LOGPIXELSY),
                          cap(self.hdc, PHYSICALOFFSETX), cap(self.hdc, PHYSICALOFFSETY),
                          cap(self.hdc, PHYSICALWIDTH), cap(self.hdc, PHYSICALHEIGHT))

    def start_doc(self, title: str) -> None:
        self._call(self._print.StartDoc, self.hdc, (title, None, None, 0))

    def start_page(self) -> None:
        self._call(self._print.StartPage, self.hdc)

    def render(self, page: Any, placement: Placement) -> None:
        hdc = ctypes.cast(ctypes.c_void_p(self.hdc), self._c.HDC) \
            if hasattr(self._c, "HDC") else ctypes.c_void_p(self.hdc)
        self._c.FPDF_RenderPage(hdc, page.raw, placement.x, placement.y, placement.width,
                                placement.height, 0,
                                self._c.FPDF_ANNOT | self._c.FPDF_PRINTING)

    def end_page(self) -> None:
        self._call(self._print.EndPage, self.hdc)

    def end_doc(self) -> None:
        self._call(self._print.EndDoc, self.hdc)

    def abort_doc(self) -> None:
        try:
            self._print.AbortDoc(self.hdc)
        except Exception as exc:  # already failed: the first error is the one reported
            log.warning("AbortDoc failed: %r", exc)

    def close(self) -> None:
        if self.hdc:
            self._gui.DeleteDC(self.hdc)
            self.hdc = 0

    def _call(self, fn: Any, *args: Any) -> None:
        import pywintypes

        try:
            fn(*args)
        except pywintypes.error as exc:
            raise _error_of("", exc) from exc


def _error_of(printer: str, exc: Any) -> PrintError:
    code = getattr(exc, "winerror", None)
    detail = f"{getattr(exc, 'funcname', '')}: winerror {code}: {getattr(exc, 'strerror', exc)}"
    log.error("print to %r via GDI failed: %s", printer or "(default)", detail)
    if code == ERROR_INVALID_PRINTER_NAME:
        return PrinterNotFound(printer, detail)
    if code == RPC_S_SERVER_UNAVAILABLE:
        return PrintServiceDown(detail, windows=True)
    return PrintError("Máy in không nhận lệnh in. Hãy kiểm tra máy in (đã bật, còn giấy, đã "
                      "kết nối) rồi in lại; phiếu đã được lưu trong hồ sơ.", detail)


def windows_gdi_available() -> bool:
    if sys.platform != "win32":
        return False
    try:
        import pypdfium2.raw as pdfium_c
        import win32gui  # noqa: F401
        import win32print  # noqa: F401
    except ImportError as exc:
        log.warning("GDI printing unavailable: %r", exc)
        return False
    return hasattr(pdfium_c, "FPDF_RenderPage")


class WindowsGdiBackend:
    name = "windows-gdi"

    def print_pdf(self, job: PrintJob, control: Control) -> PrintOutcome:
        return print_on_gdi(job, Win32Gdi(), control)
