"""Where a PDF page goes on a Windows printer's device context, and which DEVMODE values
ask for the paper: the arithmetic of the GDI print path, kept apart from the Win32 calls
so it is checked on any machine.

A printer DC's origin is the corner of the printable area, not of the paper: laser
printers keep about 4–5 mm unprintable at each edge, reported as PHYSICALOFFSETX/Y. To
print the slip at 100 % where reportlab placed it on the sheet, the page is drawn
starting at minus that offset, at the device's own resolution."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.printing.job import Paper

# wingdi.h
DMPAPER: dict[Paper, int] = {"A4": 9, "A5": 11}
DMORIENT_PORTRAIT = 1
DM_ORIENTATION = 0x00000001
DM_PAPERSIZE = 0x00000002
DM_COPIES = 0x00000100
LOGPIXELSX, LOGPIXELSY = 88, 90
PHYSICALWIDTH, PHYSICALHEIGHT = 110, 111
PHYSICALOFFSETX, PHYSICALOFFSETY = 112, 113
# Paper sizes in tenths of a millimetre, to tell whether the driver took the paper asked.
PAPER_MM10: dict[Paper, tuple[int, int]] = {"A4": (2100, 2970), "A5": (1480, 2100)}


@dataclass(frozen=True)
class DeviceCaps:
    """GetDeviceCaps answers of a printer DC, in device pixels."""

    dpi_x: int
    dpi_y: int
    offset_x: int  # PHYSICALOFFSETX: unprintable margin left of the printable area
    offset_y: int
    paper_w: int  # PHYSICALWIDTH: the whole sheet
    paper_h: int


@dataclass(frozen=True)
class Placement:
    """FPDF_RenderPage's start_x, start_y, size_x, size_y on the printer DC."""

    x: int
    y: int
    width: int
    height: int


def place_page(page_pt: tuple[float, float], caps: DeviceCaps) -> Placement:
    w_pt, h_pt = page_pt
    return Placement(-caps.offset_x, -caps.offset_y,
                     round(w_pt * caps.dpi_x / 72), round(h_pt * caps.dpi_y / 72))


def paper_matches(paper: Paper, caps: DeviceCaps, tolerance_mm: float = 3.0) -> bool:
    """Whether the DC's sheet is ``paper`` (a driver may ignore the DEVMODE's paper and
    keep its own, e.g. Letter): compared within ``tolerance_mm``."""
    want_w, want_h = (v / 10 for v in PAPER_MM10[paper])
    got_w = caps.paper_w * 25.4 / caps.dpi_x
    got_h = caps.paper_h * 25.4 / caps.dpi_y
    return abs(got_w - want_w) <= tolerance_mm and abs(got_h - want_h) <= tolerance_mm


def devmode_fields(paper: Paper, fields: int) -> tuple[int, int, int, int]:
    """(PaperSize, Orientation, Copies, Fields) to set on the printer's DEVMODE: the paper
    asked, portrait, one copy (copies are whole documents sent in the job, so they come
    out collated whatever the driver does with dmCopies)."""
    return DMPAPER[paper], DMORIENT_PORTRAIT, 1, fields | DM_PAPERSIZE | DM_ORIENTATION | DM_COPIES
