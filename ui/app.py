"""GUI entry point: open the local store, first-run setup or login, then the main window."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from PySide6.QtWidgets import QApplication, QDialog

from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.logging_setup import GUI, setup_logging
from desktop_app.startup import open_station
from desktop_app.station import StationService
from ui import messages
from ui.application import make_application
from ui.first_run import run_first_setup
from ui.login import LoginDialog
from ui.main_window import PREFERRED_SIZE, MainWindow
from ui.screen_fit import show_fitted
from ui.wedge import WedgeScanFilter

log = logging.getLogger(__name__)


def start(app: QApplication, ctx: AppContext) -> MainWindow | None:
    """First-run setup if needed, login, and the main window (None if the user quits)."""
    # Installed before the first-run wizard and the login: a card scanned there must not
    # type citizen data into a password field. Until the main window exists a scan is
    # recognised and dropped (the filter has no one to give it to).
    wedge = WedgeScanFilter(app)
    wedge.install(app)
    stations = StationService(ctx)
    station = stations.get()
    if station is None:
        if not run_first_setup(ctx):
            return None
        station = stations.require()
    wedge.set_affixes(station.scanner_prefix, station.scanner_suffix)
    login = LoginDialog(ctx, station.agency_name)
    if login.exec() != QDialog.DialogCode.Accepted or login.clerk is None:
        if login.training_requested:
            from ui.training_app import enter_training

            return enter_training(app, wedge, ctx.paths.root)
        return None
    window = MainWindow(ctx, login.clerk, station)
    window.take_scans(wedge)
    # A shutdown or log-off closes no window in Qt 6: the draft is saved when it starts.
    app.commitDataRequest.connect(lambda _manager: window.save_before_session_end())
    # The home page offers a draft or scans left unsaved by the last run.
    show_fitted(window, *PREFERRED_SIZE)
    return window


def run_gui(argv: list[str] | None = None) -> int:
    app, crashes = make_application(argv or sys.argv[:1])
    try:
        ctx = open_station()
    except DomainError as exc:
        log.error("cannot open data: %s", exc.detail)
        messages.error(None, exc.message_vi, "Không mở được dữ liệu")
        return 1
    setup_logging(ctx.paths.logs, kind=GUI)
    crashes.native_crashes_to(ctx.paths.logs)
    try:
        window = start(app, ctx)
        if window is None:
            return 0
        crashes.signals.failed.connect(window.on_crash)
        return app.exec()
    finally:
        ctx.close()
        crashes.uninstall()
