"""WIA and TWAIN: importable and inert off Windows; their error mapping and WIA's page
loop checked against a stand-in for the WIA automation objects."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.scanning.model import ColourMode, ScanProfile
from desktop_app.scanning.sources import available_sources, open_source
from desktop_app.scanning.sources.base import (
    FeederEmpty,
    PaperJam,
    ScannerDisappeared,
    ScannerUnavailable,
)
from desktop_app.scanning.sources.twain import TwainSource, classify_twain_error
from desktop_app.scanning.sources.wia import (
    DPS_DOCUMENT_HANDLING_CAPABILITIES,
    DPS_DOCUMENT_HANDLING_SELECT,
    DPS_DOCUMENT_HANDLING_STATUS,
    DPS_PAGES,
    DUPLEX,
    ERROR_OFFLINE,
    ERROR_PAPER_EMPTY,
    ERROR_PAPER_JAM,
    FEED_READY,
    FEEDER,
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
