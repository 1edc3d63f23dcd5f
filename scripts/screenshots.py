"""Saves a screenshot of each main screen for review (run under Xvfb):

    xvfb-run -a -s "-screen 0 1400x950x24" .venv/bin/python scripts/screenshots.py [OUT_DIR]

Uses a throw-away data directory with the demo station, clerk and dossiers."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.accounts import AccountService
from desktop_app.context import open_context
from desktop_app.demo import DEMO_CARDS, run_demo
from desktop_app.station import StationService
from ui.first_run import FirstRunDialog
from ui.login import LoginDialog
from ui.main_window import MainWindow
from ui.style import apply_style


def settle(app: QApplication, ms: int = 300) -> None:
    # A local loop: QApplication.quit() would close every window (Qt 6).
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shot(app: QApplication, widget: QWidget, path: Path) -> None:
    settle(app)
    widget.grab().save(str(path))
    print(path)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    apply_style(app)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = open_context(Path(tmp) / "fresh")
        first = FirstRunDialog(fresh)
        first.show()
        shot(app, first, out / "01-first-run.png")
        first.close()
        fresh.close()

        data = Path(tmp) / "data"
        run_demo(Path(tmp) / "slips", data)
        ctx = open_context(data)
        station = StationService(ctx).require()
        login = LoginDialog(ctx, station.agency_name)
        login.username.setText("tiepnhan")
        login.show()
        shot(app, login, out / "02-login.png")
        login.close()

        clerk = AccountService(ctx).authenticate("tiepnhan", "tiepnhan-demo-2026")
        win = MainWindow(ctx, clerk, station)
        win.show()
        shot(app, win, out / "03-home.png")
        win.show_page(win.INTAKE)
        win.intake.proc_step.search.setText("xac nhan")
        shot(app, win, out / "04-intake-procedure.png")
        win.intake.choose_procedure("1.004873")
        win.on_scanned(DEMO_CARDS[0])
        win.intake.applicant_step.owner.phone.setText("0912 345 678")
        shot(app, win, out / "05-intake-applicant.png")
        win.intake.go_next()
        win.intake.components_step.tick_required()
        shot(app, win, out / "06-intake-components.png")
        win.intake.go_next()
        shot(app, win, out / "07-intake-fees-delivery.png")
        win.intake.go_next()
        shot(app, win, out / "08-intake-review.png")
        win.intake.receive()
        win.runner.wait()
        settle(app, 500)
        preview = win.last_preview
        preview.resize(900, 950)
        settle(app, 2500)  # QPdfView renders pages on its own thread
        shot(app, preview, out / "09-receipt-preview.png")
        preview.accept()
        win.show_page(win.LOOKUP)
        win.lookup.search.setText("nguyen")
        settle(app, 600)
        shot(app, win, out / "10-lookup.png")
        win.close()
        ctx.close()


if __name__ == "__main__":
    main()
