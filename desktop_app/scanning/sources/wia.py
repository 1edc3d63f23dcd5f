"""Windows Image Acquisition (WIA 2.0 drivers through the WIA Automation Layer).

The automation objects (``WIA.DeviceManager``) are reached through pywin32's
``win32com`` (a Windows-only dependency of the app) or, when only that is installed,
``comtypes``. The imports are plain ``import`` statements inside ``_Com`` so PyInstaller's
analysis bundles them, yet run only when a WIA source is used: this module imports
everywhere and ``available()`` is simply False off Windows.

``show_driver_dialog`` (off by default) lets the driver show its own settings window
(WIA ``CommonDialog.ShowSelectItems`` without the common UI) before the pages are taken.

Cancel is checked between pages: a WIA ``Transfer`` call cannot be interrupted once the
driver has started it."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    CoverOpen,
    DeviceInfo,
    DiskFull,
    FeederEmpty,
    PaperJam,
    ProgressFn,
    ScannerBusy,
    ScannerDisappeared,
    ScannerUnavailable,
    ensure_room,
    estimate_page_bytes,
    image_dpi,
    report,
)

log = logging.getLogger(__name__)

FORMAT_TIFF = "{B96B3CB1-0728-11D3-9D7B-0000F81EF32E}"
FORMAT_PNG = "{B96B3CAF-0728-11D3-9D7B-0000F81EF32E}"
FORMAT_BMP = "{B96B3CAB-0728-11D3-9D7B-0000F81EF32E}"
_FORMATS = ((FORMAT_TIFF, ".tif"), (FORMAT_PNG, ".png"), (FORMAT_BMP, ".bmp"))

SCANNER_DEVICE_TYPE = 1
# Property ids (wiadef.h).
DPS_DOCUMENT_HANDLING_CAPABILITIES = 3086
DPS_DOCUMENT_HANDLING_STATUS = 3087
DPS_DOCUMENT_HANDLING_SELECT = 3088
DPS_PAGES = 3096
IPS_CUR_INTENT = 6146
IPS_XRES = 6147
IPS_YRES = 6148
IPS_XPOS = 6149
IPS_YPOS = 6150
IPS_XEXTENT = 6151
IPS_YEXTENT = 6152
FEEDER, FLATBED, DUPLEX = 0x1, 0x2, 0x4
FEED_READY = 0x1
INTENT_COLOR, INTENT_GRAYSCALE, INTENT_TEXT = 0x1, 0x2, 0x4
_INTENTS = {ColourMode.COLOUR: INTENT_COLOR, ColourMode.AUTO: INTENT_COLOR,
            ColourMode.GREY: INTENT_GRAYSCALE, ColourMode.BILEVEL: INTENT_TEXT}
_SUBTYPE_RANGE, _SUBTYPE_LIST = 1, 2

# HRESULTs (wiadef.h); COM reports them as signed 32-bit integers.
ERROR_PAPER_JAM = 0x80210002
ERROR_PAPER_EMPTY = 0x80210003
ERROR_PAPER_PROBLEM = 0x80210004
ERROR_OFFLINE = 0x80210005
ERROR_BUSY = 0x80210006
ERROR_DEVICE_COMMUNICATION = 0x8021000A
ERROR_DEVICE_LOCKED = 0x8021000D
ERROR_NO_DEVICE_AVAILABLE = 0x80210015
ERROR_COVER_OPEN = 0x80210016
E_INVALIDARG = 0x80070057
E_NOTIMPL = 0x80004001
ERROR_INVALID_COMMAND = 0x8021000B
ERROR_DISK_FULL = 0x80070070  # HRESULT_FROM_WIN32(ERROR_DISK_FULL)
_FORMAT_REFUSED = {E_INVALIDARG, E_NOTIMPL, ERROR_INVALID_COMMAND}


def hresult_of(exc: BaseException) -> int | None:
    """The WIA HRESULT inside a pywin32 ``com_error`` or a comtypes ``COMError``. pywin32
    puts the driver's code in ``excepinfo[5]`` when the outer code is DISP_E_EXCEPTION."""
    excepinfo = getattr(exc, "excepinfo", None)
    if isinstance(excepinfo, tuple) and len(excepinfo) > 5 and excepinfo[5]:
        return int(excepinfo[5]) & 0xFFFFFFFF
    code = getattr(exc, "hresult", None)
    if code is None and exc.args and isinstance(exc.args[0], int):
        code = exc.args[0]
    return int(code) & 0xFFFFFFFF if code is not None else None


