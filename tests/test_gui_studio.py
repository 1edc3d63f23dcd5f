"""Digitization from the counter: the studio over the intake wizard, on a received dossier,
and a separator-sheet batch — real pipeline, real files, real database."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QEvent, Qt, QThreadPool
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.intake.service import IntakeService
from desktop_app.scanning.studio import IMPORT_SOURCE, StudioBackend, separator_sheets_for
from desktop_app.station import StationInfo, StationService
from local_db.models import ComponentFile, OutboxEntry
from ui import workers
from ui.main_window import MainWindow
from ui.studio_dialog import StudioDialog

from .test_gui_intake import CARD, key
from .test_intake import TEST_CATALOG, complete_draft

pytestmark = pytest.mark.gui


def text_page(path: Path, dpi: int = 200, lines: int = 30, seed: int = 0) -> Path:
    """An A4 page of dark 'text' lines on white, as a scanner would deliver it."""
    w, h = round(8.27 * dpi), round(11.69 * dpi)
    im = Image.new("L", (w, h), 250)
    d = ImageDraw.Draw(im)
    for i in range(lines):
        y = int(h * 0.08) + i * int(h * 0.028)
        x_end = int(w * (0.55 + ((i * 37 + seed * 11) % 35) / 100))
        for x in range(int(w * 0.1), x_end, 22):
            d.rectangle([x, y, x + 14, y + 9], fill=20)
    im.save(path, dpi=(dpi, dpi))
    return path


def blank_page(path: Path, dpi: int = 200) -> Path:
    Image.new("L", (round(8.27 * dpi), round(11.69 * dpi)), 252).save(path, dpi=(dpi, dpi))
    return path


@pytest.fixture
def window(qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo):  # type: ignore[no-untyped-def]
    CatalogService(ctx).import_data(TEST_CATALOG)
    win = MainWindow(ctx, clerk, station)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.runner.wait()


def _studio(window: MainWindow) -> StudioDialog:
    dialog = getattr(window.intake, "studio_dialog", None) or window.studio_dialog
    assert isinstance(dialog, StudioDialog)
    return dialog


def test_digitize_components_inside_the_intake_wizard(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                      ctx: AppContext, tmp_path: Path) -> None:
    intake = window.intake
    window.show_page(window.INTAKE)
    intake.choose_procedure("9.000005")
    intake.on_scanned(CARD)
    intake.go_next()
    assert intake.step == 2
    table = intake.components_step.table
    qtbot.waitUntil(lambda: QApplication.focusWidget() is table)
    key(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    # The studio opens over the wizard after saving the draft (on PostgreSQL a few round
    # trips): a generous bound, so a loaded CI machine does not fail it (seen at 5 s).
    qtbot.waitUntil(lambda: getattr(intake, "studio_dialog", None) is not None,
                    timeout=20_000)
    studio = _studio(window).studio
    assert studio.current_key() == "0"

    files = [text_page(tmp_path / "p1.png", seed=1), blank_page(tmp_path / "blank.png"),
             text_page(tmp_path / "p2.png", seed=2)]
    studio.import_paths(files)
    # The job's end and its result reach the UI thread as separate queued calls: wait
    # for the result itself (seen racing on a loaded machine).
    qtbot.waitUntil(lambda: not studio._busy() and "Bỏ 1 trang trắng" in studio.status.text(),
                    timeout=60_000)
    assert studio.thumbs.count() == 2, studio.status.text()  # the blank page was dropped
    assert "Bỏ 1 trang trắng" in studio.status.text()
    assert "200 dpi" in studio.badges.text()

    studio.thumbs.setFocus()
    studio.thumbs.setCurrentRow(0)
    QTest.keyClick(studio.thumbs, Qt.Key.Key_R)
    assert studio.ws is not None and studio.ws.slot("0").pages[0].rotation == 90
    QTest.keyClick(studio.thumbs, Qt.Key.Key_Delete)
    assert studio.thumbs.count() == 1
    QTest.keyClick(studio.thumbs, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert studio.thumbs.count() == 2

    QTest.keyClick(studio.thumbs, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not studio._busy() and "Đã lưu" in studio.status.text(),
                    timeout=60_000)
    assert intake.components_step.table.item(0, 6).text().startswith("✔ 2 trang")
    assert intake.components_step.table.item(0, 0).checkState() == Qt.CheckState.Checked
    QTest.keyClick(studio.thumbs, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not _studio(window).isVisible())

    intake.components_step.tick_required()
    intake.go_next()
    intake.go_next()
    intake.receive()
    qtbot.waitUntil(lambda: getattr(window, "last_preview", None) is not None, timeout=15_000)
    window.last_preview.accept()
    with ctx.db.read() as s:
        rows = s.scalars(select(ComponentFile)).all()
        assert [(r.pages, r.dpi, r.parts) for r in rows] == [(2, 200, 1)]
        kinds = [o.entity_type for o in s.scalars(select(OutboxEntry).order_by(OutboxEntry.id))]
        assert kinds == ["file", "dossier"]
        pdf = ctx.blobs.read_bytes(rows[0].blob_sha256)
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    assert reader.pages[0].get("/Rotate") == 90
    # 100 % scale: an A4 page at 200 dpi is 595 × 842 pt.
    box = reader.pages[1].mediabox
    assert abs(float(box.width) - 595.4) < 2 and abs(float(box.height) - 841.7) < 2


def test_separator_batch_files_components_into_their_dossiers(
    qtbot, window: MainWindow, ctx: AppContext, clerk: ClerkInfo, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    intake = IntakeService(ctx)
    first = intake.receive(complete_draft(intake), clerk)
    second = intake.receive(complete_draft(intake, "9.000000"), clerk)
    pdf = separator_sheets_for(ctx, [first.dossier_id, second.dossier_id])
    (tmp_path / "sep.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", str(tmp_path / "sep.pdf"),
                    str(tmp_path / "sep")], check=True)
    seps = sorted(tmp_path.glob("sep-*.png"))
    # The two components handed in for the first dossier (not the optional third one it
    # lacks) and the one of the second.
    assert len(seps) == 3
    batch: list[Path] = [text_page(tmp_path / "loose.png", seed=9)]  # before any separator
    n = 0
    for i, sep in enumerate(seps):
        batch.append(sep)
        for _ in range(1 + i % 2):
            n += 1
            batch.append(text_page(tmp_path / f"c{n:02d}.png", seed=n))
    window.show_page(window.BATCH)
    window.batch.import_paths(batch)
    # As above: the report itself, not only the job's end.
    qtbot.waitUntil(lambda: not window.batch._busy()
                    and "sẽ hiện ở đây" not in window.batch.report.toPlainText(),
                    timeout=120_000)
    text = window.batch.report.toPlainText()
    assert "lưu 3 thành phần của 2 hồ sơ" in text, text
    assert window.batch.open_unfiled.isVisible()  # the loose first page was kept
    with ctx.db.read() as s:
        rows = s.scalars(select(ComponentFile).order_by(ComponentFile.id)).all()
        assert [(r.component.dossier_id, r.component.position, r.pages) for r in rows] == [
            (first.dossier_id, 0, 1), (first.dossier_id, 1, 2), (second.dossier_id, 0, 1)]


def test_scanner_discovery_fills_the_source_lists(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                  station: StationInfo, clerk: ClerkInfo,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[object] = []

    def sources(self: StudioBackend, hot_folders: object = None) -> list[tuple[str, str]]:
        asked.append(hot_folders)
        return [("sane|test:0", "SANE: máy thử"), (IMPORT_SOURCE, "Nhập từ tệp (ảnh, PDF)")]

    monkeypatch.setattr(StudioBackend, "sources", sources)
    StationService(ctx).save(replace(station, hot_folders=("/srv/quet-a0",)))
    win = MainWindow(ctx, clerk, station)
    qtbot.addWidget(win)
    batch = win.batch
    qtbot.waitUntil(lambda: batch.source.count() == 1 and batch.scan_btn.isEnabled(),
                    timeout=30_000)
    assert (batch.source.itemText(0), batch.source.itemData(0)) == ("SANE: máy thử",
                                                                     "sane|test:0")
    # The station's hot folders were read on the UI thread and handed to the discovery.
    assert asked and [str(f) for f in asked[0]] == ["/srv/quet-a0"]  # type: ignore[attr-defined]


def test_closing_never_waits_for_scanner_discovery(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                   station: StationInfo, clerk: ClerkInfo,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """SANE can probe the network for seconds: the window closes (and the test's teardown
    goes on) while the discovery still runs, and its late result is dropped."""
    release = threading.Event()
    started = threading.Event()

    def hangs(self: StudioBackend, hot_folders: object = None) -> list[tuple[str, str]]:
        started.set()
        release.wait()
        return [("sane|test:0", "SANE: máy thử")]

    monkeypatch.setattr(StudioBackend, "sources", hangs)
    win = MainWindow(ctx, clerk, station)
    try:
        assert started.wait(30)
        # What closing waits for (the runner's jobs, the thread pool) is done while the
        # discovery still hangs.
        qtbot.waitUntil(lambda: not win.runner.busy(), timeout=30_000)
        assert QThreadPool.globalInstance().waitForDone(30_000)
        assert win.close()
        assert not release.is_set() and workers._DETACHED
        win.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    finally:
        release.set()
    qtbot.waitUntil(lambda: not workers._DETACHED, timeout=30_000)  # delivered, dropped
