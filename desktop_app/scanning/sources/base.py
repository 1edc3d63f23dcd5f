"""The one interface every capture source implements, its errors, and the disk-safety
helpers they share.

A source yields each page file as soon as it is complete, so the studio can show
thumbnails while the feeder is still running. Whatever a source has yielded is a whole,
durable file; an error raised afterwards never invalidates it (the message says how many
pages were kept)."""

from __future__ import annotations

import errno
import logging
import shutil
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from desktop_app.domain.errors import DomainError
from desktop_app.files import atomic_writer
from desktop_app.scanning.model import (
    MM_PER_INCH,
    PAGE_SIZES_MM,
    CancelToken,
    CapturedFile,
    ColourMode,
    ScanProfile,
)

log = logging.getLogger(__name__)

# Free space left untouched on top of the next page's estimate: the database, the blob
# store and the PDF assembly of the batch share the same disk.
DISK_RESERVE_BYTES = 64 * 1024 * 1024
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class DeviceInfo:
    """One device (or hot folder) a source can capture from; ``id`` is what
    ``CaptureSource.for_device`` takes back."""

    id: str
    label: str
    vendor: str = ""
    model: str = ""
    kind: str = ""


@dataclass(frozen=True)
class CaptureProgress:
    """Where a capture is: ``page`` is the 1-based page being scanned, ``fraction`` how much
    of it has arrived (0–1), ``pages_done`` how many pages were yielded so far."""

    page: int
    fraction: float
    pages_done: int
    message_vi: str = ""


ProgressFn = Callable[[CaptureProgress], None]


# --- errors ----------------------------------------------------------------------------------


class CaptureError(DomainError):
    """Capture could not go on. ``pages_kept`` pages were already yielded and stay valid."""

    def __init__(self, message_vi: str, detail: str = "", pages_kept: int = 0) -> None:
        super().__init__(message_vi, detail)
        self.pages_kept = pages_kept


def _kept_vi(pages_kept: int) -> str:
    if pages_kept <= 0:
        return "Chưa có trang nào được lưu."
    return f"Đã giữ lại {pages_kept} trang quét xong."


class ScannerUnavailable(CaptureError):
    """The device cannot be opened (unplugged, switched off, unknown name, no driver)."""


class ScannerBusy(ScannerUnavailable):
    """Another program (or another counter PC on a network scanner) is using the device."""


class ScannerDisappeared(CaptureError):
    """The device went away in the middle of a batch."""

    def __init__(self, pages_kept: int, detail: str) -> None:
        super().__init__(
            "Mất kết nối với máy quét giữa chừng. " + _kept_vi(pages_kept)
            + " Hãy kiểm tra cáp và nguồn điện của máy quét rồi quét tiếp các trang còn lại.",
            detail, pages_kept)


class PaperJam(CaptureError):
    def __init__(self, pages_kept: int, detail: str) -> None:
        super().__init__(
            "Kẹt giấy trong máy quét. " + _kept_vi(pages_kept)
            + " Hãy gỡ tờ bị kẹt rồi quét lại từ tờ đó.", detail, pages_kept)


class FeederEmpty(CaptureError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            "Khay nạp giấy của máy quét đang trống. Hãy đặt giấy vào khay (mặt cần quét theo "
            "hướng dẫn trên máy) rồi bấm quét lại.", detail)


class CoverOpen(CaptureError):
    def __init__(self, pages_kept: int, detail: str) -> None:
        super().__init__(
            "Nắp máy quét đang mở. " + _kept_vi(pages_kept) + " Hãy đóng nắp rồi quét tiếp.",
            detail, pages_kept)


class DiskFull(CaptureError):
    def __init__(self, free: int, needed: int, pages_kept: int, detail: str = "") -> None:
        super().__init__(
            f"Ổ đĩa gần đầy: chỉ còn trống {_mb(free)}, cần khoảng {_mb(needed)} để lưu trang "
            "tiếp theo. " + _kept_vi(pages_kept)
            + " Hãy giải phóng dung lượng ổ đĩa (hoặc báo kỹ thuật viên) rồi quét tiếp.",
            detail or f"free {free} bytes < needed {needed} bytes", pages_kept)


class CaptureFailed(CaptureError):
    """The driver failed for a reason it did not name precisely."""


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{max(n, 0) / 1024:.0f} KB"


# --- the interface ---------------------------------------------------------------------------


