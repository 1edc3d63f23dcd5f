"""Split one ADF batch into dossiers' components at the separator sheets.

Pages are opened one at a time, downscaled at once (JPEG pages are decoded at reduced
scale) and let go before the next one, so a 300-page batch needs no more memory than one
page. Nothing is ever dropped silently: pages before the first separator, or after a
separator that cannot be used, come back in an unassigned group with a warning; only the
separator sheets themselves (both sides in a duplex batch) are left out, and a separator's
back that is not blank is reported."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Sized
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from desktop_app.scanning.barcodes import QUICK_MAX_SIDE, BarcodeError, downscaled_gray
from desktop_app.scanning.model import CancelToken
from desktop_app.scanning.separators import SeparatorDetection, SeparatorSpec, inspect_page

log = logging.getLogger(__name__)

# A page is one of: an image file path (of a multi-page file, the first page is read); an
# object with ``path`` (CapturedFile) or ``image_path`` (ProcessedPage); a zero-argument
# callable returning a PIL image; a PIL image. An optional ``side`` attribute
# ("front"/"back") pairs the two sides of a duplex sheet.
PageLike = object
Progress = Callable[[int, int | None], None]

# Blank test on a ~50 px-per-inch copy: a pixel is "ink" when it is this much darker
# than the paper (the page's bright percentile), and a page with less ink than this
# fraction (~50 such pixels on A4, a 2.5 cm pen stroke) is blank. Noisy scans of blank
# backs with bleed-through measure 0–0.000005, so the margin is wide both ways.
_INK_DELTA = 60
_BLANK_INK_FRACTION = 0.0002
_BLANK_SIDE = 600
_BLANK_MARGIN = 0.04  # edge shadows of the feeder are not content


class WarningKind(StrEnum):
    UNASSIGNED_PAGES = "unassigned_pages"
    NO_SEPARATOR = "no_separator"
    EMPTY_COMPONENT = "empty_component"
    UNKNOWN_DOSSIER = "unknown_dossier"
    INVALID_SEPARATOR = "invalid_separator"
    REPEATED_COMPONENT = "repeated_component"
    SEPARATOR_BACK_NOT_BLANK = "separator_back_not_blank"
    UNREADABLE_PAGE = "unreadable_page"


@dataclass(frozen=True)
class BatchWarning:
    kind: WarningKind
    message_vi: str  # one Vietnamese sentence for the clerk
    page_number: int | None = None  # 1-based position in the batch


@dataclass
class PageGroup:
    """The pages of one component (in scan order, as the caller's own page objects), or an
    unassigned run (``dossier_code`` None) that the clerk must file by hand."""

    dossier_code: str | None
    component_code: str | None
    component_index: int | None
    pages: list[PageLike] = field(default_factory=list)
    page_numbers: list[int] = field(default_factory=list)  # 1-based batch positions
    separator_page: int | None = None  # 1-based position of the sheet that opened it
    known_dossier: bool = True

    @property
    def unassigned(self) -> bool:
        return self.dossier_code is None


@dataclass
class BatchSplit:
    groups: list[PageGroup]
    warnings: list[BatchWarning]
    pages_read: int
    separator_pages: list[int]  # 1-based positions left out as separator sheets
    detections: dict[int, SeparatorDetection] = field(default_factory=dict)  # by position

    @property
    def assigned(self) -> list[PageGroup]:
        return [g for g in self.groups if not g.unassigned]

    @property
    def unassigned(self) -> list[PageGroup]:
        return [g for g in self.groups if g.unassigned]

    def by_dossier(self) -> dict[str, list[PageGroup]]:
        out: dict[str, list[PageGroup]] = {}
        for group in self.assigned:
            out.setdefault(group.dossier_code or "", []).append(group)
        return out


# --- reading one page ------------------------------------------------------------------------

def _page_path(page: PageLike) -> Path | None:
    if isinstance(page, str | Path):
        return Path(page)
    for attr in ("path", "image_path"):
        value = getattr(page, attr, None)
        if isinstance(value, str | Path):
            return Path(value)
    return None


def _open_small(path: Path) -> Image.Image:
    """The first page of an image file as a grey copy about QUICK_MAX_SIDE long; JPEG
    is decoded straight at 1/2–1/8 scale, which is most of the time saved."""
    with warnings.catch_warnings():
        # barcodes.downscaled_gray applies the project's own pixel limit.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as im:
            if im.format == "JPEG":
                ratio = QUICK_MAX_SIDE / max(im.size)
                if ratio < 0.5:
                    im.draft("L", (max(1, round(im.width * ratio)),
                                   max(1, round(im.height * ratio))))
            gray, _ = downscaled_gray(im)
            return gray


def load_page_image(page: PageLike) -> Image.Image:
    """A detection-sized grey copy of one batch page (see PageLike)."""
    path = _page_path(page)
    if path is not None:
        return _open_small(path)
    if isinstance(page, Image.Image):
        return downscaled_gray(page)[0]
    if callable(page):
        image = page()
        if not isinstance(image, Image.Image):
            raise TypeError(f"page loader returned {type(image).__name__}, not an image")
        return downscaled_gray(image)[0]
    raise TypeError(f"cannot read a page from {type(page).__name__}")


def is_blank(gray: Image.Image) -> bool:
    """True when an 8-bit grey page carries no visible content (a separator's back)."""
    # Averaging down to ~50 dpi melts sensor noise and bleed-through into the paper tone
    # while real strokes, even thin ones, stay clearly darker.
    small = gray.reduce(max(1, max(gray.size) // _BLANK_SIDE))
    pixels = np.asarray(small, dtype=np.int16)
    h, w = pixels.shape
    mh, mw = int(h * _BLANK_MARGIN), int(w * _BLANK_MARGIN)
    inner = pixels[mh:h - mh, mw:w - mw] if h > 2 * mh and w > 2 * mw else pixels
    paper = np.percentile(inner, 95)
    ink = np.count_nonzero(inner < paper - _INK_DELTA)
    return ink < _BLANK_INK_FRACTION * inner.size


@dataclass
class _Page:
    ref: PageLike
    number: int  # 1-based
    detection: SeparatorDetection | None  # None when the page could not be read
    blank: bool
    error: str = ""


def _side(page: PageLike) -> str | None:
    side = getattr(page, "side", None)
    return side if side in ("front", "back") else None


def _unreadable_reason(exc: Exception) -> str:
    if isinstance(exc, BarcodeError):
        return exc.message_vi
    if isinstance(exc, UnidentifiedImageError):
        return "không phải tệp ảnh hoặc định dạng không hỗ trợ"
    if isinstance(exc, FileNotFoundError):
        return "không tìm thấy tệp"
    if isinstance(exc, PermissionError):
        return "không có quyền đọc tệp"
    if isinstance(exc, Image.DecompressionBombError):
        return "ảnh quá lớn"
    return "tệp ảnh bị hỏng hoặc không đầy đủ"


def _analyse(page: PageLike, number: int, use_zxing: bool) -> _Page:
    try:
        gray = load_page_image(page)
    except (BarcodeError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError) as exc:
        # UnidentifiedImageError is an OSError; a page that cannot be read is reported and
        # kept, never allowed to stop the rest of the batch.
        log.warning("batch page %d unreadable: %r", number, exc)
        return _Page(page, number, None, False, _unreadable_reason(exc))
    return _Page(page, number, inspect_page(gray, use_zxing=use_zxing), is_blank(gray))


def _sheets(pages: Iterable[PageLike], duplex: bool) -> Iterator[list[tuple[int, PageLike]]]:
    """Pages grouped by physical sheet: a ``side == "back"`` page joins the page before it;
    without side information a duplex batch alternates front, back. A sheet is handed on
    as soon as it is known to be complete, so no page is taken from the source early."""
    sheet: list[tuple[int, PageLike]] = []
    for number, page in enumerate(pages, start=1):
        side = _side(page)
        starts = side == "front" if side is not None else not duplex or number % 2 == 1
        if sheet and starts:
            yield sheet
            sheet = []
        sheet.append((number, page))
        if len(sheet) == 2 or (side is None and not duplex):
            yield sheet
            sheet = []
    if sheet:
        yield sheet


# --- splitting -------------------------------------------------------------------------------

def _describe(group: PageGroup) -> str:
    return f"Thành phần số {group.component_index} (mã {group.component_code}) của hồ sơ " \
           f"{group.dossier_code}"


def _pages_text(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"trang {numbers[0]}"
    return f"các trang {numbers[0]}–{numbers[-1]}"


class _Splitter:
    def __init__(self, known: Collection[str] | None) -> None:
        self.known = set(known) if known is not None else None
        self.groups: list[PageGroup] = []
        self.warnings: list[BatchWarning] = []
        self.separator_pages: list[int] = []
        self.detections: dict[int, SeparatorDetection] = {}
        self.seen: dict[tuple[str, str, int], int] = {}
        self.current = PageGroup(None, None, None)
        self.saw_separator = False

    def warn(self, kind: WarningKind, message: str, page: int | None) -> None:
        self.warnings.append(BatchWarning(kind, message, page))

    def close_current(self) -> None:
        group = self.current
        if group.unassigned:
            if group.pages:
                self.groups.append(group)
                where = "trước tờ phân cách đầu tiên" if group.separator_page is None \
                    else f"sau tờ phân cách không dùng được ở trang {group.separator_page}"
                self.warn(WarningKind.UNASSIGNED_PAGES,
                          f"Có {len(group.pages)} trang ({_pages_text(group.page_numbers)}) "
                          f"{where} chưa thuộc hồ sơ nào; hãy xếp chúng vào hồ sơ bằng tay.",
                          group.page_numbers[0])
            return
        self.groups.append(group)
        if not group.pages:
            self.warn(WarningKind.EMPTY_COMPONENT,
                      f"{_describe(group)} không có trang nào (tờ phân cách ở trang "
                      f"{group.separator_page} đứng ngay trước một tờ phân cách khác hoặc "
                      "cuối lô).", group.separator_page)

    def open_separator(self, spec: SeparatorSpec, page: int) -> None:
        self.close_current()
        self.saw_separator = True
        known = self.known is None or spec.dossier_code in self.known
        self.current = PageGroup(spec.dossier_code, spec.component_code, spec.component_index,
                                 separator_page=page, known_dossier=known)
        if not known:
            self.warn(WarningKind.UNKNOWN_DOSSIER,
                      f"Tờ phân cách ở trang {page} ghi mã hồ sơ {spec.dossier_code}, không có "
                      "trong các hồ sơ đang số hóa; hãy kiểm tra lại tờ phân cách.", page)
        if spec.key in self.seen:
            self.warn(WarningKind.REPEATED_COMPONENT,
                      f"Tờ phân cách thành phần số {spec.component_index} của hồ sơ "
                      f"{spec.dossier_code} xuất hiện lần nữa ở trang {page} (lần đầu ở trang "
                      f"{self.seen[spec.key]}); các trang được giữ thành nhóm riêng.", page)
        else:
            self.seen[spec.key] = page

    def open_invalid(self, detection: SeparatorDetection, page: int) -> None:
        self.close_current()
        self.saw_separator = True
        reason = detection.invalid.message_vi if detection.invalid else ""
        self.warn(WarningKind.INVALID_SEPARATOR,
                  f"Tờ phân cách ở trang {page} không dùng được: {reason.rstrip('.')}; các trang "
                  "sau nó chưa được xếp vào hồ sơ nào.", page)
        self.current = PageGroup(None, None, None, separator_page=page)

    def separator_sheet(self, sheet: list[_Page]) -> None:
        marks = [p for p in sheet if p.detection is not None and p.detection.is_separator]
        for p in sheet:
            self.separator_pages.append(p.number)
            if p in marks or p.blank:
                continue
            self.warn(WarningKind.SEPARATOR_BACK_NOT_BLANK,
                      f"Mặt sau của tờ phân cách (trang {p.number}) có nội dung nhưng đã bị bỏ "
                      "ra cùng tờ phân cách; nếu đó là trang hồ sơ, hãy quét lại trang này.",
                      p.number)
        # Both sides carrying a separator happens only when a sheet was reprinted on the
        # back of another: the side scanned last is the one on top of the pages after it.
        detection = marks[-1].detection
        assert detection is not None
        if detection.spec is not None:
            self.open_separator(detection.spec, marks[-1].number)
        else:
            self.open_invalid(detection, marks[-1].number)

    def content_sheet(self, sheet: list[_Page]) -> None:
        for p in sheet:
            if p.detection is None:
                target = "thành phần đang quét" if not self.current.unassigned \
                    else "nhóm trang chưa xếp"
                self.warn(WarningKind.UNREADABLE_PAGE,
                          f"Không đọc được trang {p.number} ({p.error.rstrip('.')}); trang được "
                          f"giữ trong {target}, hãy kiểm tra xem đó có phải tờ phân cách không.",
                          p.number)
            self.current.pages.append(p.ref)
            self.current.page_numbers.append(p.number)

    def sheet(self, sheet: list[_Page]) -> None:
        for p in sheet:
            if p.detection is not None:
                self.detections[p.number] = p.detection
        if any(p.detection is not None and p.detection.is_separator for p in sheet):
            self.separator_sheet(sheet)
        else:
            self.content_sheet(sheet)

    def finish(self, pages_read: int) -> BatchSplit:
        self.close_current()
        if not self.saw_separator and pages_read:
            self.warn(WarningKind.NO_SEPARATOR,
                      f"Không tìm thấy tờ phân cách nào trong {pages_read} trang đã quét.", None)
        return BatchSplit(self.groups, self.warnings, pages_read, self.separator_pages,
                          self.detections)


def split_batch(pages: Iterable[PageLike], *, known_dossiers: Collection[str] | None = None,
                duplex: bool = False, use_zxing: bool = True,
                progress: Progress | None = None,
                cancel: CancelToken | None = None) -> BatchSplit:
    """Group a scanned batch into components at its separator sheets.

    ``pages`` are read lazily, one at a time, in scan order (see ``PageLike``).
    ``duplex``: pages alternate front/back when they carry no ``side`` attribute; the
    other side of a separator sheet is left out (reported when it is not blank).
    ``known_dossiers``: codes of the dossiers being digitized; a separator naming another
    code still opens a group, with a warning. ``progress(done, total)`` is called after
    each page (total None when ``pages`` has no length); ``cancel`` raises
    ``CancelledError`` between pages."""
    total = len(pages) if isinstance(pages, Sized) else None
    splitter = _Splitter(known_dossiers)
    done = 0
    for sheet in _sheets(pages, duplex):
        analysed: list[_Page] = []
        for number, page in sheet:
            if cancel is not None:
                cancel.raise_if_cancelled()
            analysed.append(_analyse(page, number, use_zxing))
            done += 1
            if progress is not None:
                progress(done, total)
        splitter.sheet(analysed)
        if cancel is not None:  # before the next page is even taken from the source
            cancel.raise_if_cancelled()
    return splitter.finish(done)
