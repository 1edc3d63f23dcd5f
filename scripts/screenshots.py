"""Saves a screenshot of each main screen for review (run under Xvfb):

    xvfb-run -a -s "-screen 0 1400x950x24" .venv/bin/python scripts/screenshots.py [OUT_DIR]

Home, each intake step, the receipt preview, the return counter and the dashboard as the
whole screen of a counter PC (the window opened as the app opens it; everything must fit),
under docs/screenshots/SUFFIX/:

    xvfb-run -a -s "-screen 0 1024x768x24" .venv/bin/python scripts/screenshots.py \
        --counter 1024x768
    QT_SCALE_FACTOR=1.25 xvfb-run -a -s "-screen 0 1366x768x24" \
        .venv/bin/python scripts/screenshots.py --counter 1366x768@125

Training mode (the login with its accounts, the main window with the orange bar, the
scenario checklist, the fictional citizens' cards) as the whole screen, under
docs/screenshots/SUFFIX/training/:

    xvfb-run -a -s "-screen 0 1024x768x24" .venv/bin/python scripts/screenshots.py \
        --training 1024x768

Uses a throw-away data directory with the demo station, clerk and dossiers."""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import select

from desktop_app.accounts import AccountService, Role
from desktop_app.clock import FixedClock, SystemClock
from desktop_app.demo import DEMO_CARDS, run_demo
from desktop_app.startup import open_station
from desktop_app.station import StationService
from desktop_app.sync.clock_offset import store_offset
from desktop_app.sync.service import SyncService
from local_db.models import Dossier
from ui.first_run import FirstRunWizard
from ui.login import LoginDialog
from ui.main_window import PREFERRED_SIZE, MainWindow
from ui.scan_settings import ScanSettingsDialog
from ui.screen_fit import show_fitted
from ui.style import apply_style
from ui.sync_panel import SyncPanel
from ui.unlock_dialog import UnlockDialog


def settle(app: QApplication, ms: int = 300) -> None:
    # A local loop: QApplication.quit() would close every window (Qt 6).
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shot(app: QApplication, widget: QWidget, path: Path) -> None:
    settle(app)
    widget.grab().save(str(path))
    print(path)


def wait_idle(app: QApplication, studio: object) -> None:
    for _ in range(600):
        settle(app, 100)
        if not studio._busy():  # type: ignore[attr-defined]
            return


def sample_pages(folder: Path) -> list[Path]:
    """Scanner-like pages: typed text, a coloured cadastral sketch, a photo-like page."""
    folder.mkdir(parents=True, exist_ok=True)
    dpi = 200
    w, h = round(8.27 * dpi), round(11.69 * dpi)
    text = Image.new("L", (w, h), 248)
    d = ImageDraw.Draw(text)
    for i in range(34):
        y = 160 + i * 62
        for x in range(170, int(w * (0.6 + (i * 37 % 30) / 100)), 24):
            d.rectangle([x, y, x + 15, y + 11], fill=25)
    text = text.rotate(1.2, fillcolor=248, resample=Image.Resampling.BICUBIC)
    text.save(folder / "don-de-nghi.png", dpi=(dpi, dpi))
    plan = Image.new("RGB", (h, w), (250, 248, 240))
    d = ImageDraw.Draw(plan)
    for k in range(0, h, 140):
        d.line([(k, 0), (k + 300, w)], fill=(120, 120, 120), width=3)
    d.polygon([(500, 400), (1500, 350), (1700, 1200), (600, 1300)], outline=(200, 30, 30),
              fill=(250, 220, 200), width=8)
    d.polygon([(1800, 500), (2200, 450), (2250, 1100), (1850, 1150)], outline=(30, 120, 30),
              fill=(210, 240, 210), width=8)
    d.ellipse([2000, 1250, 2200, 1450], outline=(200, 0, 0), width=12)
    plan.save(folder / "so-do-thua-dat.png", dpi=(dpi, dpi))
    photo = Image.radial_gradient("L").resize((w, h)).convert("RGB")
    photo.save(folder / "anh-chup.png", dpi=(dpi, dpi))
    return [folder / "don-de-nghi.png", folder / "so-do-thua-dat.png", folder / "anh-chup.png"]


