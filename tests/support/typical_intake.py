"""A typical intake at the counter, done the way a trained clerk does it: keys only.

Used by the GUI test that counts the keyboard actions (tests/test_gui_keys.py) and by
bench/bench_counter.py, which also watches the UI thread while the dossier is received
and its slip printed. An *action* is what a person does once: a key or shortcut, a word
typed into the search, one ID-card scan. Each action is logged with its name, so the
sequence can be printed as it was performed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from ui.main_window import MainWindow

from .keyboard import CTRL, NO_MOD, Keyboard

# The 7-field chip-card layout; the owner of the typical dossier.
CARD = ("019190001234|095123456|Nguyễn Thị Ánh Tuyết|12031992|Nữ|Thôn Nà Lẹng, xã Nà Phặc|"
        "01022022")
SEARCH = "dang ky khai sinh"  # no diacritics, as typed without Unikey


@dataclass
class Actions:
    keyboard: Keyboard = field(default_factory=Keyboard)
    done: list[str] = field(default_factory=list)

    def key(self, name: str, key: Qt.Key, mods: Qt.KeyboardModifier = NO_MOD) -> None:
        self.done.append(name)
        self.keyboard.tap(key, "\r" if key == Qt.Key.Key_Return and mods == NO_MOD else "",
                          mods, ms=120)

    def type(self, text: str) -> None:
        self.done.append(f"gõ “{text}”")
        self.keyboard.type(text, ms=90)

    def scan(self, payload: str) -> None:
        self.done.append("quét thẻ căn cước")
        self.keyboard.scan(payload, ms=3)


class StallWatch(QObject):
    """A timer on the UI thread every ``tick_ms``: how late its ticks came is how long
    the UI thread was busy with something else (a frozen window, for the clerk)."""

    def __init__(self, tick_ms: int = 5) -> None:
        super().__init__()
        self.tick_ms = tick_ms
        self.longest_ms = 0.0
        self.elapsed_s = 0.0  # from start to stop
        self._clock = QElapsedTimer()
        self._span = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.longest_ms = 0.0
        self._clock.start()
        self._span.start()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        self.elapsed_s = self._span.elapsed() / 1000
        return self.longest_ms

    def _tick(self) -> None:
        late = self._clock.restart() - self.tick_ms
        self.longest_ms = max(self.longest_ms, float(late))


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s} s for {what}")
        QApplication.processEvents()
        time.sleep(0.005)


def focus_in(window: MainWindow) -> None:
    window.activateWindow()
    wait_until(lambda: QApplication.activeWindow() is window, 5, "the main window")


def typical_intake(window: MainWindow, actions: Actions,
                   watch: StallWatch | None = None) -> None:
    """From the home page to the slip sent to the counter's printer. ``watch`` (if any)
    runs from the receiving Ctrl+Enter until the print job is sent."""
    intake = window.intake
    actions.key("F2", Qt.Key.Key_F2)
    wait_until(lambda: window.pages.currentIndex() == MainWindow.INTAKE, 5, "the intake page")
    wait_until(lambda: QApplication.focusWidget() is intake.proc_step.search, 5,
               "the procedure search")
    actions.type(SEARCH)
    actions.key("Enter", Qt.Key.Key_Return)
    wait_until(lambda: intake.step == 1, 5, "the applicant step")
    actions.scan(CARD)
    wait_until(lambda: intake.applicant_step.owner.id_number.text() == "019190001234", 5,
               "the owner filled from the card")
    actions.key("Ctrl+Enter", Qt.Key.Key_Return, CTRL)
    wait_until(lambda: intake.step == 2, 5, "the components step")
    actions.key("Ctrl+A", Qt.Key.Key_A, CTRL)
    actions.key("Ctrl+Enter", Qt.Key.Key_Return, CTRL)
    wait_until(lambda: intake.step == 3, 5, "the fees and delivery step")
    actions.key("Ctrl+Enter", Qt.Key.Key_Return, CTRL)
    wait_until(lambda: intake.step == 4, 5, "the review step")
    if watch is not None:
        watch.start()
    actions.key("Ctrl+Enter", Qt.Key.Key_Return, CTRL)
    wait_until(lambda: window.last_preview is not None and window.last_preview.isVisible(),
               60, "the slip preview")
    preview = window.last_preview
    assert preview is not None
    wait_until(lambda: QApplication.activeModalWidget() is preview
               or QApplication.activeWindow() is preview, 5, "the preview's focus")
    # The outcome itself (printed or failed), not a status line: the preview may already
    # show one (an A5 slip laid out on A4) before the key is handled.
    outcome: list[object] = []
    preview.printed.connect(outcome.append)
    preview.print_failed.connect(outcome.append)
    actions.key("Ctrl+P", Qt.Key.Key_P, CTRL)
    wait_until(lambda: bool(outcome) and not preview.busy(), 60, "the print job sent")
    if watch is not None:
        watch.stop()
