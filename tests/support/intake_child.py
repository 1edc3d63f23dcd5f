"""A real counter app (MainWindow, offscreen) that a test kills with SIGKILL mid-intake.

    python -m tests.support.intake_child --data DIR --db-url URL --user NAME --password PW

It signs in, fills the intake wizard up to the fees-and-delivery step the way a clerk
would, and prints ``draft-saved <step>`` once the draft of that step is in the database;
then it types one more note and waits to be killed (the app's own event loop runs all the
while, as at the counter)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop_app.accounts import AccountService
from desktop_app.startup import open_station
from desktop_app.station import StationService
from ui.main_window import MainWindow
from ui.style import apply_style


def fill(window: MainWindow) -> None:
    window.show_page(window.INTAKE)
    intake = window.intake
    intake.choose_procedure("9.000005")
    owner = intake.applicant_step.owner
    owner.full_name.setText("Đặng Thị Hồng Nhung")
    owner.id_number.setText("019190004321")
    owner.birth_date.setText("29/02/1996")
    owner.phone.setText("0912 888 999")
    intake.go_next()
    intake.components_step.tick_required()
    intake.go_next()
    intake.delivery_step.set_count.setValue(3)
    intake.delivery_step.note.setPlainText("Ghi chú đã lưu")
    # The step change has saved already; this save is the one reported, as a clerk
    # would see "Đã lưu nháp" before the power went.
    intake.save_draft(on_done=lambda: saved(window))


def saved(window: MainWindow) -> None:
    print(f"draft-saved {window.intake.step}", flush=True)
    # Typed after the last save, and killed before the autosave fires: may be lost.
    window.intake.delivery_step.note.setPlainText("Ghi chú đã lưu, thêm chữ cuối")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    apply_style(app)
    ctx = open_station(args.data, db_url=args.db_url)
    station = StationService(ctx).require()
    clerk = AccountService(ctx).authenticate(args.user, args.password)
    window = MainWindow(ctx, clerk, station)
    window.show()
    QTimer.singleShot(0, lambda: fill(window))
    print("started", flush=True)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
