"""Separator sheets: one printed page before each component of each dossier lets staff
scan a whole stack through the ADF at once and have it split automatically.

Payload (version 1), UTF-8 in QR byte mode, ASCII only::

    MCO-SEP/1|<dossier code>|<component code>|<component index>
    MCO-SEP/1|000.00.12.H12-231027-1001|BSKS|3

It cannot be taken for the other QR codes that pass through a batch: the ID-card QR
starts with a 12-digit number and has 6–8 fields, the receipt QR is a bare dossier code or
a tracking URL; neither starts with ``MCO-SEP/``. It is at most 55 bytes, so at error
correction H the symbol is version 6 or lower (41 modules at most): printed 50 mm wide,
a module is over 1.2 mm, ~5 px at the ~100 dpi the detector works at.

Detection reads a downscaled copy of the page (never a full-resolution large-format
image), first with zbar in binary mode and then, only when zbar saw no separator, with
zxing-cpp."""

from __future__ import annotations

import io
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from desktop_app.documents.fonts import SANS, SANS_BOLD, register_fonts
from desktop_app.domain.dossier_code import find_dossier_code
from desktop_app.domain.errors import DomainError
from desktop_app.files import write_atomically
from desktop_app.scanning.barcodes import (
    QUICK_MAX_SIDE,
    DecodedCode,
    downscaled_gray,
    scan_qr_once,
    scan_qr_zxing,
)

PAYLOAD_PREFIX = "MCO-SEP/"  # any version: a sheet from a newer release is still ours
PAYLOAD_VERSION = 1
_HEADER = f"{PAYLOAD_PREFIX}{PAYLOAD_VERSION}"
# Catalog component codes are short ASCII tags ("BSKS", "TP01", "GCN.1"); the limit keeps
# the payload within QR version 6 at level H.
COMPONENT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}")
MAX_COMPONENT_INDEX = 99
_INDEX = re.compile(r"[1-9][0-9]?")
MAX_PAYLOAD_BYTES = 64  # anything longer is not ours: refused before any parsing

SHEET_MARK = "TỜ PHÂN CÁCH — KHÔNG SỐ HÓA"
QR_LEVEL = "H"  # 30 % of the symbol may be lost to a staple hole, a fold or a smudge
QR_SYMBOL = 50 * mm  # printed symbol without its quiet zone
QR_QUIET = 4  # modules
# Both symbols sit 25 mm in from the short edges (an A4 sheet scanned with a Letter page
# size loses ~18 mm at the bottom) and centred across, where a skewed feed moves them
# least; the second one means an upside-down sheet still has a symbol near the top.
QR_EDGE_OFFSET = 25 * mm


class SeparatorError(DomainError):
    """A separator payload or sheet request is not valid (message for the clerk)."""


@dataclass(frozen=True)
class SeparatorSpec:
    """One separator sheet: the component of a dossier whose pages follow it.

    ``applicant_name`` and ``component_name`` are printed for people but are not in the
    QR (they would make it larger and carry personal data); a spec read back from a scan
    has them empty, and they take no part in equality."""

    dossier_code: str
    component_code: str
    component_index: int
    applicant_name: str = field(default="", compare=False)
    component_name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _check_dossier_code(self.dossier_code)
        _check_component_code(self.component_code)
        _check_index(self.component_index)

    @property
    def payload(self) -> str:
        return f"{_HEADER}|{self.dossier_code}|{self.component_code}|{self.component_index}"

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.dossier_code, self.component_code, self.component_index)


# --- payload ---------------------------------------------------------------------------------

def _bad(message_vi: str, detail: str) -> SeparatorError:
    return SeparatorError(message_vi, detail)


def _check_dossier_code(code: object) -> None:
    if not isinstance(code, str):
        raise _bad("Mã hồ sơ trên tờ phân cách không hợp lệ.", f"dossier code {code!r}")
    parsed = find_dossier_code(code) if code.isascii() else None
    if parsed is None or str(parsed) != code:
        raise _bad(f"Mã hồ sơ “{code[:40]}” trên tờ phân cách không đúng định dạng.",
                   f"bad dossier code {code!r}")


