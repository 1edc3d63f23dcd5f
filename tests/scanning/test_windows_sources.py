"""WIA and TWAIN: importable and inert off Windows; their error mapping and page loops
checked against stand-ins for the WIA automation objects and for pytwain that replay
recorded driver answers (device lists, properties, PNG/BMP pages, HRESULTs and TWAIN
condition codes)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.scanning.model import CancelledError, ColourMode, ScanProfile
from desktop_app.scanning.sources import available_sources, open_source
from desktop_app.scanning.sources import twain as twain_mod
from desktop_app.scanning.sources.base import (
    CoverOpen,
    FeederEmpty,
    PaperJam,
    ScannerBusy,
    ScannerDisappeared,
    ScannerUnavailable,
)
from desktop_app.scanning.sources.twain import (
    ONLY_32BIT_VI,
    TwainSource,
    classify_twain_error,
    only_32bit_twain,
)
from desktop_app.scanning.sources.wia import (
    DPS_DOCUMENT_HANDLING_CAPABILITIES,
    DPS_DOCUMENT_HANDLING_SELECT,
    DPS_DOCUMENT_HANDLING_STATUS,
    DPS_PAGES,
    DUPLEX,
    E_INVALIDARG,
    ERROR_BUSY,
    ERROR_COVER_OPEN,
    ERROR_OFFLINE,
    ERROR_PAPER_EMPTY,
    ERROR_PAPER_JAM,
    FEED_READY,
    FEEDER,
    FORMAT_TIFF,
    IPS_CUR_INTENT,
    IPS_XRES,
    IPS_YRES,
    WiaSource,
    classify_hresult,
    hresult_of,
)

pytestmark = pytest.mark.nodb

PROFILE = ScanProfile("t", "Thử", dpi=250, mode=ColourMode.GREY, page_size="A5", duplex=True)
on_windows = pytest.mark.skipif(os.name != "nt", reason="needs Windows")


@pytest.mark.skipif(os.name == "nt", reason="checks the behaviour off Windows")
def test_not_available_off_windows_and_nothing_crashes(tmp_path: Path) -> None:
    for source in (WiaSource(), TwainSource()):
        assert source.available() is False
        with pytest.raises(ScannerUnavailable) as err:
            source.list_devices()
        assert "không dùng được" in err.value.message_vi
        with pytest.raises(ScannerUnavailable):
            list(source.capture(PROFILE, tmp_path))
    assert {s.name for s in available_sources([])}.isdisjoint({"wia", "twain"})
    assert "win32com" not in sys.modules and "twain" not in sys.modules
    with pytest.raises(ScannerUnavailable):
        open_source("wia|{6BDD1FC6-810F-11D0-BEC7-08002BE2092F}\\0000")


@on_windows
def test_real_wia_devices_can_be_listed() -> None:  # pragma: no cover - Windows only
    if not WiaSource().available():
        pytest.skip("pywin32/comtypes not installed")
    assert isinstance(WiaSource().list_devices(), list)


@on_windows
def test_real_twain_scan() -> None:  # pragma: no cover - needs a scanner
    pytest.skip("needs a TWAIN scanner attached to this Windows PC")


def test_hresult_extraction() -> None:
    class PywinError(Exception):
        def __init__(self) -> None:
            super().__init__(-2147352567, "Exception occurred.",
                             (0, None, None, None, 0, -2145320957), None)
            self.excepinfo = self.args[2]
            self.hresult = self.args[0]

    class ComtypesError(Exception):
        hresult = -2145320958

    assert hresult_of(PywinError()) == ERROR_PAPER_EMPTY
    assert hresult_of(ComtypesError()) == ERROR_PAPER_JAM


def test_wia_error_mapping() -> None:
    assert isinstance(classify_hresult(ERROR_PAPER_JAM, 2, "dev", "d"), PaperJam)
    assert isinstance(classify_hresult(ERROR_PAPER_EMPTY, 0, "dev", "d"), FeederEmpty)
    gone = classify_hresult(ERROR_OFFLINE, 4, "dev", "d")
    assert isinstance(gone, ScannerDisappeared) and "Đã giữ lại 4 trang" in gone.message_vi
    assert isinstance(classify_hresult(ERROR_OFFLINE, 0, "dev", "d"), ScannerUnavailable)


def test_twain_error_mapping() -> None:
    exceptions = types.SimpleNamespace(
        PaperJam=type("PaperJam", (Exception,), {}),
        CheckDeviceOnlineError=type("CheckDeviceOnlineError", (Exception,), {}))
    tw = types.SimpleNamespace(exceptions=exceptions)
    jam = classify_twain_error(tw, exceptions.PaperJam(), 1, "Fujitsu fi-7160")
    assert isinstance(jam, PaperJam) and jam.pages_kept == 1
    gone = classify_twain_error(tw, exceptions.CheckDeviceOnlineError(), 3, "x")
    assert isinstance(gone, ScannerDisappeared)


# --- the WIA page loop, against stand-ins for the automation objects ------------------------


class FakeComError(Exception):
    def __init__(self, code: int) -> None:
        signed = code - (1 << 32)
        super().__init__(-2147352567, "Exception occurred.", (0, "WIA", "", None, 0, signed),
                         None)
        self.excepinfo = self.args[2]


class Prop:
    def __init__(self, prop_id: int, value: object, name: str = "", values: tuple = ()) -> None:
        self.PropertyID, self.Value, self.Name = prop_id, value, name
        self.SubType = 2 if values else 0
        self.SubTypeValues = values


class FakeImage:
    def __init__(self, dpi: int) -> None:
        self.HorizontalResolution = dpi

    def SaveFile(self, path: str) -> None:  # COM naming
        assert not Path(path).exists()  # WIA refuses to overwrite
        Image.new("L", (60, 80), 128).save(path, "TIFF", dpi=(self.HorizontalResolution,) * 2)


class FakeItem:
    def __init__(self, sheets: int) -> None:
        self.sheets = sheets
        self.Properties = [Prop(4098, "Feeder"), Prop(IPS_CUR_INTENT, 1),
                           Prop(IPS_XRES, 100, values=(100, 200, 300, 600)), Prop(IPS_YRES, 100)]

    def Transfer(self, fmt: str) -> FakeImage:
        if self.sheets == 0:
            raise FakeComError(ERROR_PAPER_EMPTY)
        self.sheets -= 1
        return FakeImage(int(self.Properties[2].Value))


class FakeDevice:
    def __init__(self, item: FakeItem) -> None:
        self.Properties = [Prop(DPS_DOCUMENT_HANDLING_CAPABILITIES, FEEDER | DUPLEX),
                           Prop(DPS_DOCUMENT_HANDLING_STATUS, FEED_READY),
                           Prop(DPS_DOCUMENT_HANDLING_SELECT, 0), Prop(DPS_PAGES, 0)]
        self.Items = [item]


class FakeInfo:
    Type = 1
    DeviceID = "{wia}\\0001"

    def __init__(self, device: FakeDevice) -> None:
        self.device = device
        self.Properties = [Prop(7, "Canon DR-C225", name="Name")]

    def Connect(self) -> FakeDevice:
        return self.device


class FakeCom:
    error = FakeComError

    def __init__(self, info: FakeInfo) -> None:
        self.manager = types.SimpleNamespace(DeviceInfos=[info])

    def init(self) -> None: ...
    def uninit(self) -> None: ...

    def create(self, progid: str) -> object:
        assert progid == "WIA.DeviceManager"
        return self.manager


def test_wia_feeder_batch_until_paper_empty(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    item = FakeItem(sheets=4)
    device = FakeDevice(item)
    fake = FakeCom(FakeInfo(device))
    monkeypatch.setattr(WiaSource, "available", lambda self: True)
    monkeypatch.setattr(WiaSource, "_com", lambda self: fake)

    files = list(WiaSource("{wia}\\0001").capture(PROFILE, tmp_path / "raw"))

    assert len(files) == 4
    assert [f.side for f in files] == ["front", "back", "front", "back"]
    assert {f.dpi for f in files} == {300}  # 250 asked; the nearest the device offers above
    assert device.Properties[2].Value == FEEDER | DUPLEX
    assert item.Properties[1].Value == 2  # grey intent
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == [f.path.name for f in files]
    assert files[0].source == "wia:Canon DR-C225"


def test_wia_empty_feeder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeCom(FakeInfo(FakeDevice(FakeItem(sheets=0))))
    monkeypatch.setattr(WiaSource, "available", lambda self: True)
    monkeypatch.setattr(WiaSource, "_com", lambda self: fake)
    with pytest.raises(FeederEmpty) as err:
        list(WiaSource().capture(PROFILE, tmp_path / "raw"))
    assert "Khay nạp giấy" in err.value.message_vi


# --- recorded WIA answers: device list, format fallback, a jam mid-batch, driver dialog -----


def _recorded_png(dpi: int) -> bytes:
    """What a WIA driver's PNG transfer holds: a small grey page with its resolution."""
    buf = io.BytesIO()
    Image.new("L", (40, 56), 200).save(buf, "PNG", dpi=(dpi, dpi))
    return buf.getvalue()


