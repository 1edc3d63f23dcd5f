"""A QR scanned with the keyboard focus on any button a clerk can reach never presses it,
never types a character anywhere, never receives a dossier — and does what a scan should:
fills the owner, asks what a second card is for, opens the return counter.

Every page of the main window and every dialog is visited; its buttons are found
programmatically (visible, enabled, focusable QAbstractButtons), so a new button is
covered without touching this file. Scans are typed key by key at scanner speeds
(2–10 ms per key, and a slow 30 ms scanner) with real waits between keys."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrintDialog
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QWidget,
    QWizard,
)
from sqlalchemy import func, select

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.domain.citizen_qr import parse_citizen_qr
from desktop_app.intake.returns import ReturnService
from desktop_app.intake.service import IntakeService
from desktop_app.scanning.studio import StudioBackend
from desktop_app.station import StationInfo
from local_db.models import Dossier, OutboxEntry
from ui import messages
from ui.dossier_list import DossierDetailDialog
from ui.first_run import (
    P_ACCOUNTS,
    P_CONNECTION,
    P_DONE,
    P_INTRO,
    P_PRINTING,
    P_STATION,
    FirstRunWizard,
)
from ui.login import LoginDialog
from ui.main_window import MainWindow
from ui.password_dialog import ChangePasswordDialog
from ui.return_page import ApologyDialog
from ui.scan_settings import ScanSettingsDialog
from ui.slip_preview import SlipPreviewDialog
from ui.sync_panel import SyncPanel
from ui.wedge import WedgeScanFilter

from .support.keyboard import Keyboard
from .test_intake import TEST_CATALOG, complete_draft

pytestmark = pytest.mark.gui

CARD_A = "019190001234||Lò Thị Mai|12031992|Nữ|Bản Nà Lẹng"
CARD_B = "001089005678|095123456|Hoàng Văn Phủ|05061989|Nam|Bản Chang|01022022"
# The scanner speeds used in turn (ms per key): mostly a typical fast handheld scanner,
# now and then a slower one.
SPEEDS = (2, 3, 2, 5, 2, 10)
SLOW = 30


# --- the test bench ---------------------------------------------------------------------------



def _address(obj: object) -> int:
    return int(shiboken6.getCppPointer(obj)[0])  # type: ignore[arg-type]


def field_values() -> list[tuple[QWidget, str]]:
    """What a stray key could change anywhere: text fields (password fields included),
    combo boxes, check and radio buttons, the current cell of lists and tables."""
    out: list[tuple[QWidget, str]] = []
    for top in QApplication.topLevelWidgets():
        if not top.isVisible():
            continue
        for edit in top.findChildren(QLineEdit):
            out.append((edit, edit.text()))
        for plain in top.findChildren(QPlainTextEdit):
            out.append((plain, plain.toPlainText()))
        for rich in top.findChildren(QTextEdit):
            if not rich.isReadOnly():
                out.append((rich, rich.toPlainText()))
        for combo in top.findChildren(QComboBox):
            out.append((combo, combo.currentText()))
        for button in top.findChildren(QAbstractButton):
            if button.isCheckable():
                out.append((button, str(button.isChecked())))
        for view in top.findChildren(QAbstractItemView):
            if isinstance(view.parentWidget(), QWidget) and isinstance(
                    view.window().parentWidget(), QComboBox):
                continue  # a combo box's popup list: the combo box is checked
            index = view.currentIndex()
            out.append((view, f"{index.row()},{index.column()}"))
    return out


def visible_windows() -> set[int]:
    return {_address(w) for w in QApplication.topLevelWidgets() if w.isVisible()}


@dataclass
class Bench:
    """Records every press and click of every button, and the dialogs that would block
    (file choosers, message boxes, printing): a scan must cause none of them."""

    ctx: AppContext | None
    clicks: list[str] = field(default_factory=list)
    blocked_dialogs: list[str] = field(default_factory=list)
    _watched: set[int] = field(default_factory=set)
    keyboard: Keyboard = field(default_factory=Keyboard)
    speeds: Iterator[int] = field(default_factory=lambda: itertools.cycle(SPEEDS))
    wedge: WedgeScanFilter | None = None

    def watch_buttons(self) -> None:
        for top in QApplication.topLevelWidgets():
            for button in top.findChildren(QAbstractButton):
                address = _address(button)
                if address in self._watched:
                    continue
                self._watched.add(address)
                name = button.text() or button.objectName() or type(button).__name__
                button.pressed.connect(lambda n=name: self.clicks.append(f"pressed {n}"))
                button.clicked.connect(lambda _=False, n=name: self.clicks.append(f"clicked {n}"))

    def counts(self) -> tuple[int, int]:
        if self.ctx is None:
            return (0, 0)
        with self.ctx.db.read() as s:
            return (s.scalar(select(func.count()).select_from(Dossier)) or 0,
                    s.scalar(select(func.count()).select_from(OutboxEntry)) or 0)

    def scan_on(self, qtbot, button: QWidget, payload: str,  # type: ignore[no-untyped-def]
                may_change: Callable[[], list[QWidget]] = list,
                may_open: Callable[[], list[QWidget]] = list, ms: int | None = None) -> None:
        """Focus ``button``, scan ``payload``, and check that nothing was pressed, typed,
        opened or received (``may_change``/``may_open``: what the scan itself fills or
        opens, asked after the scan)."""
        text = button.text() if isinstance(button, QAbstractButton) else ""
        label = f"{type(button).__name__} “{text}”"  # the button may be gone afterwards
        window = button.window()
        window.activateWindow()
        button.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is button, timeout=10_000)
        self.watch_buttons()
        before_fields = field_values()
        before_windows = visible_windows()
        before_counts = self.counts()
        self.clicks.clear()
        # Nothing is left to check later: a whole scan leaves no key held back.
        self.keyboard.scan(payload, ms or next(self.speeds), settle=0)
        assert self.wedge is not None and not self.wedge.holding()
        assert self.clicks == [], f"{label}: the scan pressed {self.clicks}"
        assert self.blocked_dialogs == [], f"{label}: the scan opened {self.blocked_dialogs}"
        allowed = {_address(w) for w in may_change()}
        changed = [(type(w).__name__, w.objectName(), old, _value(w))
                   for w, old in before_fields
                   if shiboken6.isValid(w) and _address(w) not in allowed and _value(w) != old]
        assert changed == [], f"{label}: the scan changed {changed}"
        opened = visible_windows() - before_windows - {_address(w) for w in may_open()}
        assert not opened, f"{label}: the scan opened a window"
        assert self.counts() == before_counts, f"{label}: the scan received something"


def _value(w: QWidget) -> str:
    if isinstance(w, QLineEdit):
        return w.text()
    if isinstance(w, QPlainTextEdit | QTextEdit):
        return w.toPlainText()
    if isinstance(w, QComboBox):
        return w.currentText()
    if isinstance(w, QAbstractButton):
        return str(w.isChecked())
    assert isinstance(w, QAbstractItemView)
    index = w.currentIndex()
    return f"{index.row()},{index.column()}"


def buttons_of(root: QWidget) -> list[QAbstractButton]:
    """What a clerk can put the keyboard focus on and press."""
    return [b for b in root.findChildren(QAbstractButton)
            if b.isVisible() and b.isEnabled() and b.focusPolicy() != Qt.FocusPolicy.NoFocus]


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch, ctx: AppContext) -> Bench:
    bench = Bench(ctx)

    def blocked(name: str, result: object) -> Callable[..., object]:
        def record(*_a: object, **_k: object) -> object:
            bench.blocked_dialogs.append(name)
            return result
        return record

    for cls, name, result in (
            (QFileDialog, "getOpenFileName", ("", "")), (QFileDialog, "getOpenFileNames", ([], "")),
            (QFileDialog, "getSaveFileName", ("", "")), (QFileDialog, "getExistingDirectory", ""),
            (QInputDialog, "getText", ("", False)), (QInputDialog, "getMultiLineText", ("", False)),
    ):
        monkeypatch.setattr(cls, name, staticmethod(blocked(name, result)))
    for name, result in (("error", None), ("info", None), ("confirm", False)):
        monkeypatch.setattr(messages, name, blocked(f"messages.{name}", result))
    monkeypatch.setattr(QPrintDialog, "exec", blocked("QPrintDialog", 0))
    # Dialogs run with exec() (dossier detail, apology): recorded, never shown.
    monkeypatch.setattr(QDialog, "exec", blocked("QDialog.exec", 0))
    return bench


@pytest.fixture
def window(qtbot, ctx: AppContext, station: StationInfo,  # type: ignore[no-untyped-def]
           clerk: ClerkInfo, bench: Bench, monkeypatch: pytest.MonkeyPatch):
    # Probing SANE for scanners takes seconds per window; the batch page's buttons are
    # what is tested here, with the "no scanner" choice.
    monkeypatch.setattr(StudioBackend, "sources", lambda self, folders=None: [])
    CatalogService(ctx).import_data(TEST_CATALOG)
    win = MainWindow(ctx, clerk, station)
    wedge = WedgeScanFilter(win)
    wedge.install(QApplication.instance())  # type: ignore[arg-type]
    win.take_scans(wedge)
    bench.wedge = wedge
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    # The batch page looks for scanners in the background: let it finish first.
    qtbot.waitUntil(lambda: win.batch.source.count() > 0, timeout=20_000)
    yield win
    wedge.uninstall(QApplication.instance())  # type: ignore[arg-type]
    win.sync.stop()
    win.runner.wait()
    # Closed here, not by qtbot: a draft left open would put the unsaved-work question,
    # and that window (its timers, its question) would outlive the test into the next.
    win.quit_now()


# --- what a scan must do ------------------------------------------------------------------------


def owner_fields(win: MainWindow) -> list[QWidget]:
    """What an ID card scanned outside the return counter fills (and the navigation list,
    which follows the scan to the intake page)."""
    owner = win.intake.applicant_step.owner
    return [owner.full_name, owner.id_number, owner.birth_date, owner.sex, owner.address,
            owner.phone, owner.email, win.nav]


def receipt_fields(win: MainWindow) -> list[QWidget]:
    """What a receipt scanned outside the look-up page fills: the return counter."""
    page = win.returns
    return [*page.findChildren(QLineEdit), *page.findChildren(QPlainTextEdit),
            *page.findChildren(QAbstractButton), win.nav]


def assert_owner_is(win: MainWindow, payload: str) -> None:
    card = parse_citizen_qr(payload)
    owner = win.intake.applicant_step.owner
    assert win.pages.currentWidget() is win.intake
    assert (owner.full_name.text(), owner.id_number.text(), owner.address.text()) == (
        card.full_name, card.id_number, card.address)
    assert win.intake.card_question is None


def take_question(win: MainWindow, payload: str) -> None:
    """The second card's question is open; it is answered "cancel" and changes nothing."""
    question = win.intake.card_question
    assert question is not None and question.isVisible()
    assert question.card == parse_citizen_qr(payload)
    question.cancel_btn.click()
    assert win.intake.card_question is None


