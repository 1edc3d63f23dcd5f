"""The intake screen when this PC is at fault: its clock is days off the gateway's (a
warning before Receive, which still works), or its database cannot be written (the
message, and everything entered kept)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select

from desktop_app.context import AppContext
from desktop_app.sync.clock_offset import store_offset
from local_db.models import Dossier
from ui.main_window import MainWindow

from .test_database_not_writable import read_only
from .test_gui_intake import CARD, key, scan_text, type_text, window  # noqa: F401

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier


def _to_review(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    intake = window.intake
    key(qtbot, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is intake.proc_step.search)
    type_text(None, "xac nhan thu nghiem")
    qtbot.waitUntil(lambda: intake.proc_step.results.count() == 1)
    key(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is intake.applicant_step.owner.full_name)
    scan_text(CARD)
    for step in (2, 3, 4):
        key(qtbot, Qt.Key.Key_Return, CTRL)
        if step == 3:
            key(qtbot, Qt.Key.Key_A, CTRL)  # tick every required component
        qtbot.waitUntil(lambda s=step: intake.step == s)  # type: ignore[misc]
        if step == 2:
            qtbot.waitUntil(lambda: QApplication.focusWidget() is intake.components_step.table)
            key(qtbot, Qt.Key.Key_A, CTRL)


def test_clock_warning_and_a_read_only_database_at_the_counter(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, ctx: AppContext) -> None:  # noqa: F811
    store_offset(ctx, -(3 * 86400), ctx.clock.now())  # sync found this PC 3 days behind
    _to_review(qtbot, window)
    intake = window.intake
    review = intake.review.toPlainText()
    assert "Chú ý: Đồng hồ máy này chậm 3 ngày so với giờ của hệ thống tỉnh" in review
    assert "gọi kỹ thuật viên" in review
    assert intake.receive_btn.isEnabled()  # a warning, not a block

    with read_only(ctx):
        key(qtbot, Qt.Key.Key_Return, CTRL)  # Receive
        qtbot.waitUntil(lambda: "chế độ chỉ đọc" in intake.error.text(), timeout=10_000)
    assert intake.step == 4 and intake.receive_btn.isEnabled()
    assert "Hoàng Thị Mai" in intake.review.toPlainText()  # nothing entered was lost
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Dossier)) == 0
