"""Help where the clerk is: Ctrl+/ shows every shortcut of the window and what this PC
is; the support bundle and an unexpected failure are one key away."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QPushButton, QWidget

from desktop_app.context import AppContext
from ui.help_dialog import SHORTCUTS, HelpDialog
from ui.main_window import MainWindow

from .test_gui_intake import window  # noqa: F401  (fixture)

pytestmark = pytest.mark.gui


def _read_and_close_next_box(seen: list[str]) -> None:
    """Note the text and buttons of the next message box, then close it (Esc)."""
    def step() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, step)
            return
        seen.append(box.text())
        seen.extend(b.text() for b in box.buttons())
        box.escapeButton().click()
    QTimer.singleShot(0, step)


def test_every_shortcut_of_the_window_is_on_the_sheet(qtbot, window: MainWindow) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    sheet = {keys for keys, _, _ in SHORTCUTS}
    keys = {s.key().toString() for s in window.findChildren(QShortcut)}
    keys.discard("")
    listed = {k for entry in sheet for k in entry.replace("↑", "Up").replace("↓", "Down")
              .replace("Esc", "Escape").split(" / ")}
    missing = {k for k in keys if k not in listed and k.replace("Return", "Enter") not in listed}
    assert not missing, missing


def test_help_shows_this_pc_and_makes_a_support_bundle(
        qtbot, window: MainWindow, ctx: AppContext, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "docs"))
    monkeypatch.setenv("MOTCUA_NO_KEYRING", "1")
    dialog = HelpDialog(ctx, window.runner, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.about_form.rowCount() >= 7)
    shown = " ".join(w.text() for w in dialog.about.findChildren(QLabel))
    assert "UBND XÃ NÀ PHẶC (000.00.12.H12), quầy số 1" in shown
    assert str(ctx.paths.root) in shown and "chờ gửi" in shown
    seen: list[str] = []
    _read_and_close_next_box(seen)
    button = next(b for b in dialog.findChildren(QPushButton)
                  if b.text() == "Tạo gói &hỗ trợ…")
    button.click()
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert "Đã tạo gói hỗ trợ" in seen[0], seen
    assert "&Mở thư mục chứa gói" in seen
    [zip_path] = (tmp_path / "docs" / "MotCuaOffline").glob("motcua-ho-tro-*.zip")
    with zipfile.ZipFile(zip_path) as zf:
        assert "motcua-support/doctor.json" in zf.namelist()
    dialog.accept()


def test_ctrl_slash_opens_help(qtbot, window: MainWindow) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    def close_help() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, HelpDialog):
            QTimer.singleShot(20, close_help)
            return
        box.accept()
    QTimer.singleShot(0, close_help)
    window.activateWindow()
    QTest.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Slash,
                   Qt.KeyboardModifier.ControlModifier)


def test_an_unexpected_failure_offers_the_support_bundle(qtbot, window: MainWindow  # noqa: F811
                                                         ) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_and_close)
            return
        seen.append(box.text())
        seen.extend(b.text() for b in box.buttons())
        next(b for b in box.buttons() if b.text() == "Đó&ng").click()
    QTimer.singleShot(0, read_and_close)
    window.on_crash("RuntimeError (main thread)")
    assert "lỗi không mong muốn" in seen[0] and "RuntimeError (main thread)" in seen[0]
    assert "Tạo gói &hỗ trợ…" in seen


def test_every_button_says_what_it_does(qtbot, window: MainWindow, ctx: AppContext  # noqa: F811
                                        ) -> None:  # type: ignore[no-untyped-def]
    from ui.scan_settings import ScanSettingsDialog
    from ui.sync_panel import SyncPanel

    places: list[QWidget] = []
    for index in range(window.pages.count()):
        window.show_page(index)
        places.append(window.pages.currentWidget())
    for step in range(window.intake.stack.count()):
        window.intake.stack.setCurrentIndex(step)
        places.append(window.intake)
    dialogs = [ScanSettingsDialog(ctx, window.clerk, window, printers=[]),
               SyncPanel(window.sync, window), HelpDialog(ctx, window.runner, window)]
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        places.append(dialog)
    bare = sorted({b.text() for place in places for b in place.findChildren(QPushButton)
                   if b.isVisible() and not b.toolTip()})
    assert bare == []
    window.intake.stack.setCurrentIndex(0)
