"""The tracking book (Sổ theo dõi hồ sơ, Circular 03/2025/TT-VPCP form 07) as PDF and XLSX.

Both writers consume the rows as a stream, so a month at a million dossiers (~20–30k
lines, ~1,500 pages) never needs the whole book in memory.

The PDF is drawn straight onto a reportlab canvas, page by page, instead of through a
platypus Table: a platypus table splits by re-measuring every remaining row at each page
break (quadratic in the rows) and keeps all its cells alive. Cells are plain text drawn
with ``drawString``-style text operators, so "<", "&" in a name are printed as they are and
never parsed as markup. "Trang x/y" needs the page count before the end: the total is a
form XObject drawn on every page and defined once the last page is known. Output is
byte-for-byte deterministic (``invariant=1``)."""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime
from math import floor
from typing import IO, Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from desktop_app.documents.fonts import SERIF, SERIF_BOLD, SERIF_ITALIC, register_fonts
from desktop_app.domain.errors import DomainError
from desktop_app.report_model import TrackingBookRow

TITLE = "SỔ THEO DÕI HỒ SƠ"
COUNTER = "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"
MOTTO_1 = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_2 = "Độc lập - Tự do - Hạnh phúc"
EMPTY_NOTE = "Không có hồ sơ nào được tiếp nhận trong kỳ này."
SHEET_TITLE = "Sổ theo dõi"  # Excel allows Unicode sheet names up to 31 characters
DATE_FORMAT_XLSX = "dd/mm/yyyy hh:mm"
XLSX_MAX_ROWS = 1_048_576
DATE_COLUMNS = (6, 7, 8)  # received, appointment, returned (0-based)

# (heading, width in mm, alignment, width in Excel characters). Form 07 columns; address
# and phone share one column as on the paper form. Widths add up to the 275 mm between
# the margins of A4 landscape; the Excel widths (units of the default font's digit, in
# 9 pt serif cells) add up to about 170, printed at ~85 % to fit the same width.
COLUMNS: tuple[tuple[str, float, str, float], ...] = (
    ("STT", 11, "C", 5.5),
    ("Mã hồ sơ", 29, "L", 15),
    ("Tên TTHC / nội dung", 39, "L", 22),
    ("Số lượng hồ sơ", 10, "C", 6.5),
    ("Tên người nộp/chủ hồ sơ", 25, "L", 15),
    ("Địa chỉ, số điện thoại", 35, "L", 20),
    ("Ngày nhận", 16, "C", 13.5),
    ("Ngày hẹn trả", 16, "C", 13.5),
    ("Ngày trả kết quả", 16, "C", 13.5),
    ("Người nhận kết quả (ký)", 23, "L", 13),
    ("Cán bộ tiếp nhận", 21, "L", 12),
    ("Địa bàn", 16, "L", 10),
    ("Ghi chú", 18, "L", 17),
)

PAGE = landscape(A4)
LEFT, RIGHT, TOP, BOTTOM = 12 * mm, 10 * mm, 10 * mm, 14 * mm
FONT_SIZE = 8.0
LEADING = 9.4
HEAD_SIZE = 8.0
PAD_X, PAD_TOP, PAD_BOTTOM = 2.0, 2.0, 2.6
ASCENT = 0.86  # of the font size: first baseline below the cell's top padding
MAX_CELL_LINES = 24  # a pathological 2,000-character address still fits on a page
GRID = 0.4
HEAD_FILL = colors.HexColor("#ececec")
TOTAL_FORM = "motcuaPageTotal"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
_BREAK_AFTER = re.compile(r"[^-/.,;_]+[-/.,;_]*|[-/.,;_]+")


@dataclass(frozen=True)
class BookHeader:
    agency_name: str  # e.g. "UBND XÃ NÀ PHẶC"
    parent_name: str  # e.g. "UBND TỈNH THÁI NGUYÊN"; may be ""
    start: date
    end: date  # inclusive
    book_number: str = ""  # Quyển số

    @property
    def period(self) -> str:
        return f"Từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"


@dataclass(frozen=True)
class BookStats:
    rows: int
    pages: int  # 0 for a spreadsheet


