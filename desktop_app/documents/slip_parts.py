"""The parts every document printed at the counter is built from: page layouts (A4, A5),
paragraph styles, the agency header with the national motto, the QR code, signature
blocks, tables, and the render loop that prints one copy (liên) after another in one
PDF with the footer numbering pages within each copy ("Trang 1/2").

Used by the slips (``slips.py``) and the return counter's letters (``letters.py``), so
they all look alike. Output is byte-for-byte deterministic for the same data (reportlab
``invariant``), so a reprint is the same file as the original. The names beginning with
an underscore are the documents package's own, not an interface for the rest of the app."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Literal
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from desktop_app.documents.fonts import SERIF, SERIF_BOLD, SERIF_ITALIC, register_fonts
from desktop_app.documents.wording import agency_in_sentence, date_in_words, time_in_words
from desktop_app.domain.text import vnd

PageSize = Literal["A4", "A5"]

COPIES = (
    "Liên 1: Lưu tại Bộ phận tiếp nhận và trả kết quả",
    "Liên 2: Giao người nộp hồ sơ",
)
COUNTER = "Bộ phận tiếp nhận và trả kết quả"
MOTTO_1 = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_2 = "Độc lập - Tự do - Hạnh phúc"
QR_ERROR_LEVEL = "M"  # survives a smudge or a fold; payloads are short URLs / codes
QR_MIN_SYMBOL = 22 * mm  # printed symbol (without quiet zone) a phone reads from ~30 cm
QR_QUIET = 4  # modules of white border
_BLANK_LONG = "……………………………"
_BLANK_SHORT = "……………"


@dataclass(frozen=True)
class AgencyHeader:
    agency_name: str  # the body owning the counter, e.g. "UBND xã Nà Phặc"
    parent_name: str  # its superior body, e.g. "UBND tỉnh Thái Nguyên"; may be ""
    place_name: str  # for "Nà Phặc, ngày 27 tháng 10 năm 2023"


@dataclass(frozen=True)
class FeeLine:
    name: str
    amount: int  # VND
    detail: str = ""  # what was counted, e.g. "2 bản × 5 trang"


@dataclass(frozen=True)
class FeesPaid:
    """Money recorded as collected (desktop_app.fees), as the documents print it."""

    amount: int
    receipt_numbers: Sequence[str] = ()
    note: str = ""  # why it differs from what was owed (exemption, reduction)
    outstanding: int = 0  # still to collect

    def text(self) -> str:
        """"đã thu 14.000 đồng (biên lai số 0012345)", or the exemption as recorded."""
        if self.amount > 0:
            out = f"đã thu <b>{vnd(self.amount)}</b>"
            if self.receipt_numbers:
                out += f" (biên lai số {_t(', '.join(self.receipt_numbers))})"
        else:
            out = "miễn thu"
        if _nfc(self.note):
            out += f" — {_t(self.note)}"
        if self.outstanding > 0:
            out += f"; còn phải nộp {vnd(self.outstanding)}"
        return out


# --- text helpers -----------------------------------------------------------------------

_WS = re.compile(r"\s+")


def _nfc(text: str | int | None) -> str:
    """NFC (reportlab would draw NFD with detached accents), whitespace collapsed."""
    raw = unicodedata.normalize("NFC", str(text if text is not None else ""))
    return _WS.sub(" ", raw).strip()


def _t(text: str | int | None, blank: str = "") -> str:
    """One-line field, XML-escaped for a Paragraph; ``blank`` when empty."""
    return escape(_nfc(text)) or blank


def _lines(text: str | None) -> str:
    """Multi-line field (reasons, requirements): line breaks kept as <br/>."""
    rows = [_t(row) for row in unicodedata.normalize("NFC", text or "").splitlines()]
    return "<br/>".join(row for row in rows if row)


def _time_vi(dt: datetime) -> str:
    return time_in_words(dt)


def _date_line(place: str, dt: datetime) -> str:
    return f"{_t(place, '……')}, {date_in_words(dt)}"


def _agency(name: str, blank: str = "") -> str:
    """The agency's name inside a sentence (escaped), not the header's capitals."""
    return escape(agency_in_sentence(name)) or blank


def _fees_text(fees: Sequence[FeeLine]) -> str:
    charged = [f for f in fees if f.amount]
    if not charged:
        return "Không thu"
    def named(f: FeeLine) -> str:
        return _t(f.name) + (f" ({_t(f.detail)})" if _nfc(f.detail) else "")

    if len(charged) == 1:
        return f"{named(charged[0])} <b>{vnd(charged[0].amount)}</b>"
    parts = "; ".join(f"{named(f)} {vnd(f.amount)}" for f in charged)
    return f"{parts}. Tổng cộng: <b>{vnd(sum(f.amount for f in charged))}</b>"


# --- layout -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    size: PageSize
    page: tuple[float, float]
    left: float
    right: float
    top: float
    bottom: float
    font_size: float
    header_size: float  # agency block (left half of the header)
    motto_size: float  # "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    motto2_size: float  # "Độc lập - Tự do - Hạnh phúc"; also the place-and-date line
    title_size: float
    qr_box: float  # target width of the QR with its quiet zone (grows for tiny payloads)
    sign_gap: float  # room to sign between "(Ký và ghi rõ họ tên)" and the name
    footer_size: float

    @property
    def width(self) -> float:
        return self.page[0] - self.left - self.right


_LAYOUTS = {
    # A4, Decree 30/2020 Appendix I: margins left 30, right 15, top 20, bottom 20 mm (the
    # smallest it allows, for the most room), body 13 pt, motto 12 pt and 13 pt bold. The
    # motto's column is as wide as its first line; the agency block gets the rest, at the
    # largest size keeping "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ" on one line.
    "A4": _Layout("A4", A4, 30 * mm, 15 * mm, 20 * mm, 20 * mm, 13, 11, 12, 13, 14,
                  30 * mm, 18 * mm, 9),
    # A5 has no sizes of its own in the decree: the A4 ones scaled by the page (×0.7):
    # margins 21/10.5/14/14 mm, motto 8.5 and 9 pt, body 9 pt.
    "A5": _Layout("A5", A5, 21 * mm, 10.5 * mm, 14 * mm, 14 * mm, 9, 7.5, 8.5, 9, 10.5,
                  28 * mm, 12 * mm, 7.5),
}


@dataclass(frozen=True)
class _Styles:
    base: ParagraphStyle
    label: ParagraphStyle  # "Label: value" and contact lines, left-aligned
    center: ParagraphStyle
    center_bold: ParagraphStyle
    title: ParagraphStyle
    header: ParagraphStyle
    header_bold: ParagraphStyle
    motto: ParagraphStyle
    motto2: ParagraphStyle
    italic_center: ParagraphStyle
    note: ParagraphStyle
    cell: ParagraphStyle
    cell_center: ParagraphStyle
    head_cell: ParagraphStyle


def _styles(layout: _Layout) -> _Styles:
    fs = layout.font_size
    base = ParagraphStyle("base", fontName=SERIF, fontSize=fs, leading=fs * 1.25,
                          alignment=TA_JUSTIFY, spaceAfter=fs * 0.18)
    center = ParagraphStyle("center", parent=base, alignment=TA_CENTER, spaceAfter=0)
    small = fs * 0.9
    hs = layout.header_size
    cell = ParagraphStyle("cell", parent=base, fontSize=small, leading=small * 1.18,
                          alignment=TA_LEFT, spaceAfter=0)
    return _Styles(
        base=base,
        label=ParagraphStyle("label", parent=base, alignment=TA_LEFT),
        center=center,
        center_bold=ParagraphStyle("cb", parent=center, fontName=SERIF_BOLD),
        title=ParagraphStyle("title", parent=center, fontName=SERIF_BOLD,
                             fontSize=layout.title_size, leading=layout.title_size * 1.3),
        header=ParagraphStyle("header", parent=center, fontSize=hs, leading=hs * 1.2),
        header_bold=ParagraphStyle("hb", parent=center, fontName=SERIF_BOLD, fontSize=hs,
                                   leading=hs * 1.2),
        motto=ParagraphStyle("motto", parent=center, fontName=SERIF_BOLD,
                             fontSize=layout.motto_size, leading=layout.motto_size * 1.2),
        motto2=ParagraphStyle("motto2", parent=center, fontName=SERIF_BOLD,
                              fontSize=layout.motto2_size, leading=layout.motto2_size * 1.2),
        italic_center=ParagraphStyle("ic", parent=center, fontName=SERIF_ITALIC),
        note=ParagraphStyle("note", parent=base, fontName=SERIF_ITALIC, fontSize=fs * 0.8,
                            leading=fs * 1.0, spaceBefore=fs * 0.6),
        cell=cell,
        cell_center=ParagraphStyle("cc", parent=cell, alignment=TA_CENTER),
        head_cell=ParagraphStyle("hc", parent=cell, fontName=SERIF_BOLD, alignment=TA_CENTER),
    )


# --- building blocks --------------------------------------------------------------------


class _CopyMarker(Flowable):
    """Zero-size marker telling the page footer which copy (liên) is being drawn."""

    def __init__(self, copy_index: int) -> None:
        super().__init__()
        self.copy_index = copy_index
        self.width = self.height = 0

    def draw(self) -> None:
        self.canv._motcua_copy = self.copy_index  # type: ignore[attr-defined]


class _Qr(Flowable):
    """A QR code (error correction M) drawn as module runs, with a 4-module quiet zone.

    It fills ``box`` (quiet zone included) unless the symbol itself would then be under
    ``QR_MIN_SYMBOL``, in which case the box grows."""

    def __init__(self, payload: str, box: float) -> None:
        super().__init__()
        widget = QrCodeWidget(unicodedata.normalize("NFC", payload), barLevel=QR_ERROR_LEVEL)
        self.error_level = widget.qr.errorCorrectLevel
        widget.qr.make()
        self.modules = [[bool(m) for m in row] for row in widget.qr.modules]
        n = len(self.modules)
        self.symbol_size = max(QR_MIN_SYMBOL, box * n / (n + 2 * QR_QUIET))
        self.width = self.height = self.symbol_size * (n + 2 * QR_QUIET) / n

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        n = len(self.modules)
        box = self.width / (n + 2 * QR_QUIET)
        q = QR_QUIET
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(colors.black)
        for r, row in enumerate(self.modules):
            c = 0
            while c < n:
                if row[c]:
                    start = c
                    while c < n and row[c]:
                        c += 1
                    canvas.rect((start + q) * box, self.height - (r + q + 1) * box,
                                (c - start) * box, box, stroke=0, fill=1)
                else:
                    c += 1
        canvas.restoreState()


def _rule(width: float) -> HRFlowable:
    return HRFlowable(width=width, thickness=0.6, color=colors.black, spaceBefore=3.5,
                      spaceAfter=3, hAlign="CENTER", lineCap="butt")


# Plain strings in table cells are drawn in the table's FONTNAME (Helvetica by default):
# every table names the bundled serif so no unembedded standard font slips into the PDF.
_PLAIN: list[tuple[Any, ...]] = [
    ("FONTNAME", (0, 0), (-1, -1), SERIF),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
    ("TOPPADDING", (0, 0), (-1, -1), 0),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
]


def _header(h: AgencyHeader, at: datetime, lay: _Layout, st: _Styles,
            number: str | None = None, *, counter_line: bool = True,
            blank: str = "") -> Table:
    """Agency block (left) and national motto with place and date (right). A letter the
    agency itself issues (signed by its head) has no counter line and shows ``blank``
    where the agency name or the number is missing, to be filled by hand."""
    width = lay.width
    # The motto's first line must not wrap: its column is that wide (plus a hair).
    right_w = stringWidth(MOTTO_1, SERIF_BOLD, lay.motto_size) + 2 * mm
    left_w = width - right_w
    left: list[Flowable] = []
    if _nfc(h.parent_name):
        left.append(Paragraph(_t(_nfc(h.parent_name).upper()), st.header))
    left.append(Paragraph(_t(_nfc(h.agency_name).upper(), blank), st.header_bold))
    if counter_line:
        left.append(Paragraph(COUNTER.upper(), st.header_bold))
    left.append(_rule(left_w * 0.35))
    if number or blank:
        left.append(Paragraph(f"Số: {_t(number or '', blank)}", st.header))
    motto_w = stringWidth(MOTTO_2, SERIF_BOLD, lay.motto2_size)
    right: list[Flowable] = [
        Paragraph(MOTTO_1, st.motto),
        Paragraph(MOTTO_2, st.motto2),
        _rule(min(motto_w, right_w)),  # as long as the line above it
        Spacer(0, st.header.fontSize * 0.3),
        Paragraph(_date_line(h.place_name, at), ParagraphStyle(
            "date", parent=st.italic_center, fontSize=lay.motto2_size,
            leading=lay.motto2_size * 1.2)),
    ]
    table = Table([[left, right]], colWidths=[left_w, right_w])
    table.setStyle(TableStyle([*_PLAIN, ("ALIGN", (0, 0), (-1, -1), "CENTER")]))
    return table


def _signature_widths(blocks: int, lay: _Layout) -> list[float]:
    """The signer on the right gets the wider column, so a title such as "CÁN BỘ TIẾP
    NHẬN VÀ TRẢ KẾT QUẢ" stays on one line between Decree 30's margins."""
    share = 0.6 if blocks == 1 else 0.55
    return [lay.width * (1 - share), lay.width * share]


