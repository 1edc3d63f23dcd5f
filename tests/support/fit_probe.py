"""Puts the real GUI on a screen of a given size and scale and says what does not fit.

Run as its own process (the screen is fixed when Qt starts)::

    QT_QPA_PLATFORM=offscreen:configfile=SCREEN.json QT_SCALE_FACTOR=1.25 \\
        python tests/support/fit_probe.py [--shots DIR]

It walks the main window's pages (every step of an intake, a dossier at the return
counter) and the dialogs a clerk or technician opens, and checks that the window lies
on the screen's available area and that the status bar and each place's main buttons
are wholly visible (inside the screen, not clipped by a scroll area). Prints a JSON
object: the logical screen, the places looked at, the problems found."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QEventLoop, QRect, Qt, QTimer
from PySide6.QtWidgets import QApplication, QPushButton, QScrollArea, QWidget

from desktop_app.accounts import AccountService, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.startup import open_station
from desktop_app.station import StationService
from tests.conftest import TEST_STATION
from tests.test_intake import TEST_CATALOG
from ui import qt_vi
from ui.dossier_list import DossierDetailDialog
from ui.help_dialog import HelpDialog
from ui.main_window import PREFERRED_SIZE, MainWindow
from ui.password_dialog import ChangePasswordDialog
from ui.scan_settings import ScanSettingsDialog
from ui.screen_fit import MIN_WINDOW, show_fitted
from ui.style import apply_style
from ui.sync_panel import SyncPanel

CARD = ("019190001234|095123456|Hoàng Thị Mai|12031992|Nữ|"
        "Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên|15082021")


def settle(ms: int = 60) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


class Probe:
    def __init__(self, app: QApplication, shots: Path | None) -> None:
        self.app = app
        self.shots = shots
        self.room = app.primaryScreen().availableGeometry()
        self.places: list[str] = []
        self.problems: list[str] = []

    def _on_screen(self, rect: QRect) -> bool:
        # At 125 % a maximised window is 1093.6 logical pixels wide: allow the rounding.
        return self.room.adjusted(-1, -1, 1, 1).contains(rect)

    def _inside(self, widget: QWidget, what: str, place: str) -> None:
        if not widget.isVisible():
            self.problems.append(f"{place}: {what} is hidden")
            return
        top_left = widget.mapToGlobal(widget.rect().topLeft())
        rect = QRect(top_left, widget.size())
        if not self._on_screen(rect):
            self.problems.append(f"{place}: {what} {rect.getRect()} is off the screen "
                                 f"{self.room.getRect()}")
        visible = widget.visibleRegion().boundingRect()
        if visible != widget.rect():
            self.problems.append(f"{place}: {what} is clipped (visible {visible.getRect()} "
                                 f"of {widget.rect().getRect()})")

    def _no_cut_content(self, window: QWidget, place: str) -> None:
        """A scroll area that scrolls only down cuts off whatever is wider than it: the
        right end of a table or a long line would be gone with no way to reach it."""
        for area in window.findChildren(QScrollArea):
            inner = area.widget()
            if (not area.isVisible() or inner is None or area.horizontalScrollBarPolicy()
                    != Qt.ScrollBarPolicy.ScrollBarAlwaysOff):
                continue
            need, have = inner.minimumSizeHint().width(), area.viewport().width()
            if need > have:
                self.problems.append(f"{place}: {type(inner).__name__} needs {need} px, "
                                     f"its scroll area shows {have} (cut off at the right)")

    def window(self, window: QWidget, place: str, buttons: list[QWidget],
               status: QWidget | None = None) -> None:
        settle()
        self.places.append(place)
        frame = window.frameGeometry()
        if not self._on_screen(frame):
            self.problems.append(f"{place}: window {frame.getRect()} is off the screen "
                                 f"{self.room.getRect()}")
        for button in buttons:
            label = button.text() if isinstance(button, QPushButton) else type(button).__name__
            self._inside(button, f"“{label}”", place)
        if status is not None:
            self._inside(status, "status bar", place)
        self._no_cut_content(window, place)
        if self.shots is not None:
            name = place.lower().replace(" ", "-").replace("/", "-")
            window.grab().save(str(self.shots / f"{len(self.places):02d}-{name}.png"))

    def dialog(self, dialog: QWidget, place: str,
               buttons: Callable[[QWidget], list[QWidget]] | None = None) -> None:
        dialog.show()
        settle(120)
        shown = (buttons(dialog) if buttons is not None else
                 [b for b in dialog.findChildren(QPushButton)
                  if b.isVisible() and (b.isDefault() or b.objectName() == "primary")])
        if not shown:
            self.problems.append(f"{place}: no main button found")
        self.window(dialog, place, shown)
        dialog.close()
        settle()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shots", type=Path)
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    qt_vi.install(app)
    apply_style(app)
    if args.shots is not None:
        args.shots.mkdir(parents=True, exist_ok=True)
    probe = Probe(app, args.shots)
    data = Path(tempfile.mkdtemp(prefix="motcua-fit-"))
    ctx = open_station(data / "data", db_url=f"sqlite:///{data / 'm.db'}",
                       clock=FixedClock(datetime(2023, 10, 27, 9, 32)))
    station = StationService(ctx).save(TEST_STATION)
    CatalogService(ctx).import_data(TEST_CATALOG)
    clerk = AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                             Role.CLERK)
    window = MainWindow(ctx, clerk, station)
    show_fitted(window, *PREFERRED_SIZE)
    settle(200)
    status = window.statusBar()

    window.show_page(window.HOME)
    probe.window(window, "home", [window.home.new_btn], status)
    window.show_page(window.INTAKE)
    intake = window.intake
    probe.window(window, "intake 1 procedure", [intake.next_btn], status)
    intake.choose_procedure("9.000005")
    intake.on_scanned(CARD)
    probe.window(window, "intake 2 applicant", [intake.next_btn, intake.back_btn], status)
    intake.go_next()
    probe.window(window, "intake 3 components", [intake.next_btn], status)
    intake.components_step.tick_required()
    intake.go_next()
    probe.window(window, "intake 4 fees and delivery", [intake.next_btn], status)
    intake.go_next()
    probe.window(window, "intake 5 review",
                 [intake.receive_btn, intake.refuse_btn, intake.supplement_btn], status)
    intake.receive()
    for _ in range(100):
        settle(50)
        if getattr(window, "last_preview", None) is not None:
            break
    preview = getattr(window, "last_preview", None)
    if preview is None:
        probe.problems.append("receive: no print preview")
    else:
        probe.window(preview, "print preview",
                     [b for b in preview.findChildren(QPushButton) if b.isVisible()])
        preview.accept()
        settle()
    for index, place in ((window.LOOKUP, "look-up"), (window.BATCH, "batch"),
                         (window.LATE, "late"), (window.DASHBOARD, "dashboard")):
        window.show_page(index)
        page_buttons = [b for b in window.pages.currentWidget().findChildren(QPushButton)
                        if b.isVisible() and b.objectName() == "primary"]
        probe.window(window, place, page_buttons, status)
    received = window.queries.search("231027", limit=1)
    if received:
        window.on_receipt_scanned(received[0].code or "")
        settle(300)
        probe.window(window, "return", [window.returns.return_btn], status)
        probe.dialog(DossierDetailDialog(window.queries.detail(received[0].id), window),
                     "dossier detail")
    probe.dialog(ScanSettingsDialog(ctx, clerk, window, printers=[]), "settings")
    probe.dialog(SyncPanel(window.sync, window), "sync panel")
    probe.dialog(HelpDialog(ctx, window.runner, window), "help")
    probe.dialog(ChangePasswordDialog(ctx, clerk, window), "password")

    # A clerk may restore the window and shrink it to its minimum: still nothing is cut.
    window.showNormal()
    window.resize(MIN_WINDOW)
    window.move(probe.room.topLeft())
    settle(200)
    window.show_page(window.HOME)
    probe.window(window, "home at the minimum size", [window.home.new_btn], status)
    window.show_page(window.INTAKE)
    intake.reset()
    intake.choose_procedure("9.000005")
    intake.on_scanned(CARD)
    for step in ("applicant", "components", "fees and delivery", "review"):
        probe.window(window, f"intake {step} at the minimum size",
                     [intake.receive_btn if step == "review" else intake.next_btn], status)
        if step == "components":
            intake.components_step.tick_required()
        if step != "review":
            intake.go_next()

    window.runner.wait()
    window.sync.stop()
    screen = app.primaryScreen()
    print(json.dumps({"screen": [screen.geometry().width(), screen.geometry().height()],
                      "available": list(probe.room.getRect()),
                      "scale": screen.devicePixelRatio(), "places": probe.places,
                      "problems": probe.problems}, ensure_ascii=False))
    window.close()
    ctx.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
