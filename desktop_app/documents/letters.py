"""The return counter's letters (Circular 03/2025/TT-VPCP): Mẫu 04 apology and new
appointment for a late dossier, Mẫu 05 notice that processing stopped (or that the
citizen withdrew the dossier), and the record of the return of the result.

Built from the slips' parts (``slip_parts``: fonts, layouts, header, QR, footer
numbering within a copy, NFC and markup escaping, ``invariant`` output), so a letter
looks like the receipt it follows and a reprint is the same file. Every letter is
printed in two copies (liên), each starting on a new page: the citizen takes one and the
counter keeps the other with the dossier as proof of what was notified, and when (see
``_COPIES_LETTER``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from desktop_app.documents import form_text
from desktop_app.documents.slip_parts import (
    _BLANK_LONG,
    _PLAIN,
    COPIES,
    COUNTER,
    AgencyHeader,
    FeeLine,
    FeesPaid,
    PageSize,
    _agency,
    _fees_text,
    _fit_title,
    _grid,
    _header,
    _Layout,
    _lines,
    _nfc,
    _Qr,
    _signature_widths,
    _Styles,
    _t,
    _time_vi,
)
from desktop_app.documents.slip_parts import _render as _render_copies
from desktop_app.domain.text import vnd

# Circular 03/2025's names for forms 04 and 05 (a withdrawal is form 05 too: the
# dossier's processing stops at the citizen's request); wording in forms.json.
APOLOGY_TITLE = form_text.title("04")
STOP_TITLE = form_text.title("05")
WITHDRAWN_TITLE = STOP_TITLE
RETURN_TITLE = "BIÊN NHẬN TRẢ KẾT QUẢ GIẢI QUYẾT HỒ SƠ"
HEAD_OF_AGENCY = "NGƯỜI ĐỨNG ĐẦU CƠ QUAN"
COUNTER_OFFICIAL = "CÁN BỘ TIẾP NHẬN VÀ TRẢ KẾT QUẢ"
SIGN_HINT = "(Ký và ghi rõ họ tên)"
SIGN_SEAL_HINT = "(Ký, ghi rõ họ tên và đóng dấu)"

# Two copies for every letter. Mẫu 04 and 05 are addressed to the citizen, but the rules
# make the agency answer for a late or stopped dossier: the copy kept with the dossier
# (and its control slip) is the counter's proof of what was notified and when, as for
# the receipt. The return record is signed by both sides, so each keeps a signed copy.
_COPIES_LETTER = COPIES
_COPIES_RETURN = (
    "Liên 1: Lưu tại Bộ phận tiếp nhận và trả kết quả",
    "Liên 2: Giao người nhận kết quả",
)
RETURN_NOTE = (
    "<b>Ghi chú:</b> Biên nhận trả kết quả được lập thành 02 liên; 01 liên lưu kèm hồ sơ "
    "tại Bộ phận tiếp nhận và trả kết quả; 01 liên giao người nhận kết quả."
)


@dataclass(frozen=True)
class ApologyData:
    """Mẫu 04: the agency apologises for a late dossier and gives a new appointment."""

    header: AgencyHeader
    dossier_code: str
    owner_name: str  # the addressee, "Kính gửi: Ông/Bà …"
    received_at: datetime
    procedure_name: str
    original_appointment: datetime
    reason: str  # why it is late; may span several lines
    responsible_unit: str  # đơn vị/cơ quan chịu trách nhiệm về sự chậm trễ
    new_appointment: datetime
    issued_at: datetime  # date line of the letter
    signer_name: str = ""  # the head of the agency; "" leaves room to write it by hand
    signer_title: str = HEAD_OF_AGENCY  # e.g. "CHỦ TỊCH", "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"
    number: str = ""  # "Số: …" of the letter, printed when given
    qr_payload: str = ""  # "" = the dossier code


@dataclass(frozen=True)
class StopNoticeData:
    """Mẫu 05: processing of the dossier stopped, or the citizen withdrew it."""

    header: AgencyHeader
    dossier_code: str
    procedure_name: str
    owner_name: str
    received_at: datetime
    reason: str
    issued_at: datetime  # date of the notice; processing stops from this time
    signer_name: str = ""
    withdrawn: bool = False  # True: the citizen asked to withdraw the dossier
    signer_title: str = HEAD_OF_AGENCY
    number: str = ""
    qr_payload: str = ""  # "" = the dossier code


@dataclass(frozen=True)
class ResultDocument:
    """One result document handed over. ``copies`` None (and a bare string in
    ``documents``): the count was not entered, so the form leaves it to be written by hand
    rather than print a number nobody counted."""

    name: str
    copies: int | None = None
    reference: str = ""  # its number/symbol, e.g. "Số 125/GCN-UBND"


@dataclass(frozen=True)
class ReturnSlipData:
    """Biên nhận trả kết quả: who took the result of which dossier, when and how."""

    header: AgencyHeader
    dossier_code: str
    procedure_name: str
    owner_name: str
    returned_at: datetime
    receiver_name: str = ""  # "" = the owner
    receiver_id_number: str = ""
    receiver_is_owner: bool = True
    authorisation: str = ""  # e.g. "Giấy ủy quyền số 12/UQ ngày 01/11/2023"
    method: Literal["counter", "post"] | str = "counter"
    post_address: str = ""  # where the post delivers (method "post")
    received_at: datetime | None = None  # when the dossier was received, if to print
    fees_due: int | Sequence[FeeLine] = 0  # owed as assessed at receipt: total or itemised
    fees_paid: FeesPaid | None = None  # recorded as collected; None = nothing recorded
    documents: Sequence[str | ResultDocument] = ()
    clerk_name: str = ""  # the returning official
    number: str = ""
    qr_payload: str = ""  # "" = the dossier code


# --- helpers ----------------------------------------------------------------------------


def _title_row(title: str, code: str, copy_label: str, payload: str, lay: _Layout,
               st: _Styles) -> Table:
    """Title, dossier code and copy marker, with the QR beside them (as on the receipt:
    A4 centres the title between two QR-wide columns, A5 puts them side by side)."""
    qr = _Qr(_nfc(payload) or _nfc(code), lay.qr_box)
    if lay.size == "A4":
        widths = [qr.width, lay.width - 2 * qr.width, qr.width]
    else:
        widths = [lay.width - qr.width, qr.width]
    fitted = _fit_title(st, title, widths[-2])
    block: list[Flowable] = [
        Paragraph(title, fitted.title),
        Paragraph(f"Mã hồ sơ: <b>{_t(code, _BLANK_LONG)}</b>", st.center),
        Paragraph(f"({_t(copy_label)})", st.italic_center),
    ]
    cells: list[Any] = ["", block, qr] if lay.size == "A4" else [block, qr]
    table = Table([cells], colWidths=widths)
    table.setStyle(TableStyle([*_PLAIN, ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("ALIGN", (-1, 0), (-1, 0), "RIGHT")]))
    return table


def _signature_row(blocks: Sequence[tuple[str, str, str]], lay: _Layout,
                   st: _Styles) -> Table:
    """(title, hint, name) blocks side by side; a single block sits in the right half."""

    # Titles of several lines ("TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH") beside
    # shorter ones are padded, so the names side by side stay on one line.
    tallest = max(len(b[0].split("\n")) for b in blocks)

    def block(title: str, hint: str, name: str) -> list[Flowable]:
        lines = [_t(line) for line in title.split("\n")]
        heading = "<br/>".join(lines + ["&nbsp;"] * (tallest - len(lines)))
        return [Paragraph(heading, st.center_bold), Paragraph(hint, st.italic_center),
                Spacer(0, lay.sign_gap), Paragraph(_t(name, " "), st.center_bold)]

    cells: list[Any] = [block(*b) for b in blocks]
    if len(cells) == 1:
        cells.insert(0, "")
    table = Table([cells], colWidths=_signature_widths(len(blocks), lay))
    table.setStyle(TableStyle(_PLAIN))
    return table


def _item(label: str, value: str, st: _Styles, lay: _Layout) -> Paragraph:
    """A "- Label: value" line, hanging under its dash."""
    style = ParagraphStyle("item", parent=st.label, leftIndent=lay.font_size * 1.6,
                           firstLineIndent=-lay.font_size * 0.8)
    return Paragraph(f"- {label}: {value}", style)


def _reason(text: str, st: _Styles, lay: _Layout) -> Paragraph:
    style = ParagraphStyle("reason", parent=st.base, leftIndent=lay.font_size * 1.5)
    return Paragraph(f"<b>{_lines(text) or _BLANK_LONG}</b>", style)


def _addressee(name: str, st: _Styles) -> Paragraph:
    return Paragraph(f"Kính gửi: Ông/Bà <b>{_t(name, _BLANK_LONG)}</b>", st.center)


# copy_story(copy index, copy label, layout, styles) -> the flowables of that copy
LetterStory = Callable[[int, str, _Layout, _Styles], list[Flowable]]


def _render(page_size: PageSize, title: str, subject: str, author: str, footer_left: str,
            copies: Sequence[str], copy_story: LetterStory) -> bytes:
    """slip_parts._render with this letter's copy labels."""
    return _render_copies(page_size, title, subject, author, footer_left,
                          lambda i, lay, st: copy_story(i, copies[i], lay, st), copies)


