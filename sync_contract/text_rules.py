"""What a string in a document the station sends may hold: its length per field and the
characters it must not contain. The gateway refuses what breaks these rules (422 with
the field's name); the station fits its own documents to them before sending
(`fit_document`), so one table serves both sides.

Refused everywhere: C0 control characters (U+0000–U+001F), DEL and C1 (U+007F–U+009F),
lone surrogates (U+D800–U+DFFF: not encodable as UTF-8, a database would fail on them)
and the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
which make a printed or displayed code or name read differently from what is stored.
Free-text fields (notes, reasons, addresses) may hold tab and line feed (U+0009, U+000A);
a carriage return is not needed on the wire (the station sends line feeds only)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

# Lengths from DOMAIN.md where it gives one (TrichYeuHoSo ≤ 1000, NguoiXuLy ≤ 50); codes
# follow the gateway's columns (agency 40, dossier code 60, procedure code 60); names,
# addresses and notes are bounded well above anything a counter writes (the longest
# procedure name in the national catalog is under 300 characters) so only abuse hits
# them. A field not listed here (an added field) gets DEFAULT_MAX.
FIELD_MAX: dict[str, int] = {
    # identifiers and codes
    "ClientId": 64, "EventId": 100, "MaDonVi": 40, "MaHoSo": 60, "SoPhieu": 60,
    "MaTTHC": 60, "MaLinhVuc": 60, "MaThanhPhanHoSo": 60, "MaPhiLePhi": 60,
    "MaGiayToKetQua": 60, "MaKetQuaThayThe": 60, "TepDinhKemId": 100, "GiayToId": 100,
    "HoSoBoSungId": 100, "TepDinhKemSha256": 64, "SoGiayToChuHoSo": 40, "SoDinhDanh": 40,
    "SoDienThoai": 30, "Fax": 30, "Email": 254, "SoBienLai": 60, "Loai": 40,
    "HinhThucThu": 40, "GiaiDoan": 40,
    # times, yyyyMMddHHmmss
    "NgayTiepNhan": 14, "NgayHenTra": 14, "NgayHenTraBanDau": 14, "HanGiaiQuyet": 14,
    "NgayTra": 14, "NgayKetThucXuLy": 14, "NgayTuChoi": 14, "NgayHenTraTruoc": 14,
    "NgayHenTraMoi": 14, "NgayBoSung": 14, "NgayTiepNhanBoSung": 14, "ThoiDiem": 14,
    # people (DOMAIN.md: NguoiXuLy ≤ 50) and names
    "NguoiXuLy": 50, "NguoiThu": 50, "NguoiQuyetDinh": 50, "NguoiYeuCauBoSung": 50,
    "NguoiTiepNhanBoSung": 50, "ChuHoSo": 200, "NguoiNop": 200, "ChucDanh": 100,
    "DonViXuLy": 200, "PhongBanXuLy": 200, "TenTTHC": 1000, "TenLinhVuc": 500,
    "TenThanhPhan": 1000, "TenTepDinhKem": 255, "TenGiayTo": 500, "TenPhiLePhi": 500,
    "SoLuong": 200,
    # free text
    "TrichYeuHoSo": 1000, "DiaChiChuHoSo": 500, "DiaChiNhanKetQua": 500,
    "ThongTinKhac": 2000, "ThongTinTra": 2000, "GhiChu": 2000, "LyDo": 2000,
    "NoiDung": 2000, "NoiDungBoSung": 2000, "NoiDungXuLy": 2000, "CachTinh": 1000,
    "ThongTinTiepNhan": 2000,
}
DEFAULT_MAX = 2000
# Fields whose text may run over several lines (tab and line feed allowed).
FREE_TEXT = frozenset({
    "TrichYeuHoSo", "DiaChiChuHoSo", "DiaChiNhanKetQua", "ThongTinKhac", "ThongTinTra",
    "GhiChu", "LyDo", "NoiDung", "NoiDungBoSung", "NoiDungXuLy", "CachTinh",
    "ThongTinTiepNhan", "SoLuong",
})
# Nesting a station document never exceeds (document → list → item → list → item ...).
MAX_DEPTH = 8
MAX_ITEMS = 1000

_BIDI = "\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
_FORBIDDEN_FREE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")
_FORBIDDEN_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")


class TextRuleError(ValueError):
    """One string breaks the rules; `path` names the field (e.g. TaiLieuNop.0.TenThanhPhan),
    `kind` is a stable machine word."""

    def __init__(self, loc: tuple[str | int, ...], kind: str, detail: str) -> None:
        self.path = ".".join(map(str, loc))
        super().__init__(f"{self.path}: {detail}")
        self.loc = loc
        self.kind = kind


def field_max(name: str) -> int:
    return FIELD_MAX.get(name, DEFAULT_MAX)


def _forbidden(name: str) -> re.Pattern[str]:
    return _FORBIDDEN_FREE if name in FREE_TEXT else _FORBIDDEN_LINE


def check_text(name: str, value: str, loc: tuple[str | int, ...] = ()) -> str:
    """`value` unchanged, or TextRuleError naming the field. Never echoes the value (it may
    be personal data)."""
    where = loc or (name,)
    bad = _forbidden(name).search(value)
    if bad:
        raise TextRuleError(where, "text_forbidden_char",
                            f"contains the control or direction character U+{ord(bad.group()):04X}")
    limit = field_max(name)
    if len(value) > limit:
        raise TextRuleError(where, "text_too_long", f"longer than {limit} characters")
    return value


def check_value(name: str, value: Any, loc: tuple[str | int, ...] = (), depth: int = 0) -> Any:
    """Walk a JSON value (a document, an added field, an item of a list) and check every
    string by the name of the field that holds it (list items by the list's name)."""
    where = loc or (name,)
    if depth > MAX_DEPTH:
        raise TextRuleError(where, "too_deep", f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return check_text(name, value, where)
    if isinstance(value, float) and not math.isfinite(value):
        raise TextRuleError(where, "not_finite", "is not a finite number")
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise TextRuleError(where, "too_many_items", f"has more than {MAX_ITEMS} items")
        for i, item in enumerate(value):
            check_value(name, item, (*where, i), depth + 1)
    elif isinstance(value, Mapping):
        if len(value) > MAX_ITEMS:
            raise TextRuleError(where, "too_many_items", f"has more than {MAX_ITEMS} keys")
        for key, item in value.items():
            check_text("key", str(key), (*where, "<key>"))
            check_value(str(key), item, (*where, str(key)), depth + 1)
    return value


def fit_text(name: str, value: str) -> str:
    """The station's side: `value` made acceptable for field `name` — carriage returns
    folded into line feeds, refused characters dropped (line breaks become spaces in a
    one-line field), cut to the field's length with an ellipsis. Identity for text that
    already fits, so a resend of an unchanged revision stays byte-identical."""
    try:
        return check_text(name, value)
    except TextRuleError:
        pass
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    if name not in FREE_TEXT:
        text = re.sub(r"[\t\n]+", " ", text)
    text = _forbidden(name).sub("", text)
    limit = field_max(name)
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return text


def fit_value(name: str, value: Any, depth: int = 0) -> Any:
    """`fit_text` applied to every string of a JSON value, by the name of its field."""
    if isinstance(value, str):
        return fit_text(name, value)
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, list):
        return [fit_value(name, item, depth + 1) for item in value]
    if isinstance(value, Mapping):
        return {key: fit_value(str(key), item, depth + 1) for key, item in value.items()}
    return value


def fit_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """A station document (dossier or event) that satisfies the gateway's text rules."""
    return {key: fit_value(str(key), value) for key, value in document.items()}


def check_document(document: Mapping[str, Any]) -> None:
    """Every string of a document, each by the name of its field; the first rule broken
    raises TextRuleError with the field's location (e.g. ("TaiLieuNop", 0, "TenThanhPhan"))."""
    if len(document) > MAX_ITEMS:
        raise TextRuleError(("<document>",), "too_many_items", f"has more than {MAX_ITEMS} keys")
    for key, value in document.items():
        check_text("key", str(key), ("<key>",))
        check_value(str(key), value, (str(key),), 1)
