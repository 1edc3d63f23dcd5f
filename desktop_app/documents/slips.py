"""The slips printed at the counter (Circular 01/2018/TT-VPCP, renumbered by 03/2025):
Mẫu 01 receipt and appointment, Mẫu 02 supplement request, Mẫu 03 refusal.

Each is printed in two copies (Liên 1 kept with the dossier, Liên 2 handed to the
citizen), one after the other in one PDF; each copy starts on a new page and may run
onto more pages (long component lists on A5), numbered "Trang 1/2" within its copy.
Output is byte-for-byte deterministic for the same data (reportlab ``invariant``), so a
reprint is the same file as the original. Layout, header, QR, signatures and the render
loop are in ``slip_parts``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from reportlab.lib.enums import TA_CENTER, TA_LEFT
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
    FeesPaid,
    PageSize,
    _agency,
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

log = logging.getLogger(__name__)

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
    # A receipt issued again after the supplement was brought: ``received_at`` stays the
    # dossier's original receipt (its code and book entry say so); this is when the
    # supplement was received, printed on a line of its own, and the date line of the
    # document. None for the first receipt.
    reissued_at: datetime | None = None
    # Collected at the counter and recorded (desktop_app.fees); None = nothing recorded,
    # and line 7 says only what is to be paid.
    fees_paid: FeesPaid | None = None


REISSUE_LINE = "(Cấp lại khi tiếp nhận hồ sơ bổ sung)"


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
    official_phone: str = ""  # "" prints a dotted blank to fill by hand
    official_email: str = ""


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
    official_phone: str = ""  # "" prints a dotted blank to fill by hand
    official_email: str = ""


@dataclass(frozen=True)
class RenderedReceipt:
    """A receipt's PDF and the paper it was laid out for: an A5 receipt that cannot keep
    each copy on one page is printed on A4 instead (``fell_back_to_a4``)."""

    pdf: bytes
    page_size: PageSize
    requested: PageSize

    @property
    def fell_back_to_a4(self) -> bool:
        return self.page_size != self.requested


def _contact(name: str, phone: str, email: str) -> str:
    """ "<b>name</b>, số điện thoại …, thư điện tử …": blanks to fill by hand when the
    account has no phone or e-mail."""
    return (f"<b>{_t(name, _BLANK_LONG)}</b>, số điện thoại: {_t(phone, _BLANK_SHORT)}, "
            f"thư điện tử: {_t(email, _BLANK_SHORT)}")


# --- Mẫu 01 -----------------------------------------------------------------------------


def _count(n: int) -> str:
    return f"{n:02d}" if n > 0 else "–"


def _compact(st: _Styles) -> _Styles:
    """A step tighter, to keep a copy on one page: single line spacing in the body, and
    the components table a step smaller."""
    fs = st.base.fontSize
    base = ParagraphStyle("base-compact", parent=st.base, leading=fs * 1.15, spaceAfter=0)
    size = st.cell.fontSize * 0.9
    cell = ParagraphStyle("cell-compact", parent=st.cell, fontSize=size, leading=size * 1.1)
    return replace(st, base=base,
                   label=ParagraphStyle("label-compact", parent=base, alignment=TA_LEFT),
                   cell=cell,
                   cell_center=ParagraphStyle("cc-compact", parent=cell, alignment=TA_CENTER),
                   head_cell=ParagraphStyle("hc-compact", parent=st.head_cell, fontSize=size,
                                            leading=size * 1.1))


def _components_table(components: Sequence[ComponentLine], lay: _Layout,
                      st: _Styles) -> tuple[Table, Table | None]:
    """The table, split before its last line when it has more than two: the last line
    goes with the signatures (KeepTogether), so they never stand alone on a page."""
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
    widths = [0.07 * w, 0.49 * w, 0.14 * w, 0.16 * w, 0.14 * w]
    if len(components) <= 2:
        return _grid(rows, widths, 2, extra), None
    return _grid(rows[:-1], widths, 2, extra), _grid(rows[-1:], widths, 0)


def render_receipt(data: ReceiptData, page_size: PageSize = "A4") -> bytes:
    """Mẫu 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả, two copies (see
    ``render_receipt_fitted`` for the A5 fallback)."""
    return render_receipt_fitted(data, page_size).pdf


def render_receipt_fitted(data: ReceiptData, page_size: PageSize = "A4") -> RenderedReceipt:
    """Mẫu 01, two copies, each kept on one page when it can be: if a copy runs over, the
    body is tried a step tighter (``_compact``). An A5 receipt that still does not fit is
    laid out on A4, which the result reports (a signature block alone on a second A5 page
    is no use); a long A4 receipt runs onto more pages, its last component line kept
    with the signatures."""
    for compact in (False, True):
        pages: list[int] = []
        pdf = _render_receipt(data, page_size, compact, pages)
        if all(n == 1 for n in pages):
            return RenderedReceipt(pdf, page_size, page_size)
    if page_size == "A5":
        log.warning("receipt %s with %d component lines does not fit one A5 page per copy; "
                    "laid out on A4", data.dossier_code, len(data.components))
        return replace(render_receipt_fitted(data, "A4"), requested="A5")
    # A long A4 receipt runs onto more pages; the signatures stay with the last line.
    return RenderedReceipt(_render_receipt(data, page_size, False), page_size, page_size)


def _render_receipt(data: ReceiptData, page_size: PageSize, compact: bool,
                    pages: list[int] | None = None) -> bytes:
    agency = _agency(data.header.agency_name)

    def story(copy: int, lay: _Layout, st: _Styles) -> list[Flowable]:
        st = _compact(st) if compact else st
        p = st.label  # a form of labelled lines: justifying them only spreads the words
        gap = 0.25 if compact else 0.5
        qr = _Qr(data.qr_payload, lay.qr_box)
        if lay.size == "A4":  # title centred on the page, QR in the right column
            widths = [qr.width, lay.width - 2 * qr.width, qr.width]
        else:  # A5 is too narrow for that: title and QR side by side
            widths = [lay.width - qr.width, qr.width]
        lines = [f"Mã hồ sơ: <b>{_t(data.dossier_code)}</b>"]
        if data.reissued_at is not None:
            lines.insert(0, f"<b>{REISSUE_LINE}</b>")
        title = _title_block(RECEIPT_TITLE, lines, copy,
                             _fit_title(st, RECEIPT_TITLE, widths[-2]))
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
        table, last_line = _components_table(data.components, lay, st)
        out: list[Flowable] = [
            _header(data.header, data.reissued_at or data.received_at, lay, st),
            Spacer(0, lay.font_size * gap),
            title_table,
            Spacer(0, lay.font_size * gap),
            Paragraph(f"{COUNTER} {agency} tiếp nhận hồ sơ của:", p),
            *_applicant_block(data.applicant_name, data.id_number, data.address, data.phone,
                              st, email=data.email, owner_name=data.owner_name),
            Paragraph(f"Nội dung yêu cầu giải quyết: {procedure}", p),
            Paragraph("1. Thành phần hồ sơ nộp gồm:", p),
            table,
        ]
        # From the table's last line to the signatures: on one page.
        tail: list[Flowable] = [] if last_line is None else [last_line]
        tail += [
            Spacer(0, lay.font_size * 0.4),
            Paragraph(f"2. Số lượng hồ sơ: {max(data.set_count, 0):02d} (bộ)", p),
            Paragraph("3. Thời gian giải quyết hồ sơ theo quy định là: "
                      f"{_t(data.time_limit_text, _BLANK_SHORT)}", p),
            Paragraph(f"4. Thời gian nhận hồ sơ: {_time_vi(data.received_at)}", p),
            *([Paragraph("Thời gian nhận hồ sơ bổ sung, hoàn thiện: "
                         f"{_time_vi(data.reissued_at)}", p)]
              if data.reissued_at is not None else []),
            Paragraph("5. Thời gian trả kết quả giải quyết hồ sơ: "
                      f"<b>{_time_vi(data.appointment_at)}</b>", p),
            Paragraph(f"6. Đăng ký nhận kết quả tại: {_t(data.delivery_text, _BLANK_LONG)}",
                      p),
            # What is to be paid; "đã thu" only for a payment recorded at the counter.
            Paragraph(_receipt_fees(data.fees, data.fees_paid), p),
            Paragraph(f"Vào Sổ theo dõi hồ sơ, Quyển số: {_t(data.book_number, '……')}, "
                      f"Số thứ tự: {data.sequence_number}", p),
            Spacer(0, lay.font_size * gap),
            _signatures([("NGƯỜI NỘP HỒ SƠ", data.applicant_name),
                         ("NGƯỜI TIẾP NHẬN HỒ SƠ", data.clerk_name)], lay, st),
            Paragraph(RECEIPT_NOTE, st.note),
        ]
        out.append(KeepTogether(tail))
        return out

    return _render(page_size, RECEIPT_TITLE.capitalize(), data.dossier_code,
                   data.header.agency_name, f"Mã hồ sơ {data.dossier_code}", story,
                   pages=pages)


def _receipt_fees(fees: Sequence[FeeLine], paid: FeesPaid | None) -> str:
    if not any(f.amount for f in fees):
        return ("7. Phí, lệ phí: Không thu" if paid is None
                else f"7. Phí, lệ phí: {paid.text()}")
    text = f"7. Phí, lệ phí phải nộp: {_fees_text(fees)}"
    return text if paid is None else f"{text}; {paid.text()}"


# --- Mẫu 02 -----------------------------------------------------------------------------


def _reference(text: str) -> str:
    ref = _t(text, _BLANK_LONG)
    return ref if ref.casefold().startswith("căn cứ") else f"Căn cứ: {ref}"


def render_supplement_request(data: SupplementData, page_size: PageSize = "A4") -> bytes:
    """Mẫu 02: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ, two copies."""
    agency = _agency(data.header.agency_name)

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
        contact = _contact(data.official_name, data.official_phone, data.official_email)
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
                      f"với {contact} để được hướng dẫn.", st.label),
            KeepTogether([Spacer(0, lay.font_size * 0.5),
                          _signatures([("NGƯỜI HƯỚNG DẪN", data.official_name)], lay, st)]),
        ]

    return _render(page_size, "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", data.number,
                   data.header.agency_name, f"Phiếu số {data.number}", story)


# --- Mẫu 03 -----------------------------------------------------------------------------


def render_refusal(data: RefusalData, page_size: PageSize = "A4") -> bytes:
    """Mẫu 03: Phiếu từ chối tiếp nhận giải quyết hồ sơ, two copies."""
    agency = _agency(data.header.agency_name)

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
            Paragraph("Mọi vướng mắc, Ông/Bà liên hệ với "
                      f"{_contact(data.official_name, data.official_phone, data.official_email)}"
                      ".", st.label),
            Paragraph("Xin thông báo để Ông/Bà được biết và thực hiện./.", p),
            KeepTogether([Spacer(0, lay.font_size * 0.5),
                          _signatures([("NGƯỜI TIẾP NHẬN HỒ SƠ", data.official_name)], lay,
                                      st)]),
        ]

    return _render(page_size, "Phiếu từ chối tiếp nhận giải quyết hồ sơ", data.number,
                   data.header.agency_name, f"Phiếu số {data.number}", story)


__all__ = [
    "ComponentLine", "ReceiptData", "RefusalData", "RenderedReceipt", "SupplementData",
    "SupplementItem", "render_receipt", "render_receipt_fitted", "render_refusal",
    "render_supplement_request",
]