def clean(text: object) -> str:
    """One line of text to print: NFC (reportlab would draw decomposed accents apart),
    control characters dropped, whitespace collapsed."""
    raw = unicodedata.normalize("NFC", "" if text is None else str(text))
    return _SPACES.sub(" ", _CONTROL.sub("", raw)).strip()


def cell_texts(row: TrackingBookRow) -> list[list[str]]:
    """The 13 cells of a book line, each a list of paragraphs (printed on their own lines)."""

    def when(dt: datetime | None) -> list[str]:
        return [f"{dt:%d/%m/%Y}", f"{dt:%H:%M}"] if dt else []

    contact = [clean(row.address)] if clean(row.address) else []
    if clean(row.phone):
        contact.append(f"ĐT: {clean(row.phone)}")
    return [
        [str(row.number)],
        [clean(row.code)],
        [clean(row.content)],
        [str(row.count)],
        [clean(row.owner)],
        contact,
        when(row.received_at),
        when(row.appointment_at),
        when(row.returned_at),
        [clean(row.returned_to)],
        [clean(row.clerk)],
        [clean(row.locality)],
        [clean(row.notes)],
    ]


# --- text measurement and wrapping --------------------------------------------------------


class _Measure:
    """String widths with a per-word cache: names, communes and procedure names repeat on
    every page, and measuring a TrueType string in reportlab is a Python loop."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], float] = {}

    def width(self, text: str, font: str, size: float) -> float:
        key = (font, text)
        w = self._cache.get(key)
        if w is None:
            if len(self._cache) > 20_000:  # codes and phones never repeat: stay bounded
                self._cache.clear()
            w = self._cache[key] = stringWidth(text, font, 1.0)
        return w * size

    def wrap(self, paragraphs: list[str], font: str, size: float, width: float,
             max_lines: int) -> list[tuple[str, float]]:
        """Greedy word wrap into ``width``; a word too long for a line (a dossier code in a
        narrow column) breaks after "-", "/", "." and, failing that, between letters.
        More than ``max_lines`` lines are cut, the last one ending in "…"."""
        lines: list[tuple[str, float]] = []
        space = self.width(" ", font, size)
        for para in paragraphs:
            current, current_w = "", 0.0
            for word in para.split(" "):
                if not word:
                    continue
                pieces = self._pieces(word, font, size, width)
                for k, (piece, w) in enumerate(pieces):
                    glue = space if current and k == 0 else 0.0
                    if current and current_w + glue + w > width:
                        lines.append((current, current_w))
                        current, current_w = piece, w
                    else:
                        current += (" " if glue else "") + piece
                        current_w += glue + w
            if current:
                lines.append((current, current_w))
        if len(lines) > max_lines:
            last = lines[max_lines - 1][0]
            while last and self.width(last + "…", font, size) > width:
                last = last[:-1]
            lines = [*lines[:max_lines - 1], (last + "…", self.width(last + "…", font, size))]
        return lines

    def _pieces(self, word: str, font: str, size: float, width: float
                ) -> list[tuple[str, float]]:
        w = self.width(word, font, size)
        if w <= width:
            return [(word, w)]
        pieces: list[tuple[str, float]] = []
        current, current_w = "", 0.0
        for seg in _BREAK_AFTER.findall(word):
            seg_w = self.width(seg, font, size)
            if seg_w > width:  # no break point left: split between characters
                for ch in seg:
                    ch_w = stringWidth(ch, font, size)
                    if current and current_w + ch_w > width:
                        pieces.append((current, current_w))
                        current, current_w = "", 0.0
                    current += ch
                    current_w += ch_w
                continue
            if current and current_w + seg_w > width:
                pieces.append((current, current_w))
                current, current_w = "", 0.0
            current += seg
            current_w += seg_w
        if current:
            pieces.append((current, current_w))
        return pieces


# --- PDF ------------------------------------------------------------------------------


class _BookPdf:
    def __init__(self, out: IO[bytes], header: BookHeader) -> None:
        register_fonts()
        self.header = header
        self.m = _Measure()
        self.c = Canvas(out, pagesize=PAGE, invariant=1, pageCompression=1)
        self.c.setTitle(f"{TITLE} – {clean(header.agency_name)} – {header.period}")
        self.c.setAuthor(clean(header.agency_name))
        self.c.setSubject("Mẫu số 07 – Thông tư 03/2025/TT-VPCP")
        self.c.setCreator("Một Cửa Offline")
        self.width = PAGE[0] - LEFT - RIGHT
        total_mm = sum(col[1] for col in COLUMNS)
        scale = self.width / (total_mm * mm)  # exact fit whatever rounding the mm carry
        self.col_w = [col[1] * mm * scale for col in COLUMNS]
        self.col_x = [LEFT + sum(self.col_w[:i]) for i in range(len(COLUMNS))]
        self.aligns = [col[2] for col in COLUMNS]
        self.inner = [w - 2 * PAD_X for w in self.col_w]
        self.head_lines = [self.m.wrap([col[0]], SERIF_BOLD, HEAD_SIZE, self.inner[i], 4)
                           for i, col in enumerate(COLUMNS)]
        self.head_h = (max(len(x) for x in self.head_lines) * LEADING + PAD_TOP + PAD_BOTTOM)
        self.num_h = 7 * 1.2 + 2 * 1.5
        self.floor = BOTTOM + 2  # rows stop above the footer
        self.pages = 0
        self.y = 0.0
        self.table_top = 0.0
        self.grid_bottom = 0.0
        # The tallest row must fit on a continuation page, whatever is in it.
        room = PAGE[1] - TOP - self._running_head_h() - self.head_h - self.num_h - self.floor
        self.max_lines = max(2, min(MAX_CELL_LINES,
                                    floor((room - PAD_TOP - PAD_BOTTOM) / LEADING)))

    # page furniture

    def _running_head_h(self) -> float:
        return 8 * 1.2 + 4

    def _centered(self, text: str, font: str, size: float, x0: float, width: float,
                  y: float) -> float:
        """Draw ``text`` centred in [x0, x0+width], wrapped; returns the y below it."""
        for line, w in self.m.wrap([text], font, size, width, 3):
            self.c.setFont(font, size)
            self.c.drawString(x0 + (width - w) / 2, y - size, line)
            y -= size * 1.25
        return y

    def _first_page_head(self) -> float:
        c, h = self.c, self.header
        top = PAGE[1] - TOP
        half = self.width / 2
        y = top
        if clean(h.parent_name):
            y = self._centered(clean(h.parent_name).upper(), SERIF, 10, LEFT, half * 0.95, y)
        if clean(h.agency_name):
            y = self._centered(clean(h.agency_name).upper(), SERIF_BOLD, 10, LEFT,
                               half * 0.95, y)
        y = self._centered(COUNTER, SERIF_BOLD, 10, LEFT, half * 0.95, y)
        rule = half * 0.95 * 0.3
        c.setLineWidth(0.6)
        c.line(LEFT + (half * 0.95 - rule) / 2, y - 3, LEFT + (half * 0.95 + rule) / 2, y - 3)
        left_bottom = y - 5
        y = top
        y = self._centered(MOTTO_1, SERIF_BOLD, 10, LEFT + half, half, y)
        y = self._centered(MOTTO_2, SERIF_BOLD, 10, LEFT + half, half, y)
        motto_w = self.m.width(MOTTO_2, SERIF_BOLD, 10)
        c.line(LEFT + half + (half - motto_w) / 2, y - 3, LEFT + half + (half + motto_w) / 2,
               y - 3)
        y = min(left_bottom, y - 5) - 8
        y = self._centered(TITLE, SERIF_BOLD, 16, LEFT, self.width, y) - 2
        period = h.period
        if clean(h.book_number):
            period = f"Quyển số: {clean(h.book_number)} – {period}"
        y = self._centered(period, SERIF_ITALIC, 11, LEFT, self.width, y)
        return y - 6

    def _running_head(self) -> float:
        c, h = self.c, self.header
        y = PAGE[1] - TOP - 8
        c.setFont(SERIF_ITALIC, 8)
        left = TITLE if not clean(h.agency_name) else f"{clean(h.agency_name)} – {TITLE}"
        c.drawString(LEFT, y, left)
        c.drawRightString(PAGE[0] - RIGHT, y, h.period)
        return PAGE[1] - TOP - self._running_head_h()

    def _table_head(self, y: float) -> float:
        c = self.c
        c.setFillColor(HEAD_FILL)
        c.rect(LEFT, y - self.head_h, self.width, self.head_h, stroke=0, fill=1)
        c.setFillColor(colors.black)
        text = c.beginText()
        text.setFont(SERIF_BOLD, HEAD_SIZE, LEADING)
        for i, lines in enumerate(self.head_lines):
            # Headings sit in the middle of the heading row.
            block = len(lines) * LEADING
            base = y - (self.head_h - block) / 2 - HEAD_SIZE * ASCENT
            for k, (line, w) in enumerate(lines):
                text.setTextOrigin(self.col_x[i] + (self.col_w[i] - w) / 2, base - k * LEADING)
                text.textOut(line)
        c.drawText(text)
        y2 = y - self.head_h
        c.setLineWidth(GRID)
        c.line(LEFT, y, LEFT + self.width, y)
        c.line(LEFT, y2, LEFT + self.width, y2)
        # Column numbers (1)…(13), as printed books refer to columns by number.
        text = c.beginText()
        text.setFont(SERIF_ITALIC, 7)
        for i in range(len(COLUMNS)):
            label = f"({i + 1})"
            w = self.m.width(label, SERIF_ITALIC, 7)
            text.setTextOrigin(self.col_x[i] + (self.col_w[i] - w) / 2, y2 - 1.5 - 7 * 0.86)
            text.textOut(label)
        c.drawText(text)
        y3 = y2 - self.num_h
        c.line(LEFT, y3, LEFT + self.width, y3)
        return y3

    def start_page(self) -> None:
        self.pages += 1
        top = self._first_page_head() if self.pages == 1 else self._running_head()
        self.table_top = top
        self.y = self.grid_bottom = self._table_head(top)

    def finish_page(self) -> None:
        c = self.c
        c.setLineWidth(GRID)
        c.setStrokeColor(colors.black)
        # Column rules down to the last row of the page (not through a note under it).
        for x in [*self.col_x, LEFT + self.width]:
            c.line(x, self.table_top, x, self.grid_bottom)
        self._footer()
        c.showPage()
        self._compress_last_page()

    def _compress_last_page(self) -> None:
        """Deflate the finished page's content stream now rather than at save.

        reportlab keeps every page's operators as text until ``save()`` (~50 kB a page
        here): a year's book at a million dossiers (~25,000 pages) would hold over a
        gigabyte. Compressed streams are ~10× smaller. This reaches into reportlab's
        document objects, so it backs off silently if they are not as expected (the PDF is
        then the same, only built with more memory)."""
        try:
            page = self.c._doc.Pages.pages[-1]
            stream = page.stream
        except (AttributeError, IndexError):
            return
        if not isinstance(stream, str) or page.Contents:
            return
        # As reportlab's own Flate filter does it (UTF-8, then zlib), minus ASCII85.
        flate = PDFDictionary({"Filter": PDFArray([PDFName("FlateDecode")])})
        page.Contents = PDFStream(flate, zlib.compress(stream.encode("utf-8")))
        page.stream = None

    def _footer(self) -> None:
        c, h = self.c, self.header
        y = BOTTOM - 6 * mm
        c.setStrokeColor(colors.grey)
        c.setLineWidth(0.4)
        c.line(LEFT, y + 9, PAGE[0] - RIGHT, y + 9)
        c.setStrokeColor(colors.black)
        c.setFont(SERIF_ITALIC, 7.5)
        agency = clean(h.agency_name)
        c.drawString(LEFT, y, f"Sổ theo dõi hồ sơ{' – ' + agency if agency else ''} – "
                              f"{h.period}")
        # "Trang x/" now; the total is a form filled in once the last page is known.
        label = f"Trang {self.pages}/"
        x = PAGE[0] - RIGHT - self.m.width("Trang 00000/00000", SERIF_ITALIC, 7.5)
        c.drawString(x, y, label)
        c.saveState()
        c.translate(x + self.m.width(label, SERIF_ITALIC, 7.5), y)
        c.doForm(TOTAL_FORM)
        c.restoreState()

    # rows

    def row(self, cells: list[list[str]]) -> None:
        wrapped = [self.m.wrap(paras, SERIF, FONT_SIZE, self.inner[i], self.max_lines)
                   for i, paras in enumerate(cells)]
        height = max(1, *(len(lines) for lines in wrapped)) * LEADING + PAD_TOP + PAD_BOTTOM
        if self.y - height < self.floor:
            self.finish_page()
            self.start_page()
        c = self.c
        text = c.beginText()
        text.setFont(SERIF, FONT_SIZE, LEADING)
        base = self.y - PAD_TOP - FONT_SIZE * ASCENT
        for i, lines in enumerate(wrapped):
            x0, w0, align = self.col_x[i], self.col_w[i], self.aligns[i]
            for k, (line, w) in enumerate(lines):
                x = x0 + (w0 - w) / 2 if align == "C" else x0 + PAD_X
                text.setTextOrigin(x, base - k * LEADING)
                text.textOut(line)
        c.drawText(text)
        self.y -= height
        self.grid_bottom = self.y
        c.setLineWidth(GRID)
        c.line(LEFT, self.y, LEFT + self.width, self.y)

    def note(self, message: str, font: str = SERIF_ITALIC) -> None:
        """A line of text under the table (the total), on a new page if it must."""
        height = LEADING + PAD_TOP + PAD_BOTTOM
        if self.y - height < self.floor:
            self.finish_page()
            self.start_page()
        self.c.setFont(font, FONT_SIZE + 1)
        self.c.drawString(LEFT + PAD_X, self.y - PAD_TOP - (FONT_SIZE + 1) * ASCENT, message)
        self.y -= height

    def empty(self, message: str) -> None:
        """The first page of a book without rows: one boxed line instead of the columns."""
        c = self.c
        c.setLineWidth(GRID)
        for x in self.col_x[1:]:  # column rules through the heading rows only
            c.line(x, self.table_top, x, self.y)
        c.setFont(SERIF_ITALIC, FONT_SIZE + 1)
        c.drawCentredString(LEFT + self.width / 2, self.y - PAD_TOP - (FONT_SIZE + 1) * ASCENT,
                            message)
        self.y -= LEADING + PAD_TOP + PAD_BOTTOM
        c.line(LEFT, self.y, LEFT + self.width, self.y)
        for x in (LEFT, LEFT + self.width):
            c.line(x, self.table_top, x, self.y)
        self._footer()
        c.showPage()
        self._compress_last_page()

    def save(self) -> None:
        c = self.c
        c.beginForm(TOTAL_FORM)
        c.setFont(SERIF_ITALIC, 7.5)
        c.drawString(0, 0, str(self.pages))
        c.endForm()
        c.save()


def render_tracking_book_pdf(rows: Iterable[TrackingBookRow], header: BookHeader,
                             out: IO[bytes]) -> BookStats:
    """Write the book as an A4 landscape PDF to ``out``; the table heading is repeated on
    every page and each page is numbered "Trang x/y"."""
    pdf = _BookPdf(out, header)
    pdf.start_page()
    count = 0
    for row in rows:
        pdf.row(cell_texts(row))
        count += 1
    if count:
        pdf.note(f"Tổng số: {count} hồ sơ.", SERIF_BOLD)
        pdf.finish_page()
    else:
        pdf.empty(EMPTY_NOTE)
    pdf.save()
    return BookStats(count, pdf.pages)


# --- XLSX -----------------------------------------------------------------------------


def _xlsx_text(text: str) -> str:
    """Excel refuses control characters in cell XML; longer than 32,767 is refused too."""
    return clean(text)[:32_767]


def render_tracking_book_xlsx(rows: Iterable[TrackingBookRow], header: BookHeader,
                              out: IO[bytes]) -> BookStats:
    """Write the book as an Excel workbook ready to print as the paper form: every cell of
    the table boxed with thin lines and wrapped, the column numbers (1)–(13) under the
    headings, headings and numbers repeated on every printed page, A4 landscape, fitted
    to the page width. Streamed (openpyxl write-only mode)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLE)
    wb.properties.title = f"{TITLE} – {clean(header.agency_name)} – {header.period}"
    wb.properties.creator = "Một Cửa Offline"
    last_col = get_column_letter(len(COLUMNS))
    for i, col in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(i)].width = col[3]
    head_row, number_row = 5, 6
    first_data = number_row + 1
    ws.freeze_panes = f"A{first_data}"
    ws.print_title_rows = f"{head_row}:{number_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4 (ECMA-376 paper size code)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    # Margins in inches, as the PDF's (12 mm left, 10 mm right/top, 14 mm bottom).
    ws.page_margins.left, ws.page_margins.right = 0.47, 0.39
    ws.page_margins.top, ws.page_margins.bottom = 0.39, 0.55
    ws.oddFooter.center.text = "Trang &P/&N"

    def styled(value: Any, **style: Any) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=value)
        for key, val in style.items():
            setattr(cell, key, val)
        return cell

    agency = " – ".join(x for x in (clean(header.parent_name).upper(),
                                    clean(header.agency_name).upper(), COUNTER) if x)
    period = header.period
    if clean(header.book_number):
        period = f"Quyển số: {clean(header.book_number)} – {period}"
    ws.append([styled(agency, font=Font(bold=True, size=11))])
    ws.append([styled(TITLE, font=Font(bold=True, size=14),
                      alignment=Alignment(horizontal="center"))])
    ws.append([styled(period, font=Font(italic=True, size=11),
                      alignment=Alignment(horizontal="center"))])
    ws.append([])
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    serif = "Times New Roman"  # Liberation Serif where it is not installed
    head_style = {"font": Font(name=serif, bold=True, size=9), "border": box,
                  "fill": PatternFill("solid", fgColor="ECECEC"),
                  "alignment": Alignment(horizontal="center", vertical="center",
                                         wrap_text=True)}
    ws.append([styled(col[0], **head_style) for col in COLUMNS])
    number_style = {"font": Font(name=serif, italic=True, size=8), "border": box,
                    "alignment": Alignment(horizontal="center", vertical="center")}
    ws.append([styled(f"({i})", **number_style) for i in range(1, len(COLUMNS) + 1)])
    for r in (1, 2, 3):
        ws.merged_cells.add(f"A{r}:{last_col}{r}")

    # One style per column (as the PDF's alignment), each boxed and wrapped, top-aligned
    # like a ledger. Styles are resolved once on a template cell and copied to each data
    # cell: setting font, border and alignment per cell costs 4× the whole export.
    data_font = Font(name=serif, size=9)
    templates = []
    for i, col in enumerate(COLUMNS):
        t = WriteOnlyCell(ws)
        t.font, t.border = data_font, box
        t.alignment = Alignment(horizontal="center" if col[2] == "C" else "left",
                                vertical="top", wrap_text=True)
        if i in DATE_COLUMNS:
            t.number_format = DATE_FORMAT_XLSX
        templates.append(t._style)

    def cell(i: int, value: Any) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=value)
        c._style = copy(templates[i])
        return c

    def text(i: int, value: str) -> WriteOnlyCell:
        # Set as a string explicitly: openpyxl would store "=…" as a formula, and a name
        # or an address is never one.
        c = cell(i, None)
        c.value = _xlsx_text(value)
        c.data_type = "s"
        return c

    count = 0
    limit = XLSX_MAX_ROWS - number_row
    for row in rows:
        count += 1
        if count > limit:
            raise DomainError(
                f"Kỳ báo cáo có hơn {limit:,} hồ sơ, vượt giới hạn dòng của Excel. "
                "Hãy xuất từng khoảng thời gian ngắn hơn.".replace(",", "."),
                f"xlsx row limit: more than {limit} rows")
        contact = "; ".join(x for x in (clean(row.address),
                                        f"ĐT: {clean(row.phone)}" if clean(row.phone) else "")
                            if x)
        ws.append([
            cell(0, row.number), text(1, row.code), text(2, row.content),
            cell(3, row.count), text(4, row.owner), text(5, contact),
            cell(6, row.received_at), cell(7, row.appointment_at), cell(8, row.returned_at),
            text(9, row.returned_to), text(10, row.clerk), text(11, row.locality),
            text(12, row.notes),
        ])
    if count:
        # On the numbering row, so sorting or filtering never moves it into the data.
        ws.auto_filter.ref = f"A{number_row}:{last_col}{number_row + count}"
    wb.save(out)
    return BookStats(count, 0)