def counter_screens(out: Path, suffix: str) -> None:
    """The whole screen, as a counter PC of that size shows it: the main window opened as
    the app opens it, home, each intake step and the receipt preview over it. Saved under
    OUT/SUFFIX/ (the window, status bar and buttons must all be on the screen)."""
    app = QApplication([])
    apply_style(app)
    folder = out / suffix
    folder.mkdir(parents=True, exist_ok=True)
    screen = QGuiApplication.primaryScreen()

    def whole_screen(name: str) -> None:
        settle(app, 400)
        path = folder / name
        screen.grabWindow(0).save(str(path))
        print(path, "window", win.frameGeometry().getRect(), "screen",
              screen.availableGeometry().getRect())

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        run_demo(Path(tmp) / "slips", data)
        ctx = open_station(data, clock=FixedClock(SystemClock().now()))
        station = StationService(ctx).require()
        clerk = AccountService(ctx).authenticate("tiepnhan", "tiepnhan-demo-2026")
        win = MainWindow(ctx, clerk, station)
        show_fitted(win, *PREFERRED_SIZE)
        settle(app, 500)
        whole_screen("03-home.png")
        win.show_page(win.INTAKE)
        win.intake.proc_step.search.setText("xac nhan")
        whole_screen("04-intake-procedure.png")
        win.intake.choose_procedure("1.004873")
        win.on_scanned(DEMO_CARDS[0])
        win.intake.applicant_step.owner.phone.setText("0912 345 678")
        whole_screen("05-intake-applicant.png")
        win.intake.go_next()
        win.intake.components_step.tick_required()
        whole_screen("06-intake-components.png")
        win.intake.go_next()
        whole_screen("07-intake-fees-delivery.png")
        win.intake.go_next()
        whole_screen("08-intake-review.png")
        win.intake.receive()
        win.runner.wait()
        settle(app, 500)
        preview = win.last_preview
        assert preview is not None
        settle(app, 2500)  # QPdfView renders pages on its own thread
        whole_screen("09-receipt-preview.png")
        preview.accept()
        settle(app, 300)
        # Certified copies: counted per page and per copy, paid with Receive.
        win.show_page(win.INTAKE)
        win.intake.choose_procedure("2.000815")
        win.on_scanned(DEMO_CARDS[1])
        win.intake.go_next()
        win.intake.components_step.tick_required()
        win.intake.go_next()
        fees = win.intake.delivery_step.fees
        certify = next(iter(fees.tables.values()))
        certify.table.cellWidget(0, 0).setValue(2)
        certify.table.cellWidget(0, 1).setValue(5)
        certify.add_row()
        fees.payment.setChecked(True)
        fees.payment.receipt.setText("0012345")
        whole_screen("10-intake-fees-certified.png")
        win.intake.reset()
        # The return counter with a result ready and the fee still owed.
        with ctx.db.write() as s:
            ready = s.scalars(select(Dossier).where(Dossier.status == 2)).first()
            assert ready is not None
            ready.status = 9
            code = ready.code
        win.show_page(win.RETURN)
        win.returns.open_code(code or "")
        win.runner.wait()
        whole_screen("11-return-counter.png")
        # The dashboard, with the province's three figures under the counter's own.
        win.show_page(win.DASHBOARD)
        win.runner.wait()
        settle(app, 800)
        whole_screen("12-dashboard.png")
        win.sync.stop()
        win.runner.wait()
        win.close()
        ctx.close()


def training_screens(folder: Path) -> None:
    """Training mode on a throw-away training folder, as a counter PC shows it."""
    import os

    from desktop_app.training.checklist import accounts_text
    from desktop_app.training.session import open_training
    from ui.training_app import TrainingController

    os.environ["MOTCUA_NO_KEYRING"] = "1"
    app = QApplication([])
    apply_style(app)
    folder.mkdir(parents=True, exist_ok=True)
    screen = QGuiApplication.primaryScreen()

    def whole_screen(name: str) -> None:
        settle(app, 500)
        screen.grabWindow(0).save(str(folder / name))
        print(folder / name)

    with tempfile.TemporaryDirectory() as tmp:
        session = open_training(Path(tmp) / "training", Path(tmp) / "data")
        station = StationService(session.ctx).require()
        login = LoginDialog(session.ctx, station.agency_name, offer_training=False,
                            training_note="Chế độ tập huấn. Tài khoản (tên / mật khẩu): "
                            + " · ".join(accounts_text()))
        login.show()
        whole_screen("01-training-login.png")
        login.close()
        from desktop_app.training.seed import ACCOUNTS
        from ui.training_app import decorate

        clerk = AccountService(session.ctx).authenticate(ACCOUNTS[0].username,
                                                         ACCOUNTS[0].password)
        win = MainWindow(session.ctx, clerk, station)
        controller = TrainingController(app, session, _NoWedge(), None)  # type: ignore[arg-type]
        controller.window = win
        decorate(win, controller)
        show_fitted(win, *PREFERRED_SIZE)
        whole_screen("02-training-home.png")
        win.show_page(win.LATE)
        whole_screen("03-training-late.png")
        controller.open_checklist()
        whole_screen("04-training-checklist.png")
        controller.dialog.reject()  # type: ignore[union-attr]
        controller.print_cards()
        settle(app, 2500)
        whole_screen("05-training-cards.png")
        controller.dialog.reject()  # type: ignore[union-attr]
        win.sync.stop()
        win.runner.wait()
        win._quitting = True
        win.close()
        controller.close()