class PngImage:
    def __init__(self, dpi: int) -> None:
        self.HorizontalResolution = dpi
        self.data = _recorded_png(dpi)

    def SaveFile(self, path: str) -> None:
        assert not Path(path).exists()
        Path(path).write_bytes(self.data)


class ScriptedItem(FakeItem):
    """A feeder item answering Transfer from a recording: ``"page"`` or an HRESULT. The
    driver refuses TIFF (E_INVALIDARG) and delivers PNG, as some WIA 2.0 drivers do."""

    def __init__(self, answers: list[object]) -> None:
        super().__init__(sheets=0)
        self.answers = answers
        self.formats: list[str] = []

    def Transfer(self, fmt: str) -> PngImage:  # type: ignore[override]
        self.formats.append(fmt)
        if fmt == FORMAT_TIFF:
            raise FakeComError(E_INVALIDARG)
        answer = self.answers.pop(0)
        if isinstance(answer, int):
            raise FakeComError(answer)
        return PngImage(int(self.Properties[2].Value))


class TwoDeviceCom(FakeCom):
    def __init__(self, info: FakeInfo) -> None:
        super().__init__(info)
        camera = types.SimpleNamespace(Type=2, DeviceID="{cam}\\0002", Properties=[])
        self.manager.DeviceInfos = [camera, info]


