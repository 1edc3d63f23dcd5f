"""The SANE source against SANE's real ``test`` backend (a driver that produces frames
without hardware): batches, modes, dpi, cancel, device errors, a scanner that vanishes."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.scanning.model import CancelledError, CancelToken, ColourMode, ScanProfile
from desktop_app.scanning.sources import base
from desktop_app.scanning.sources.base import (
    CaptureProgress,
    CoverOpen,
    DiskFull,
    FeederEmpty,
    PaperJam,
    ScannerDisappeared,
    ScannerUnavailable,
)
from desktop_app.scanning.sources.sane import SaneSource, classify_failure
from desktop_app.scanning.sources.sane_options import (
    DeviceOptions,
    NumberConstraint,
    parse_device_list,
    plan_scan,
)

pytestmark = [pytest.mark.nodb,
              pytest.mark.skipif(shutil.which("scanimage") is None,
                                 reason="scanimage (Debian sane-utils) is not installed")]

ADF = "Automatic Document Feeder"
# Small pages that each take ~0.1–0.2 s to arrive: long enough to act mid-batch, short
# enough for a quick test. Later options override the geometry the profile asked for.
SLOW = ["--read-delay=yes", "--read-delay-duration=50000", "-x", "12", "-y", "12"]
FAST = ["--read-delay=yes", "--read-delay-duration=20000", "-x", "8", "-y", "8"]
PATTERN = ["--test-picture", "Color pattern"]


@pytest.fixture
def sane_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Enable only the test backend (it is commented out in /etc/sane.d/dll.conf)."""
    conf = tmp_path / "sane.d"
    conf.mkdir()
    (conf / "dll.conf").write_text("test\n")
    monkeypatch.setenv("SANE_CONFIG_DIR", str(conf))
    return conf


def profile(mode: ColourMode = ColourMode.GREY, dpi: int = 200, page_size: str = "A5",
            duplex: bool = False) -> ScanProfile:
    return ScanProfile("test", "Thử", dpi=dpi, mode=mode, page_size=page_size, duplex=duplex)


def scanned_files(dest: Path) -> list[Path]:
    return sorted(dest.iterdir())


def test_lists_the_test_devices(sane_env: Path) -> None:
    devices = SaneSource().list_devices()
    assert [d.id for d in devices][:2] == ["test:0", "test:1"]
    assert devices[0].kind == "virtual device"


def test_flatbed_scans_one_page_with_the_dpi_used(sane_env: Path, tmp_path: Path) -> None:
    source = SaneSource("test:0", paper="flatbed", extra_args=PATTERN)
    files = list(source.capture(profile(), tmp_path / "raw"))
    assert len(files) == 1
    f = files[0]
    assert f.source == "sane:test:0" and f.dpi == 200 and f.side == "front"
    with Image.open(f.path) as im:
        im.load()
        # A5 is 148 mm wide; the test device's 200 mm limit clamps only the height.
        w, h = im.size
        assert abs(w - 148 / 25.4 * 200) <= 1 and abs(h - 200 / 25.4 * 200) <= 1
    assert scanned_files(tmp_path / "raw") == [f.path]


def test_adf_batch_yields_pages_one_by_one(sane_env: Path, tmp_path: Path) -> None:
    dest = tmp_path / "raw"
    source = SaneSource("test:0", extra_args=[*PATTERN, *FAST])
    seen_on_disk_at_first_yield = None
    files = []
    for f in source.capture(profile(), dest):
        if seen_on_disk_at_first_yield is None:
            seen_on_disk_at_first_yield = len([p for p in dest.iterdir() if p.suffix == ".tiff"])
        with Image.open(f.path) as im:
            im.load()  # every yielded page is complete when it is handed over
        files.append(f)
    assert len(files) == 10  # the test driver's feeder holds ten sheets
    assert seen_on_disk_at_first_yield is not None and seen_on_disk_at_first_yield < 10
    assert [f.path for f in files] == scanned_files(dest)
    assert len({f.path for f in files}) == 10