# --- Mẫu 04 -----------------------------------------------------------------------------


def render_apology(data: ApologyData, page_size: PageSize = "A4") -> bytes:
    """Mẫu 04: Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết, two copies."""
    agency = _agency(data.header.agency_name, "……")

    def story(copy: int, label: str, lay: _Layout, st: _Styles) -> list[Flowable]:
        p = st.base
        return [
            _header(data.header, data.issued_at, lay, st, data.number, counter_line=False,
                    blank="……"),
            Spacer(0, lay.font_size * 0.5),
            _title_row(APOLOGY_TITLE, data.dossier_code, label, data.qr_payload, lay, st),
            Spacer(0, lay.font_size * 0.4),
            _addressee(data.owner_name, st),
            Spacer(0, lay.font_size * 0.4),
            Paragraph(f"Vào lúc {_time_vi(data.received_at)}, {agency} tiếp nhận hồ sơ "
                      f"của Ông/Bà <b>{_t(data.owner_name, _BLANK_LONG)}</b>:", p),
            _item("Mã hồ sơ", _t(data.dossier_code, _BLANK_LONG), st, lay),
            _item("Nội dung yêu cầu giải quyết",
                  f"<b>{_t(data.procedure_name, _BLANK_LONG)}</b>", st, lay),
            _item("Thời gian hẹn trả kết quả", _time_vi(data.original_appointment), st,
                  lay),
            Paragraph(form_text.line("04", "late", agency=agency), p),
            Paragraph(form_text.line("04", "reason_label"), p),
            _reason(data.reason, st, lay),
            Paragraph(f"{form_text.line('04', 'responsible')} "
                      f"<b>{_t(data.responsible_unit, _BLANK_LONG)}</b>", p),
            Paragraph(form_text.line("04", "apology", agency=agency,
                                     new=_time_vi(data.new_appointment)), p),
            Paragraph(form_text.line("04", "thanks"), p),
            KeepTogether([Spacer(0, lay.font_size * 0.5),
                          _signature_row([(data.signer_title, SIGN_SEAL_HINT,
                                           data.signer_name)], lay, st)]),
        ]

    return _render(page_size, APOLOGY_TITLE.capitalize(), data.dossier_code,
                   data.header.agency_name, f"Mã hồ sơ {data.dossier_code}", _COPIES_LETTER,
                   story)


