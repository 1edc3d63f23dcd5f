"""The slips printed at the counter (Circular 01/2018/TT-VPCP, renumbered by 03/2025):
Mẫu 01 receipt and appointment, Mẫu 02 supplement request, Mẫu 03 refusal.

Each is printed in two copies (Liên 1 kept with the dossier, Liên 2 handed to the
citizen), one after the other in one PDF. Output is byte-for-byte deterministic for the
same data (reportlab ``invariant``), so a reprint is the same file as the original."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from desktop_app.documents.fonts import SERIF, SERIF_BOLD, SERIF_ITALIC, register_fonts
from desktop_app.domain.text import vnd

PageSize = Literal["A4", "A5"]

COPIES = (
    "Liên 1: Lưu tại Bộ phận tiếp nhận và trả kết quả",
    "Liên 2: Giao người nộp hồ sơ",
)


@dataclass(frozen=True)
class AgencyHeader:
    agency_name: str
    parent_name: str
    place_name: str


@dataclass(frozen=True)
class ComponentLine:
    name: str
    originals: int
    certified_copies: int
    photocopies: int


@dataclass(frozen=True)
class FeeLine:
    name: str
    amount: int


@dataclass(frozen=True)
class ReceiptData:
    header: AgencyHeader
    dossier_code: str
    received_at: datetime
    appointment_at: datetime
    applicant_name: str
    id_number: str
    address: str
    phone: str
    email: str
    procedure_name: str
    procedure_code: str
    components: Sequence[ComponentLine]
    set_count: int
    time_limit_text: str
    delivery_text: str
    fees: Sequence[FeeLine]
    book_number: str | int
    sequence_number: int
    clerk_name: str
    qr_payload: str
    owner_name: str | None = None


@dataclass(frozen=True)
class SupplementItem:
    component_name: str
    requirement: str


@dataclass(frozen=True)
class SupplementData:
    header: AgencyHeader
    number: str
    issued_at: datetime
    applicant_name: str
    id_number: str
    address: str
    phone: str
    procedure_name: str
    items: Sequence[SupplementItem]
    reason: str
    rules_reference: str
    official_name: str
    official_phone: str = ""


@dataclass(frozen=True)
class RefusalData:
    header: AgencyHeader
    number: str
    issued_at: datetime
    applicant_name: str
    id_number: str
    address: str
    phone: str
    procedure_name: str
    reason: str
    official_name: str


def _t(text: str | int | None) -> str:
    """NFC (reportlab draws NFD with detached accents) and XML-escaped for Paragraph."""
    return escape(unicodedata.normalize("NFC", str(text if text is not None else "")))


def _time_vi(dt: datetime) -> str:
    return f"{dt:%H} giờ {dt:%M} phút, ngày {dt:%d/%m/%Y}"


def _date_line(place: str, dt: datetime) -> str:
    return f"{_t(place)}, ngày {dt:%d} tháng {dt:%m} năm {dt:%Y}"


# --- styles -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Styles:
    base: ParagraphStyle
    center: ParagraphStyle
    center_bold: ParagraphStyle
    title: ParagraphStyle
    header: ParagraphStyle
    header_bold: ParagraphStyle
    italic_center: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_center: ParagraphStyle
    head_cell: ParagraphStyle


def _styles(size: PageSize) -> _Styles:
    fs = 12.5 if size == "A4" else 9
    lead = fs * 1.3
    base = ParagraphStyle("base", fontName=SERIF, fontSize=fs, leading=lead,
                          alignment=TA_JUSTIFY, spaceAfter=fs * 0.25)
    center = ParagraphStyle("center", parent=base, alignment=TA_CENTER, spaceAfter=0)
    return _Styles(
        base=base,
        center=center,
        center_bold=ParagraphStyle("cb", parent=center, fontName=SERIF_BOLD),
        title=ParagraphStyle("title", parent=center, fontName=SERIF_BOLD, fontSize=fs * 1.1,
                             leading=fs * 1.45, spaceBefore=fs * 0.6),
        header=ParagraphStyle("header", parent=center, fontSize=fs * 0.92, leading=fs * 1.2),
        header_bold=ParagraphStyle("headerb", parent=center, fontName=SERIF_BOLD,
                                   fontSize=fs * 0.92, leading=fs * 1.2),
        italic_center=ParagraphStyle("ic", parent=center, fontName=SERIF_ITALIC),
        small=ParagraphStyle("small", parent=base, fontSize=fs * 0.85, leading=fs * 1.1,
                             alignment=TA_LEFT),
        cell=ParagraphStyle("cell", parent=base, fontSize=fs * 0.92, leading=fs * 1.15,
                            alignment=TA_LEFT, spaceAfter=0),
        cell_center=ParagraphStyle("cellc", parent=base, fontSize=fs * 0.92,
                                   leading=fs * 1.15, alignment=TA_CENTER, spaceAfter=0),
        head_cell=ParagraphStyle("hc", parent=base, fontName=SERIF_BOLD, fontSize=fs * 0.92,
                                 leading=fs * 1.15, alignment=TA_CENTER, spaceAfter=0),
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
    """A QR code drawn straight onto the canvas (module rectangles, quiet zone of 4)."""

    def __init__(self, payload: str, size: float) -> None:
        super().__init__()
        widget = QrCodeWidget(payload, barLevel="M")
        widget.qr.make()
        self.modules = [[bool(m) for m in row] for row in widget.qr.modules]
        self.width = self.height = size

    def draw(self) -> None:
        n = len(self.modules)
        box = self.width / (n + 8)
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
                    canvas.rect((start + 4) * box, self.height - (r + 5) * box,
                                (c - start) * box, box, stroke=0, fill=1)
                else:
                    c += 1
        canvas.restoreState()


def _header(h: AgencyHeader, at: datetime, width: float, st: _Styles,
            number: str | None = None) -> Table:
    left = [
        Paragraph(_t(h.parent_name.upper()), st.header) if h.parent_name else Spacer(0, 0),
        Paragraph(_t(h.agency_name.upper()), st.header_bold),
        Paragraph("BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", st.header_bold),
        Paragraph("―――――――", st.header),
    ]
    if number:
        left.append(Paragraph(f"Số: {_t(number)}", st.header))
    right = [
        Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", st.header_bold),
        Paragraph("Độc lập - Tự do - Hạnh phúc", st.header_bold),
        Paragraph("―――――――――――", st.header),
        Paragraph(_date_line(h.place_name, at), st.italic_center),
    ]
    table = Table([[left, right]], colWidths=[width * 0.46, width * 0.54])
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), SERIF),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
    ]))
    return table


def _signatures(left_title: str, left_name: str, right_title: str, right_name: str,
                width: float, st: _Styles, gap: float) -> KeepTogether:
    def block(title: str, name: str) -> list[Flowable]:
        return [
            Paragraph(_t(title), st.center_bold),
            Paragraph("(Ký và ghi rõ họ tên)", st.italic_center),
            Spacer(0, gap),
            Paragraph(_t(name), st.center_bold),
        ]

    table = Table([[block(left_title, left_name), block(right_title, right_name)]],
                  colWidths=[width / 2, width / 2])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("FONTNAME", (0, 0), (-1, -1), SERIF)]))
    return KeepTogether([Spacer(0, 4 * mm), table])


def _grid(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), SERIF),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _count(n: int) -> str:
    return f"{n:02d}" if n else "–"


# --- document assembly ------------------------------------------------------------------


def _render(page_size: PageSize, title: str, subject: str, author: str, footer_left: str,
            copy_story: Callable[[int, float, _Styles], list[Flowable]]) -> bytes:
    register_fonts()
    size = A4 if page_size == "A4" else A5
    if page_size == "A4":
        margins = (25 * mm, 15 * mm, 15 * mm, 18 * mm)  # left, right, top, bottom
    else:
        margins = (12 * mm, 10 * mm, 10 * mm, 13 * mm)
    left, right, top, bottom = margins
    width = size[0] - left - right
    st = _styles(page_size)
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf, pagesize=size, leftMargin=left, rightMargin=right, topMargin=top,
        bottomMargin=bottom, title=title, author=author, subject=subject,
        creator="Một Cửa Offline", invariant=1, initialFontName=SERIF, initialFontSize=10,
    )
    pages: dict[int, int] = {}

    def footer(canvas: Canvas, document: BaseDocTemplate) -> None:
        copy = getattr(canvas, "_motcua_copy", 0)
        pages[copy] = pages.get(copy, 0) + 1
        canvas.saveState()
        canvas.setFont(SERIF_ITALIC, 8 if page_size == "A5" else 9)
        canvas.setStrokeColor(colors.grey)
        y = bottom - 6 * mm
        canvas.line(left, y + 3.5 * mm, size[0] - right, y + 3.5 * mm)
        canvas.drawString(left, y, f"{footer_left} — {COPIES[copy]}")
        canvas.drawRightString(size[0] - right, y, f"Trang {pages[copy]}")
        canvas.restoreState()

    frame = Frame(left, bottom, width, size[1] - top - bottom, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="slip", frames=[frame], onPageEnd=footer)])
    story: list[Flowable] = []
    for i in range(len(COPIES)):
        if i:
            story.append(PageBreak())
        story.append(_CopyMarker(i))
        story.extend(copy_story(i, width, st))
    doc.build(story)
    return buf.getvalue()


def render_receipt(data: ReceiptData, page_size: PageSize = "A4") -> bytes:
    """Mẫu 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả, two copies."""

    def story(copy: int, width: float, st: _Styles) -> list[Flowable]:
        qr_size = 26 * mm if page_size == "A4" else 21 * mm
        title_block = [
            Paragraph("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", st.title),
            Paragraph(f"Mã hồ sơ: <b>{_t(data.dossier_code)}</b>", st.center),
            Paragraph(f"({_t(COPIES[copy])})", st.italic_center),
        ]
        qr = _Qr(data.qr_payload, qr_size)
        if page_size == "A4":  # centred title between a spacer and the QR
            title_table = Table([[Spacer(qr_size, qr_size), title_block, qr]],
                                colWidths=[qr_size + 2 * mm, width - 2 * qr_size - 4 * mm,
                                           qr_size + 2 * mm])
        else:  # A5 is too narrow for that: title and QR side by side
            title_table = Table([[title_block, qr]],
                                colWidths=[width - qr_size - 2 * mm, qr_size + 2 * mm])
        title_table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), SERIF),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ]))
        who = f"Ông/Bà: <b>{_t(data.applicant_name)}</b>"
        if data.owner_name:
            who += f" (nộp thay cho: <b>{_t(data.owner_name)}</b>)"
        p = st.base
        out: list[Flowable] = [
            _header(data.header, data.received_at, width, st),
            title_table,
            Spacer(0, 2 * mm),
            Paragraph(f"{_t(data.header.agency_name)} — Bộ phận tiếp nhận và trả kết quả "
                      f"tiếp nhận hồ sơ của:", p),
            Paragraph(who, p),
            Paragraph(f"Số định danh cá nhân: {_t(data.id_number) or '……………………'}", p),
            Paragraph(f"Địa chỉ: {_t(data.address) or '……………………'}", p),
            Paragraph(f"Số điện thoại: {_t(data.phone) or '……………'}"
                      f"&nbsp;&nbsp;&nbsp; Email: {_t(data.email) or '……………'}", p),
            Paragraph(f"Nội dung yêu cầu giải quyết: <b>{_t(data.procedure_name)}</b> "
                      f"(mã thủ tục {_t(data.procedure_code)})", p),
            Paragraph("1. Thành phần hồ sơ nộp gồm:", p),
        ]
        rows: list[list[Any]] = [[
            Paragraph("STT", st.head_cell), Paragraph("Tên giấy tờ", st.head_cell),
            Paragraph("Bản chính", st.head_cell), Paragraph("Bản sao chứng thực", st.head_cell),
            Paragraph("Bản photo", st.head_cell),
        ]]
        for i, c in enumerate(data.components, 1):
            rows.append([
                Paragraph(str(i), st.cell_center), Paragraph(_t(c.name), st.cell),
                Paragraph(_count(c.originals), st.cell_center),
                Paragraph(_count(c.certified_copies), st.cell_center),
                Paragraph(_count(c.photocopies), st.cell_center),
            ])
        w = width
        out.append(_grid(rows, [0.08 * w, 0.53 * w, 0.12 * w, 0.15 * w, 0.12 * w]))
        out += [
            Spacer(0, 2 * mm),
            Paragraph(f"2. Số lượng hồ sơ: {data.set_count:02d} (bộ)", p),
            Paragraph("3. Thời gian giải quyết hồ sơ theo quy định là: "
                      f"{_t(data.time_limit_text)}", p),
            Paragraph(f"4. Thời gian nhận hồ sơ: {_time_vi(data.received_at)}", p),
            Paragraph("5. Thời gian trả kết quả giải quyết hồ sơ: "
                      f"<b>{_time_vi(data.appointment_at)}</b>", p),
            Paragraph(f"6. Đăng ký nhận kết quả tại: {_t(data.delivery_text)}", p),
        ]
        if data.fees:
            total = sum(f.amount for f in data.fees)
            detail = "; ".join(f"{_t(f.name)}: {vnd(f.amount)}" for f in data.fees)
            out.append(Paragraph(f"7. Phí, lệ phí: {detail}. Tổng cộng: <b>{vnd(total)}</b>",
                                 p))
        else:
            out.append(Paragraph("7. Phí, lệ phí: không thu", p))
        out.append(Paragraph(
            f"Vào Sổ theo dõi hồ sơ, Quyển số: {_t(data.book_number)}, "
            f"Số thứ tự: {data.sequence_number}", p))
        out.append(_signatures("NGƯỜI NỘP HỒ SƠ", data.applicant_name, "NGƯỜI TIẾP NHẬN HỒ SƠ",
                               data.clerk_name, width, st,
                               16 * mm if page_size == "A4" else 8 * mm))
        out.append(CondPageBreak(12 * mm))
        out.append(Paragraph(
            "<i>Ghi chú: Giấy tiếp nhận hồ sơ và hẹn trả kết quả được lập thành 02 liên; "
            "01 liên lưu kèm Phiếu kiểm soát quá trình giải quyết hồ sơ; 01 liên giao cho "
            "người nộp hồ sơ. Khi đến nhận kết quả, xin mang theo giấy này (quét mã QR để "
            "tra cứu tình trạng hồ sơ).</i>", st.small))
        return out

    return _render(page_size, "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", data.dossier_code,
                   data.header.agency_name, f"Mã hồ sơ {data.dossier_code}", story)


def _applicant_block(name: str, id_number: str, address: str, phone: str,
                     st: _Styles) -> list[Flowable]:
    p = st.base
    return [
        Paragraph(f"Ông/Bà: <b>{_t(name)}</b>", p),
        Paragraph(f"Số định danh cá nhân: {_t(id_number) or '……………………'}", p),
        Paragraph(f"Địa chỉ: {_t(address) or '……………………'}", p),
        Paragraph(f"Số điện thoại: {_t(phone) or '……………'}", p),
    ]


def render_supplement_request(data: SupplementData, page_size: PageSize = "A4") -> bytes:
    """Mẫu 02: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ, two copies."""

    def story(copy: int, width: float, st: _Styles) -> list[Flowable]:
        p = st.base
        out: list[Flowable] = [
            _header(data.header, data.issued_at, width, st, number=data.number),
            Paragraph("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", st.title),
            Paragraph(f"({_t(COPIES[copy])})", st.italic_center),
            Spacer(0, 3 * mm),
            Paragraph("Bộ phận tiếp nhận và trả kết quả "
                      f"{_t(data.header.agency_name)} tiếp nhận hồ sơ của:", p),
            *_applicant_block(data.applicant_name, data.id_number, data.address, data.phone,
                              st),
            Paragraph(f"Đề nghị giải quyết thủ tục: <b>{_t(data.procedure_name)}</b>", p),
            Paragraph("Yêu cầu Ông/Bà hoàn thiện hồ sơ gồm những nội dung như sau:", p),
        ]
        rows: list[list[Any]] = [[Paragraph("STT", st.head_cell),
                                  Paragraph("Thành phần hồ sơ", st.head_cell),
                                  Paragraph("Nội dung cần bổ sung, hoàn thiện", st.head_cell)]]
        for i, item in enumerate(data.items, 1):
            rows.append([Paragraph(str(i), st.cell_center),
                         Paragraph(_t(item.component_name), st.cell),
                         Paragraph(_t(item.requirement), st.cell)])
        out.append(_grid(rows, [0.08 * width, 0.46 * width, 0.46 * width]))
        out += [
            Spacer(0, 2 * mm),
            Paragraph(f"Lý do: {_t(data.reason)}", p),
            Paragraph(f"Quy định tham khảo: {_t(data.rules_reference)}", p),
            Paragraph("Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ "
                      f"{_t(data.official_name)}"
                      + (f", số điện thoại {_t(data.official_phone)}" if data.official_phone
                         else "")
                      + " để được hướng dẫn.", p),
            _signatures("NGƯỜI NỘP HỒ SƠ", data.applicant_name, "NGƯỜI HƯỚNG DẪN",
                        data.official_name, width, st,
                        16 * mm if page_size == "A4" else 8 * mm),
        ]
        return out

    return _render(page_size, "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", data.number,
                   data.header.agency_name, f"Phiếu số {data.number}", story)


def render_refusal(data: RefusalData, page_size: PageSize = "A4") -> bytes:
    """Mẫu 03: Phiếu từ chối tiếp nhận giải quyết hồ sơ, two copies."""

    def story(copy: int, width: float, st: _Styles) -> list[Flowable]:
        p = st.base
        return [
            _header(data.header, data.issued_at, width, st, number=data.number),
            Paragraph("PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", st.title),
            Paragraph(f"({_t(COPIES[copy])})", st.italic_center),
            Spacer(0, 3 * mm),
            Paragraph(f"Bộ phận tiếp nhận và trả kết quả {_t(data.header.agency_name)} "
                      "tiếp nhận hồ sơ của:", p),
            *_applicant_block(data.applicant_name, data.id_number, data.address, data.phone,
                              st),
            Paragraph(f"Đề nghị giải quyết thủ tục: <b>{_t(data.procedure_name)}</b>", p),
            Paragraph("Sau khi xem xét, đối chiếu thành phần hồ sơ, Bộ phận tiếp nhận và trả "
                      "kết quả từ chối tiếp nhận, giải quyết hồ sơ này với lý do cụ thể như "
                      "sau:", p),
            Paragraph(f"<b>{_t(data.reason)}</b>", p),
            Paragraph("Xin thông báo để Ông/Bà được biết và thực hiện.", p),
            _signatures("NGƯỜI NỘP HỒ SƠ", data.applicant_name, "NGƯỜI TIẾP NHẬN HỒ SƠ",
                        data.official_name, width, st,
                        16 * mm if page_size == "A4" else 8 * mm),
        ]

    return _render(page_size, "Phiếu từ chối tiếp nhận giải quyết hồ sơ", data.number,
                   data.header.agency_name, f"Phiếu số {data.number}", story)


__all__ = [
    "AgencyHeader", "ComponentLine", "FeeLine", "ReceiptData", "RefusalData",
    "SupplementData", "SupplementItem", "render_receipt", "render_refusal",
    "render_supplement_request",
]
