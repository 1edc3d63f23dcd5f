"""Drive the intake wizard with the keyboard only, as a clerk with a wedge scanner would."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import func, select

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.station import StationInfo
from local_db.models import Dossier, OutboxEntry
from tests.support.dialogs import answer_text
from ui.main_window import MainWindow
from ui.slip_preview import SlipPreviewDialog
from ui.wedge import WedgeScanFilter

from .test_intake import TEST_CATALOG

pytestmark = pytest.mark.gui

CARD = ("019190001234|095123456|Hoàng Thị Mai|12031992|Nữ|"
        "Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên|20042021")


# The window system's clock for typed keys: each key 3 ms after the one before, as a wedge
# scanner types. Without stamps the filter times keys by their arrival, and a test
# machine busy with something else can stretch one gap past SCAN_KEY_GAP_MS and split
# the burst: the keys, not the machine, set the pace here.
_stamps = itertools.count(20_000_000, 3)


def _send(target: QWidget, key_code: Qt.Key, text: str) -> None:
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        event = QKeyEvent(kind, key_code, Qt.KeyboardModifier.NoModifier, 0, 0, 0, text,
                          False, 1)
        event.setTimestamp(next(_stamps))
        QApplication.sendEvent(target, event)


def _focus() -> QWidget:
    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    return target


def type_text(widget: QWidget | None, text: str) -> None:
    """Type character by character like a keyboard-wedge scanner (non-ASCII included)."""
    for ch in text:
        _send(widget or _focus(), Qt.Key.Key_unknown, ch)


def scan_text(text: str) -> None:
    """A wedge scan into whatever has the focus: the burst, then Enter at the same pace."""
    type_text(None, text)
    _send(_focus(), Qt.Key.Key_Return, "\r")


def key(qtbot: object, k: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
        ) -> None:
    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    QTest.keyClick(target, k, mod)


def open_main_window(qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
                     catalog: dict) -> Iterator[MainWindow]:
    """The main window on ``catalog`` with the scanner filter, as the app starts it."""
    CatalogService(ctx).import_data(catalog)
    win = MainWindow(ctx, clerk, station)
    wedge = WedgeScanFilter(win)
    wedge.install(QApplication.instance())  # type: ignore[arg-type]
    wedge.scanned.connect(win.on_scanned)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    QApplication.instance().removeEventFilter(wedge)  # type: ignore[union-attr]
    win.runner.wait()
    win.quit_now()  # no unsaved-work question left behind for the next test


@pytest.fixture
def window(qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo):  # type: ignore[no-untyped-def]
    yield from open_main_window(qtbot, ctx, station, clerk, TEST_CATALOG)


def test_receive_a_dossier_with_the_keyboard_only(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                  ctx: AppContext) -> None:
    key(qtbot, Qt.Key.Key_F2)
    intake = window.intake
    qtbot.waitUntil(lambda: QApplication.focusWidget() is intake.proc_step.search)

    # Search without diacritics, pick with Enter.
    type_text(None, "xac nhan thu nghiem")
    qtbot.waitUntil(lambda: intake.proc_step.results.count() == 1)
    key(qtbot, Qt.Key.Key_Return)
    assert intake.step == 1
    assert intake.procedure is not None and intake.procedure.code == "9.000005"

    # The ID card QR arrives as keystrokes into whatever has focus (here: the name field).
    qtbot.waitUntil(lambda: QApplication.focusWidget() is intake.applicant_step.owner.full_name)
    scan_text(CARD)
    owner = intake.applicant_step.owner
    assert owner.full_name.text() == "Hoàng Thị Mai"
    assert owner.id_number.text() == "019190001234"
    assert owner.birth_date.text() == "12/03/1992"
    assert owner.sex.currentText() == "Nữ"
    assert intake.step == 1, "the scanner's Enter must not press a button"
    qtbot.waitUntil(lambda: QApplication.focusWidget() is owner.phone)
    type_text(None, "0912 345 678")

    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert intake.step == 2
    # Components: the space bar ticks one, Ctrl+A every required one.
    table = intake.components_step.table
    qtbot.waitUntil(lambda: QApplication.focusWidget() is table)
    key(qtbot, Qt.Key.Key_Space)
    assert [c.provided for c in intake.components_step.collect()] == [True, False, False]
    key(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert [c.provided for c in intake.components_step.collect()] == [True, True, False]
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert intake.step == 3, intake.error.text()
    assert "2.000 đồng" in intake.delivery_step.fees.total.text()
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert intake.step == 4
    assert intake.receive_btn.isEnabled()
    assert "Hoàng Thị Mai" in intake.review.toPlainText()

    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(getattr(window, "last_preview", None), SlipPreviewDialog),
                    timeout=10_000)
    preview = window.last_preview
    assert preview.doc.pageCount() >= 2  # Liên 1 and Liên 2
    assert "000.00.12.H12-231027-1001" in preview.windowTitle()
    assert intake.step == 0  # ready for the next citizen

    with ctx.db.read() as s:
        d = s.scalars(select(Dossier)).one()
        assert d.owner.full_name == "Hoàng Thị Mai"
        assert d.owner.phone == "0912345678"
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 1
    preview.accept()
    # Focus returns to the procedure search for the next citizen.
    qtbot.waitUntil(lambda: QApplication.focusWidget() is intake.proc_step.search)

    # The look-up page finds it by name typed without diacritics.
    key(qtbot, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.lookup.search)
    type_text(None, "hoang thi mai")
    qtbot.waitUntil(lambda: window.lookup.model.rowCount() == 1, timeout=5000)
    assert window.lookup.model.rows[0].code == "000.00.12.H12-231027-1001"
    assert window.lookup.model.rows[0].sync_label == "Chưa đồng bộ"

    key(qtbot, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: window.home.received.value.text() == "1", timeout=5000)
    assert "1 bản ghi chưa đồng bộ" in window.home.queue.text()


def test_a_malformed_scan_is_reported_and_changes_nothing(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    key(qtbot, Qt.Key.Key_F2)
    intake = window.intake
    intake.choose_procedure("9.000005")
    owner = intake.applicant_step.owner
    qtbot.waitUntil(lambda: QApplication.focusWidget() is owner.full_name)
    type_text(None, "Nguyễn")
    # A damaged payload: a 31 February birth date.
    scan_text("019190001234|095123456|Hoàng Thị Mai|31021992|Nữ|Thôn Nà Lẹng|20042021")
    assert "không đọc được" in intake.applicant_step.banner.text()
    assert owner.full_name.text() == "Nguyễn"  # what the clerk had typed is kept
    assert owner.id_number.text() == ""


def test_refusal_from_the_wizard_consumes_no_code(qtbot, window: MainWindow, ctx: AppContext  # type: ignore[no-untyped-def]
                                                  ) -> None:
    key(qtbot, Qt.Key.Key_F2)
    intake = window.intake
    intake.choose_procedure("9.000005")
    intake.on_scanned(CARD)
    answer_text(None)  # going back from the reason changes nothing
    intake.refuse_btn.click()
    with ctx.db.read() as s:
        assert s.scalars(select(Dossier)).first() is None
    answer_text("Không thuộc thẩm quyền cấp xã")
    intake.refuse_btn.click()
    qtbot.waitUntil(lambda: isinstance(getattr(window, "last_preview", None), SlipPreviewDialog),
                    timeout=10_000)
    assert "TC-231027-1001" in window.last_preview.windowTitle()
    with ctx.db.read() as s:
        d = s.scalars(select(Dossier)).one()
        assert d.code is None and d.reason == "Không thuộc thẩm quyền cấp xã"
    window.last_preview.accept()
