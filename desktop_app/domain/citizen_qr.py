"""The QR on the chip citizen ID card (CCCD 2021–2024, thẻ căn cước from 07/2024).

Payload: ``ID|old ID|full name|birth ddMMyyyy|sex|address|issue ddMMyyyy`` (6–8 fields;
newer cards often leave the old ID empty and may add or drop trailing fields). The QR is
not signed: it saves typing, it does not prove identity."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import nfc

SEXES = {"nam": "Nam", "nữ": "Nữ", "nu": "Nữ"}
_ID12 = re.compile(r"\d{12}")
_ID9 = re.compile(r"\d{9}")
_DATE = re.compile(r"(\d{2})(\d{2})(\d{4})")
# UTF-8 bytes read as Latin-1/CP1252: "Nguyá»…n", "Ä\x90á»" …
_MOJIBAKE = re.compile(r"[ÃÄÆá][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                       r"\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")
# Telex/VNI keystrokes left in a name by a wedge typing through a Vietnamese IME:
# "Nguye64n" (VNI), "Nguyeenx", "Vawn" (Telex). Vietnamese spelling has no w/f/j/z and
# never doubles a/e/o or d, so these are safe signs.
_VNI_TELEX = re.compile(r"[a-z][1-9][a-z]?|[wfjz]|aa|ee|oo|dd", re.IGNORECASE)


class CitizenQrError(DomainError):
    """The payload is not a usable ID-card QR; ``message_vi`` says what is wrong."""


@dataclass(frozen=True)
class CitizenCard:
    id_number: str
    old_id_number: str
    full_name: str
    birth_date: date
    sex: str
    address: str
    issue_date: date | None
    extra: tuple[str, ...] = ()

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def looks_like_citizen_qr(text: str) -> bool:
    """Cheap check for the keyboard-wedge detector: 12 digits then at least 5 pipes."""
    return bool(_ID12.match(text)) and text[12:13] == "|" and text.count("|") >= 5


def _repair_mojibake(text: str) -> str | None:
    """Undo UTF-8 read as CP1252/Latin-1, if that is what happened."""
    for codec in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != text:
            return fixed
    return None


def _date(value: str, field: str) -> date:
    m = _DATE.fullmatch(value)
    if not m:
        raise CitizenQrError(
            f"{field} “{value}” không đúng dạng ngày-tháng-năm (8 chữ số ddMMyyyy).",
            f"{field}: bad date format {value!r}",
        )
    day, month, year = int(m[1]), int(m[2]), int(m[3])
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise CitizenQrError(
            f"{field} {day:02d}/{month:02d}/{year} không tồn tại.",
            f"{field}: impossible date {value!r}",
        ) from exc


def _decode(payload: str | bytes) -> str:
    if isinstance(payload, bytes):
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CitizenQrError(
                "Dữ liệu mã QR không phải văn bản UTF-8. Hãy đặt máy quét ở chế độ UTF-8.",
                f"payload not UTF-8: {exc}",
            ) from exc
    return payload


def parse_citizen_qr(payload: str | bytes, today: date | None = None) -> CitizenCard:
    text = _decode(payload).strip().strip("\x00").strip()
    if not text:
        raise CitizenQrError("Không nhận được dữ liệu từ mã QR.", "empty payload")
    if _MOJIBAKE.search(text):
        fixed = _repair_mojibake(text)
        if fixed is None or _MOJIBAKE.search(fixed):
            raise CitizenQrError(
                "Chữ tiếng Việt trong mã QR bị lỗi phông (sai bảng mã). Hãy đặt máy quét ở "
                "chế độ UTF-8 và tắt bộ gõ tiếng Việt (Unikey) khi quét.",
                f"mojibake not repairable: {text[:60]!r}",
            )
        text = fixed
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise CitizenQrError(
            "Dữ liệu mã QR có ký tự điều khiển lạ. Hãy quét lại.",
            f"control characters in payload: {text[:60]!r}",
        )
    text = nfc(text)
    fields = [f.strip() for f in text.split("|")]
    if not 6 <= len(fields) <= 8:
        raise CitizenQrError(
            f"Mã QR có {len(fields)} trường thông tin, thẻ căn cước có từ 6 đến 8 trường. "
            "Đây có thể không phải mã QR trên thẻ căn cước.",
            f"field count {len(fields)}",
        )
    id_number, old_id, name, birth, sex, address = fields[:6]
    rest = fields[6:]
    if not _ID12.fullmatch(id_number):
        raise CitizenQrError(
            f"Số định danh “{id_number}” phải gồm đúng 12 chữ số.",
            f"id_number: {id_number!r}",
        )
    if old_id and not _ID9.fullmatch(old_id):
        raise CitizenQrError(
            f"Số CMND cũ “{old_id}” phải gồm đúng 9 chữ số.", f"old_id_number: {old_id!r}"
        )
    if _VNI_TELEX.search(name):
        raise CitizenQrError(
            f"Họ và tên “{name}” có vẻ bị bộ gõ tiếng Việt chuyển đổi khi quét. Hãy tắt bộ gõ "
            "(Unikey/EVKey) rồi quét lại.",
            f"full_name looks IME-mangled: {name!r}",
        )
    if not name or any(ch.isdigit() for ch in name):
        raise CitizenQrError(
            "Họ và tên trong mã QR bị trống hoặc có chữ số.", f"full_name: {name!r}"
        )
    birth_date = _date(birth, "Ngày sinh")
    if birth_date > (today or date.today()):
        raise CitizenQrError(
            f"Ngày sinh {birth_date:%d/%m/%Y} ở tương lai.", f"birth date in future {birth!r}"
        )
    sex_norm = SEXES.get(sex.lower())
    if sex_norm is None:
        raise CitizenQrError(
            f"Giới tính “{sex}” không hợp lệ (chỉ “Nam” hoặc “Nữ”).", f"sex: {sex!r}"
        )
    issue: date | None = None
    if rest and rest[0]:
        issue = _date(rest[0], "Ngày cấp")
        if issue < birth_date:
            raise CitizenQrError(
                "Ngày cấp thẻ trước ngày sinh: mã QR bị lỗi.", f"issue {rest[0]} < birth {birth}"
            )
    return CitizenCard(
        id_number=id_number,
        old_id_number=old_id,
        full_name=" ".join(name.split()),
        birth_date=birth_date,
        sex=sex_norm,
        address=" ".join(address.split()),
        issue_date=issue,
        extra=tuple(rest[1:]),
    )


def format_citizen_qr(card: CitizenCard) -> str:
    """The payload a card with these fields carries (for tests and training cards)."""
    fields = [
        card.id_number,
        card.old_id_number,
        card.full_name,
        f"{card.birth_date:%d%m%Y}",
        card.sex,
        card.address,
        f"{card.issue_date:%d%m%Y}" if card.issue_date else "",
        *card.extra,
    ]
    return "|".join(fields)