def reset_intake(win: MainWindow) -> None:
    win.intake.reset()
    QApplication.processEvents()


def fill_owner(win: MainWindow, payload: str) -> None:
    win.intake.applicant_step.owner.fill_from_card(parse_citizen_qr(payload))
    win.intake.applicant_step.owner.phone.setText("0912345678")


def intake_at(win: MainWindow, step: int, owner: str | None) -> None:
    """The wizard at ``step`` for the test procedure, with ``owner`` filled (or none)."""
    intake = win.intake
    win.show_page(MainWindow.INTAKE)
    if intake.procedure is None:
        intake.choose_procedure("9.000005")
    intake.applicant_step.clear()
    intake.components_step.tick_required()
    if owner is not None:
        fill_owner(win, owner)
    intake._show_step(step)
    if step == 4:
        intake._fill_review(intake.draft())
    QApplication.processEvents()


# --- the pages -----------------------------------------------------------------------------------


def test_home_page_buttons(qtbot, window: MainWindow, bench: Bench) -> None:  # type: ignore[no-untyped-def]
    window.show_page(MainWindow.HOME)
    buttons = buttons_of(window)
    texts = " · ".join(b.text() for b in buttons)
    assert "Tiếp nhận hồ sơ mới" in texts and "Đổi mật khẩu" in texts
    for i, button in enumerate(buttons):
        reset_intake(window)
        window.show_page(MainWindow.HOME)
        bench.scan_on(qtbot, button, CARD_A, lambda: owner_fields(window),
                      ms=SLOW if i == 0 else None)
        assert_owner_is(window, CARD_A)
        # The procedure search was left as it was: empty.
        assert window.intake.proc_step.search.text() == ""
    assert len(buttons) >= 5


