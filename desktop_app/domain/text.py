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