def classify_hresult(code: int | None, pages_kept: int, device: str, detail: str
                     ) -> CaptureError:
    if code in (ERROR_PAPER_JAM, ERROR_PAPER_PROBLEM):
        return PaperJam(pages_kept, detail)
    if code == ERROR_PAPER_EMPTY:
        return FeederEmpty(detail)
    if code == ERROR_COVER_OPEN:
        return CoverOpen(pages_kept, detail)
    if code in (ERROR_BUSY, ERROR_DEVICE_LOCKED):
        return ScannerBusy(f"Máy quét “{device}” đang bận. Hãy đợi một lát rồi thử lại.",
                           detail, pages_kept)
    if code == ERROR_DISK_FULL:
        return DiskFull(0, 0, pages_kept, detail)
    if code in (ERROR_OFFLINE, ERROR_DEVICE_COMMUNICATION, ERROR_NO_DEVICE_AVAILABLE):
        if pages_kept:
            return ScannerDisappeared(pages_kept, detail)
        return ScannerUnavailable(
            f"Không kết nối được máy quét “{device}”. Hãy kiểm tra máy đã bật và cắm cáp, "
            "rồi thử lại.", detail)
    return CaptureFailed(
        f"Máy quét báo lỗi và dừng lại. Đã giữ lại {pages_kept} trang quét xong. Hãy thử "
        "lại; nếu vẫn lỗi, báo kỹ thuật viên.", detail, pages_kept)


class _Com:
    """pywin32 or comtypes, whichever is installed."""

    def __init__(self) -> None:
        self.pythoncom: Any = None
        self.comtypes: Any = None
        try:
            import pythoncom  # type: ignore[import-not-found,unused-ignore]
            import win32com.client  # type: ignore[import-not-found,unused-ignore]

            self.client: Any = win32com.client
            self.pythoncom = pythoncom
        except ImportError:
            import comtypes  # type: ignore[import-not-found,unused-ignore]
            import comtypes.client  # type: ignore[import-not-found,unused-ignore]

            self.comtypes = comtypes
            self.client = comtypes.client

    def init(self) -> None:
        (self.pythoncom or self.comtypes).CoInitialize()

    def uninit(self) -> None:
        (self.pythoncom or self.comtypes).CoUninitialize()

    def create(self, progid: str) -> Any:
        if self.pythoncom is not None:
            return self.client.Dispatch(progid)
        return self.client.CreateObject(progid, dynamic=True)

    @property
    def error(self) -> type[BaseException]:
        if self.pythoncom is not None:
            return self.pythoncom.com_error  # type: ignore[no-any-return]
        return self.comtypes.COMError  # type: ignore[no-any-return]


def _find_prop(props: Any, prop_id: int) -> Any | None:
    for p in props:
        with contextlib.suppress(Exception):
            if int(p.PropertyID) == prop_id:
                return p
    return None


def _set_prop(props: Any, prop_id: int, value: int) -> bool:
    p = _find_prop(props, prop_id)
    if p is None:
        return False
    try:
        p.Value = value
    except Exception as exc:  # a driver may refuse any single setting; scan anyway
        log.warning("WIA property %d := %r refused: %r", prop_id, value, exc)
        return False
    return True


