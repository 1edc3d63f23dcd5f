"""Text normalisation: NFC for storage and drawing, diacritic folding for search."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# đ/Đ are letters of their own, not d + a combining mark, so NFD does not split them.
_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def nfc(text: str | None) -> str:
    """NFC-normalise and collapse whitespace; ``None`` becomes ``""``."""
    if not text:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str | None) -> str:
    """Lower-case and strip Vietnamese diacritics: "Nguyễn Văn Đức" -> "nguyen van duc"."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.lower()).strip()


def vnd(amount: int) -> str:
    """Vietnamese money: 12.000 đồng (dot as the thousands separator)."""
    return f"{amount:,}".replace(",", ".") + " đồng"


# Vietnamese alphabetical order: letters with a breve, circumflex or horn, and đ, are
# letters of their own after their base letter; tones only break ties (no tone, grave,
# hook, tilde, acute, dot below).
_MODIFIERS = {"\u0306": 1, "\u0302": 2, "\u031b": 3}  # breve, circumflex, horn
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def vi_sort_key(text: str | None) -> tuple[tuple[tuple[str, int], ...], tuple[int, ...]]:
    """A sort key for Vietnamese words ("An" < "Ánh" < "Ân" < "Bình" < "Đào" < "Êm")."""
    letters: list[tuple[str, int]] = []
    tones: list[int] = []
    for ch in unicodedata.normalize("NFD", nfc(text).lower()):
        if ch in _MODIFIERS and letters:
            base, _ = letters[-1]
            letters[-1] = (base, _MODIFIERS[ch])
        elif ch in _TONES:
            if tones:
                tones[-1] = _TONES[ch]
        elif ch == "đ":
            letters.append(("d", 9))
            tones.append(0)
        elif not unicodedata.combining(ch):
            letters.append((ch, 0))
            tones.append(0)
    return tuple(letters), tuple(tones)
