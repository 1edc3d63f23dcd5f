"""The components step offers the owner's document already digitized; Ctrl+R reuses it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop_app.accounts import ClerkInfo
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService
from desktop_app.intake.service import IntakeService
from desktop_app.station import StationInfo
from tests.support.shots import shot
from ui.main_window import MainWindow

from .test_digitization_store import _pdf
from .test_gui_intake import CARD, key, open_main_window, scan_text, type_text
from .test_intake import OWNER, TEST_CATALOG, complete_draft

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo):  # type: ignore[no-untyped-def]
    yield from open_main_window(qtbot, ctx, station, clerk, TEST_CATALOG)


def test_the_copy_on_file_is_shown_and_reused_with_ctrl_r(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, ctx: AppContext, clock: FixedClock, clerk: ClerkInfo,
        tmp_path: Path) -> None:
    intake_service = IntakeService(ctx)
    earlier = complete_draft(intake_service, owner=replace(OWNER, id_number="019190001234"))
    earlier.components[1].files = DigitizationService(ctx).store([_pdf(tmp_path, "gt.pdf", 99)])
    code = intake_service.receive(earlier, clerk).code
    clock.set(clock.now() + timedelta(days=9))

    key(qtbot, Qt.Key.Key_F2)
    intake = window.intake
    qtbot.waitUntil(lambda: QApplication.focusWidget() is intake.proc_step.search)
    type_text(None, "xac nhan thu nghiem")
    qtbot.waitUntil(lambda: intake.proc_step.results.count() == 1)
    key(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is intake.applicant_step.owner.full_name)
    scan_text(CARD)
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert intake.step == 2, intake.error.text()

    step = intake.components_step
    qtbot.waitUntil(lambda: 1 in step.offers, timeout=5000)
    assert step.table.item(1, 6).text() == "Có bản số hóa cũ — Ctrl+R"
    assert step.table.item(0, 6).text() == "Chưa số hóa"  # the form is never offered
    qtbot.waitUntil(lambda: QApplication.focusWidget() is step.table)
    key(qtbot, Qt.Key.Key_Down)
    assert step.offer_note.isVisible()
    assert f"Đã có bản số hóa từ hồ sơ {code} ngày 27/10/2023" in step.offer_note.text()
    shot("intake-copy-on-file", window)

    key(qtbot, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    entry = step.collect()[1]
    assert entry.provided and [f.source_code for f in entry.files] == [code]
    assert entry.files[0].reused_from is not None
    assert step.table.item(1, 6).text().endswith(f"dùng lại từ {code}")
    assert not step.offer_note.isVisible()
    shot("intake-copy-reused", window)
