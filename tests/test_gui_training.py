"""Training mode in the GUI: from the station's login screen into the training station
(its own login, the orange bar, the marked title), the checklist, and the reset."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.station import StationInfo
from desktop_app.training.seed import ACCOUNTS
from local_db.models import Dossier
from ui.login import LoginDialog
from ui.training_app import BANNER_TEXT, TITLE_PREFIX, TrainingController
from ui.training_dialogs import ChecklistDialog
from ui.wedge import WedgeScanFilter

pytestmark = pytest.mark.gui


@pytest.fixture
def restore_env() -> Iterator[None]:
    """Training mode makes the whole process a training one (isolate_environment)."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def _log_in_when_asked(qtbot, seen: list[str], *, training: bool) -> None:  # type: ignore[no-untyped-def]
    def answer() -> None:
        login = QApplication.activeModalWidget()
        if not isinstance(login, LoginDialog):
            QTimer.singleShot(20, answer)
            return
        seen.append(login.windowTitle())
        if training:
            assert login.training_button is not None
            login.training_button.click()
            return
        login.username.setText(ACCOUNTS[0].username)
        login.password.setText(ACCOUNTS[0].password)
        login._login()

    QTimer.singleShot(0, answer)


def test_training_from_the_login_screen_then_reset(
        qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
        restore_env: None) -> None:
    from ui.app import start

    app = QApplication.instance()
    seen: list[str] = []
    _log_in_when_asked(qtbot, seen, training=True)
    QTimer.singleShot(50, lambda: _log_in_when_asked(qtbot, seen, training=False))
    window = None
    controller = None
    try:
        window = start(app, ctx)  # type: ignore[arg-type]
        assert window is not None
        controller = app.findChild(TrainingController)  # type: ignore[union-attr]
        assert controller is not None
        assert seen[0] == "Đăng nhập — Một Cửa Offline"
        assert seen[1].endswith("— TẬP HUẤN")
        qtbot.waitExposed(window)
        assert window.windowTitle().startswith(TITLE_PREFIX)
        banner = window.training_banner
        assert banner.isVisible() and banner.y() == 0
        assert BANNER_TEXT in [w.text() for w in banner.findChildren(type(window.sync_label))]
        training_root = Path(str(ctx.paths.root) + "-TapHuan")
        assert controller.session.paths.root == training_root.resolve()
        assert window.ctx.training and window.ctx.paths.root != ctx.paths.root

        controller.open_checklist()
        dialog = controller.dialog
        assert isinstance(dialog, ChecklistDialog)
        qtbot.waitExposed(dialog)
        dialog.boxes["intake_scan"].setChecked(True)
        assert controller.session.paths.checklist.read_text(encoding="utf-8")
        dialog.reject()

        # Something to lose, then Ctrl+Shift+R → confirm → a fresh class.
        with window.ctx.db.write() as s:
            s.get(Dossier, 1).note = "dấu vết"  # type: ignore[union-attr]

        def confirm() -> None:
            box = QApplication.activeModalWidget()
            if not isinstance(box, QMessageBox):
                QTimer.singleShot(20, confirm)
                return
            _log_in_when_asked(qtbot, seen, training=False)
            box.button(QMessageBox.StandardButton.Yes).click()

        QTimer.singleShot(0, confirm)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)
        QTest.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_R,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        qtbot.waitUntil(lambda: controller.window is not None
                        and controller.window is not window, timeout=20_000)
        fresh = controller.window
        assert fresh is not None and fresh.windowTitle().startswith(TITLE_PREFIX)
        with fresh.ctx.db.read() as s:
            notes = list(s.scalars(select(Dossier.note)))
        assert "dấu vết" not in notes and len(notes) == 2
        assert not controller.session.paths.checklist.exists()
        window = fresh
    finally:
        if window is not None:
            window._quitting = True
            window.close()
        if controller is not None:
            controller.close()
            controller.setParent(None)
        for wedge in app.findChildren(WedgeScanFilter):  # type: ignore[union-attr]
            wedge.uninstall(app)  # type: ignore[arg-type]
            wedge.setParent(None)