def test_every_intake_step_buttons(qtbot, window: MainWindow, bench: Bench) -> None:  # type: ignore[no-untyped-def]
    """Steps 1–5. With no owner yet the card fills it; with another owner filled (always
    so on the review) the clerk is asked — and the review's "Tiếp nhận và in phiếu" with
    the focus receives nothing."""
    covered = 0
    for step in range(5):
        intake_at(window, step, None if step < 4 else CARD_A)
        buttons = buttons_of(window)
        if step == 4:
            assert window.intake.receive_btn in buttons
        for i, button in enumerate(buttons):
            owner = CARD_A if step == 4 or i % 2 else None
            intake_at(window, step, owner)
            slow = step == 4 and button is window.intake.receive_btn
            bench.scan_on(qtbot, button, CARD_B,
                          (lambda: owner_fields(window)) if owner is None else list,
                          (lambda: [window.intake.card_question]) if owner else list,
                          ms=SLOW if slow else None)
            assert window.intake.step == step
            if owner is None:
                assert_owner_is(window, CARD_B)
            else:
                take_question(window, CARD_B)
                assert_owner_is(window, CARD_A)
            covered += 1
    assert covered >= 25


def test_lookup_batch_late_and_dashboard_buttons(qtbot, window: MainWindow, bench: Bench,  # type: ignore[no-untyped-def]
                                                 ctx: AppContext, clerk: ClerkInfo) -> None:
    intake = IntakeService(ctx)
    code = intake.receive(complete_draft(intake), clerk).code
    assert code
    covered = 0
    for page in (MainWindow.LOOKUP, MainWindow.BATCH, MainWindow.LATE, MainWindow.DASHBOARD):
        window.show_page(page)
        qtbot.wait(50)
        buttons = buttons_of(window)
        for button in buttons:
            reset_intake(window)
            window.show_page(page)
            bench.scan_on(qtbot, button, CARD_A, lambda: owner_fields(window))
            assert_owner_is(window, CARD_A)
            covered += 1
        # A receipt scanned here: the return counter (on the look-up page, the search).
        reset_intake(window)
        window.show_page(page)
        bench.scan_on(qtbot, buttons[0], code,
                      lambda: [window.lookup.search, *receipt_fields(window)])
        search = window.lookup.search
        if page == MainWindow.LOOKUP:
            assert window.pages.currentIndex() == MainWindow.LOOKUP and search.text() == code
        else:
            qtbot.waitUntil(lambda: window.returns.current is not None
                            and window.returns.current.code == code, timeout=5000)
            assert window.pages.currentIndex() == MainWindow.RETURN
    assert covered >= 10