def _check_component_code(code: object) -> None:
    if not isinstance(code, str) or not code.isascii() or not COMPONENT_CODE.fullmatch(code):
        raise _bad(f"Mã thành phần hồ sơ “{str(code)[:40]}” không dùng được trên tờ phân cách "
                   "(chỉ chữ cái không dấu, chữ số, dấu chấm, gạch; tối đa 16 ký tự).",
                   f"bad component code {code!r}")


def _check_index(index: object) -> None:
    if isinstance(index, bool) or not isinstance(index, int) \
            or not 1 <= index <= MAX_COMPONENT_INDEX:
        raise _bad(f"Số thứ tự thành phần phải từ 1 đến {MAX_COMPONENT_INDEX}.",
                   f"bad component index {index!r}")


def is_separator_payload(data: str | bytes) -> bool:
    """True for anything that claims to be a separator (any version, valid or not): other
    readers (receipt look-up, ID-card intake) should refuse these rather than act on the
    dossier code inside."""
    if isinstance(data, bytes):
        return data.startswith(PAYLOAD_PREFIX.encode("ascii"))
    return data.startswith(PAYLOAD_PREFIX)


def parse_separator_payload(data: str | bytes) -> SeparatorSpec:
    """The spec in a separator QR payload; SeparatorError with a Vietnamese message for
    anything else. Strict on purpose: no trimming, no case folding, no extra fields, so
    a damaged or foreign code is never taken for a sheet."""
    if isinstance(data, bytes):
        if len(data) > MAX_PAYLOAD_BYTES:
            raise _bad("Mã QR không phải tờ phân cách.", f"payload of {len(data)} bytes")
        try:
            data = data.decode("ascii")
        except UnicodeDecodeError as exc:
            raise _bad("Mã QR không phải tờ phân cách.", f"non-ASCII payload {data!r}") from exc
    if len(data) > MAX_PAYLOAD_BYTES:
        raise _bad("Mã QR không phải tờ phân cách.", f"payload of {len(data)} characters")
    if not is_separator_payload(data):
        raise _bad("Mã QR không phải tờ phân cách.", f"foreign payload {data!r}")
    fields = data.split("|")
    if fields[0] != _HEADER:
        raise _bad("Tờ phân cách được in từ phiên bản phần mềm khác, máy này không đọc được. "
                   "Hãy in lại tờ phân cách trên máy này.", f"unsupported header {fields[0]!r}")
    if len(fields) != 4:
        raise _bad("Mã QR trên tờ phân cách bị thiếu hoặc thừa thông tin.",
                   f"{len(fields)} fields in {data!r}")
    _, dossier, component, index = fields
    if not _INDEX.fullmatch(index):
        raise _bad(f"Số thứ tự thành phần “{index[:8]}” trên tờ phân cách không hợp lệ.",
                   f"bad component index {index!r}")
    return SeparatorSpec(dossier, component, int(index))


def try_parse_separator(data: str | bytes) -> SeparatorSpec | None:
    try:
        return parse_separator_payload(data)
    except SeparatorError:
        return None


# --- detection -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeparatorDetection:
    """What one page's QR codes said. ``spec`` is set for a separator page; ``invalid`` holds
    the reason when a code claims to be a separator but cannot be used (another version, a
    damaged payload, two different sheets on one page)."""

    spec: SeparatorSpec | None
    invalid: SeparatorError | None = None
    decoder: str = ""  # "zbar" / "zxing": which one found the separator
    foreign_codes: int = 0  # QR codes that are not separators (ID card, receipt …)
    zxing_tried: bool = False
    seconds: float = 0.0

    @property
    def is_separator(self) -> bool:
        return self.spec is not None or self.invalid is not None


