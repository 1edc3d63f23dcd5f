"""The kind of a submitted document, shared by the station's reuse index and the
gateway's citizen look-up: the catalog component's name folded (no diacritics, one space
between words). Component codes are per procedure; names are what procedures share.
Request forms (tờ khai, đơn, phiếu, dự thảo) are made for one request: kind "" (never
reused)."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")
# đ/Đ are letters of their own, not d + a combining mark, so NFD does not split them.
_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})
# Folded name prefixes of documents made for one request, never reused.
_PER_REQUEST = ("to khai", "don ", "phieu", "du thao", "van ban yeu cau", "van ban/to khai")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def document_kind(name: str) -> str:
    """The key two documents of the same kind share ("" = never reused)."""
    key = _NOT_WORD.sub(" ", _fold(name or "")).strip()
    if not key or key.startswith(_PER_REQUEST) or key == "don":
        return ""
    return key
