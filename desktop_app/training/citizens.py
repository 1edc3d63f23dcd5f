"""Fictional citizens for training, and a printable sheet of their ID-card QR codes.

The numbers are plainly not real: every one starts with the province code 000, which no
province has, and ends in a serial 0000NN; the addresses are in "xã Tập Huấn". The fourth
digit and the next two still agree with sex and birth year, so the card reads without the
consistency warning a real card would not give either. The QR payload has the chip card's
layout (DOMAIN.md: ID|old ID|name|birth|sex|address|issue date), drawn with the same QR
code as the receipts, so a handheld scanner types it exactly as it would a real card."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from desktop_app.documents.fonts import SANS, SANS_BOLD, register_fonts
from desktop_app.documents.slip_parts import _Qr
from desktop_app.documents.watermark import TRAINING_MARK, stamp
from desktop_app.domain.citizen_qr import CitizenCard, format_citizen_qr

PLACE = "xã Tập Huấn, tỉnh Thực Hành"


def _card(serial: int, name: str, birth: date, sex: str, hamlet: str, old_id: str = "",
          issued: date = date(2021, 8, 15)) -> CitizenCard:
    century_sex = (0 if birth.year < 2000 else 2) + (1 if sex == "Nữ" else 0)
    number = f"000{century_sex}{birth.year % 100:02d}{serial:06d}"
    return CitizenCard(number, old_id, name, birth, sex, f"{hamlet}, {PLACE}", issued)


@dataclass(frozen=True)
class Citizen:
    card: CitizenCard
    role: str  # what the trainer uses this person for (printed under the card)

    @property
    def payload(self) -> str:
        return format_citizen_qr(self.card)


CITIZENS: tuple[Citizen, ...] = (
    Citizen(_card(1, "Nguyễn Văn Thực", date(1985, 3, 12), "Nam", "Thôn Một"),
            "Chủ hồ sơ: tiếp nhận bằng quét QR"),
    Citizen(_card(2, "Trần Thị Hành", date(1992, 7, 30), "Nữ", "Thôn Hai", "000111222"),
            "Chủ hồ sơ: hồ sơ thiếu, yêu cầu bổ sung"),
    Citizen(_card(3, "Lê Văn Mẫu", date(1978, 11, 5), "Nam", "Thôn Ba"),
            "Chủ hồ sơ trễ hạn: văn bản xin lỗi (F8)"),
    Citizen(_card(4, "Phạm Thị Thử", date(2001, 1, 20), "Nữ", "Tổ dân phố Bốn"),
            "Người nhận thay (ủy quyền) khi trả kết quả"),
    Citizen(_card(5, "Hoàng Văn Luyện", date(1969, 9, 9), "Nam", "Thôn Năm", "000555666"),
            "Người nộp thay cho người thân"),
    Citizen(_card(6, "Vũ Thị Tập", date(1995, 4, 18), "Nữ", "Thôn Sáu"),
            "Chủ hồ sơ: đăng ký khai sinh cho con"),
    Citizen(_card(7, "Đặng Quốc Huấn", date(2003, 12, 1), "Nam", "Thôn Bảy"),
            "Chủ hồ sơ: chứng thực bản sao"),
    Citizen(_card(8, "Bùi Thị Giả", date(1958, 6, 25), "Nữ", "Thôn Tám"),
            "Chủ hồ sơ: bị từ chối / dừng xử lý"),
)

# An ID-1 card (85.6 × 54 mm) enlarged a little so the QR has room for a slow scanner.
CARD_W, CARD_H = 92 * mm, 60 * mm
QR_BOX = 33 * mm


def _fit(c: Canvas, text: str, font: str, size: float, width: float) -> None:
    while size > 5 and stringWidth(text, font, size) > width:
        size -= 0.25
    c.setFont(font, size)


def _draw_card(c: Canvas, x: float, y: float, citizen: Citizen) -> None:
    card = citizen.card
    c.saveState()
    c.setStrokeColor(colors.Color(0.75, 0.2, 0.0))
    c.setLineWidth(0.8)
    c.roundRect(x, y, CARD_W, CARD_H, 3 * mm, stroke=1, fill=0)
    c.setFillColor(colors.Color(0.75, 0.2, 0.0))
    c.setFont(SANS_BOLD, 8.5)
    c.drawString(x + 4 * mm, y + CARD_H - 6 * mm, "THẺ CĂN CƯỚC GIẢ LẬP — TẬP HUẤN")
    c.setFillColor(colors.black)
    text_w = CARD_W - QR_BOX - 7 * mm
    lines = [
        (SANS_BOLD, 9.5, card.full_name),
        (SANS, 8, f"Số: {card.id_number}"),
        (SANS, 8, f"Ngày sinh: {card.birth_date:%d/%m/%Y} · {card.sex}"),
        (SANS, 7.5, card.address.split(", ")[0]),
        (SANS, 7.5, PLACE),
    ]
    top = y + CARD_H - 12.5 * mm
    for i, (font, size, text) in enumerate(lines):
        _fit(c, text, font, size, text_w)
        c.drawString(x + 4 * mm, top - i * 4.6 * mm, text)
    c.setFont(SANS, 6.5)
    c.setFillColor(colors.Color(0.3, 0.3, 0.3))
    role = citizen.role
    _fit(c, role, SANS, 6.5, CARD_W - 8 * mm)
    c.drawString(x + 4 * mm, y + 3.5 * mm, role)
    qr = _Qr(citizen.payload, QR_BOX)
    qr.drawOn(c, x + CARD_W - qr.width - 2 * mm, y + 7 * mm)
    c.restoreState()


def render_citizen_sheet(citizens: tuple[Citizen, ...] = CITIZENS) -> bytes:
    """A4 pages of 2 × 4 cards, each with its name, number and ID-card QR, watermarked."""
    register_fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1, initialFontName=SANS, initialFontSize=10,
               pageCompression=1)
    c.setTitle("Thẻ căn cước giả lập — tập huấn")
    c.setCreator("Một Cửa Offline")
    width, height = A4
    gap_x = (width - 2 * CARD_W) / 3
    top = height - 22 * mm
    per_page = 8
    for start in range(0, len(citizens), per_page):
        c.setFont(SANS_BOLD, 12)
        c.drawCentredString(width / 2, height - 14 * mm,
                            "Công dân giả lập để tập huấn — quét mã QR như thẻ thật")
        for i, citizen in enumerate(citizens[start:start + per_page]):
            col, row = i % 2, i // 2
            x = gap_x + col * (CARD_W + gap_x)
            y = top - (row + 1) * CARD_H - row * 5 * mm
            _draw_card(c, x, y, citizen)
        c.setFont(SANS, 8)
        c.drawCentredString(width / 2, 10 * mm, "Số định danh bắt đầu bằng 000 (không tỉnh "
                            "nào có mã này): không phải người thật. " + TRAINING_MARK)
        c.showPage()
    c.save()
    return stamp(buf.getvalue())
