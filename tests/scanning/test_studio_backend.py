"""The studio's core end to end: a real SANE driver (the `test` backend) → pipeline →
workspace → PDF under the limit → blob store → linked to a received dossier."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService
from desktop_app.intake.service import IntakeService
from desktop_app.scanning.model import ColourMode, ProcessedPage, ScanProfile
from desktop_app.scanning.studio import QuietControl, StudioBackend
from desktop_app.scanning.workspace import Workspace
from desktop_app.station import StationInfo

from ..test_intake import complete_draft, intake  # noqa: F401  (fixture)


@pytest.fixture
def sane_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("scanimage") is None:
        pytest.skip("scanimage (Debian sane-utils) is not installed")
    conf = tmp_path / "sane.d"
    conf.mkdir()
    (conf / "dll.conf").write_text("test\n")
    monkeypatch.setenv("SANE_CONFIG_DIR", str(conf))


def test_scan_from_sane_and_attach_to_a_received_dossier(
    sane_env: None, ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
) -> None:
    out = intake.receive(complete_draft(intake), clerk)
    backend = StudioBackend(ctx, clerk, dossier_id=out.dossier_id, dossier_code=out.code)
    assert ("sane|test:0" in [k for k, _ in backend.sources()])
    ws = Workspace.create(backend.work_root(), [("0", "Tờ khai"), ("1", "Giấy tờ cư trú")],
                          f"Hồ sơ {out.code}")
    control = QuietControl()
    profile = ScanProfile("t", "Thử", dpi=200, mode=ColourMode.GREY, page_size="A5",
                          drop_blank=False)
    summary = backend.capture("sane|test:0", profile, ws.root, control)
    pages = [p for p in control.items if isinstance(p, ProcessedPage)]
    assert len(pages) == 10 and summary == "Đã nhận 10 trang."  # the test ADF holds 10
    assert {p.dpi for p in pages} == {200}
    for p in pages:
        ws.add("1", p)
    result = backend.finish(ws, "1", QuietControl())
    assert ws.slot("1").pages == [] and result.files[0].pages == 10
    files = DigitizationService(ctx).files_of(out.dossier_id)
    assert [(f.component_position, f.file.pages) for f in files] == [(1, 10)]
    reader = PdfReader(ctx.blobs.open_blob(files[0].file.sha256))
    assert len(reader.pages) == 10
    assert out.code in str(reader.metadata)
    # 100 % scale: page size in points is pixels / real dpi × 72 (the test driver's glass
    # is 200 mm long, so an A5 request gives 148 × 200 mm).
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - pages[0].width_px / 200 * 72) < 1
    assert abs(float(box.height) - pages[0].height_px / 200 * 72) < 1
    assert abs(float(box.width) - 419.5) < 3


def test_a_vanished_scanner_is_a_clear_error(sane_env: None, ctx: AppContext,
                                             clerk: ClerkInfo) -> None:
    backend = StudioBackend(ctx, clerk)
    ws = Workspace.create(backend.work_root(), [("0", "Tờ khai")])
    with pytest.raises(Exception, match=r"máy quét|Máy quét|Nguồn quét"):
        backend.capture("sane|test:9", backend.profile("a4-auto"), ws.root, QuietControl())


def test_a_hot_folder_is_opened_with_this_counters_claim_directory(
        ctx: AppContext, station: StationInfo, tmp_path: Path) -> None:
    from desktop_app.scanning.sources import open_source
    from desktop_app.scanning.sources.hotfolder import CLAIM_SUBDIR, HotFolder

    signed = DigitizationService(ctx).hot_folder_station()
    source = open_source(f"hotfolder|{tmp_path}", **signed)
    assert isinstance(source, HotFolder)
    install = ctx.paths.install_id()
    assert source.station_id == install and len(install) == 36
    assert source.claim_dir == tmp_path / CLAIM_SUBDIR / f"quay-{station.station_digit}-{install}"