def test_return_page_buttons(qtbot, window: MainWindow, bench: Bench, ctx: AppContext,  # type: ignore[no-untyped-def]
                             clerk: ClerkInfo) -> None:
    """The return counter with a dossier open in each state that enables other buttons:
    result ready, supplement requested, being processed, processing stopped."""
    intake = IntakeService(ctx)
    outcome = intake.receive(complete_draft(intake), clerk)
    page = window.returns

    def open_it(status: int) -> None:
        with ctx.db.write() as s:
            s.get(Dossier, outcome.dossier_id).status = status  # type: ignore[union-attr]
        window.show_page(MainWindow.RETURN)
        page.current = None
        page.open_code(outcome.code or "")
        qtbot.waitUntil(lambda: page.current is not None and int(page.current.status) == status,
                        timeout=5000)
        page.is_owner.setChecked(True)

    receiver = [page.receiver_name, page.receiver_id, page.is_owner, page.is_proxy,
                page.authorisation]
    seen: set[str] = set()
    for status in (9, 5, 2, 8):
        open_it(status)
        buttons = buttons_of(window)
        for button in buttons:
            open_it(status)
            # Another person's card: the receiver, as someone with an authorisation.
            bench.scan_on(qtbot, button, CARD_B, lambda: receiver)
            assert window.pages.currentWidget() is page
            assert page.is_proxy.isChecked() and page.receiver_name.text() == "Hoàng Văn Phủ"
            seen.add(button.text())
    for b in (page.return_btn, page.supplement_btn, page.supplement_done_btn,
              page.withdraw_btn, page.stop_btn):
        assert b.text() in seen
    open_it(9)
    bench.scan_on(qtbot, page.return_btn, outcome.code or "", lambda: [page.scan, *receiver],
                  ms=SLOW)
    qtbot.waitUntil(lambda: page.current is not None, timeout=5000)
    assert page.current is not None and page.current.code == outcome.code
    assert len(seen) >= 10


