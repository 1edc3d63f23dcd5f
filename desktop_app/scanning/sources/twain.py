"""TWAIN scanners (Windows) through the ``pytwain`` package (module ``twain``).

TWAIN delivers its events through the Windows message queue of the thread that opened the
data source manager, and needs a window handle there. So each TWAIN session runs on its
own thread with a hidden window, pumping messages (pytwain's modal loop), and hands each
finished page to the generator through a queue: the studio still sees pages one by one
and cancel works between pages.

Transfer is native (a DIB saved as BMP by pytwain), which every TWAIN driver supports;
the image pipeline reads BMP. ``twain`` (pytwain, a Windows-only dependency of the app)
is imported by a plain ``import`` inside ``_twain()``: PyInstaller's analysis bundles it,
yet this module imports everywhere and ``available()`` is False off Windows.

The app is 64-bit, so it needs the TWAIN DSM ``twaindsm.dll`` and a 64-bit data source;
a 64-bit process cannot load a 32-bit driver's ``.ds`` into it. When only the old 32-bit
TWAIN (32-bit data sources under ``%WINDIR%\\twain_32``) is there, the clerk is told so and
pointed to WIA or a hot folder.

``show_driver_dialog`` (off by default) opens the data source with its own window
(``show_ui``), so a clerk can use settings only the driver offers."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from desktop_app.files import replacing
from desktop_app.scanning.model import (
    MM_PER_INCH,
    PAGE_SIZES_MM,
    CancelledError,
    CancelToken,
    CapturedFile,
    ColourMode,
    ScanProfile,
)
from desktop_app.scanning.sources.base import (
    DISK_RESERVE_BYTES,
    CaptureError,
    CaptureFailed,
    CaptureProgress,
    CaptureSource,
    DeviceInfo,
    DiskFull,
    FeederEmpty,
    PaperJam,
    ProgressFn,
    ScannerDisappeared,
    ScannerUnavailable,
    ensure_room,
    estimate_page_bytes,
    free_bytes,
    report,
)

log = logging.getLogger(__name__)

# TWAIN constants (twain.h); spelled out so this module needs ``twain`` only at run time.
ICAP_XRESOLUTION, ICAP_YRESOLUTION = 0x1118, 0x1119
ICAP_PIXELTYPE, ICAP_UNITS, ICAP_BITDEPTH = 0x0101, 0x0102, 0x112B
CAP_FEEDERENABLED, CAP_FEEDERLOADED, CAP_AUTOFEED = 0x1002, 0x1003, 0x1007
CAP_DUPLEXENABLED, CAP_XFERCOUNT = 0x1013, 0x0001
TWTY_INT16, TWTY_UINT16, TWTY_BOOL, TWTY_FIX32 = 0x0001, 0x0004, 0x0006, 0x0007
TWUN_INCHES = 0
TWPT_BW, TWPT_GRAY, TWPT_RGB = 0, 1, 2
_PIXEL_TYPES = {ColourMode.COLOUR: TWPT_RGB, ColourMode.AUTO: TWPT_RGB,
                ColourMode.GREY: TWPT_GRAY, ColourMode.BILEVEL: TWPT_BW}
SESSION_JOIN_S = 10.0

T = TypeVar("T")


def _twain() -> Any:
    import twain  # type: ignore[import-not-found,unused-ignore]

    return twain


ONLY_32BIT_VI = (
    "Trình điều khiển TWAIN của máy quét này là bản 32-bit, phần mềm Một Cửa (64-bit) "
    "không dùng được. Hãy chọn máy quét qua WIA, hoặc quét bằng phần mềm của máy quét "
    "vào thư mục quét (hot folder); nếu cần dùng TWAIN, hãy báo kỹ thuật viên cài "
    "trình điều khiển TWAIN 64-bit.")


def _windir() -> Path:
    return Path(os.environ.get("WINDIR") or os.environ.get("SYSTEMROOT") or r"C:\Windows")


def _has_sources(folder: Path) -> bool:
    """A TWAIN data source is a ``.ds`` file under ``twain_32`` or ``twain_64``."""
    return folder.is_dir() and any(p.suffix.lower() == ".ds" for p in folder.rglob("*"))


def only_32bit_twain(windir: Path | None = None) -> bool:
    """True when this PC has 32-bit TWAIN data sources (``%WINDIR%\\twain_32``) but no
    64-bit one (``twain_64``): installing the 64-bit DSM alone would not help then.
    ``TWAIN_32.DLL`` by itself proves nothing: Windows ships it on every PC."""
    w = windir or _windir()
    return _has_sources(w / "twain_32") and not _has_sources(w / "twain_64")


def _only_32bit_error(detail: str) -> ScannerUnavailable:
    log.warning("TWAIN: only 32-bit TWAIN found under %s; a 64-bit app cannot use it (%s)",
                _windir(), detail)
    return ScannerUnavailable(ONLY_32BIT_VI, f"only 32-bit TWAIN present: {detail}")


def _exc_class(tw: Any, *names: str) -> tuple[type[BaseException], ...]:
    """pytwain renamed its exceptions (``excTWCC_PAPERJAM`` → ``PaperJam``); accept both."""
    found = []
    for holder in (getattr(tw, "exceptions", None), tw):
        for name in names:
            cls = getattr(holder, name, None) if holder is not None else None
            if isinstance(cls, type) and issubclass(cls, BaseException):
                found.append(cls)
    return tuple(found)


_DSM_MISSING = ("SMLoadFileFailed", "excSMLoadFileFailed", "SMGetProcAddressFailed",
                "excSMGetProcAddressFailed")


def classify_twain_error(tw: Any, exc: BaseException, pages_kept: int, device: str
                         ) -> BaseException:
    detail = f"TWAIN {device}: {type(exc).__name__}: {exc}"
    if isinstance(exc, _exc_class(tw, "PaperJam", "excTWCC_PAPERJAM", "PaperDoubleFeedError",
                                  "excTWCC_PAPERDOUBLEFEED")):
        return PaperJam(pages_kept, detail)
    if isinstance(exc, _exc_class(tw, "DSTransferCancelled", "excDSTransferCancelled")):
        return CancelledError(f"TWAIN transfer cancelled on the device after {pages_kept}")
    if isinstance(exc, _exc_class(tw, *_DSM_MISSING)):
        if only_32bit_twain():
            return _only_32bit_error(detail)
        return ScannerUnavailable(
            "Máy tính chưa cài bộ quản lý TWAIN (TWAINDSM.dll). Hãy cài trình điều khiển "
            "TWAIN 64-bit của máy quét, hoặc dùng WIA.", detail)
    if isinstance(exc, _exc_class(tw, "FileWriteError", "excTWCC_FILEWRITEERROR")):
        return DiskFull(0, 0, pages_kept, detail)
    if isinstance(exc, _exc_class(tw, "CheckDeviceOnlineError", "excTWCC_CHECKDEVICEONLINE",
                                  "NoDataSourceError", "excTWCC_NODS")):
        if not pages_kept and isinstance(exc, _exc_class(tw, "NoDataSourceError",
                                                         "excTWCC_NODS")) \
                and only_32bit_twain():
            return _only_32bit_error(detail)
        if pages_kept:
            return ScannerDisappeared(pages_kept, detail)
        return ScannerUnavailable(
            f"Không kết nối được máy quét “{device}”. Hãy kiểm tra máy đã bật và cắm cáp, "
            "rồi thử lại.", detail)
    if isinstance(exc, (CaptureError, CancelledError)):
        return exc
    return CaptureFailed(
        f"Máy quét báo lỗi và dừng lại. Đã giữ lại {pages_kept} trang quét xong. Hãy thử "
        "lại; nếu vẫn lỗi, báo kỹ thuật viên.", detail, pages_kept)


@contextlib.contextmanager
def _hidden_window() -> Iterator[int]:
    """A window owned by the current thread, so TWAIN messages reach this thread's queue."""
    import ctypes

    user32 = ctypes.windll.user32  # type: ignore[attr-defined]
    user32.CreateWindowExW.restype = ctypes.c_void_p
    hwnd = user32.CreateWindowExW(0, "STATIC", "MotCua TWAIN", 0, 0, 0, 0, 0,
                                  None, None, None, None)
    if not hwnd:
        raise ScannerUnavailable("Không khởi tạo được kết nối TWAIN.",
                                 f"CreateWindowExW failed: {ctypes.GetLastError()}")
    try:
        yield int(hwnd)
    finally:
        user32.DestroyWindow(ctypes.c_void_p(hwnd))


