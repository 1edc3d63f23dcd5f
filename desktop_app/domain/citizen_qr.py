"""The QR on the chip citizen ID card (CCCD 2021–2024, thẻ căn cước from 07/2024).

Payload: ``ID|old ID|full name|birth ddMMyyyy|sex|address|issue ddMMyyyy`` — the layout
of the chip cards of 2021–2024. The cards in circulation vary around it, and all of
them are read:

- 6 fields: no issue date;
- 7 fields: the layout above, the old 9-digit ID often empty;
- 8 and more (newer cards, thẻ căn cước from 07/2024): further fields after the issue
  date, some of them empty, and often empty fields or a bare ``|`` at the end.

Only the first six fields and the issue date are interpreted; the fields after the issue
date are kept verbatim in ``extra`` (empty ones at the end dropped). A payload is refused
only when it is really malformed (fewer than 6 fields, an absurd number of them, a bad
ID number, date or sex), always with the reason in Vietnamese. The QR is not signed: it
saves typing, it does not prove identity.

Keyboard-wedge scanners are the usual source of damage: UTF-8 read as Latin-1/CP1252
("Nguyá»…n" – repaired here when the round trip is exact), a Vietnamese IME left on
("Nguyeenx Vawn" – refused), a non-US keyboard layout ("àà&àçç..." for digits on AZERTY –
refused), or characters the scanner could not type ("Nguy?n" – refused)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import nfc

SEXES = {"nam": "Nam", "nữ": "Nữ", "nu": "Nữ"}
_ID12 = re.compile(r"[0-9]{12}")
_ID9 = re.compile(r"[0-9]{9}")
_DATE = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{4})")
# UTF-8 lead byte (C2–C6, CC/CD for combining marks, E1/E2 for the ế/‘ blocks) read as
# Latin-1/CP1252, followed by a continuation byte read the same way: "Nguyá»…n", "Ä\x90".
_CONT = "\x80-\x9f\xa1-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc" \
        "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
_MOJIBAKE = re.compile(f"[ÂÃÄÅÆÌÍáâ][{_CONT}]|Ã\xa0")
_UNTYPABLE = re.compile("[?\ufffd]")
_ADDRESS_UNTYPABLE = re.compile("\ufffd|\\?{2,}|[a-zà-ỹ]\\?[a-zà-ỹ]", re.IGNORECASE)
# Telex keystrokes left in a name by a wedge typing through a Vietnamese IME:
# "Vawn", "Nguyeenx". Vietnamese-script names (ethnic minority names included: "Ksor",
# "Y Wơn", "H'Boong") do not put w after a vowel, nor end a doubled-vowel syllable on a
# Telex tone key.
_TELEX = re.compile(r"[aou]w|\b\w*(?:aa|ee|oo|dd)\w*[sfrxj]\b", re.IGNORECASE)
# The digit row of a French AZERTY keyboard typed without Shift.
_AZERTY_DIGITS = str.maketrans("&é\"'(-è_çà", "1234567890")
MIN_FIELDS = 6  # ID, old ID, name, birth date, sex, address
# Newer layouts add fields after the issue date; a payload with more fields than any card
# could hold is some other QR (or several scans run together).
MAX_FIELDS = 24


class CitizenQrError(DomainError):
    """The payload is not a usable ID-card QR; ``message_vi`` says what is wrong and
    ``detail`` names the field for the technician log."""


@dataclass(frozen=True)
class CitizenCard:
    id_number: str
    old_id_number: str
    full_name: str
    birth_date: date
    sex: str
    address: str
    issue_date: date | None
    extra: tuple[str, ...] = ()  # fields after the issue date (newer layouts), as read

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    def consistency_warnings(self) -> list[str]:
        """Soft checks of the 12-digit number against birth year and sex.

        The layout (3 digits province, 1 digit sex/century, 2 digits year, 6 serial) is
        *unconfirmed*: these are warnings for the clerk, never reasons to refuse."""
        warnings: list[str] = []
        code = int(self.id_number[3])
        century = 1900 + 100 * (code // 2)
        sex = "Nữ" if code % 2 else "Nam"
        year = century + int(self.id_number[4:6])
        if code <= 5 and year != self.birth_date.year:
            warnings.append(f"Số định danh ứng với năm sinh {year}, khác năm sinh "
                            f"{self.birth_date.year} trên thẻ: kiểm tra lại với thẻ gốc.")
        if code <= 5 and sex != self.sex:
            warnings.append(f"Số định danh ứng với giới tính {sex}, khác giới tính "
                            f"{self.sex} trên thẻ: kiểm tra lại với thẻ gốc.")
        return warnings


def looks_like_citizen_qr(text: str) -> bool:
    """Cheap check for the keyboard-wedge detector: 12 digits, a pipe, ≥ 5 pipes in all
    (so the 6-field layout and every longer one, whatever the fields hold)."""
    return bool(_ID12.match(text)) and text[12:13] == "|" and text.count("|") >= 5


def _unmojibake_once(text: str) -> str | None:
    """Undo one round of UTF-8 read as CP1252 (with Latin-1 for CP1252's holes)."""
    raw = bytearray()
    for ch in text:
        if ord(ch) < 256:
            raw.append(ord(ch))
            continue
        try:
            raw += ch.encode("cp1252")
        except UnicodeEncodeError:
            return None
    try:
        fixed = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return fixed if fixed != text else None


def _repair_mojibake(text: str) -> str | None:
    """The repaired text, or None if the damage cannot be undone exactly."""
    for _ in range(3):  # twice-garbled text is common enough after copy/paste chains
        fixed = _unmojibake_once(text)
        if fixed is None:
            return None
        text = fixed
        if not _MOJIBAKE.search(text):
            return text
    return None


def _date(value: str, field: str, label: str) -> date:
    m = _DATE.fullmatch(value)
    if not m:
        raise CitizenQrError(
            f"{label} “{value}” không đúng dạng ngày-tháng-năm (8 chữ số ddMMyyyy).",
            f"{field}: bad date format {value!r}",
        )
    day, month, year = int(m[1]), int(m[2]), int(m[3])
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise CitizenQrError(
            f"{label} {day:02d}/{month:02d}/{year} không tồn tại.",
            f"{field}: impossible date {value!r}",
        ) from exc


_EDGE_JUNK = " \t\r\n\x00\x0b\x0c\ufeff"
_SCANNER_MODE = ("Hãy đặt máy quét ở chế độ UTF-8 (hoặc chế độ bàn phím Unicode/“Alt code”) "
                 "và tắt bộ gõ tiếng Việt (Unikey/EVKey) khi quét.")


def _decode(payload: str | bytes) -> str:
    if isinstance(payload, bytes | bytearray):
        try:
            return bytes(payload).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CitizenQrError(
                "Dữ liệu mã QR không phải văn bản UTF-8. " + _SCANNER_MODE,
                f"payload: not UTF-8 ({exc})",
            ) from exc
    if any("\ud800" <= ch <= "\udfff" for ch in payload):
        # Undecodable bytes smuggled through the OS (surrogateescape, e.g. sys.argv).
        try:
            return payload.encode("utf-8", "surrogateescape").decode("utf-8")
        except UnicodeError as exc:
            raise CitizenQrError(
                "Dữ liệu mã QR không phải văn bản UTF-8. " + _SCANNER_MODE,
                f"payload: lone surrogates ({exc})",
            ) from exc
    return payload


def _clean(payload: str | bytes) -> str:
    # Only ASCII whitespace here: a trailing NBSP may be half of a garbled "à" (C3 A0).
    text = _decode(payload).strip(_EDGE_JUNK)
    if not text:
        raise CitizenQrError("Không nhận được dữ liệu từ mã QR.", "payload: empty")
    if _MOJIBAKE.search(text):
        fixed = _repair_mojibake(text)
        if fixed is None:
            raise CitizenQrError(
                "Chữ tiếng Việt trong mã QR bị lỗi phông (sai bảng mã). " + _SCANNER_MODE,
                f"payload: mojibake not repairable {text[:60]!r}",
            )
        text = fixed.strip()
    bad = next((ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co")),
               None)
    if bad is not None:
        raise CitizenQrError(
            "Dữ liệu mã QR có ký tự điều khiển lạ (máy quét gửi thêm phím). Hãy quét lại; "
            "nếu vẫn lỗi, kiểm tra cấu hình tiền tố/hậu tố của máy quét.",
            f"payload: control character U+{ord(bad):04X} at {text.index(bad)}",
        )
    text = nfc(text)
    if not text:
        raise CitizenQrError("Không nhận được dữ liệu từ mã QR.", "payload: empty")
    return text


def parse_citizen_qr(payload: str | bytes, today: date | None = None) -> CitizenCard:
    """Parse and validate what the scanner sent. Raises CitizenQrError on any defect."""
    text = _clean(payload)
    fields = [f.strip() for f in text.split("|")]
    if len(fields) < MIN_FIELDS:
        raise CitizenQrError(
            f"Mã QR chỉ có {len(fields)} trường thông tin; mã QR trên thẻ căn cước có ít nhất "
            f"{MIN_FIELDS} trường (số định danh, số CMND cũ, họ tên, ngày sinh, giới tính, nơi "
            "cư trú) ngăn cách bởi dấu “|”. Đây có thể không phải mã QR trên thẻ căn cước.",
            f"payload: field count {len(fields)}",
        )
    if len(fields) > MAX_FIELDS:
        raise CitizenQrError(
            f"Mã QR có {len(fields)} trường thông tin, nhiều hơn mọi loại thẻ căn cước (tối đa "
            f"{MAX_FIELDS}). Có thể máy quét đã gửi liền hai mã; hãy quét lại từng thẻ một.",
            f"payload: field count {len(fields)}",
        )
    id_number, old_id, name, birth, sex, address = fields[:MIN_FIELDS]
    rest = fields[MIN_FIELDS:]
    while len(rest) > 1 and not rest[-1]:
        rest.pop()  # empty fields at the end, a trailing "|": nothing in them
    if not _ID12.fullmatch(id_number):
        if id_number and _ID12.fullmatch(id_number.translate(_AZERTY_DIGITS)):
            raise CitizenQrError(
                "Máy quét đang gõ theo bàn phím kiểu Pháp (AZERTY) nên chữ số bị đổi thành "
                "ký tự khác. Hãy chuyển bàn phím Windows và máy quét về kiểu US (English).",
                f"id_number: AZERTY digit row {id_number!r}",
            )
        raise CitizenQrError(
            f"Số định danh “{id_number}” phải gồm đúng 12 chữ số.",
            f"id_number: {id_number!r}",
        )
    if old_id and not _ID9.fullmatch(old_id):
        raise CitizenQrError(
            f"Số CMND cũ “{old_id}” phải gồm đúng 9 chữ số.", f"old_id_number: {old_id!r}"
        )
    if not name:
        raise CitizenQrError("Họ và tên trong mã QR bị trống.", "full_name: empty")
    if _UNTYPABLE.search(name) or _ADDRESS_UNTYPABLE.search(address):
        raise CitizenQrError(
            "Máy quét không gõ được chữ tiếng Việt (hiện thành dấu “?”). " + _SCANNER_MODE,
            f"full_name/address: untypable characters {name!r} {address[:40]!r}",
        )
    if _TELEX.search(name) or re.search(r"[^\W\d_]\d", name):
        raise CitizenQrError(
            f"Họ và tên “{name}” có vẻ bị bộ gõ tiếng Việt chuyển đổi khi quét. Hãy tắt bộ gõ "
            "(Unikey/EVKey) rồi quét lại.",
            f"full_name: looks IME-mangled {name!r}",
        )
    if any(ch.isdigit() for ch in name):
        raise CitizenQrError(f"Họ và tên “{name}” có chữ số.", f"full_name: digits {name!r}")
    birth_date = _date(birth, "birth_date", "Ngày sinh")
    if birth_date > (today or date.today()):
        raise CitizenQrError(
            f"Ngày sinh {birth_date:%d/%m/%Y} ở tương lai.",
            f"birth_date: in the future {birth!r}",
        )
    sex_norm = SEXES.get(sex.lower())
    if sex_norm is None:
        raise CitizenQrError(
            f"Giới tính “{sex}” không hợp lệ (chỉ “Nam” hoặc “Nữ”).", f"sex: {sex!r}"
        )
    issue: date | None = None
    if rest and rest[0]:
        issue = _date(rest[0], "issue_date", "Ngày cấp")
        if issue < birth_date:
            raise CitizenQrError(
                "Ngày cấp thẻ trước ngày sinh: mã QR bị lỗi.",
                f"issue_date: {rest[0]} before birth date {birth}",
            )
    return CitizenCard(
        id_number=id_number,
        old_id_number=old_id,
        full_name=name,
        birth_date=birth_date,
        sex=sex_norm,
        address=address,
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