# --- Mẫu 05 -----------------------------------------------------------------------------


def render_stop_notice(data: StopNoticeData, page_size: PageSize = "A4") -> bytes:
    """Mẫu 05: Thông báo dừng giải quyết hồ sơ (also when the citizen withdrew it,
    ``withdrawn``), issued for the agency, two copies."""
    agency = _agency(data.header.agency_name, "……")
    title = WITHDRAWN_TITLE if data.withdrawn else STOP_TITLE
    owner = _t(data.owner_name, _BLANK_LONG)
    since = _time_vi(data.issued_at)
    which = "_withdrawn" if data.withdrawn else ""
    decision = form_text.line("05", f"decision{which}", agency=agency, since=since)
    reason_label = form_text.line("05", f"reason_label{which}")

    def story(copy: int, label: str, lay: _Layout, st: _Styles) -> list[Flowable]:
        p = st.base
        signers = [(data.signer_title, SIGN_SEAL_HINT, data.signer_name)]  # for the agency
        if data.withdrawn:  # the citizen confirms the withdrawal on both copies
            signers.insert(0, ("NGƯỜI ĐỀ NGHỊ RÚT HỒ SƠ", SIGN_HINT, data.owner_name))
        return [
            # Issued by the agency itself (signed for it), not by its counter.
            _header(data.header, data.issued_at, lay, st, number=data.number or None,
                    counter_line=False),
            Spacer(0, lay.font_size * 0.5),
            _title_row(title, data.dossier_code, label, data.qr_payload, lay, st),
            Spacer(0, lay.font_size * 0.4),
            _addressee(data.owner_name, st),
            Spacer(0, lay.font_size * 0.4),
            Paragraph(f"Vào lúc {_time_vi(data.received_at)}, {COUNTER} {agency} tiếp nhận "
                      f"hồ sơ của Ông/Bà <b>{owner}</b>:", p),
            _item("Mã hồ sơ", _t(data.dossier_code, _BLANK_LONG), st, lay),
            _item("Nội dung yêu cầu giải quyết",
                  f"<b>{_t(data.procedure_name, _BLANK_LONG)}</b>", st, lay),
            Paragraph(decision, p),
            Paragraph(reason_label, p),
            _reason(data.reason, st, lay),
            Paragraph(form_text.line("05", "closing"), p),
            KeepTogether([Spacer(0, lay.font_size * 0.5), _signature_row(signers, lay, st)]),
        ]

    return _render(page_size, title.capitalize(), data.dossier_code, data.header.agency_name,
                   f"Mã hồ sơ {data.dossier_code}", _COPIES_LETTER, story)