@pytest.mark.parametrize(("mode", "pil_mode"), [
    (ColourMode.COLOUR, "RGB"), (ColourMode.GREY, "L"), (ColourMode.BILEVEL, "1"),
])
def test_modes(sane_env: Path, tmp_path: Path, mode: ColourMode, pil_mode: str) -> None:
    source = SaneSource("test:0", paper="flatbed", extra_args=[*PATTERN, "-x", "40", "-y", "40"])
    [f] = list(source.capture(profile(mode=mode, dpi=300), tmp_path / "raw"))
    assert f.dpi == 300
    with Image.open(f.path) as im:
        assert im.mode == pil_mode
        assert round(im.info["dpi"][0]) == 300


def test_progress_is_reported(sane_env: Path, tmp_path: Path) -> None:
    events: list[CaptureProgress] = []
    source = SaneSource("test:0", paper="flatbed", extra_args=["--read-limit=yes",
                                                               "--read-limit-size=4096"])
    list(source.capture(profile(), tmp_path / "raw", progress=events.append))
    fractions = [e.fraction for e in events]
    assert any(0 < x < 1 for x in fractions)
    assert events[-1].pages_done == 1 and events[-1].fraction == 1.0


def test_cancel_mid_batch_keeps_only_complete_pages(sane_env: Path, tmp_path: Path) -> None:
    dest = tmp_path / "raw"
    token = CancelToken()
    source = SaneSource("test:0", extra_args=[*PATTERN, *SLOW])
    got = []
    with pytest.raises(CancelledError):
        for f in source.capture(profile(), dest, token):
            got.append(f)
            if len(got) == 2:
                token.cancel()
    assert len(got) == 2
    # Nothing half-written (.part) and no page that was not handed over stays behind.
    assert scanned_files(dest) == [f.path for f in got]
    for f in got:
        with Image.open(f.path) as im:
            im.load()


def test_unknown_device_is_unavailable_in_vietnamese(sane_env: Path, tmp_path: Path) -> None:
    with pytest.raises(ScannerUnavailable) as err:
        list(SaneSource("test:99").capture(profile(), tmp_path / "raw"))
    assert "Không mở được máy quét" in err.value.message_vi
    assert "test:99" in err.value.detail


def _scanimage_children() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if comm == "scanimage" and ppid == os.getpid():
            pids.append(int(entry.name))
    return pids


def test_scanner_disappearing_keeps_pages(sane_env: Path, tmp_path: Path) -> None:
    dest = tmp_path / "raw"
    source = SaneSource("test:0", extra_args=[*PATTERN, *SLOW])
    got = []
    with pytest.raises(ScannerDisappeared) as err:
        for f in source.capture(profile(), dest):
            got.append(f)
            if len(got) == 3:
                # Unplugging the USB cable kills the driver; SIGKILL is the closest thing.
                for pid in _scanimage_children():
                    os.kill(pid, signal.SIGKILL)
    assert err.value.pages_kept == len(got) >= 3
    assert f"Đã giữ lại {len(got)} trang" in err.value.message_vi
    assert scanned_files(dest) == [f.path for f in got]


@pytest.mark.parametrize(("status", "error"), [
    ("SANE_STATUS_JAMMED", PaperJam),
    ("SANE_STATUS_NO_DOCS", FeederEmpty),
    ("SANE_STATUS_COVER_OPEN", CoverOpen),
    ("SANE_STATUS_IO_ERROR", ScannerDisappeared),
])
def test_driver_conditions(sane_env: Path, tmp_path: Path, status: str,
                           error: type[Exception]) -> None:
    source = SaneSource("test:0", extra_args=["--read-return-value", status])
    with pytest.raises(error):
        list(source.capture(profile(), tmp_path / "raw"))
    assert scanned_files(tmp_path / "raw") == []


def test_refuses_to_start_on_a_full_disk(sane_env: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "free_bytes", lambda path: 10 * 1024 * 1024)
    with pytest.raises(DiskFull) as err:
        list(SaneSource("test:0").capture(profile(), tmp_path / "raw"))
    assert "Ổ đĩa gần đầy" in err.value.message_vi and err.value.pages_kept == 0