# --- the dialogs -------------------------------------------------------------------------------


def _open(qtbot, dialog: QDialog) -> QDialog:  # type: ignore[no-untyped-def]
    """As exec() shows it (application modal), without blocking the test."""
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=10_000)
    return dialog


def scan_every_button(qtbot, bench: Bench, window: MainWindow, dialog: QDialog) -> int:  # type: ignore[no-untyped-def]
    """Each button of the dialog (each tab's, for a tabbed one) under a scan: the dialog
    stays as it was, and the card reaches the intake wizard behind it."""
    tabs = dialog.findChildren(QTabWidget)
    pages = range(tabs[0].count()) if tabs else range(1)
    covered = 0
    for tab in pages:
        if tabs:
            tabs[0].setCurrentIndex(tab)
            QApplication.processEvents()
        for button in buttons_of(dialog):
            reset_intake(window)
            bench.scan_on(qtbot, button, CARD_A, lambda: owner_fields(window))
            assert dialog.isVisible() and dialog.result() == 0
            assert_owner_is(window, CARD_A)
            covered += 1
    return covered


def test_settings_sync_password_and_preview_dialogs(qtbot, window: MainWindow, bench: Bench,  # type: ignore[no-untyped-def]
                                                     ctx: AppContext, clerk: ClerkInfo) -> None:
    technician = AccountService(ctx).create_clerk("kythuat", "Lò Văn Kỹ", "mat-khau-2",
                                                  Role.TECHNICIAN)
    covered = 0
    settings = _open(qtbot, ScanSettingsDialog(ctx, technician, window, printers=["Canon"]))
    covered += scan_every_button(qtbot, bench, window, settings)
    settings.close()

    panel = _open(qtbot, SyncPanel(window.sync, window))
    covered += scan_every_button(qtbot, bench, window, panel)
    panel.close()

    password = _open(qtbot, ChangePasswordDialog(ctx, clerk, window))
    covered += scan_every_button(qtbot, bench, window, password)
    # The field of the report: a scan into "Mật khẩu hiện tại" types nothing into it.
    for edit in (password.current, password.new):
        reset_intake(window)
        bench.scan_on(qtbot, edit, CARD_A, lambda: owner_fields(window), ms=SLOW)
        assert edit.text() == ""
        assert_owner_is(window, CARD_A)
    password.close()

    intake = IntakeService(ctx)
    outcome = intake.receive(complete_draft(intake), clerk)
    window.show_stored_slip(outcome.dossier_id)
    qtbot.waitUntil(lambda: isinstance(getattr(window, "last_preview", None),
                                       SlipPreviewDialog), timeout=10_000)
    preview = window.last_preview
    qtbot.waitUntil(lambda: QApplication.activeWindow() is preview, timeout=10_000)
    covered += scan_every_button(qtbot, bench, window, preview)
    preview.close()
    assert covered >= 15


