"""The counter GUI in training mode: the training station (desktop_app.training) behind
the usual login and main window, with an orange bar across the window, the title marked,
the scenario checklist (Ctrl+Shift+K), the fictional citizens' cards, and a reset
(Ctrl+Shift+R) that starts the class over.

Entered by `motcua training` (``run_training_gui``) or from the station's login screen
("Tập huấn…", ``enter_training``); either way the process is a training one until it
ends (``paths.isolate_environment``)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.documents.watermark import TRAINING_MARK
from desktop_app.domain.errors import DomainError
from desktop_app.logging_setup import GUI, setup_logging
from desktop_app.station import StationService
from desktop_app.training import paths as tpaths
from desktop_app.training.checklist import accounts_text
from desktop_app.training.citizens import render_citizen_sheet
from desktop_app.training.session import TrainingSession, open_training, reset_training
from ui import messages
from ui.login import LoginDialog
from ui.main_window import PREFERRED_SIZE, MainWindow
from ui.screen_fit import show_fitted
from ui.slip_preview import SlipPreviewDialog
from ui.training_dialogs import ChecklistDialog, ScheduleDialog
from ui.wedge import WedgeScanFilter

log = logging.getLogger(__name__)

BANNER_TEXT = "Chế độ tập huấn — dữ liệu không thật"
TITLE_PREFIX = "[TẬP HUẤN] "
POLL_MS = 3000  # how soon a status the schedule set is pulled (the sync is woken)


class TrainingController(QObject):
    """Owns the training session and its window; resets and closes them."""

    def __init__(self, app: QApplication, session: TrainingSession,
                 wedge: WedgeScanFilter, station_dir: Path | None) -> None:
        super().__init__(app)
        self.app = app
        self.session = session
        self.wedge = wedge
        self.station_dir = station_dir
        self.window: MainWindow | None = None
        self.dialog: QDialog | None = None  # the training dialog shown last (tests)
        self._seen_applied = 0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._timer.start()
        app.aboutToQuit.connect(self.close)

    def login_and_show(self) -> MainWindow | None:
        ctx = self.session.ctx
        station = StationService(ctx).require()
        self.wedge.set_affixes(station.scanner_prefix, station.scanner_suffix)
        note = ("Chế độ tập huấn. Tài khoản (tên / mật khẩu): "
                + " · ".join(accounts_text()))
        login = LoginDialog(ctx, station.agency_name, offer_training=False,
                            training_note=note)
        if login.exec() != QDialog.DialogCode.Accepted or login.clerk is None:
            return None
        window = MainWindow(ctx, login.clerk, station)
        window.take_scans(self.wedge)
        decorate(window, self)
        self.window = window
        show_fitted(window, *PREFERRED_SIZE)
        return window

    def _poll(self) -> None:
        if self.session.applied != self._seen_applied and self.window is not None:
            self._seen_applied = self.session.applied
            self.window.sync.worker.wake()  # the province moved a dossier: pull it now

    def open_checklist(self) -> None:
        self.dialog = ChecklistDialog(self.session, self.window, print_cards=self.print_cards,
                                      edit_schedule=self.edit_schedule)
        self.dialog.open()

    def edit_schedule(self) -> None:
        dialog = ScheduleDialog(self.session, self.window)
        self.dialog = dialog
        dialog.open()

    def print_cards(self) -> None:
        pdf = render_citizen_sheet()
        dialog = SlipPreviewDialog(pdf, "Thẻ căn cước giả lập", "the-can-cuoc-tap-huan.pdf",
                                   self.window)
        self.dialog = dialog
        dialog.open()

    def ask_reset(self) -> None:
        if not messages.confirm(
                self.window, "Xóa toàn bộ dữ liệu tập huấn (hồ sơ, hàng đợi, hồ sơ ở cổng "
                "tỉnh giả lập, danh sách kiểm tra) và bắt đầu lại từ đầu? Dữ liệu thật của "
                "quầy không bị ảnh hưởng.", "Làm lại buổi tập huấn", yes="Làm lại từ đầu"):
            return
        self.reset()

    def reset(self) -> MainWindow | None:
        """Close the window, wipe and re-seed the training folder, log in again."""
        window, self.window = self.window, None
        if window is not None:
            window._quitting = True  # nothing typed in training is worth a question
            window.close()
            window.deleteLater()
        try:
            self.session = reset_training(self.session, self.station_dir)
        except (DomainError, OSError) as exc:
            detail = exc.detail if isinstance(exc, DomainError) else repr(exc)
            log.error("training reset failed: %s", detail)
            messages.error(None, exc.message_vi if isinstance(exc, DomainError) else
                           "Không xóa được dữ liệu tập huấn (tệp đang được dùng?). Hãy đóng "
                           "phần mềm rồi chạy “motcua training --reset”.",
                           "Không làm lại được")
            self.app.quit()
            return None
        self._seen_applied = 0
        shown = self.login_and_show()
        if shown is None:
            self.app.quit()
        return shown

    def close(self) -> None:
        self._timer.stop()
        self.session.close()


def decorate(window: MainWindow, controller: TrainingController) -> None:
    """The orange bar above everything, the marked title, the training shortcuts."""
    window.setWindowTitle(TITLE_PREFIX + window.windowTitle())
    bar = QFrame()
    bar.setObjectName("trainingBanner")
    row = QHBoxLayout(bar)
    row.setContentsMargins(8, 2, 8, 2)
    label = QLabel(BANNER_TEXT)
    label.setObjectName("trainingBannerText")
    label.setToolTip(f"Giấy tờ in ra mang dấu “{TRAINING_MARK}”; hồ sơ chỉ gửi tới cổng "
                     "tỉnh giả lập trên máy này.")
    row.addWidget(label, 1)
    for text, tip, slot in (
            ("Kịch bản (Ctrl+Shift+K)", "Kịch bản tập huấn, danh sách kiểm tra, tài khoản",
             controller.open_checklist),
            ("Thẻ giả lập", "In thẻ căn cước giả lập có mã QR để quét",
             controller.print_cards),
            ("Làm lại (Ctrl+Shift+R)", "Xóa dữ liệu tập huấn và bắt đầu lại",
             controller.ask_reset)):
        button = QPushButton(text)
        button.setFlat(True)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keyboard: the shortcuts
        button.clicked.connect(slot)
        row.addWidget(button)
    inner = window.takeCentralWidget()
    central = QWidget()
    column = QVBoxLayout(central)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(bar)
    column.addWidget(inner, 1)
    window.setCentralWidget(central)
    window.training_banner = bar  # type: ignore[attr-defined]
    QShortcut(QKeySequence("Ctrl+Shift+K"), window).activated.connect(controller.open_checklist)
    QShortcut(QKeySequence("Ctrl+Shift+R"), window).activated.connect(controller.ask_reset)


def _open_session(station_dir: Path | None) -> TrainingSession | None:
    tpaths.isolate_environment()
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return open_training(station_dir=station_dir)
    except DomainError as exc:
        log.error("cannot open training: %s", exc.detail)
        messages.error(None, exc.message_vi, "Không mở được chế độ tập huấn")
        return None
    finally:
        QGuiApplication.restoreOverrideCursor()


def enter_training(app: QApplication, wedge: WedgeScanFilter,
                   station_dir: Path | None = None) -> MainWindow | None:
    """From the station's login: the training station, its login and window."""
    session = _open_session(station_dir)
    if session is None:
        return None
    setup_logging(session.ctx.paths.logs, kind=GUI)
    controller = TrainingController(app, session, wedge, station_dir)
    window = controller.login_and_show()
    if window is None:
        controller.close()
    return window


def run_training_gui(reset: bool = False, argv: list[str] | None = None) -> int:
    """`motcua training`: the same application as the station's, on the training data."""
    from ui.application import make_application

    app, crashes = make_application(argv or sys.argv[:1])
    try:
        if reset:
            paths = tpaths.check_apart(tpaths.training_root())
            tpaths.prepare_folder(paths)
            tpaths.wipe(paths)
        wedge = WedgeScanFilter(app)
        wedge.install(app)
        window = enter_training(app, wedge)
        if window is None:
            return 0
        crashes.signals.failed.connect(window.on_crash)
        return app.exec()
    except DomainError as exc:
        messages.error(None, exc.message_vi, "Không mở được chế độ tập huấn")
        return 1
    finally:
        crashes.uninstall()