def _on_own_thread(fn: Callable[[int], T], timeout: float = 120.0) -> T:
    """Run a short TWAIN call (listing sources) on a fresh thread with its own window."""
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            with _hidden_window() as hwnd:
                box["value"] = fn(hwnd)
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=body, name="twain-list", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise ScannerUnavailable("Trình điều khiển TWAIN không phản hồi.",
                                 f"TWAIN call did not return in {timeout}s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


@dataclass
class _Done:
    error: BaseException | None = None


class TwainSource(CaptureSource):
    name = "twain"
    label_vi = "Máy quét (TWAIN)"

    def __init__(self, device: str | None = None,
                 reserve_bytes: int = DISK_RESERVE_BYTES, *,
                 show_driver_dialog: bool = False) -> None:
        self.device = device  # the TWAIN data source's product name
        self.reserve_bytes = reserve_bytes
        self.show_driver_dialog = show_driver_dialog

    def available(self) -> bool:
        return os.name == "nt" and importlib.util.find_spec("twain") is not None

    def for_device(self, device_id: str) -> TwainSource:
        return TwainSource(device_id, self.reserve_bytes,
                           show_driver_dialog=self.show_driver_dialog)

    def _require(self) -> Any:
        if not self.available():
            raise ScannerUnavailable("Máy tính này không dùng được trình điều khiển TWAIN.",
                                     "TWAIN needs Windows and the pytwain package")
        return _twain()

    def list_devices(self) -> list[DeviceInfo]:
        tw = self._require()

        def names(hwnd: int) -> list[str]:
            with tw.SourceManager(hwnd) as sm:
                return list(sm.source_list)

        try:
            found = _on_own_thread(names)
        except CaptureError:
            raise
        except Exception as exc:
            if isinstance(exc, _exc_class(tw, *_DSM_MISSING)):
                raise classify_twain_error(tw, exc, 0, "?") from exc
            raise ScannerUnavailable("Không liệt kê được máy quét TWAIN.",
                                     f"TWAIN source list failed: {exc!r}") from exc
        if not found and only_32bit_twain():
            raise _only_32bit_error("the 64-bit manager lists no data source")
        return [DeviceInfo(id=n, label=n, kind="scanner") for n in found]

    def capture(self, profile: ScanProfile, dest_dir: Path, cancel: CancelToken | None = None,
                progress: ProgressFn | None = None) -> Iterator[CapturedFile]:
        tw = self._require()
        dest_dir.mkdir(parents=True, exist_ok=True)
        page_bytes = estimate_page_bytes(profile)
        ensure_room(dest_dir, page_bytes, 0, self.reserve_bytes)
        session = _TwainSession(self, tw, profile, dest_dir, page_bytes)
        yield from session.pages(cancel, progress)


class _TwainSession:
    def __init__(self, source: TwainSource, tw: Any, profile: ScanProfile, dest_dir: Path,
                 page_bytes: int) -> None:
        self.source = source
        self.tw = tw
        self.profile = profile
        self.dest_dir = dest_dir
        self.page_bytes = page_bytes
        self.prefix = f"twain-{uuid.uuid4().hex[:8]}-page-"
        self.out: queue.Queue[CapturedFile | _Done] = queue.Queue()
        self.stop = threading.Event()
        self.device = source.device or ""
        self.dpi = profile.dpi
        self.duplex = False
        self.saved = 0

    def pages(self, cancel: CancelToken | None, progress: ProgressFn | None
              ) -> Iterator[CapturedFile]:
        worker = threading.Thread(target=self._run, name="twain-session", daemon=True)
        worker.start()
        kept = 0
        try:
            while True:
                if cancel is not None and cancel.cancelled:
                    self.stop.set()
                    raise CancelledError(f"TWAIN scan cancelled after {kept} pages")
                try:
                    item = self.out.get(timeout=0.1)
                except queue.Empty:
                    continue
                if isinstance(item, _Done):
                    if item.error is not None:
                        raise classify_twain_error(self.tw, item.error, kept, self.device)
                    return
                kept += 1
                report(progress, CaptureProgress(kept, 1.0, kept, f"Đã quét xong {kept} trang."))
                yield item
        finally:
            self.stop.set()
            worker.join(SESSION_JOIN_S)
            self._drop_unyielded(kept)

    def _drop_unyielded(self, kept: int) -> None:
        """Pages saved after the consumer stopped were never shown: remove them."""
        while True:
            try:
                item = self.out.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, CapturedFile):
                item.path.unlink(missing_ok=True)
        for tmp in self.dest_dir.glob(f".{self.prefix}*"):
            tmp.unlink(missing_ok=True)

    def _run(self) -> None:
        try:
            with _hidden_window() as hwnd, self.tw.SourceManager(hwnd) as sm:
                src = sm.open_source(self.device or None)
                if src is None:
                    raise CancelledError("TWAIN source selection cancelled")
                try:
                    self.device = str(src.name)
                    self._configure(src)
                    src.acquire_natively(after=self._after, before=self._before,
                                         show_ui=self.source.show_driver_dialog,
                                         modal=False)
                finally:
                    src.close()
            self.out.put(_Done())
        except BaseException as exc:
            self.out.put(_Done(exc))

    def _set(self, src: Any, cap: int, type_id: int, value: Any) -> None:
        try:
            src.set_capability(cap, type_id, value)
        except Exception as exc:  # CheckStatus (value adjusted) or unsupported
            log.info("TWAIN %s: capability %#x := %r -> %r", self.device, cap, value, exc)

    def _configure(self, src: Any) -> None:
        self._set(src, ICAP_UNITS, TWTY_UINT16, TWUN_INCHES)
        self._set(src, ICAP_PIXELTYPE, TWTY_UINT16, _PIXEL_TYPES[self.profile.mode])
        if self.profile.mode is ColourMode.BILEVEL:
            self._set(src, ICAP_BITDEPTH, TWTY_UINT16, 1)
        self._set(src, ICAP_XRESOLUTION, TWTY_FIX32, float(self.profile.dpi))
        self._set(src, ICAP_YRESOLUTION, TWTY_FIX32, float(self.profile.dpi))
        with contextlib.suppress(Exception):
            self.dpi = round(float(src.get_capability_current(ICAP_XRESOLUTION)[1]))
        w_mm, h_mm = PAGE_SIZES_MM[self.profile.page_size]
        with contextlib.suppress(Exception):
            src.set_image_layout((0.0, 0.0, w_mm / MM_PER_INCH, h_mm / MM_PER_INCH))
        self._configure_feeder(src)
        self._set(src, CAP_XFERCOUNT, TWTY_INT16, -1)  # all pages the feeder holds

    def _configure_feeder(self, src: Any) -> None:
        if self.profile.paper == "flatbed":
            with contextlib.suppress(Exception):
                src.set_capability(CAP_FEEDERENABLED, TWTY_BOOL, False)
            return
        try:
            src.set_capability(CAP_FEEDERENABLED, TWTY_BOOL, True)
        except Exception:
            return  # flatbed only
        self._set(src, CAP_AUTOFEED, TWTY_BOOL, True)
        if self.profile.duplex:
            self._set(src, CAP_DUPLEXENABLED, TWTY_BOOL, True)
            with contextlib.suppress(Exception):
                self.duplex = bool(src.get_capability_current(CAP_DUPLEXENABLED)[1])
        loaded = None
        with contextlib.suppress(Exception):
            loaded = bool(src.get_capability_current(CAP_FEEDERLOADED)[1])
        if loaded is False:
            raise FeederEmpty(f"TWAIN {self.device}: CAP_FEEDERLOADED is false")

    def _cancel_all(self) -> BaseException:
        classes = _exc_class(self.tw, "CancelAll")
        return classes[0]() if classes else CancelledError("cancel")

    def _before(self, image_info: dict[str, Any]) -> None:
        if self.stop.is_set():
            raise self._cancel_all()
        if free_bytes(self.dest_dir) < self.page_bytes + self.source.reserve_bytes:
            raise DiskFull(free_bytes(self.dest_dir), self.page_bytes, self.saved,
                           f"TWAIN {self.device}: not enough room before page {self.saved + 1}")
        with contextlib.suppress(Exception):
            self.dpi = round(float(image_info["XResolution"])) or self.dpi

    def _after(self, image: Any, more: int) -> None:
        final = self.dest_dir / f"{self.prefix}{self.saved + 1:04d}.bmp"
        try:
            with replacing(final, suffix=".part") as tmp:
                image.save(str(tmp))
        except OSError as exc:
            if exc.errno == 28:  # ENOSPC
                raise DiskFull(0, self.page_bytes, self.saved, f"{final}: {exc!r}") from exc
            raise
        finally:
            with contextlib.suppress(Exception):
                image.close()
        self.saved += 1
        side = "back" if self.duplex and self.saved % 2 == 0 else "front"
        self.out.put(CapturedFile(path=final, source=f"twain:{self.device}", dpi=self.dpi,
                                  side=side, original_name=final.name))
        if self.stop.is_set() and more:
            raise self._cancel_all()