def test_detail_apology_and_studio_dialogs(qtbot, window: MainWindow, bench: Bench,  # type: ignore[no-untyped-def]
                                           ctx: AppContext, clerk: ClerkInfo) -> None:
    intake = IntakeService(ctx)
    outcome = intake.receive(complete_draft(intake), clerk)
    covered = 0
    detail = _open(qtbot, DossierDetailDialog(window.queries.detail(outcome.dossier_id),
                                              window))
    covered += scan_every_button(qtbot, bench, window, detail)
    detail.close()
    late = ReturnService(ctx).late(30)
    assert late
    apology = _open(qtbot, ApologyDialog(late[0], ctx.clock.now(), window))
    covered += scan_every_button(qtbot, bench, window, apology)
    apology.close()
    # The studio over the wizard (Ctrl+S on the components step).
    intake_at(window, 2, None)
    window.intake.digitize(0)
    studio = window.intake.studio_dialog
    qtbot.waitUntil(lambda: QApplication.activeWindow() is studio, timeout=5000)
    for button in buttons_of(studio):
        intake_at(window, 2, None)
        bench.scan_on(qtbot, button, CARD_A, lambda: owner_fields(window))
        assert studio.isVisible() and studio.studio.thumbs.count() == 0
        assert_owner_is(window, CARD_A)
        covered += 1
    studio.reject()
    assert covered >= 8


def test_the_question_itself(qtbot, window: MainWindow, bench: Bench) -> None:  # type: ignore[no-untyped-def]
    """A card scanned while the question is open (focus on each of its buttons) asks
    about that card instead; answering puts it where the clerk says."""
    intake_at(window, 2, CARD_A)
    window.intake.on_scanned(CARD_B)
    question = window.intake.card_question
    assert question is not None
    qtbot.waitUntil(lambda: QApplication.activeWindow() is question, timeout=10_000)
    assert QApplication.focusWidget() is question.cancel_btn  # Enter by habit: nothing
    cards = ["036094001122||Đinh Văn Tú|07071994|Nam|Tổ 3, phường Phan Đình Phùng", CARD_B]
    for i in range(len(buttons_of(question))):
        current = window.intake.card_question
        assert current is not None
        payload = cards[i % 2]
        bench.scan_on(qtbot, buttons_of(current)[i], payload,
                      may_open=lambda: [window.intake.card_question])
        newer = window.intake.card_question
        assert newer is not None and newer is not current
        assert newer.card == parse_citizen_qr(payload)
        assert not shiboken6.isValid(current) or not current.isVisible()
        qtbot.waitUntil(lambda q=newer: QApplication.activeWindow() is q, timeout=10_000)
        assert window.intake.applicant_step.owner.full_name.text() == "Lò Thị Mai"
    newer = window.intake.card_question
    assert newer is not None
    newer.submitter_btn.click()
    step = window.intake.applicant_step
    assert step.proxy.isChecked() and step.submitter.full_name.text() == "Đinh Văn Tú"
    assert step.owner.full_name.text() == "Lò Thị Mai"
    window.intake.on_scanned(CARD_B)
    replacing = window.intake.card_question
    assert replacing is not None
    replacing.owner_btn.click()
    assert step.owner.full_name.text() == "Hoàng Văn Phủ" and step.owner.phone.text() == ""
    # The same person scanned again: filled again, nothing asked.
    window.intake.on_scanned(CARD_B)
    assert window.intake.card_question is None


# --- before the main window: login and the first-run wizard ----------------------------------


@pytest.fixture
def lone_filter(qtbot, bench: Bench):  # type: ignore[no-untyped-def]
    """The filter as it would run during login and first run: nothing routes the scans,
    they are only heard (and must not reach a widget)."""
    wedge = WedgeScanFilter()
    bench.wedge = wedge
    heard: list[str] = []
    wedge.scanned.connect(heard.append)
    wedge.receipt_scanned.connect(heard.append)
    wedge.install(QApplication.instance())  # type: ignore[arg-type]
    yield heard
    wedge.uninstall(QApplication.instance())  # type: ignore[arg-type]


def test_login_dialog(qtbot, ctx: AppContext, station: StationInfo, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
                      bench: Bench, lone_filter: list[str]) -> None:
    login = LoginDialog(ctx, station.agency_name)
    qtbot.addWidget(login)
    _open(qtbot, login)
    targets: list[QWidget] = [*buttons_of(login), login.username, login.password]
    for target in targets:
        bench.scan_on(qtbot, target, CARD_A, ms=SLOW if target is login.password else None)
        assert login.isVisible() and login.result() == 0 and login.clerk is None
        assert lone_filter[-1] == CARD_A
    # 4 buttons, with "Mở khóa…" and "Tập huấn…" (a scan presses neither)
    assert len(targets) == 6 and len(lone_filter) == 6