# --- return of the result ---------------------------------------------------------------


def _fees_line(due: int | Sequence[FeeLine], paid: FeesPaid | None) -> str:
    """"đã thu" only for what was recorded as paid; otherwise what the schedule asks."""
    owed = due if isinstance(due, int) else sum(f.amount for f in due)
    if paid is None:
        return (f"Phí, lệ phí phải nộp theo quy định: {_collected(due)}" if owed > 0
                else "Phí, lệ phí: Không thu")
    if paid.amount == owed > 0 and not _nfc(paid.note) and not paid.outstanding:
        receipts = (f" (biên lai số {_t(', '.join(paid.receipt_numbers))})"
                    if paid.receipt_numbers else "")
        return f"Phí, lệ phí đã thu: {_collected(due)}{receipts}"
    if owed > 0:
        return f"Phí, lệ phí phải nộp theo quy định: {_collected(due)}; {paid.text()}"
    return f"Phí, lệ phí: {paid.text()}"


def _collected(fees: int | Sequence[FeeLine]) -> str:
    if isinstance(fees, int):
        return f"<b>{vnd(fees)}</b>" if fees > 0 else "Không thu"
    return _fees_text(fees)


def _documents_table(documents: Sequence[str | ResultDocument], lay: _Layout,
                     st: _Styles) -> Table:
    hc = st.head_cell
    rows: list[list[Any]] = [[Paragraph("STT", hc), Paragraph("Tên giấy tờ kết quả", hc),
                              Paragraph("Số lượng (bản)", hc)]]
    extra: list[tuple[Any, ...]] = []
    docs = [d if isinstance(d, ResultDocument) else ResultDocument(d) for d in documents]
    for i, doc in enumerate(d for d in docs if _nfc(d.name)):
        name = _t(doc.name)
        if _nfc(doc.reference):
            name += f" ({_t(doc.reference)})"
        rows.append([Paragraph(str(i + 1), st.cell_center), Paragraph(name, st.cell),
                     Paragraph("……" if doc.copies is None else
                               f"{doc.copies:02d}" if doc.copies > 0 else "–",
                               st.cell_center)])
    if len(rows) == 1:
        rows.append(["", Paragraph("(Theo kết quả giải quyết hồ sơ)", st.cell), ""])
        extra.append(("SPAN", (1, 1), (2, 1)))
    w = lay.width
    return _grid(rows, [0.08 * w, 0.72 * w, 0.20 * w], 1, extra)