def _signatures(blocks: Sequence[tuple[str, str]], lay: _Layout, st: _Styles) -> Table:
    """Signature blocks side by side; a single block sits in the right half."""

    def block(title: str, name: str) -> list[Flowable]:
        return [
            Paragraph(_t(title), st.center_bold),
            Paragraph("(Ký và ghi rõ họ tên)", st.italic_center),
            Spacer(0, lay.sign_gap),
            Paragraph(_t(name, " "), st.center_bold),
        ]

    cells: list[Any] = [block(title, name) for title, name in blocks]
    if len(cells) == 1:
        cells.insert(0, "")
    table = Table([cells], colWidths=_signature_widths(len(blocks), lay))
    table.setStyle(TableStyle(_PLAIN))
    return table


def _grid(rows: list[list[Any]], widths: list[float], header_rows: int,
          extra: Sequence[tuple[Any, ...]] = ()) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=header_rows)
    shade: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#ececec")),
    ] if header_rows else []  # a table's continuation has no header
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), SERIF),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        *shade,
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        *extra,
    ]))
    return table


def _applicant_block(name: str, id_number: str, address: str, phone: str,
                     st: _Styles, email: str | None = None,
                     owner_name: str | None = None) -> list[Flowable]:
    p = st.label  # label lines: never justified (a long e-mail would spread the words)
    who = f"Ông/Bà: <b>{_t(name, _BLANK_LONG)}</b>"
    if _nfc(owner_name):
        who += f" (nộp thay cho: <b>{_t(owner_name)}</b>)"
    contact = f"Số điện thoại: {_t(phone, _BLANK_SHORT)}"
    if email is not None:
        contact += f"&nbsp;&nbsp;&nbsp;&nbsp;Email: {_t(email, _BLANK_SHORT)}"
    return [
        Paragraph(who, p),
        Paragraph(f"Số định danh cá nhân: {_t(id_number, _BLANK_LONG)}", p),
        Paragraph(f"Địa chỉ: {_t(address, _BLANK_LONG)}", p),
        Paragraph(contact, p),
    ]


