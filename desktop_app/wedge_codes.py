"""What a handheld QR scanner typing as a keyboard ("keyboard wedge") may be sending.

The counter reads three kinds of code: the QR on a chip ID card (``citizen_qr``), and the
QR on a receipt, either the bare dossier code or the province's tracking URL carrying it
(``intake.returns.code_from_scan``). A station may also have its scanner configured to
send a prefix before each code and a suffix after it (``StationInfo.scanner_prefix`` /
``scanner_suffix``).

The keyboard filter (``ui/wedge.py``) holds keys back while what they spell could still
be the start of one of these codes, and lets them go the moment it cannot. So the two
questions here are asked after every key, and must be cheap and exact:

- ``could_continue``: can this text still grow into a scan?
- ``complete``: is this text, ended by Enter/Tab or by the suffix, a whole scan?

No Qt and no timing here: those are the filter's."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from desktop_app.domain.citizen_qr import looks_like_citizen_qr
from desktop_app.intake.returns import CODE_RE, code_from_scan

# An ID-card payload is about 100–250 characters; a tracking URL well under 200. Longer
# bursts are something else (or a scanner left in continuous mode).
MAX_SCAN_CHARS = 1000
_DIGITS = frozenset("0123456789")  # ASCII only: isdigit() also takes "٠١٢"
# The dossier code printed on receipts, one class per character:
# 000.00.12.H12-231027-1001 (and more sequence digits if a counter ever needs them).
_CODE_SHAPE = "999.99.99.A99-999999-9999"
_SCHEMES = ("https://", "http://")
_ID_CARD_HEAD = 13  # 12 digits and the first "|"


class ScanKind(Enum):
    ID_CARD = "id_card"  # shaped like an ID-card QR (parse_citizen_qr says if it is valid)
    RECEIPT = "receipt"  # a dossier code or a tracking URL carrying one
    OTHER = "other"  # anything sent with the station's prefix


@dataclass(frozen=True)
class WedgeScan:
    kind: ScanKind
    payload: str  # without the prefix and suffix


def _could_be_id_card(text: str) -> bool:
    head = text[:12]
    if any(ch not in _DIGITS for ch in head):
        return False
    return len(text) <= 12 or text[12] == "|"


def _could_be_code(text: str) -> bool:
    for i, ch in enumerate(text):
        kind = _CODE_SHAPE[i] if i < len(_CODE_SHAPE) else "9"
        if kind == "9":
            ok = ch in _DIGITS
        elif kind == "A":
            ok = ch.isascii() and ch.isalpha()
        else:
            ok = ch == kind
        if not ok:
            return False
    return len(text) <= len(_CODE_SHAPE) + 4


def _could_be_url(text: str) -> bool:
    lower = text.lower()
    for scheme in _SCHEMES:
        if scheme.startswith(lower):
            return True
        if lower.startswith(scheme):
            return not any(ch.isspace() for ch in text)
    return False


def is_receipt(text: str) -> bool:
    """A whole dossier code, or a whole tracking URL that carries one (a code inside longer
    text is not a receipt scan)."""
    if CODE_RE.fullmatch(text.upper()):
        return True
    return (text.lower().startswith(_SCHEMES) and not any(ch.isspace() for ch in text)
            and code_from_scan(text) is not None)


def id_card_head_seen(text: str) -> bool:
    """Twelve digits and a "|" have arrived: nobody types that at scanner speed, so what
    follows is a scan even if it contains keys a person would use (Backspace sent by a
    Vietnamese keyboard hook such as Unikey rewriting the letters)."""
    return len(text) >= _ID_CARD_HEAD and _could_be_id_card(text)


@dataclass(frozen=True)
class WedgeCodes:
    """The codes this station's scanner may send, with its prefix and suffix."""

    prefix: str = ""
    suffix: str = ""

    def could_continue(self, text: str) -> bool:
        if not text or len(text) > MAX_SCAN_CHARS + len(self.prefix) + len(self.suffix):
            return False
        # The suffix may be arriving: what precedes its first characters must be a scan.
        for k in range(len(self.suffix) - 1, 0, -1):
            if text.endswith(self.suffix[:k]) and self._could_be_body(text[:-k]):
                return True
        return self._could_be_body(text)

    def _could_be_body(self, text: str) -> bool:
        if self.prefix and (self.prefix.startswith(text) or text.startswith(self.prefix)):
            return True
        return _could_be_id_card(text) or _could_be_code(text) or _could_be_url(text)

    def prefixed(self, text: str) -> bool:
        """The station's prefix has arrived: whatever follows is a scan."""
        return bool(self.prefix) and text.startswith(self.prefix)

    def ends_with_suffix(self, text: str) -> bool:
        return bool(self.suffix) and text.endswith(self.suffix)

    def complete(self, text: str, by_suffix: bool = False) -> WedgeScan | None:
        """``text`` as one whole scan (ended by Enter or Tab, or, with ``by_suffix``, by
        the suffix at its end), or None when it is not one."""
        body = text[:-len(self.suffix)] if by_suffix and self.suffix else text
        prefixed = self.prefixed(body)
        if prefixed:
            body = body[len(self.prefix):]
        if not body:
            return None
        if looks_like_citizen_qr(body):
            return WedgeScan(ScanKind.ID_CARD, body)
        if is_receipt(body):
            return WedgeScan(ScanKind.RECEIPT, body)
        if prefixed:
            return WedgeScan(ScanKind.OTHER, body)
        return None

