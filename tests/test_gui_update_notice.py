"""The update notice in the window: a technician is offered a verified update at once and
may put it off until the end of the day; a clerk is asked only when closing after hours."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.station import StationInfo
from desktop_app.sync.update_store import READY, REFUSED, UpdateStore
from ui.main_window import MainWindow
from ui.update_notice import INSTALL_NOW, LATER, LATER_TODAY

pytestmark = pytest.mark.gui

Opener = Callable[[ClerkInfo], MainWindow]


@pytest.fixture
def open_window(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                station: StationInfo) -> Iterator[Opener]:
    opened: list[MainWindow] = []

    def make(who: ClerkInfo) -> MainWindow:
        win = MainWindow(ctx, who, station)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        opened.append(win)
        return win

    yield make
    for win in opened:
        win.runner.wait()


def technician(ctx: AppContext) -> ClerkInfo:
    return AccountService(ctx).create_clerk("ktv", "Lê Văn Kỹ", "mat-khau-1", Role.TECHNICIAN)


def put_ready(ctx: AppContext, version: str = "2.0.0") -> Path:
    """A verified installer, as the background fetch leaves it."""
    store = UpdateStore(ctx.paths.root)
    store.dir.mkdir(parents=True, exist_ok=True)
    path = store.installer(version, "linux-deb")
    path.write_bytes(b"!<arch>\n" + b"0" * 1000)
    store.record(READY, {"version": version, "platform": "linux-deb",
                         "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                         "size": path.stat().st_size, "path": str(path),
                         "at": "2023-10-27T09:00:00"})
    return path


def question(qtbot, window: MainWindow) -> QMessageBox:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.question is not None and window.question.isVisible())
    box = window.question
    assert isinstance(box, QMessageBox)
    return box


def press(box: QMessageBox, label: str) -> None:
    labels = [b.text() for b in box.buttons()]
    assert label in labels, labels
    next(b for b in box.buttons() if b.text() == label).click()


def test_technician_sees_the_notice_and_puts_it_off_until_evening(
        qtbot, open_window: Opener, ctx: AppContext, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    put_ready(ctx)
    window = open_window(technician(ctx))
    window.updates.check()
    box = question(qtbot, window)
    assert "Có bản cập nhật 2.0.0 đã tải và kiểm tra chữ ký — Cài đặt ngay / Để cuối ngày" \
        in box.text()
    press(box, LATER_TODAY)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert window.updates.deferred == "2.0.0"
    assert "cuối ngày" in window.statusBar().currentMessage()
    # Not asked again during the day.
    window.updates.check()
    window.runner.wait()
    qtbot.wait(50)
    assert not (window.question is not None and window.question.isVisible())

    # Closing (even before the end of the day, since it was put off): offered again.
    window.close()
    again = question(qtbot, window)
    assert again is not box and "2.0.0" in again.text()
    assert window.isVisible()  # closing waits for the answer
    press(again, LATER)
    qtbot.waitUntil(lambda: not window.isVisible())


def test_clerk_is_not_interrupted_but_asked_when_closing_after_hours(
        qtbot, open_window: Opener, ctx: AppContext, clerk: ClerkInfo,  # type: ignore[no-untyped-def]
        clock: FixedClock) -> None:
    put_ready(ctx, "2.1.0")
    window = open_window(clerk)
    window.updates.check()
    window.runner.wait()
    qtbot.wait(50)
    assert window.question is None  # nothing during the working day for a clerk
    clock.set(datetime(2023, 10, 27, 17, 20))  # Friday, after hours
    window.close()
    box = question(qtbot, window)
    assert "2.1.0" in box.text()
    press(box, INSTALL_NOW)
    # On Linux the command is shown (the app never runs apt as root), then it quits.
    shown = question(qtbot, window)
    assert "sudo apt install" in shown.text() and "motcua-offline_2.1.0_amd64.deb" in shown.text()
    press(shown, "Đã &hiểu")
    qtbot.waitUntil(lambda: not window.isVisible())


def test_refused_update_is_told_to_the_technician(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                                  ctx: AppContext) -> None:
    store = UpdateStore(ctx.paths.root)
    store.dir.mkdir(parents=True)
    store.record(REFUSED, {"version": "3.0.0", "platform": "linux-deb",
                           "sha256": "a" * 64, "size": 10, "reason": "signature"})
    window = open_window(technician(ctx))
    window.updates.check()
    box = question(qtbot, window)
    assert "3.0.0" in box.text() and "bị từ chối" in box.text()
    press(box, "Đã &hiểu")
    window.close()  # nothing ready: closing asks nothing about updates
    qtbot.waitUntil(lambda: not window.isVisible())