def test_disk_filling_up_mid_batch_keeps_pages(sane_env: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "raw"
    checks = {"n": 0}

    def shrinking(path: Path) -> int:
        checks["n"] += 1  # plenty for the start and two pages, then nearly nothing
        return 10 * 1024**3 if checks["n"] <= 2 else 1024

    monkeypatch.setattr(base, "free_bytes", shrinking)
    got = []
    with pytest.raises(DiskFull) as err:
        for f in SaneSource("test:0", extra_args=[*PATTERN, *SLOW]).capture(profile(), dest):
            got.append(f)
    assert len(got) == 2 and err.value.pages_kept == 2
    assert scanned_files(dest) == [f.path for f in got]


def test_abandoned_generator_stops_the_scanner(sane_env: Path, tmp_path: Path) -> None:
    dest = tmp_path / "raw"
    gen = SaneSource("test:0", extra_args=[*PATTERN, *SLOW]).capture(profile(), dest)
    first = next(gen)
    gen.close()  # the studio dropped the batch (e.g. "scan one page")
    assert _scanimage_children() == []
    assert scanned_files(dest) == [first.path]


def test_cancel_from_another_thread(sane_env: Path, tmp_path: Path) -> None:
    token = CancelToken()
    timer = threading.Timer(0.25, token.cancel)
    timer.start()
    try:
        with pytest.raises(CancelledError):
            list(SaneSource("test:0", extra_args=[*PATTERN, *SLOW]).capture(
                profile(), tmp_path / "raw", token))
    finally:
        timer.cancel()
    assert not [p for p in (tmp_path / "raw").iterdir() if p.name.endswith(".part")]


# --- pure parts: no scanner needed ----------------------------------------------------------


def test_plan_never_goes_below_the_requested_dpi() -> None:
    opts = DeviceOptions(modes=["Lineart", "Gray", "Color"], sources=["Flatbed", "ADF",
                                                                     "ADF Duplex"],
                         resolution=NumberConstraint(values=(75, 150, 300, 600)),
                         width=NumberConstraint(low=0, high=215.9),
                         height=NumberConstraint(low=0, high=297))
    plan = plan_scan(profile(mode=ColourMode.BILEVEL, dpi=200, page_size="A3", duplex=True),
                     opts)
    assert plan.dpi == 300
    assert plan.args[plan.args.index("--mode") + 1] == "Lineart"
    assert plan.args[plan.args.index("--source") + 1] == "ADF Duplex"
    assert plan.duplex and plan.feeder
    assert plan.args[plan.args.index("-x") + 1] == "215.9"  # A3 clamped to the glass
    assert "--batch-count=1" not in plan.args


def test_plan_flatbed_scans_one_page() -> None:
    opts = DeviceOptions(modes=["Color"], sources=["Flatbed"],
                         resolution=NumberConstraint(values=(100, 200)))
    plan = plan_scan(profile(dpi=1200), opts)
    assert plan.dpi == 200 and not plan.feeder and "--batch-count=1" in plan.args


def test_device_list_parsing() -> None:
    text = "epson2:net:192.168.1.20\tEpson\tDS-530\tflatbed scanner\nNo scanners\n"
    [d] = parse_device_list(text)
    assert d.id == "epson2:net:192.168.1.20" and d.label.startswith("Epson DS-530")


def test_busy_device_message() -> None:
    err = classify_failure("scanimage: open of device x failed: Device busy", 1, 0, "x")
    assert isinstance(err, ScannerUnavailable) and "đang bận" in err.message_vi


def test_profile_paper_choice_reaches_the_device(sane_env: Path, tmp_path: Path) -> None:
    """A profile set to the glass scans one page even though the device has a feeder that
    an ``auto`` profile would have used."""
    source = SaneSource("test:0", extra_args=[*PATTERN, *FAST])
    files = list(source.capture(replace(profile(), paper="flatbed"), tmp_path / "raw"))
    assert len(files) == 1