class CaptureSource(ABC):
    """A kind of capture (SANE, WIA, TWAIN, a hot folder) bound to at most one device."""

    name: str = ""
    label_vi: str = ""

    @abstractmethod
    def available(self) -> bool:
        """Whether this kind of source can work on this machine at all (cheap; no I/O
        with devices)."""

    @abstractmethod
    def list_devices(self) -> list[DeviceInfo]:
        """Devices usable right now. Raises ``ScannerUnavailable`` when the driver layer
        itself fails; an empty list means it works but nothing is connected."""

    @abstractmethod
    def for_device(self, device_id: str) -> CaptureSource:
        """A source of the same kind bound to ``device_id`` (from ``list_devices``)."""

    @abstractmethod
    def capture(self, profile: ScanProfile, dest_dir: Path, cancel: CancelToken | None = None,
                progress: ProgressFn | None = None) -> Iterator[CapturedFile]:
        """Capture pages into ``dest_dir``, yielding each file once it is complete.

        Raises ``CancelledError`` when ``cancel`` fires (files already yielded stay; the
        page in flight is removed) and ``CaptureError`` subclasses for device problems."""


# --- disk safety -----------------------------------------------------------------------------


def bytes_per_pixel(mode: ColourMode) -> float:
    if mode is ColourMode.BILEVEL:
        return 1 / 8
    if mode is ColourMode.GREY:
        return 1.0
    return 3.0  # colour, and AUTO which is captured in colour and decided later


def estimate_page_bytes(profile: ScanProfile, size_mm: tuple[float, float] | None = None) -> int:
    """Uncompressed size of one page as a driver writes it (TIFF/BMP), plus headers."""
    w_mm, h_mm = size_mm or PAGE_SIZES_MM[profile.page_size]
    pixels = (w_mm / MM_PER_INCH * profile.dpi) * (h_mm / MM_PER_INCH * profile.dpi)
    return int(pixels * bytes_per_pixel(profile.mode)) + 64 * 1024


def free_bytes(path: Path) -> int:
    """Free space on the file system holding ``path`` (module-level so tests can patch it)."""
    return shutil.disk_usage(path).free


def ensure_room(dest_dir: Path, needed: int, pages_kept: int = 0,
                reserve: int = DISK_RESERVE_BYTES) -> None:
    free = free_bytes(dest_dir)
    if free < needed + reserve:
        raise DiskFull(free, needed + reserve, pages_kept,
                       f"{dest_dir}: free {free} bytes < next page estimate {needed} "
                       f"+ reserve {reserve}")


def unique_path(dest_dir: Path, name: str) -> Path:
    """``dest_dir/name``, or ``stem-2.ext``, ``stem-3.ext`` … when that is taken."""
    candidate = dest_dir / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while candidate.exists():
        candidate = dest_dir / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


def copy_atomically(src: BinaryIO, target: Path, pages_kept: int = 0,
                    on_chunk: Callable[[], None] | None = None) -> int:
    """Copy the open stream ``src`` to ``target`` through a temporary file in the same
    directory: fsynced, then renamed, so ``target`` is either absent or whole. On any
    failure the temporary file is removed; a full disk raises ``DiskFull``.
    ``on_chunk`` runs between chunks (cancel checks). Returns the bytes written."""
    written = 0
    try:
        # The ".part" suffix is what a hot folder's recovery looks for after a crash.
        with atomic_writer(target, suffix=".part") as out:
            while chunk := src.read(_COPY_CHUNK):
                if on_chunk is not None:
                    on_chunk()
                out.write(chunk)
                written += len(chunk)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            free = _free_or_zero(target.parent)
            raise DiskFull(free, written + _COPY_CHUNK, pages_kept,
                           f"ENOSPC writing {target} after {written} bytes") from exc
        raise
    return written


def _free_or_zero(path: Path) -> int:
    try:
        return free_bytes(path)
    except OSError:
        return 0


def report(progress: ProgressFn | None, event: CaptureProgress) -> None:
    """Call the progress callback; a failing UI callback must not kill a scan in flight."""
    if progress is None:
        return
    try:
        progress(event)
    except Exception:
        log.exception("capture progress callback failed")


def image_dpi(path: Path) -> int | None:
    """The resolution written in an image file's header (``None`` for PDF, unknown or
    unreadable): what the device really scanned at, when it says."""
    if path.suffix.lower() == ".pdf":
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                dpi = im.info.get("dpi")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None  # the loader reports unreadable files with a precise message later
    if not dpi:
        return None
    try:
        value = round(float(dpi[0]))
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None