def _wia(monkeypatch: pytest.MonkeyPatch, fake: FakeCom) -> None:
    monkeypatch.setattr(WiaSource, "available", lambda self: True)
    monkeypatch.setattr(WiaSource, "_com", lambda self: fake)


def test_wia_lists_only_scanners_by_their_name(monkeypatch: pytest.MonkeyPatch) -> None:
    _wia(monkeypatch, TwoDeviceCom(FakeInfo(FakeDevice(FakeItem(0)))))
    devices = WiaSource().list_devices()
    assert [(d.id, d.label, d.kind) for d in devices] == [
        ("{wia}\\0001", "Canon DR-C225", "scanner")]


def test_wia_paper_jam_keeps_the_pages_before_it(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    item = ScriptedItem(["page", "page", ERROR_PAPER_JAM])
    _wia(monkeypatch, FakeCom(FakeInfo(FakeDevice(item))))
    got = []
    with pytest.raises(PaperJam) as err:
        for f in WiaSource().capture(PROFILE, tmp_path / "raw"):
            got.append(f)
    assert err.value.pages_kept == 2
    assert "kẹt giấy" in err.value.message_vi.lower()
    assert [f.path.suffix for f in got] == [".png", ".png"]
    assert all(f.path.read_bytes() == _recorded_png(300) for f in got)
    assert item.formats.count(FORMAT_TIFF) == 1  # refused once, then PNG is kept
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == [f.path.name for f in got]


def test_wia_busy_and_cover_open_answers(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for code, cls in ((ERROR_BUSY, ScannerBusy), (ERROR_COVER_OPEN, CoverOpen)):
        _wia(monkeypatch, FakeCom(FakeInfo(FakeDevice(ScriptedItem([code])))))
        with pytest.raises(cls) as err:
            list(WiaSource().capture(PROFILE, tmp_path / "raw"))
        assert err.value.message_vi and err.value.message_vi != err.value.detail


class FakeDialog:
    def __init__(self, chosen: list[object] | None) -> None:
        self.chosen = chosen
        self.calls: list[tuple[object, ...]] = []

    def ShowSelectItems(self, *args: object) -> list[object] | None:
        self.calls.append(args)
        return self.chosen


class DialogCom(FakeCom):
    def __init__(self, info: FakeInfo, dialog: FakeDialog) -> None:
        super().__init__(info)
        self.dialog = dialog

    def create(self, progid: str) -> object:
        return self.dialog if progid == "WIA.CommonDialog" else super().create(progid)


def test_wia_driver_dialog_is_off_by_default_and_used_when_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = ScriptedItem(["page", ERROR_PAPER_EMPTY])
    chosen.Properties[2].Value = 600  # the clerk picked 600 dpi in the driver's window
    dialog = FakeDialog([chosen])
    device = FakeDevice(ScriptedItem(["page", ERROR_PAPER_EMPTY]))
    _wia(monkeypatch, DialogCom(FakeInfo(device), dialog))

    assert len(list(WiaSource().capture(PROFILE, tmp_path / "a"))) == 1
    assert dialog.calls == []

    files = list(WiaSource(show_driver_dialog=True).capture(PROFILE, tmp_path / "b"))
    assert len(files) == 1 and files[0].dpi == 600
    assert dialog.calls[0][0] is device and dialog.calls[0][4] is False  # no common UI

    dialog.chosen = None  # closed without scanning
    with pytest.raises(CancelledError):
        list(WiaSource(show_driver_dialog=True).capture(PROFILE, tmp_path / "c"))


def test_open_source_passes_the_driver_dialog_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(WiaSource, "available", lambda self: True)
    monkeypatch.setattr(TwainSource, "available", lambda self: True)
    assert open_source("wia|{wia}\\0001").show_driver_dialog is False  # type: ignore[attr-defined]
    for key in ("wia|{wia}\\0001", "twain|Canon DR-C225 TWAIN", "twain"):
        source = open_source(key, show_driver_dialog=True)
        assert source.show_driver_dialog is True  # type: ignore[attr-defined]


# --- recorded pytwain answers -----------------------------------------------------------------


def _recorded_bmp() -> bytes:
    """A native transfer as pytwain saves it: a DIB written as a BMP file."""
    buf = io.BytesIO()
    Image.new("L", (40, 56), 90).save(buf, "BMP")
    return buf.getvalue()


def _exc(name: str) -> type[Exception]:
    return type(name, (Exception,), {})


class TwainExceptions:  # pytwain 2.x names (twain.exceptions)
    PaperJam = _exc("PaperJam")
    CheckDeviceOnlineError = _exc("CheckDeviceOnlineError")
    NoDataSourceError = _exc("NoDataSourceError")
    SMLoadFileFailed = _exc("SMLoadFileFailed")
    CancelAll = _exc("CancelAll")


class Dib:
    def __init__(self) -> None:
        self.closed = False

    def save(self, path: str) -> None:
        Path(path).write_bytes(_recorded_bmp())

    def close(self) -> None:
        self.closed = True


class TwainDataSource:
    """A data source replaying a recording: ``"page"`` or an exception per transfer."""

    def __init__(self, name: str, answers: list[object], feeder_loaded: bool = True) -> None:
        self.name = name
        self.answers = answers
        self.caps: dict[int, object] = {twain_mod.CAP_FEEDERLOADED: feeder_loaded}
        self.show_ui: bool | None = None
        self.closed = False

    def set_capability(self, cap: int, type_id: int, value: object) -> None:
        self.caps[cap] = value

    def get_capability_current(self, cap: int) -> tuple[int, object]:
        return (0, self.caps.get(cap))

    def set_image_layout(self, frame: tuple[float, ...]) -> None:
        self.caps[-1] = frame

    def acquire_natively(self, after: Callable[[Dib, int], None],
                         before: Callable[[dict[str, object]], None], show_ui: bool,
                         modal: bool) -> None:
        self.show_ui = show_ui
        for left, answer in reversed(list(enumerate(reversed(self.answers)))):
            if isinstance(answer, BaseException):
                raise answer
            before({"XResolution": 300.0})
            after(Dib(), left)

    def close(self) -> None:
        self.closed = True


class FakeTwain:
    """Stands for the ``twain`` module: a SourceManager over recorded sources."""

    exceptions = TwainExceptions

    def __init__(self, sources: list[TwainDataSource], load_error: bool = False) -> None:
        self.sources = sources
        self.load_error = load_error

    def SourceManager(self, hwnd: int) -> contextlib.AbstractContextManager[object]:
        if self.load_error:
            raise TwainExceptions.SMLoadFileFailed("could not load twaindsm.dll")
        sources = self.sources

        class Manager:
            @property
            def source_list(self) -> list[str]:
                return [s.name for s in sources]

            def __enter__(self) -> Manager:
                return self

            def __exit__(self, *exc: object) -> None: ...

            def open_source(self, name: str | None) -> TwainDataSource:
                for s in sources:
                    if name in (None, s.name):
                        return s
                raise TwainExceptions.NoDataSourceError(name)

        return Manager()


def _twain(monkeypatch: pytest.MonkeyPatch, fake: FakeTwain) -> None:
    monkeypatch.setattr(TwainSource, "available", lambda self: True)
    monkeypatch.setattr(twain_mod, "_twain", lambda: fake)
    monkeypatch.setattr(twain_mod, "_hidden_window", lambda: contextlib.nullcontext(0))


def test_twain_lists_sources_and_scans_a_batch(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ds = TwainDataSource("Canon DR-C225 TWAIN", ["page", "page", "page"])
    _twain(monkeypatch, FakeTwain([ds]))
    assert [(d.id, d.label) for d in TwainSource().list_devices()] == [
        ("Canon DR-C225 TWAIN", "Canon DR-C225 TWAIN")]

    files = list(TwainSource("Canon DR-C225 TWAIN").capture(PROFILE, tmp_path / "raw"))

    assert len(files) == 3 and {f.dpi for f in files} == {300}
    assert all(f.path.suffix == ".bmp" and f.path.read_bytes() == _recorded_bmp()
               for f in files)
    assert files[0].source == "twain:Canon DR-C225 TWAIN"
    assert [f.side for f in files] == ["front", "back", "front"]  # duplex on
    assert ds.caps[twain_mod.ICAP_PIXELTYPE] == twain_mod.TWPT_GRAY
    assert ds.caps[twain_mod.ICAP_XRESOLUTION] == 250.0
    assert ds.show_ui is False and ds.closed


def test_twain_driver_dialog_when_asked(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ds = TwainDataSource("Fujitsu fi-7160", ["page"])
    _twain(monkeypatch, FakeTwain([ds]))
    list(TwainSource(show_driver_dialog=True).for_device("Fujitsu fi-7160")
         .capture(PROFILE, tmp_path / "raw"))
    assert ds.show_ui is True


def test_twain_condition_codes_become_vietnamese_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jam = TwainDataSource("Fujitsu fi-7160", ["page", TwainExceptions.PaperJam()])
    _twain(monkeypatch, FakeTwain([jam]))
    got = []
    with pytest.raises(PaperJam) as err:
        for f in TwainSource("Fujitsu fi-7160").capture(PROFILE, tmp_path / "a"):
            got.append(f)
    assert err.value.pages_kept == 1 and len(got) == 1 and got[0].path.exists()

    empty = TwainDataSource("Fujitsu fi-7160", ["page"], feeder_loaded=False)
    _twain(monkeypatch, FakeTwain([empty]))
    with pytest.raises(FeederEmpty) as no_paper:
        list(TwainSource("Fujitsu fi-7160").capture(PROFILE, tmp_path / "b"))
    assert "Khay nạp giấy" in no_paper.value.message_vi

    off = TwainDataSource("Fujitsu fi-7160", [TwainExceptions.CheckDeviceOnlineError()])
    _twain(monkeypatch, FakeTwain([off]))
    with pytest.raises(ScannerUnavailable) as offline:
        list(TwainSource("Fujitsu fi-7160").capture(PROFILE, tmp_path / "c"))
    assert "Fujitsu fi-7160" in offline.value.message_vi


def _windir(tmp_path: Path, *drivers: str) -> Path:
    """A Windows folder with the given TWAIN data sources (``twain_32/Vendor/x.ds``)."""
    windir = tmp_path / "Windows"
    (windir / "System32").mkdir(parents=True)
    (windir / "twain_32.dll").write_bytes(b"MZ")  # present on every Windows
    for rel in drivers:
        (windir / rel).parent.mkdir(parents=True, exist_ok=True)
        (windir / rel).write_bytes(b"MZ")
    return windir


def test_only_32bit_twain_is_told_to_the_clerk(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert only_32bit_twain(_windir(tmp_path / "bare")) is False
    old = _windir(tmp_path / "old", "twain_32/Plustek/PSScan.ds")
    assert only_32bit_twain(old) is True
    assert only_32bit_twain(_windir(tmp_path / "both", "twain_32/Canon/a.ds",
                                    "twain_64/Canon/a.ds")) is False

    monkeypatch.setenv("WINDIR", str(old))
    # no 64-bit DSM at all
    _twain(monkeypatch, FakeTwain([], load_error=True))
    with pytest.raises(ScannerUnavailable) as no_dsm:
        TwainSource().list_devices()
    assert no_dsm.value.message_vi == ONLY_32BIT_VI
    assert "32-bit" in no_dsm.value.message_vi and "WIA" in no_dsm.value.message_vi
    assert "kỹ thuật viên" in no_dsm.value.message_vi
    # the 64-bit DSM is installed but lists no source; opening the default one fails too
    _twain(monkeypatch, FakeTwain([]))
    with pytest.raises(ScannerUnavailable) as none_64:
        TwainSource().list_devices()
    assert none_64.value.message_vi == ONLY_32BIT_VI
    with pytest.raises(ScannerUnavailable) as opening:
        list(TwainSource().capture(PROFILE, tmp_path / "raw"))
    assert opening.value.message_vi == ONLY_32BIT_VI


def test_missing_dsm_with_64bit_drivers_asks_for_the_dsm(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINDIR", str(_windir(tmp_path, "twain_64/Canon/a.ds")))
    _twain(monkeypatch, FakeTwain([], load_error=True))
    with pytest.raises(ScannerUnavailable) as err:
        TwainSource().list_devices()
    assert "TWAINDSM.dll" in err.value.message_vi
    monkeypatch.setenv("WINDIR", str(_windir(tmp_path / "empty")))
    _twain(monkeypatch, FakeTwain([]))
    assert TwainSource().list_devices() == []