class _NoWedge:
    def set_affixes(self, prefix: str, suffix: str) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default="docs/screenshots")
    ap.add_argument("--counter", metavar="SUFFIX",
                    help="home, each intake step and the receipt preview as the whole "
                         "screen, saved under OUT/SUFFIX/")
    ap.add_argument("--training", metavar="SUFFIX",
                    help="training mode's screens as the whole screen, saved under "
                         "OUT/SUFFIX/training/")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.training:
        training_screens(out / args.training / "training")
        return
    if args.counter:
        counter_screens(out, args.counter)
        return
    app = QApplication([])
    apply_style(app)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = open_station(Path(tmp) / "fresh")
        first = FirstRunWizard(fresh, printers=["Canon LBP2900", "Brother HL-L2321D"])
        first.show()
        shot(app, first, out / "01-first-run.png")
        first.next()
        first.agency_code.setText("000.00.12.H12")
        first.agency_name.setText("UBND XÃ NÀ PHẶC")
        first.parent_name.setText("UBND TỈNH THÁI NGUYÊN")
        first.place_name.setText("Nà Phặc")
        shot(app, first, out / "01b-first-run-station.png")
        first.next()
        first.gateway_url.setText("https://motcua.thainguyen.gov.vn")
        first.secret.setText("K7M2Q-9XHRT-4PW8N")
        shot(app, first, out / "01c-first-run-connection.png")
        first.next()
        first.printer.setCurrentIndex(1)
        shot(app, first, out / "01d-first-run-printing.png")
        first.close()
        fresh.close()

        data = Path(tmp) / "data"
        run_demo(Path(tmp) / "slips", data)
        clock = FixedClock(SystemClock().now())
        ctx = open_station(data, clock=clock)
        station = StationService(ctx).require()
        login = LoginDialog(ctx, station.agency_name)
        login.username.setText("tiepnhan")
        login.show()
        shot(app, login, out / "02-login.png")
        login.close()
        # Wrong passwords: the wait, then the lock a supervisor or technician opens.
        AccountService(ctx).create_clerk("lan", "Lò Thị Lan", "lan-demo-2026", Role.CLERK)
        login = LoginDialog(ctx, station.agency_name)
        login.show()
        for _ in range(5):
            login.username.setText("lan")
            login.password.setText("sai-mat-khau")
            login._login()
        shot(app, login, out / "02b-login-wait.png")
        unlock = UnlockDialog(ctx, "lan", login)
        unlock.show()
        shot(app, unlock, out / "02c-unlock.png")
        unlock.close()
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
        # The last sync measured this PC's clock 3 days ahead: the review warns.
        store_offset(ctx, 3 * 86400 + 7 * 60, clock.now())
        win.intake.go_back()
        win.intake.go_next()
        shot(app, win, out / "08b-intake-review-clock.png")
        store_offset(ctx, 0.0, clock.now())
        win.intake.go_back()
        win.intake.go_next()
        win.intake.receive()
        win.runner.wait()
        settle(app, 500)
        preview = win.last_preview  # sized to the screen by itself
        settle(app, 2500)  # QPdfView renders pages on its own thread
        shot(app, preview, out / "09-receipt-preview.png")
        preview.accept()
        win.show_page(win.LOOKUP)
        win.lookup.search.setText("nguyen")
        settle(app, 600)
        shot(app, win, out / "10-lookup.png")

        # Studio on a received dossier: a text page, a colour map page, a photo page.
        pages = sample_pages(Path(tmp) / "scans")
        found = next(r for r in win.queries.search("") if r.code)
        win.digitize_dossier(found.id)
        win.runner.wait()
        settle(app, 500)
        studio = win.studio_dialog.studio
        studio.import_paths(pages)
        wait_idle(app, studio)
        studio.thumbs.setCurrentRow(1)
        settle(app, 800)
        shot(app, win.studio_dialog, out / "11-studio.png")
        win.studio_dialog.reject()

        win.show_page(win.BATCH)
        win.batch.codes.setText(found.code or "")
        shot(app, win, out / "12-batch.png")

        # Return counter with a dossier whose result is ready, the late list, the dashboard.
        ready = next(r for r in win.queries.search("") if r.code)
        with ctx.db.write() as s:
            s.get(Dossier, ready.id).status = 9
        win.on_receipt_scanned(ready.code or "")
        win.runner.wait()
        settle(app, 500)
        shot(app, win, out / "16-return.png")
        clock.set(clock.current + timedelta(days=10))
        win.show_page(win.LATE)
        win.runner.wait()
        settle(app, 500)
        shot(app, win, out / "17-late.png")
        win.show_page(win.DASHBOARD)
        win.dashboard.period.setCurrentIndex(win.dashboard.period.findData("30d"))
        win.runner.wait()
        settle(app, 800)
        shot(app, win, out / "18-dashboard.png")

        settings = ScanSettingsDialog(ctx, clerk, win)
        settings.show()
        shot(app, settings, out / "13-scan-settings.png")
        settings.close()

        # Sync panel while the link is down: the queue with each item's last error.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        stations = StationService(ctx)
        stations.save(replace(stations.require(),
                              gateway_url=f"http://127.0.0.1:{closed_port}"))
        SyncService(ctx).set_token("demo-token")
        win.sync.worker.wake()
        for _ in range(50):
            settle(app, 100)
            if win.sync.state.online is False:
                break
        panel = SyncPanel(win.sync, win)
        panel.show()
        settle(app, 800)
        shot(app, panel, out / "14-sync-panel.png")
        panel.close()
        win.show_page(win.HOME)
        settle(app, 300)
        shot(app, win, out / "15-home-offline.png")
        win.close()
        ctx.close()


if __name__ == "__main__":
    main()