def _allowed(p: Any, wanted: int) -> int:
    """The nearest value the property accepts, never below ``wanted`` when reachable."""
    try:
        subtype = int(p.SubType)
        if subtype == _SUBTYPE_LIST:
            values = sorted(int(v) for v in p.SubTypeValues)
            above = [v for v in values if v >= wanted]
            return above[0] if above else values[-1]
        if subtype == _SUBTYPE_RANGE:
            low, high = int(p.SubTypeMin), int(p.SubTypeMax)
            step = max(int(p.SubTypeStep), 1)
            value = min(max(wanted, low), high)
            return low + ((value - low) // step) * step
    except Exception as exc:
        log.debug("WIA property %r has no readable constraint: %r", p, exc)
    return wanted


class WiaSource(CaptureSource):
    name = "wia"
    label_vi = "Máy quét (WIA)"

    def __init__(self, device: str | None = None,
                 reserve_bytes: int = DISK_RESERVE_BYTES, *,
                 show_driver_dialog: bool = False) -> None:
        self.device = device
        self.reserve_bytes = reserve_bytes
        self.show_driver_dialog = show_driver_dialog

    def available(self) -> bool:
        if os.name != "nt":
            return False
        return any(importlib.util.find_spec(m) is not None for m in ("win32com", "comtypes"))

    def for_device(self, device_id: str) -> WiaSource:
        return WiaSource(device_id, self.reserve_bytes,
                         show_driver_dialog=self.show_driver_dialog)

    def _com(self) -> _Com:
        if not self.available():
            raise ScannerUnavailable("Máy tính này không dùng được trình điều khiển WIA.",
                                     "WIA needs Windows and pywin32 or comtypes")
        return _Com()

    def list_devices(self) -> list[DeviceInfo]:
        com = self._com()
        com.init()
        try:
            manager = com.create("WIA.DeviceManager")
            devices = []
            for info in manager.DeviceInfos:
                if int(info.Type) != SCANNER_DEVICE_TYPE:
                    continue
                name = _info_name(info)
                devices.append(DeviceInfo(id=str(info.DeviceID), label=name, kind="scanner"))
            return devices
        except com.error as exc:
            raise ScannerUnavailable("Không liệt kê được máy quét WIA.",
                                     f"WIA DeviceInfos failed: {exc!r}") from exc
        finally:
            com.uninit()

    def capture(self, profile: ScanProfile, dest_dir: Path, cancel: CancelToken | None = None,
                progress: ProgressFn | None = None) -> Iterator[CapturedFile]:
        com = self._com()
        dest_dir.mkdir(parents=True, exist_ok=True)
        page_bytes = estimate_page_bytes(profile)
        ensure_room(dest_dir, page_bytes, 0, self.reserve_bytes)
        com.init()
        try:
            yield from _WiaRun(self, com, profile, dest_dir, page_bytes, cancel, progress).run()
        finally:
            com.uninit()


def _info_name(info: Any) -> str:
    for p in info.Properties:
        with contextlib.suppress(Exception):
            if str(p.Name) == "Name":
                return str(p.Value)
    return str(info.DeviceID)


class _WiaRun:
    def __init__(self, source: WiaSource, com: _Com, profile: ScanProfile, dest_dir: Path,
                 page_bytes: int, cancel: CancelToken | None, progress: ProgressFn | None
                 ) -> None:
        self.source = source
        self.com = com
        self.profile = profile
        self.dest_dir = dest_dir
        self.page_bytes = page_bytes
        self.cancel = cancel
        self.progress = progress
        self.prefix = f"wia-{uuid.uuid4().hex[:8]}-page-"
        self.kept = 0
        self.device_name = source.device or "?"
        self.dpi = profile.dpi
        self.format: tuple[str, str] | None = None

    def run(self) -> Iterator[CapturedFile]:
        device = self._connect()
        feeder, duplex = self._select_feeder(device)
        item = self._item(device, feeder)
        self._configure(item)
        if self.source.show_driver_dialog:
            item = self._driver_dialog(device)
        while True:
            if self.cancel is not None and self.cancel.cancelled:
                raise CancelledError(f"WIA scan cancelled after {self.kept} pages")
            ensure_room(self.dest_dir, self.page_bytes, self.kept, self.source.reserve_bytes)
            report(self.progress, CaptureProgress(self.kept + 1, 0.0, self.kept,
                                                  f"Đang quét trang {self.kept + 1}…"))
            path = self._transfer(item, feeder)
            if path is None:
                return  # the feeder ran out: the normal end of an ADF batch
            self.kept += 1
            side = "back" if duplex and self.kept % 2 == 0 else "front"
            report(self.progress, CaptureProgress(self.kept, 1.0, self.kept,
                                                  f"Đã quét xong {self.kept} trang."))
            yield CapturedFile(path=path, source=f"wia:{self.device_name}",
                               dpi=image_dpi(path) or self.dpi, side=side,
                               original_name=path.name)
            if not feeder:
                return

    def _connect(self) -> Any:
        try:
            manager = self.com.create("WIA.DeviceManager")
            for info in manager.DeviceInfos:
                if int(info.Type) != SCANNER_DEVICE_TYPE:
                    continue
                if self.source.device is None or str(info.DeviceID) == self.source.device:
                    self.device_name = _info_name(info)
                    return info.Connect()
        except self.com.error as exc:
            raise classify_hresult(hresult_of(exc), 0, self.device_name,
                                   f"WIA connect failed: {exc!r}") from exc
        raise ScannerUnavailable(
            "Không tìm thấy máy quét WIA đã chọn. Hãy bật máy quét, cắm cáp rồi thử lại.",
            f"WIA device {self.source.device!r} not present")

    def _select_feeder(self, device: Any) -> tuple[bool, bool]:
        caps_prop = _find_prop(device.Properties, DPS_DOCUMENT_HANDLING_CAPABILITIES)
        caps = int(caps_prop.Value) if caps_prop is not None else 0
        if not caps & FEEDER or self.profile.paper == "flatbed":
            return False, False
        duplex = self.profile.duplex and bool(caps & DUPLEX)
        _set_prop(device.Properties, DPS_DOCUMENT_HANDLING_SELECT,
                  FEEDER | (DUPLEX if duplex else 0))
        _set_prop(device.Properties, DPS_PAGES, 1)  # one page per Transfer call
        status = _find_prop(device.Properties, DPS_DOCUMENT_HANDLING_STATUS)
        if status is not None and not int(status.Value) & FEED_READY:
            raise FeederEmpty(f"WIA {self.device_name}: document handling status "
                              f"{int(status.Value):#x} without FEED_READY")
        return True, duplex

    def _item(self, device: Any, feeder: bool) -> Any:
        """WIA 2.0 drivers expose "Flatbed" and "Feeder" child items; older ones one item."""
        items = list(device.Items)
        if not items:
            raise ScannerUnavailable("Máy quét không có bộ phận quét nào dùng được.",
                                     f"WIA {self.device_name}: no items")
        wanted = "feeder" if feeder else "flatbed"
        for it in items:
            name = ""
            with contextlib.suppress(Exception):
                name = str(_find_prop(it.Properties, 4098).Value).lower()  # WIA_IPA_ITEM_NAME
            if wanted in name:
                return it
        return items[0]

    def _configure(self, item: Any) -> None:
        props = item.Properties
        _set_prop(props, IPS_CUR_INTENT, _INTENTS[self.profile.mode])
        xres = _find_prop(props, IPS_XRES)
        if xres is not None:
            self.dpi = _allowed(xres, self.profile.dpi)
        _set_prop(props, IPS_XRES, self.dpi)
        _set_prop(props, IPS_YRES, self.dpi)
        w_mm, h_mm = PAGE_SIZES_MM[self.profile.page_size]
        for prop_id, mm in ((IPS_XEXTENT, w_mm), (IPS_YEXTENT, h_mm)):
            p = _find_prop(props, prop_id)
            if p is not None:
                _set_prop(props, prop_id, _allowed(p, round(mm / MM_PER_INCH * self.dpi)))
        _set_prop(props, IPS_XPOS, 0)
        _set_prop(props, IPS_YPOS, 0)

    def _driver_dialog(self, device: Any) -> Any:
        """The driver's own settings window, started from our settings; what the clerk
        chooses there wins. Closing it without scanning cancels the batch."""
        try:
            dialog = self.com.create("WIA.CommonDialog")
            chosen = dialog.ShowSelectItems(device, _INTENTS[self.profile.mode], 0, True,
                                            False, False)
        except self.com.error as exc:
            raise classify_hresult(hresult_of(exc), 0, self.device_name,
                                   f"WIA ShowSelectItems failed: {exc!r}") from exc
        items = list(chosen) if chosen is not None else []
        if not items:
            raise CancelledError("WIA driver dialog closed without choosing")
        with contextlib.suppress(Exception):
            self.dpi = int(_find_prop(items[0].Properties, IPS_XRES).Value) or self.dpi
        log.info("WIA %s: driver dialog used instead of the profile's settings",
                 self.device_name)
        return items[0]

    def _transfer(self, item: Any, feeder: bool) -> Path | None:
        formats = [self.format] if self.format else list(_FORMATS)
        last: BaseException | None = None
        for fmt, suffix in formats:
            try:
                image = item.Transfer(fmt)
            except self.com.error as exc:
                code = hresult_of(exc)
                if code == ERROR_PAPER_EMPTY and (feeder and self.kept):
                    return None
                if code in _FORMAT_REFUSED and self.format is None:
                    last = exc
                    continue  # this driver cannot deliver that format; try the next one
                raise classify_hresult(code, self.kept, self.device_name,
                                       f"WIA Transfer page {self.kept + 1}: {exc!r}") from exc
            self.format = (fmt, suffix)
            return self._save(image, suffix)
        raise CaptureFailed("Máy quét không xuất được ảnh ở định dạng nào được hỗ trợ.",
                            f"WIA Transfer refused TIFF, PNG and BMP: {last!r}", self.kept)

    def _save(self, image: Any, suffix: str) -> Path:
        """``SaveFile`` refuses to overwrite and may leave a partial file on a full disk:
        save under a temporary name, then rename."""
        final = self.dest_dir / f"{self.prefix}{self.kept + 1:04d}{suffix}"
        try:
            with replacing(final, suffix=f".part{suffix}") as tmp:
                image.SaveFile(str(tmp))
        except BaseException as exc:
            if isinstance(exc, self.com.error):
                raise classify_hresult(hresult_of(exc), self.kept, self.device_name,
                                       f"WIA SaveFile {final}: {exc!r}") from exc
            if isinstance(exc, OSError) and exc.errno == 28:  # ENOSPC
                raise DiskFull(0, self.page_bytes, self.kept, f"{final}: {exc!r}") from exc
            raise
        with contextlib.suppress(Exception):
            self.dpi = int(image.HorizontalResolution) or self.dpi
        return final