def _classify(codes: Sequence[DecodedCode]
              ) -> tuple[SeparatorSpec | None, SeparatorError | None, int]:
    """The separator among ``codes`` (the top and bottom symbols agree), or why not."""
    specs: list[SeparatorSpec] = []
    invalid: SeparatorError | None = None
    foreign = 0
    for code in codes:
        if not is_separator_payload(code.data):
            foreign += 1
            continue
        try:
            specs.append(parse_separator_payload(code.data))
        except SeparatorError as exc:
            invalid = exc
    distinct = set(specs)
    if len(distinct) > 1:
        listed = ", ".join(sorted(s.payload for s in distinct))
        return None, _bad("Một trang có hai tờ phân cách khác nhau (có thể hai tờ bị kéo cùng "
                          "lúc).", f"conflicting separators: {listed}"), foreign
    if distinct:
        return specs[0], None, foreign
    return None, invalid, foreign


def inspect_page(image: Image.Image, *, use_zxing: bool = True,
                 max_side: int = QUICK_MAX_SIDE) -> SeparatorDetection:
    """Look for a separator QR on a page, on a copy downscaled to ``max_side``.

    zxing-cpp runs only when zbar found no separator payload at all; a foreign QR (an ID
    card photocopy) does not stop it, since a separator could share the page with it only
    by mistake but a citizen QR must never hide one."""
    started = time.perf_counter()
    gray, scale = downscaled_gray(image, max_side)
    spec, invalid, foreign = _classify(scan_qr_once(gray, scale))
    decoder = "zbar" if spec or invalid else ""
    tried = False
    if spec is None and invalid is None and use_zxing:
        tried = True
        spec, invalid, foreign_z = _classify(scan_qr_zxing(gray, scale))
        foreign = max(foreign, foreign_z)
        decoder = "zxing" if spec or invalid else ""
    return SeparatorDetection(spec, invalid, decoder, foreign, tried,
                              time.perf_counter() - started)


def detect_separator(image: Image.Image, *, use_zxing: bool = True) -> SeparatorSpec | None:
    """The separator sheet on this page, or None (ordinary page, or a QR that is not ours)."""
    return inspect_page(image, use_zxing=use_zxing).spec


# --- printing --------------------------------------------------------------------------------

def _nfc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def _qr_modules(payload: str) -> list[list[bool]]:
    qr = qrencoder.QRCode(None, getattr(qrencoder.QRErrorCorrectLevel, QR_LEVEL))
    qr.addData(qrencoder.QR8bitByte(payload.encode("ascii")))
    qr.make()
    return [[bool(m) for m in row] for row in qr.modules]


