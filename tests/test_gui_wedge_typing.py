"""A person at the keyboard is never mistaken for a scanner: typing at 80–200 ms per key,
a fast typist, input-method commits, shortcuts and mnemonics, keys held down, and the
zero-delay typing of other GUI tests all reach the widgets exactly as before. Also what
the filter does with keys it holds when the focus moves, a widget goes away or a dialog
opens; a Unikey-style rewrite inside a scan; the station's prefix and suffix."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)
from pytestqt.exceptions import TimeoutError

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.context import AppContext
from desktop_app.station import StationService
from ui import messages
from ui.main_window import MainWindow
from ui.scan_settings import ScanSettingsDialog
from ui.wedge import WedgeScanFilter

from . import test_gui_wedge as pages
from .support.keyboard import ALT, CTRL, Keyboard
from .test_gui_wedge import CARD_A, Bench, assert_owner_is, fill_owner, intake_at

pytestmark = pytest.mark.gui

# The main window with the filter, and the bench that watches it, as the buttons' tests.
bench = pages.bench
window = pages.window

CARD = "002192001234||Hoàng Thị Mai|12031992|Nữ|Thôn Nà Lẹng, xã Nà Phặc|20042021"
PERSON_SPEEDS = (80, 200, 120, 150, 95, 180)


@dataclass
class Form:
    dialog: QDialog
    a: QLineEdit
    b: QLineEdit
    note: QPlainTextEdit
    save: QPushButton
    wedge: WedgeScanFilter
    heard: list[str]
    clicks: list[str]
    keyboard: Keyboard

    def focus(self, qtbot, widget: object) -> None:  # type: ignore[no-untyped-def]
        widget.setFocus()  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=10_000)

    def type(self, text: str, speeds: tuple[int, ...]) -> None:
        for i, ch in enumerate(text):
            self.keyboard.char(ch, speeds[i % len(speeds)])


@pytest.fixture
def form(qtbot) -> Iterator[Form]:  # type: ignore[no-untyped-def]
    dialog = QDialog()
    dialog.setWindowTitle("Biểu mẫu thử")
    a, b, note = QLineEdit(), QLineEdit(), QPlainTextEdit()
    save = QPushButton("&Lưu")
    layout = QVBoxLayout(dialog)
    for w in (a, b, note, save):
        layout.addWidget(w)
    wedge = WedgeScanFilter(dialog)
    heard: list[str] = []
    clicks: list[str] = []
    wedge.scanned.connect(heard.append)
    wedge.receipt_scanned.connect(heard.append)
    save.clicked.connect(lambda: clicks.append("save"))
    wedge.install(QApplication.instance())  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=10_000)
    yield Form(dialog, a, b, note, save, wedge, heard, clicks, Keyboard())
    wedge.uninstall(QApplication.instance())  # type: ignore[arg-type]


# --- people ----------------------------------------------------------------------------------


@pytest.mark.nodb
def test_a_person_typing_at_80_to_200_ms(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    form.focus(qtbot, form.a)
    form.type("Lò Mai 0191", PERSON_SPEEDS)
    form.keyboard.tap(Qt.Key.Key_Tab, "\t")
    assert form.a.text() == "Lò Mai 0191" and QApplication.focusWidget() is form.b
    form.type("0912 34", PERSON_SPEEDS)
    form.type("http:x", PERSON_SPEEDS)
    qtbot.waitUntil(lambda: form.b.text() == "0912 34http:x", timeout=10_000)
    form.focus(qtbot, form.note)
    form.type("Mã 000.00.1", PERSON_SPEEDS)
    form.keyboard.tap(Qt.Key.Key_Return, "\r")
    form.type("ok", PERSON_SPEEDS)
    assert form.note.toPlainText() == "Mã 000.00.1\nok"
    assert form.heard == [] and form.clicks == []


@pytest.mark.nodb
def test_a_fast_typist(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    """Bursts of 30–50 ms between keys: held only while they could still begin a code,
    given back in order the moment they cannot (a space, a letter, Tab)."""
    form.focus(qtbot, form.a)
    form.type("0912345678", (40, 35, 50))
    form.keyboard.tap(Qt.Key.Key_Tab, "\t", ms=40)
    assert form.a.text() == "0912345678" and QApplication.focusWidget() is form.b
    form.type("hoàng thị mai 12 tuổi", (30, 45, 35))
    qtbot.waitUntil(lambda: form.b.text() == "hoàng thị mai 12 tuổi", timeout=10_000)
    form.focus(qtbot, form.a)
    form.a.clear()
    # A dossier code typed fast and sent with Enter is what a receipt's QR is: taken as
    # the receipt (the return counter opens with it, which is what the clerk wanted).
    form.type("000.00.12.H12-231027-1001", (40,))
    form.keyboard.tap(Qt.Key.Key_Return, "\r", ms=40)
    assert form.heard == ["000.00.12.H12-231027-1001"] and form.a.text() == ""


@pytest.mark.nodb
def test_zero_delay_typing_of_other_tests(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    """qtbot.keyClicks types with no delay at all, like a scanner burst: text that cannot
    begin a code arrives at once, the rest when the burst turns out not to be a scan."""
    qtbot.keyClicks(form.a, "mat-khau-")
    assert form.a.text() == "mat-khau-"
    qtbot.keyClicks(form.a, "1")  # a digit may begin a code: it arrives a moment later
    assert form.a.text() == "mat-khau-"
    qtbot.waitUntil(lambda: form.a.text() == "mat-khau-1", timeout=10_000)
    qtbot.keyClicks(form.b, "000.00.12.H12")
    assert form.b.text() == ""  # could still be a receipt's code
    qtbot.waitUntil(lambda: form.b.text() == "000.00.12.H12", timeout=10_000)
    qtbot.keyClicks(form.b, " x")
    assert form.b.text() == "000.00.12.H12 x"
    # A mouse click right after (the tests' "Next" button): what was held goes first.
    form.b.clear()
    qtbot.keyClicks(form.b, "12")
    qtbot.mouseClick(form.save, Qt.MouseButton.LeftButton)
    assert form.b.text() == "12" and form.clicks == ["save"]


@pytest.mark.nodb
def test_input_method_commits(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    form.focus(qtbot, form.a)
    form.keyboard.commit("Nguyễn")
    assert form.a.text() == "Nguyễn"
    # A digit held back goes before the next commit: the order typed is kept.
    form.keyboard.type("1", ms=5)
    assert form.wedge.holding()
    form.keyboard.commit("ễ")
    assert form.a.text() == "Nguyễn1ễ"
    preedit = QInputMethodEvent("ng", [])
    QApplication.sendEvent(form.a, preedit)
    form.keyboard.commit("ông")
    assert form.a.text() == "Nguyễn1ễông"


@pytest.mark.nodb
def test_keys_held_down(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    form.focus(qtbot, form.a)
    form.keyboard.hold_down("0", repeats=9)
    assert form.a.text() == "0" * 10
    form.keyboard.hold_down("a", repeats=4)
    assert form.a.text() == "0" * 10 + "aaaaa"
    form.keyboard.send(QEvent.Type.KeyPress, Qt.Key.Key_Backspace, "\b")
    form.keyboard.wait(500)
    for _ in range(6):
        form.keyboard.send(QEvent.Type.KeyPress, Qt.Key.Key_Backspace, "\b", autorepeat=True)
        form.keyboard.wait(33)
    form.keyboard.send(QEvent.Type.KeyRelease, Qt.Key.Key_Backspace, "\b")
    assert form.a.text() == "0" * 8


# --- keys being held ------------------------------------------------------------------------------


@pytest.mark.nodb
def test_focus_moving_during_a_burst(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    """Keys go to the widget that had the focus when they were pressed."""
    form.focus(qtbot, form.a)
    form.keyboard.type("12", ms=5)
    assert form.wedge.holding() and form.a.text() == ""
    form.b.setFocus()  # e.g. a wizard step moving the focus on a timer
    form.keyboard.type("3", ms=5)
    qtbot.waitUntil(lambda: not form.wedge.holding(), timeout=10_000)
    assert (form.a.text(), form.b.text()) == ("12", "3")


@pytest.mark.nodb
def test_a_widget_deleted_while_its_keys_are_held(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    extra = QLineEdit(form.dialog)
    form.dialog.layout().addWidget(extra)
    form.focus(qtbot, extra)
    form.keyboard.type("7", ms=5)
    form.keyboard.type("8", ms=5)
    assert form.wedge.holding()
    extra.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    form.focus(qtbot, form.a)
    form.keyboard.wait(150)  # the release finds the widget gone: nothing, and no crash
    assert not form.wedge.holding()
    form.keyboard.type("9", ms=120)
    qtbot.waitUntil(lambda: form.a.text() == "9", timeout=10_000)


@pytest.mark.nodb
def test_a_modal_dialog_opening_while_keys_are_held(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    form.focus(qtbot, form.a)
    form.keyboard.type("5", ms=5)
    box = QDialog(form.dialog)
    field = QLineEdit(box)
    box.setModal(True)
    box.show()
    box.activateWindow()
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field, timeout=10_000)
    form.keyboard.wait(150)
    assert (form.a.text(), field.text()) == ("5", "")  # typed before the dialog opened
    form.keyboard.type("x", ms=120)
    assert field.text() == "x"
    box.close()


@pytest.mark.nodb
def test_a_scan_right_after_a_person(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    form.focus(qtbot, form.a)
    form.type("Số 1", (150,))
    form.keyboard.scan(CARD, 3)
    assert form.a.text() == "Số 1" and form.heard == [CARD]
    # Right after the scan, the clerk's Enter is theirs again.
    form.focus(qtbot, form.save)
    form.keyboard.tap(Qt.Key.Key_Return, "\r")
    assert form.clicks == ["save"]


@pytest.mark.nodb
def test_unikey_rewriting_letters_inside_a_scan(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    """A Vietnamese keyboard hook left on rewrites "ee" as Backspace + "ê": inside an ID
    card payload that is part of the scan, and the parser gets what it spelt."""
    form.focus(qtbot, form.save)
    for ch in "019190001234||Nguye":
        form.keyboard.char(ch, 3)
    form.keyboard.tap(Qt.Key.Key_Backspace, "\b", ms=1)
    for ch in "ê|01011990|Nam|Sơn La":
        form.keyboard.char(ch, 3)
    form.keyboard.tap(Qt.Key.Key_Return, "\r", ms=3)
    assert form.heard == ["019190001234||Nguyê|01011990|Nam|Sơn La"]
    assert form.clicks == [] and not form.wedge.holding()
    # Outside a payload Backspace is a person's key: held digits go first.
    form.focus(qtbot, form.a)
    form.keyboard.type("12", ms=5)
    form.keyboard.tap(Qt.Key.Key_Backspace, "\b", ms=5)
    assert form.a.text() == "1"


@pytest.mark.nodb
def test_a_character_lost_on_the_way_inside_a_scan(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    """On X11 a scanner's (or xdotool's) Vietnamese letter goes through a spare keycode
    remapped for it; when Qt reads the key after the mapping was restored it gets a key
    with no name and no text. Seen on a real X server: the scan was then taken for
    typing and landed in the name field. Now it stays a scan, focus in a field or on a
    button, and only the lost letter is missing."""
    for target in (form.a, form.save):
        form.heard.clear()
        form.focus(qtbot, target)
        for ch in "019190001234|095123456|Ho":
            form.keyboard.char(ch, 3)
        form.keyboard.tap(Qt.Key(0), "", ms=3)  # "à", lost
        for ch in "ng Thị Mai|12031992|Nữ|Bản Nà Lẹng":
            form.keyboard.char(ch, 3)
        form.keyboard.tap(Qt.Key.Key_Return, "\r", ms=3)
        assert form.heard == ["019190001234|095123456|Hong Thị Mai|12031992|Nữ|Bản Nà Lẹng"]
        assert form.a.text() == "" and form.clicks == [] and not form.wedge.holding()


@pytest.mark.nodb
def test_scan_with_tab_and_with_continuous_scans(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    form.focus(qtbot, form.a)
    form.keyboard.scan(CARD, 2, end="\t")
    assert QApplication.focusWidget() is form.a and form.heard == [CARD]
    # Two cards one after the other (continuous mode), each with Enter.
    form.keyboard.scan(CARD, 2, settle=0)
    form.keyboard.scan("000.00.12.H12-231027-1001", 2)
    assert form.heard == [CARD, CARD, "000.00.12.H12-231027-1001"]
    assert form.a.text() == ""


# --- the main window: shortcuts, prefix and suffix ------------------------------------------------


def test_shortcuts_and_mnemonics_still_work(qtbot, window: MainWindow, bench: Bench) -> None:  # type: ignore[no-untyped-def]
    keyboard = bench.keyboard
    intake_at(window, 1, CARD_A)
    phone = window.intake.applicant_step.owner.phone
    phone.clear()
    window.activateWindow()
    phone.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is phone, timeout=10_000)
    keyboard.type("0912345678", ms=40)  # fast: held as a possible code...
    keyboard.tap(Qt.Key.Key_Return, "\r", CTRL)  # ...and given back before Ctrl+Enter
    assert window.intake.step == 2
    assert window.intake.draft().owner.phone == "0912345678"
    keyboard.tap(Qt.Key.Key_Q, "q", ALT)  # "&Quay lại"
    assert window.intake.step == 1
    keyboard.tap(Qt.Key.Key_F3)
    assert window.pages.currentIndex() == MainWindow.LOOKUP
    try:
        qtbot.waitUntil(lambda: QApplication.focusWidget() is window.lookup.search,
                        timeout=10_000)
    except TimeoutError:  # say where the focus went, for the next person to read this
        focus, active = QApplication.focusWidget(), QApplication.activeWindow()
        raise AssertionError(
            f"focus on {focus!r} ({focus.objectName() if focus else ''}) in "
            f"{active!r}; page {window.pages.currentIndex()}; modal "
            f"{QApplication.activeModalWidget()!r}; popup "
            f"{QApplication.activePopupWidget()!r}") from None
    keyboard.type("12", ms=5)
    keyboard.tap(Qt.Key.Key_F1)  # F1 with "12" held: the search gets it first
    assert window.pages.currentIndex() == MainWindow.HOME
    assert window.lookup.search.text() == "12"
    keyboard.tap(Qt.Key.Key_F2)
    assert window.pages.currentIndex() == MainWindow.INTAKE


def test_a_person_types_a_code_at_the_return_counter(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                     bench: Bench) -> None:
    window.show_page(MainWindow.RETURN)
    scan = window.returns.scan
    qtbot.waitUntil(lambda: QApplication.focusWidget() is scan, timeout=10_000)
    bench.keyboard.type("000.00.12.H12-231027-1001", ms=150)
    assert scan.text() == "000.00.12.H12-231027-1001"
    bench.keyboard.tap(Qt.Key.Key_Return, "\r")
    qtbot.waitUntil(lambda: "Không tìm thấy" in window.returns.status.text()
                    or window.returns.status.isVisible(), timeout=5000)


def test_prefix_and_suffix(qtbot, window: MainWindow, bench: Bench) -> None:  # type: ignore[no-untyped-def]
    window.station = replace(window.station, scanner_prefix="\x02", scanner_suffix="\x03")
    intake_at(window, 4, None)
    fill_owner(window, CARD_A)
    window.intake._fill_review(window.intake.draft())
    receive = window.intake.receive_btn
    # The suffix ends the scan; the scanner's Enter after it is swallowed.
    bench.scan_on(qtbot, receive, f"\x02{CARD}\x03", may_open=lambda: [
        window.intake.card_question])
    question = window.intake.card_question
    assert question is not None and question.card.full_name == "Hoàng Thị Mai"
    question.cancel_btn.click()
    # With a prefix, any code is a scan: consumed, and reported in the status bar.
    bench.scan_on(qtbot, receive, "\x02LÔ-HÀNG 12/34\x03", ms=5)
    assert "không phải mã QR trên thẻ căn cước" in window.statusBar().currentMessage()
    assert window.intake.step == 4
    # The suffix alone (no Enter configured) ends it too.
    window.intake.applicant_step.owner.clear()
    bench.scan_on(qtbot, receive, f"{CARD_A}\x03", lambda: [
        *window.intake.applicant_step.owner.findChildren(QLineEdit),
        window.intake.applicant_step.owner.sex], ms=3)
    assert_owner_is(window, CARD_A)
    assert window.intake.step == 4


def test_settings_dialog_sets_the_prefix_for_the_next_scan(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                           bench: Bench, ctx: AppContext,
                                                           clerk: ClerkInfo,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(messages, "info", lambda _p, m, *a, **k: shown.append(m))
    viewer = ScanSettingsDialog(ctx, clerk, window)
    qtbot.addWidget(viewer)
    assert not viewer.scanner_prefix.isEnabled() and not viewer.save_scanner_btn.isEnabled()

    window.clerk = AccountService(ctx).create_clerk("kythuat", "Lò Văn Kỹ", "mat-khau-2",
                                                    Role.TECHNICIAN)

    def technician_sets(dialog: ScanSettingsDialog) -> int:
        dialog.scanner_prefix.setText("\\x02]Q")
        dialog.scanner_suffix.setText("~")
        dialog.save_scanner()
        qtbot.waitUntil(lambda: dialog.scanner_affixes is not None, timeout=5000)
        return 0

    monkeypatch.setattr(ScanSettingsDialog, "exec", technician_sets)
    window.open_scan_settings()
    assert shown == ["Đã lưu: máy đọc mã gửi tiền tố \\x02]Q, hậu tố ~."]
    saved = StationService(ctx).require()
    assert (saved.scanner_prefix, saved.scanner_suffix) == ("\x02]Q", "~")
    assert window.scanner_affixes() == ("\x02]Q", "~")
    window.show_page(MainWindow.HOME)
    bench.scan_on(qtbot, window.home.new_btn, "\x02]Qmã khác~", ms=3)
    assert window.pages.currentIndex() == MainWindow.HOME
    assert "không phải mã QR" in window.statusBar().currentMessage()


@pytest.mark.nodb
def test_a_filter_made_before_the_window_learns_the_affixes_later(qtbot, form: Form) -> None:  # type: ignore[no-untyped-def]
    class Window:
        def scanner_affixes(self) -> tuple[str, str]:
            return ("\x02", "")

    form.focus(qtbot, form.a)
    form.keyboard.scan("\x02mã lạ", 3)
    assert form.heard == [] and form.a.text() == "mã lạ"  # typed: no prefix known yet
    form.a.clear()
    form.wedge.set_affix_source(Window())
    form.keyboard.scan("\x02mã lạ", 3)
    assert form.heard == ["mã lạ"] and form.a.text() == ""

