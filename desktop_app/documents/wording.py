"""How names and dates are written in the body of a printed document (Decree 30/2020/NĐ-CP,
Appendix I): an agency's name in running text as it is written, not in the header's
capitals, and dates spelled "ngày … tháng … năm …" with the leading zero only where the
decree puts one."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

# Abbreviations expanded in running text (the header may keep them).
_ABBREVIATIONS = {
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
}
# Administrative units: the words after one of these, up to the next, are a place name.
# Two-word units first, so "thị xã" is not read as "xã".
_UNITS = ("thành phố", "thị trấn", "thị xã", "đặc khu", "xã", "phường", "huyện", "quận",
          "tỉnh")
_WS = re.compile(r"\s+")
# "Uỷ" (old accent placement) and any casing of the full name, spelled one way.
_OLD_ACCENT = re.compile(r"\b(?:ỦY|UỶ|Ủy|Uỷ) (?:BAN|ban) (?:NHÂN|nhân) (?:DÂN|dân)\b")


def _nfc(text: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFC", text or "")).strip()


def _capitalised(word: str) -> str:
    """ "NÀ" → "Nà"; "R'LẤP" → "R'Lấp" (a syllable after an apostrophe is capitalised too)."""
    return "'".join(part[:1].upper() + part[1:].lower() for part in word.split("'"))


def agency_in_sentence(name: str) -> str:
    """The agency's name as written inside a sentence: "UBND XÃ NÀ PHẶC" → "Ủy ban nhân
    dân xã Nà Phặc". A name typed in capitals is lowercased (diacritics kept) except its
    first letter and the place names, which are capitalised word by word; a name already
    in mixed case keeps its spelling. "UBND"/"HĐND" are spelled out either way."""
    text = _nfc(name)
    if not text:
        return ""
    all_caps = text == text.upper() and text != text.lower()
    text = _OLD_ACCENT.sub("Ủy ban nhân dân", text)
    words = text.split(" ")
    out: list[str] = []
    in_place = False
    i = 0
    while i < len(words):
        word = words[i]
        bare = word.rstrip(",;")
        if bare.upper() in _ABBREVIATIONS:
            out.append(_ABBREVIATIONS[bare.upper()] + word[len(bare):])
            in_place = False
            i += 1
            continue
        unit = next((u for u in _UNITS
                     if " ".join(words[i:i + len(u.split())]).rstrip(",;").lower() == u), None)
        if unit is not None:
            span = words[i:i + len(unit.split())]
            out.extend(w.lower() if all_caps else w for w in span)
            in_place = True
            i += len(span)
            continue
        if all_caps:
            out.append(_capitalised(word) if in_place else word.lower())
        else:
            out.append(word)
        i += 1
    sentence = " ".join(out)
    return sentence[:1].upper() + sentence[1:]


def day_month(dt: datetime) -> tuple[str, str]:
    """Day and month as Decree 30 writes them: a day below 10 and the months 1 and 2 with
    a leading zero ("05", "02"), the other months without ("3", "12")."""
    day = f"{dt.day:02d}"
    month = f"{dt.month:02d}" if dt.month <= 2 else str(dt.month)
    return day, month


def date_in_words(dt: datetime) -> str:
    """ "ngày 05 tháng 3 năm 2026"."""
    day, month = day_month(dt)
    return f"ngày {day} tháng {month} năm {dt.year}"


def time_in_words(dt: datetime) -> str:
    """ "09 giờ 32 phút, ngày 15 tháng 3 năm 2026" (the forms' time of receipt and
    appointment)."""
    return f"{dt:%H} giờ {dt:%M} phút, {date_in_words(dt)}"