def test_the_running_app_filters_from_the_login_on(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                  station: StationInfo, clerk: ClerkInfo) -> None:
    """``ui.app.start`` installs the filter before the login: a card scanned into the
    password field types nothing there and logs nobody in."""
    from PySide6.QtCore import QTimer

    from ui.app import start

    app = QApplication.instance()
    seen: dict[str, object] = {}

    def at_login() -> None:
        login = QApplication.activeModalWidget()
        try:
            assert isinstance(login, LoginDialog)
            seen["dialog"] = True
            login.activateWindow()
            login.password.setFocus(Qt.FocusReason.TabFocusReason)
            qtbot.waitUntil(lambda: QApplication.focusWidget() is login.password, timeout=10_000)
            Keyboard().scan(CARD_A, SLOW, settle=0)
            seen["password"] = login.password.text()
            seen["clerk"] = login.clerk
        finally:
            if login is not None:
                login.reject()

    QTimer.singleShot(0, at_login)
    try:
        assert start(app, ctx) is None  # type: ignore[arg-type]
    finally:
        for wedge in app.findChildren(WedgeScanFilter):  # type: ignore[union-attr]
            wedge.uninstall(app)  # type: ignore[arg-type]
            wedge.setParent(None)
    assert seen == {"dialog": True, "password": "", "clerk": None}


def test_first_run_wizard_pages(qtbot, ctx: AppContext, bench: Bench,  # type: ignore[no-untyped-def]
                                lone_filter: list[str]) -> None:
    """Every page a technician goes through on a new station, the last one included."""
    wizard = FirstRunWizard(ctx, printers=["Canon LBP2900"])
    qtbot.addWidget(wizard)
    _open(qtbot, wizard)
    pages = (P_INTRO, P_STATION, P_CONNECTION, P_PRINTING, P_ACCOUNTS, P_DONE)
    covered = 0
    for page in pages:
        assert wizard.currentId() == page
        for button in buttons_of(wizard):
            bench.scan_on(qtbot, button, CARD_A)
            assert wizard.currentId() == page and wizard.isVisible()
            covered += 1
        if page == P_DONE:
            break
        if page == P_STATION:
            wizard.agency_code.setText("000.00.12.H12")
            wizard.agency_name.setText("UBND XÃ NÀ PHẶC")
            wizard.place_name.setText("Nà Phặc")
        if page == P_ACCOUNTS:
            wizard.tech_name.setText("Lò Văn Kỹ")
            wizard.tech_pass.setText("mat-khau-kt-1")
            wizard.clerk_user.setText("huong")
            wizard.clerk_name.setText("Triệu Thị Hương")
            wizard.clerk_pass.setText("mat-khau-1")
            for repeat, value in (("tech_pass2", "mat-khau-kt-1"), ("clerk_pass2", "mat-khau-1")):
                if hasattr(wizard, repeat):  # where the wizard asks for each twice
                    getattr(wizard, repeat).setText(value)
        wizard.button(QWizard.WizardButton.NextButton).click()
        bench.clicks.clear()
        qtbot.waitUntil(lambda p=page: wizard.currentId() != p, timeout=10_000)
    assert wizard.result_ is not None  # set up by the wizard, never by a scan
    assert len(lone_filter) == covered and covered >= 15


def test_a_receipt_opens_the_return_counter_from_a_dialog(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                         bench: Bench, ctx: AppContext,
                                                         clerk: ClerkInfo) -> None:
    intake = IntakeService(ctx)
    outcome = intake.receive(complete_draft(intake), clerk)
    window.station = replace(window.station, tracking_url="https://dvc.thainguyen.gov.vn/tc")
    url = f"https://dvc.thainguyen.gov.vn/tc?ma={outcome.code}"
    panel = _open(qtbot, SyncPanel(window.sync, window))
    bench.scan_on(qtbot, panel.close_btn, url, lambda: receipt_fields(window))
    qtbot.waitUntil(lambda: window.returns.current is not None, timeout=5000)
    assert window.pages.currentIndex() == MainWindow.RETURN and panel.isVisible()
    assert window.returns.scan.text() == url
    panel.close()
    assert datetime  # the clock fixture's date is the receipt's