def render_return_receipt(data: ReturnSlipData, page_size: PageSize = "A4") -> bytes:
    """Biên nhận trả kết quả giải quyết hồ sơ, signed by the receiver and the returning
    official, two copies."""
    agency = _agency(data.header.agency_name, "……")
    receiver = _nfc(data.receiver_name) or _nfc(data.owner_name)
    if data.receiver_is_owner:
        role = "chủ hồ sơ"
    else:
        role = "người được chủ hồ sơ ủy quyền"
        if _nfc(data.authorisation):
            role += f", theo {_t(data.authorisation)}"
    if data.method == "post":
        how = ("Qua dịch vụ bưu chính công ích, gửi đến địa chỉ: "
               f"<b>{_t(data.post_address, _BLANK_LONG)}</b>")
    else:
        how = f"Trực tiếp tại {COUNTER} {agency}"

    def story(copy: int, label: str, lay: _Layout, st: _Styles) -> list[Flowable]:
        p = st.base
        out: list[Flowable] = [
            _header(data.header, data.returned_at, lay, st, number=data.number or None),
            Spacer(0, lay.font_size * 0.5),
            _title_row(RETURN_TITLE, data.dossier_code, label, data.qr_payload, lay, st),
            Spacer(0, lay.font_size * 0.5),
            Paragraph(f"Vào lúc {_time_vi(data.returned_at)}, {COUNTER} {agency} trả kết "
                      "quả giải quyết hồ sơ:", p),
            _item("Mã hồ sơ", _t(data.dossier_code, _BLANK_LONG), st, lay),
            _item("Nội dung yêu cầu giải quyết",
                  f"<b>{_t(data.procedure_name, _BLANK_LONG)}</b>", st, lay),
            _item("Chủ hồ sơ", f"Ông/Bà <b>{_t(data.owner_name, _BLANK_LONG)}</b>", st, lay),
        ]
        if data.received_at is not None:
            out.append(_item("Thời gian tiếp nhận hồ sơ", _time_vi(data.received_at), st,
                             lay))
        out += [
            Paragraph(f"Người nhận kết quả: Ông/Bà <b>{_t(receiver, _BLANK_LONG)}</b> "
                      f"({role})", p),
            Paragraph("Số định danh cá nhân: "
                      f"{_t(data.receiver_id_number, _BLANK_LONG)}", p),
            Paragraph(f"Hình thức trả kết quả: {how}", p),
            Paragraph("Kết quả giải quyết hồ sơ đã giao gồm:", p),
            _documents_table(data.documents, lay, st),
            Spacer(0, lay.font_size * 0.4),
            Paragraph(_fees_line(data.fees_due, data.fees_paid), p),
            KeepTogether([
                Spacer(0, lay.font_size * 0.5),
                _signature_row([("NGƯỜI NHẬN KẾT QUẢ", SIGN_HINT, receiver),
                                ("NGƯỜI TRẢ KẾT QUẢ", SIGN_HINT, data.clerk_name)], lay, st),
                Paragraph(RETURN_NOTE, st.note),
            ]),
        ]
        return out

    return _render(page_size, RETURN_TITLE.capitalize(), data.dossier_code,
                   data.header.agency_name, f"Mã hồ sơ {data.dossier_code}", _COPIES_RETURN,
                   story)


__all__ = [
    "APOLOGY_TITLE", "RETURN_TITLE", "STOP_TITLE", "WITHDRAWN_TITLE", "AgencyHeader",
    "ApologyData", "FeeLine", "FeesPaid", "ResultDocument", "ReturnSlipData", "StopNoticeData",
    "render_apology", "render_return_receipt", "render_stop_notice",
]