# --- document assembly ------------------------------------------------------------------


class _SlipCanvas(Canvas):
    """Defers each page so the footer can say "Trang 1/2" within its copy (liên)."""

    def __init__(self, *args: Any, footer_left: str, layout: _Layout,
                 copies: Sequence[str] = COPIES, pages: list[int] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages_out = pages  # filled with each copy's page count on save
        self._footer_left = footer_left
        self._layout = layout
        self._copies = copies
        self._deferred: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._deferred.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        totals: dict[int, int] = {}
        for state in self._deferred:
            copy = state.get("_motcua_copy", 0)
            totals[copy] = totals.get(copy, 0) + 1
        if self._pages_out is not None:
            self._pages_out[:] = [totals[c] for c in sorted(totals)]
        seen: dict[int, int] = {}
        for state in self._deferred:
            self.__dict__.update(state)
            copy = state.get("_motcua_copy", 0)
            seen[copy] = seen.get(copy, 0) + 1
            self._draw_footer(copy, seen[copy], totals[copy])
            super().showPage()
        super().save()

    def _draw_footer(self, copy: int, page: int, total: int) -> None:
        lay = self._layout
        size = lay.footer_size
        right_text = f"Trang {page}/{total}"
        avail = lay.width - stringWidth(right_text, SERIF_ITALIC, size) - 4 * mm
        left_text = f"{self._footer_left} — {self._copies[copy]}"
        if stringWidth(left_text, SERIF_ITALIC, size) > avail:
            left_text = f"{self._footer_left} — {self._copies[copy].split(':')[0]}"
        y = lay.bottom - 6 * mm
        self.saveState()
        self.setStrokeColor(colors.grey)
        self.setLineWidth(0.4)
        self.line(lay.left, y + size * 1.2, lay.page[0] - lay.right, y + size * 1.2)
        self.setFont(SERIF_ITALIC, size)
        self.drawString(lay.left, y, left_text)
        self.drawRightString(lay.page[0] - lay.right, y, right_text)
        self.restoreState()


CopyStory = Callable[[int, _Layout, _Styles], list[Flowable]]


def _render(page_size: PageSize, title: str, subject: str, author: str, footer_left: str,
            copy_story: CopyStory, copies: Sequence[str] = COPIES,
            pages: list[int] | None = None) -> bytes:
    """One copy (liên) per label in ``copies``, each from ``copy_story(i, lay, st)``,
    with the footer naming the copy and its pages; ``pages``, when given, receives the
    number of pages of each copy."""
    if page_size not in _LAYOUTS:
        raise ValueError(f"page_size must be 'A4' or 'A5', not {page_size!r}")
    register_fonts()
    lay = _LAYOUTS[page_size]
    st = _styles(lay)
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf, pagesize=lay.page, leftMargin=lay.left, rightMargin=lay.right,
        topMargin=lay.top, bottomMargin=lay.bottom, title=_nfc(title), author=_nfc(author),
        subject=_nfc(subject), creator="Một Cửa Offline", invariant=1,
        initialFontName=SERIF, initialFontSize=lay.font_size,
    )
    frame = Frame(lay.left, lay.bottom, lay.width, lay.page[1] - lay.top - lay.bottom,
                  id="body", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="slip", frames=[frame])])
    story: list[Flowable] = []
    for i in range(len(copies)):
        if i:
            story.append(PageBreak())
        story.append(_CopyMarker(i))
        story.extend(copy_story(i, lay, st))
    doc.build(story, canvasmaker=partial(_SlipCanvas, footer_left=_nfc(footer_left),
                                         layout=lay, copies=[_nfc(c) for c in copies],
                                         pages=pages))
    return buf.getvalue()


def _fit_title(st: _Styles, title: str, width: float) -> _Styles:
    """Styles whose title is shrunk (down to 85 %) to keep ``title`` on one line."""
    size = st.title.fontSize
    need = stringWidth(title, SERIF_BOLD, size) * 1.01
    if need <= width:
        return st
    size = max(size * 0.85, size * width / need)
    return replace(st, title=ParagraphStyle("title-fit", parent=st.title, fontSize=size,
                                            leading=size * 1.3))


def _title_block(title: str, lines: Sequence[str], copy: int, st: _Styles) -> list[Flowable]:
    out: list[Flowable] = [Paragraph(title, st.title)]
    out += [Paragraph(line, st.center) for line in lines]
    out.append(Paragraph(f"({_t(COPIES[copy])})", st.italic_center))
    return out
