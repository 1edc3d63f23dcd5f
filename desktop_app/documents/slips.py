"""The slips printed at the counter (Circular 01/2018/TT-VPCP, renumbered by 03/2025):
Mẫu 01 receipt and appointment, Mẫu 02 supplement request, Mẫu 03 refusal.

Each is printed in two copies (Liên 1 kept with the dossier, Liên 2 handed to the
citizen), one after the other in one PDF; each copy starts on a new page and may run
onto more pages (long component lists on A5), numbered "Trang 1/2" within its copy.
Output is byte-for-byte deterministic for the same data (reportlab ``invariant``), so a
reprint is the same file as the original. Layout, header, QR, signatures and the render
loop are in ``slip_parts``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from desktop_app.documents.slip_parts import (
    _BLANK_LONG,
    _BLANK_SHORT,
    _PLAIN,
    COUNTER,
    AgencyHeader,
    FeeLine,
    PageSize,
    _applicant_block,
    _fees_text,
    _fit_title,
    _grid,
    _header,
    _Layout,
    _lines,
    _nfc,
    _Qr,
    _render,
    _signatures,
    _Styles,
    _t,
    _time_vi,
    _title_block,
)

RECEIPT_TITLE = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
RECEIPT_NOTE = (
    "<b>Ghi chú:</b> Giấy tiếp nhận hồ sơ và hẹn trả kết quả được lập thành 02 liên; 01 liên "
    "lưu kèm Phiếu kiểm soát quá trình giải quyết hồ sơ; 01 liên giao cho người nộp hồ sơ. "
    "Khi đến nhận kết quả, xin mang theo giấy này; quét mã QR để tra cứu tình trạng hồ sơ."
)


@dataclass(frozen=True)
class ComponentLine:
    name: str
    originals: int
    certified_copies: int
    photocopies: int


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
    owner_name: str | None = None  # set when the submitter files for someone else


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


# --- Mẫu 01 -----------------------------------------------------------------------------


def _count(n: int) -> str:
    return f"{n:02d}" if n > 0 else "–"


def _components_table(components: Sequence[ComponentLine], lay: _Layout,
                      st: _Styles) -> Table:
    hc = st.head_cell
    rows: list[list[Any]] = [
        [Paragraph("STT", hc), Paragraph("Tên giấy tờ", hc), Paragraph("Số lượng", hc), "", ""],
        ["", "", Paragraph("Bản chính", hc), Paragraph("Bản sao chứng thực", hc),
         Paragraph("Bản photo", hc)],
    ]
    for i, c in enumerate(components, 1):
        rows.append([
            Paragraph(str(i), st.cell_center), Paragraph(_t(c.name), st.cell),
            Paragraph(_count(c.originals), st.cell_center),
            Paragraph(_count(c.certified_copies), st.cell_center),
            Paragraph(_count(c.photocopies), st.cell_center),
        ])
    extra: list[tuple[Any, ...]] = [
        ("SPAN", (0, 0), (0, 1)), ("SPAN", (1, 0), (1, 1)), ("SPAN", (2, 0), (4, 0)),
    ]
    if not components:
        rows.append(["", Paragraph("(Không có giấy tờ kèm theo)", st.cell), "", "", ""])
        extra.append(("SPAN", (1, 2), (4, 2)))
    w = lay.width
    return _grid(rows, [0.06 * w, 0.55 * w, 0.12 * w, 0.15 * w, 0.12 * w], 2, extra)


def render_receipt(data: ReceiptData, page_size: PageSize = "A4") -> bytes:
    """Mẫu 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả, two copies."""
    agency = _t(data.header.agency_name)

    def story(copy: int, lay: _Layout, st: _Styles) -> list[Flowable]:
        p = st.base
        qr = _Qr(data.qr_payload, lay.qr_box)
        if lay.size == "A4":  # title centred on the page, QR in the right column
            widths = [qr.width, lay.width - 2 * qr.width, qr.width]
        else:  # A5 is too narrow for that: title and QR side by side
            widths = [lay.width - qr.width, qr.width]
        title = _title_block(RECEIPT_TITLE, [f"Mã hồ sơ: <b>{_t(data.dossier_code)}</b>"],
                             copy, _fit_title(st, RECEIPT_TITLE, widths[-2]))
        cells: list[Any] = ["", title, qr] if lay.size == "A4" else [title, qr]
        title_table = Table([cells], colWidths=widths)
        title_table.setStyle(TableStyle([
            *_PLAIN,
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (-1, 0), (-1, 0), "RIGHT"),
        ]))
        procedure = f"<b>{_t(data.procedure_name)}</b>"
        if _nfc(data.procedure_code):
            procedure += f" (mã&nbsp;thủ&nbsp;tục:&nbsp;{_t(data.procedure_code)})"
        out: list[Flowable] = [
            _header(data.header, data.received_at, lay, st),
            Spacer(0, lay.font_size * 0.5),
            title_table,
            Spacer(0, lay.font_size * 0.5),
            Paragraph(f"{COUNTER} {agency} tiếp nhận hồ sơ của:", p),
            *_applicant_block(data.applicant_name, data.id_number, data.address, data.phone,
                              st, email=data.email, owner_name=data.owner_name),
            Paragraph(f"Nội dung yêu cầu giải quyết: {procedure}", p),
            Paragraph("1. Thành phần hồ sơ nộp gồm:", p),
            _components_table(data.components, lay, st),
            Spacer(0, lay.font_size * 0.4),
            Paragraph(f"2. Số lượng hồ sơ: {max(data.set_count, 0):02d} (bộ)", p),
            Paragraph("3. Thời gian giải quyết hồ sơ theo quy định là: "
                      f"{_t(data.time_limit_text, _BLANK_SHORT)}", p),
            Paragraph(f"4. Thời gian nhận hồ sơ: {_time_vi(data.received_at)}", p),
            Paragraph("5. Thời gian trả kết quả giải quyết hồ sơ: "
                      f"<b>{_time_vi(data.appointment_at)}</b>", p),
            Paragraph(f"6. Đăng ký nhận kết quả tại: {_t(data.delivery_text, _BLANK_LONG)}",
                      p),
            Paragraph(f"7. Phí, lệ phí: {_fees_text(data.fees)}", p),
            Paragraph(f"Vào Sổ theo dõi hồ sơ, Quyển số: {_t(data.book_number, '……')}, "
                      f"Số thứ tự: {data.sequence_number}", p),
            KeepTogether([
                Spacer(0, lay.font_size * 0.5),
                _signatures([("NGƯỜI NỘP HỒ SƠ", data.applicant_name),
                             ("NGƯỜI TIẾP NHẬN HỒ SƠ", data.clerk_name)], lay, st),
                Paragraph(RECEIPT_NOTE, st.note),
            ]),
        ]
        return out

    return _render(page_size, RECEIPT_TITLE.capitalize(), data.dossier_code,
                   data.header.agency_name, f"Mã hồ sơ {data.dossier_code}", story)


# --- Mẫu 02 -----------------------------------------------------------------------------


def _reference(text: str) -> str:
    ref = _t(text, _BLANK_LONG)
    return ref if ref.casefold().startswith("căn cứ") else f"Căn cứ: {ref}"


def render_supplement_request(data: SupplementData, page_size: PageSize = "A4") -> bytes:
    """Mẫu 02: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ, two copies."""
    agency = _t(data.header.agency_name)

    def story(copy: int, lay: _Layout, st: _Styles) -> list[Flowable]:
        p = st.base
        hc = st.head_cell
        rows: list[list[Any]] = [[Paragraph("STT", hc), Paragraph("Thành phần hồ sơ", hc),
                                  Paragraph("Nội dung cần bổ sung, hoàn thiện", hc)]]
        for i, item in enumerate(data.items, 1):
            rows.append([Paragraph(str(i), st.cell_center),
                         Paragraph(_t(item.component_name), st.cell),
                         Paragraph(_lines(item.requirement), st.cell)])
        extra: list[tuple[Any, ...]] = []
        if not data.items:
            rows.append(["", Paragraph("(Xem lý do dưới đây)", st.cell), ""])
            extra.append(("SPAN", (1, 1), (2, 1)))
        w = lay.width
        contact = f"<b>{_t(data.official_name, _BLANK_LONG)}</b>"
        if _nfc(data.official_phone):
            contact += f", số điện thoại <b>{_t(data.official_phone)}</b>"
        return [
            _header(data.header, data.issued_at, lay, st, number=data.number),
            Spacer(0, lay.font_size * 0.6),
            *_title_block("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", [], copy, st),
            Spacer(0, lay.font_size * 0.6),
            Paragraph(f"{COUNTER} {agency} tiếp nhận hồ sơ của:", p),
            *_applicant_block(data.applicant_name, data.id_number, data.address, data.phone,
                              st),
            Paragraph(f"Nội dung yêu cầu giải quyết: <b>{_t(data.procedure_name)}</b>", p),
            Paragraph("Yêu cầu Ông/Bà hoàn thiện hồ sơ gồm những nội dung như sau:", p),
            _grid(rows, [0.07 * w, 0.43 * w, 0.50 * w], 1, extra),
            Spacer(0, lay.font_size * 0.4),
            Paragraph(f"Lý do: {_lines(data.reason) or _BLANK_LONG}", p),
            Paragraph(_reference(data.rules_reference), p),
            Paragraph("Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ "
                      f"với {contact} để được hướng dẫn.", p),
            KeepTogether([Spacer(0, lay.font_size * 0.5),
                          _signatures([("NGƯỜI HƯỚNG DẪN", data.official_name)], lay, st)]),
        ]

    return _render(page_size, "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", data.number,
                   data.header.agency_name, f"Phiếu số {data.number}", story)


# --- Mẫu 03 -----------------------------------------------------------------------------


def render_refusal(data: RefusalData, page_size: PageSize = "A4") -> bytes:
    """Mẫu 03: Phiếu từ chối tiếp nhận giải quyết hồ sơ, two copies."""
    agency = _t(data.header.agency_name)

    def story(copy: int, lay: _Layout, st: _Styles) -> list[Flowable]:
        p = st.base
        reason = ParagraphStyle("reason", parent=p, leftIndent=lay.font_size * 1.5)
        return [
            _header(data.header, data.issued_at, lay, st, number=data.number),
            Spacer(0, lay.font_size * 0.6),
            *_title_block("PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", [], copy, st),
            Spacer(0, lay.font_size * 0.6),
            Paragraph(f"{COUNTER} {agency} tiếp nhận hồ sơ của:", p),
            *_applicant_block(data.applicant_name, data.id_number, data.address, data.phone,
                              st),
            Paragraph(f"Nội dung yêu cầu giải quyết: <b>{_t(data.procedure_name)}</b>", p),
            Paragraph(f"Sau khi nghiên cứu, đối chiếu với quy định hiện hành, {COUNTER} "
                      f"{agency} từ chối tiếp nhận, giải quyết hồ sơ này với lý do cụ thể "
                      "như sau:", p),
            Paragraph(f"<b>{_lines(data.reason) or _BLANK_LONG}</b>", reason),
            Paragraph("Xin thông báo để Ông/Bà được biết và thực hiện./.", p),
            KeepTogether([Spacer(0, lay.font_size * 0.5),
                          _signatures([("NGƯỜI TIẾP NHẬN HỒ SƠ", data.official_name)], lay,
                                      st)]),
        ]

    return _render(page_size, "Phiếu từ chối tiếp nhận giải quyết hồ sơ", data.number,
                   data.header.agency_name, f"Phiếu số {data.number}", story)


__all__ = [
    "ComponentLine", "ReceiptData", "RefusalData", "SupplementData", "SupplementItem",
    "render_receipt", "render_refusal", "render_supplement_request",
]