def _draw_qr(canvas: Canvas, modules: list[list[bool]], centre_x: float, top: float) -> float:
    """Draw the symbol (``QR_SYMBOL`` wide) with its white quiet zone, its top edge at
    ``top``; returns the bottom of the quiet zone. Dark runs are joined into one rectangle
    each, so the PDF stays small and the printed modules have no hairline seams."""
    n = len(modules)
    box = QR_SYMBOL / n
    outer = box * (n + 2 * QR_QUIET)
    left = centre_x - outer / 2
    canvas.setFillColor(colors.white)
    canvas.rect(left, top - outer, outer, outer, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    for r, row in enumerate(modules):
        y = top - (QR_QUIET + r + 1) * box
        c = 0
        while c < n:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < n and row[c]:
                c += 1
            canvas.rect(left + (QR_QUIET + start) * box, y, (c - start) * box, box,
                        stroke=0, fill=1)
    return top - outer


def _fit(text: str, font: str, size: float, width: float, minimum: float) -> float:
    need = stringWidth(text, font, size)
    return size if need <= width else max(minimum, size * width / need)


def _wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if stringWidth(trial, font, size) <= width or not current:
            current = trial
            continue
        lines.append(current)
        current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(" ,;.") + " …"
    return lines


def _centred(canvas: Canvas, text: str, font: str, size: float, y: float) -> None:
    canvas.setFont(font, size)
    canvas.drawCentredString(A4[0] / 2, y, text)


def _draw_sheet(canvas: Canvas, spec: SeparatorSpec, number: int, total: int) -> None:
    page_w, page_h = A4
    width = page_w - 30 * mm
    modules = _qr_modules(spec.payload)
    # The two symbols: the upper one drawn normally, the lower one rotated 180° so that
    # either way up, a symbol and the sheet mark are read first.
    bottom_of_top = _draw_qr(canvas, modules, page_w / 2, page_h - QR_EDGE_OFFSET)
    canvas.saveState()
    canvas.translate(page_w, page_h)
    canvas.rotate(180)
    _draw_qr(canvas, modules, page_w / 2, page_h - QR_EDGE_OFFSET)
    _centred(canvas, f"{SHEET_MARK} · {spec.dossier_code}", SANS_BOLD, 11,
             page_h - QR_EDGE_OFFSET + 4 * mm)
    canvas.restoreState()

    canvas.setFillColor(colors.black)
    y = bottom_of_top - 13 * mm
    size = _fit(SHEET_MARK, SANS_BOLD, 24, width, 16)
    _centred(canvas, SHEET_MARK, SANS_BOLD, size, y)
    canvas.setLineWidth(2.5)
    canvas.line(15 * mm, y - 5 * mm, page_w - 15 * mm, y - 5 * mm)
    canvas.line(15 * mm, y + size + 2 * mm, page_w - 15 * mm, y + size + 2 * mm)

    y -= 15 * mm
    _centred(canvas, "Mã hồ sơ", SANS, 13, y)
    y -= 13 * mm
    _centred(canvas, spec.dossier_code, SANS_BOLD,
             _fit(spec.dossier_code, SANS_BOLD, 34, width, 18), y)

    applicant = _nfc(spec.applicant_name)
    if applicant:
        y -= 12 * mm
        line = f"Người nộp: {applicant}"
        _centred(canvas, line, SANS, _fit(line, SANS, 17, width, 11), y)

    y -= 12 * mm
    head = f"Thành phần số {spec.component_index} (mã {spec.component_code})"
    _centred(canvas, head, SANS_BOLD, 15, y)
    name = _nfc(spec.component_name)
    for line in _wrap(name, SANS, 14, width, 3):
        y -= 7 * mm
        _centred(canvas, line, SANS, 14, y)

    y -= 10 * mm
    canvas.setFillColor(colors.HexColor("#333333"))
    _centred(canvas, "Đặt tờ này ngay trước các trang của thành phần hồ sơ trên khi quét "
             "hàng loạt.", SANS, 10, y)
    _centred(canvas, "Phần mềm tự tách lô theo tờ này và bỏ tờ này ra; không lưu vào hồ sơ.",
             SANS, 10, y - 5 * mm)
    _centred(canvas, f"Tờ {number}/{total}", SANS, 9, 8 * mm)


def render_separator_sheets(sheets: Sequence[SeparatorSpec],
                            path: str | Path | None = None) -> bytes:
    """One A4 page per spec, in order; the PDF bytes (also written to ``path`` when given,
    atomically). The same specs always give the same bytes (reportlab ``invariant``)."""
    if not sheets:
        raise SeparatorError("Chưa chọn thành phần hồ sơ nào để in tờ phân cách.",
                             "no separator sheets requested")
    register_fonts()
    buf = io.BytesIO()
    codes = sorted({s.dossier_code for s in sheets})
    canvas = Canvas(buf, pagesize=A4, invariant=1, initialFontName=SANS, initialFontSize=12,
                    pageCompression=1)
    canvas.setTitle("Tờ phân cách quét hàng loạt")
    canvas.setSubject(", ".join(codes)[:500])
    canvas.setCreator("Một Cửa Offline")
    canvas.setAuthor("Một Cửa Offline")
    for number, spec in enumerate(sheets, start=1):
        _draw_sheet(canvas, spec, number, len(sheets))
        canvas.showPage()
    canvas.save()
    data = buf.getvalue()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_atomically(Path(path), data)
    return data
