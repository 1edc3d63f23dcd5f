"""A keyboard, a person and a keyboard-wedge scanner for GUI tests.

Key events go where the window system sends them (the focus widget of the active window,
or of the open popup), stamped with the time the key arrived, with real waits between
keys: the wedge filter (ui/wedge.py) tells a scanner from a person by timing, so these
are behaviour checks at realistic speeds, not timed assertions. The stamps follow the
intended schedule, as the window system's would on a loaded machine whose UI thread is
late: a slow test machine delays the events, not the keys.

A wedge scanner types like a US keyboard: Shift around capitals and shifted symbols, the
plain key otherwise, a character it cannot type as a key (Vietnamese letters) by its code
(Key_unknown with the text, as Windows delivers VK_PACKET and X11 a keysym), control
characters of a prefix/suffix as Ctrl+letter."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QInputMethodEvent, QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

NO_MOD = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
_SHIFTED = '~!@#$%^&*()_+{}|:"<>?'


def focus_target() -> QWidget:
    target = (QApplication.focusWidget() or QApplication.activePopupWidget()
              or QApplication.activeModalWidget() or QApplication.activeWindow())
    assert target is not None, "no window is active: nothing would get the keys"
    return target


def key_for(ch: str) -> tuple[Qt.Key, Qt.KeyboardModifier]:
    """The key and modifiers a US-layout keyboard (or a wedge emulating one) uses."""
    if ch.isascii() and ch.isalpha():
        return Qt.Key(Qt.Key.Key_A.value + ord(ch.upper()) - ord("A")), (
            SHIFT if ch.isupper() else NO_MOD)
    if ord(ch) < 32:  # a control character: Ctrl + the letter (STX = Ctrl+B)
        return Qt.Key(Qt.Key.Key_A.value + ord(ch) - 1), CTRL
    if ch.isascii():
        return Qt.Key(ord(ch)), SHIFT if ch in _SHIFTED else NO_MOD
    return Qt.Key.Key_unknown, NO_MOD


class Keyboard:
    """``scan``: a scanner at 2–30 ms per key; ``type``: a person at 80–200 ms."""

    def __init__(self) -> None:
        self.stamp = 5_000_000  # ms, like a window system's clock

    def send(self, kind: QEvent.Type, key: Qt.Key, text: str = "",
             mods: Qt.KeyboardModifier = NO_MOD, autorepeat: bool = False) -> None:
        event = QKeyEvent(kind, key, mods, 0, 0, 0, text, autorepeat, 1)
        event.setTimestamp(self.stamp)
        QApplication.sendEvent(focus_target(), event)

    def wait(self, ms: int) -> None:
        self.stamp += ms
        QTest.qWait(ms)

    def tap(self, key: Qt.Key, text: str = "", mods: Qt.KeyboardModifier = NO_MOD,
            ms: int = 120) -> None:
        """Press and release one key (with its modifier keys around it), then wait."""
        held = [k for m, k in ((SHIFT, Qt.Key.Key_Shift), (CTRL, Qt.Key.Key_Control),
                               (ALT, Qt.Key.Key_Alt)) if mods & m]
        down = NO_MOD
        for k in held:
            down |= {Qt.Key.Key_Shift: SHIFT, Qt.Key.Key_Control: CTRL,
                     Qt.Key.Key_Alt: ALT}[k]
            self.send(QEvent.Type.KeyPress, k, "", down)
        self.send(QEvent.Type.KeyPress, key, text, mods)
        self.stamp += 1
        self.send(QEvent.Type.KeyRelease, key, text, mods)
        for k in reversed(held):
            down &= ~{Qt.Key.Key_Shift: SHIFT, Qt.Key.Key_Control: CTRL,
                      Qt.Key.Key_Alt: ALT}[k]
            self.send(QEvent.Type.KeyRelease, k, "", down)
        self.wait(max(0, ms - 1))

    def char(self, ch: str, ms: int) -> None:
        key, mods = key_for(ch)
        self.tap(key, ch, mods, ms)

    def type(self, text: str, ms: int = 120) -> None:
        for ch in text:
            self.char(ch, ms)

    def scan(self, payload: str, ms: int = 5, end: str = "\r", settle: int = 100) -> None:
        """A wedge scan: the payload (with any prefix/suffix) then Enter ("\\r"), Tab
        ("\\t") or nothing ("")."""
        for ch in payload:
            self.char(ch, ms)
        if end == "\r":
            self.tap(Qt.Key.Key_Return, "\r", ms=ms)
        elif end == "\t":
            self.tap(Qt.Key.Key_Tab, "\t", ms=ms)
        # What is held is released after RELEASE_AFTER_MS (80): a person's next key would
        # come later than that.
        self.wait(settle)

    def hold_down(self, ch: str, repeats: int, ms: int = 33) -> None:
        """A key held down: one press, then the system's auto-repeat, then the release."""
        key, mods = key_for(ch)
        self.send(QEvent.Type.KeyPress, key, ch, mods)
        self.wait(500)  # the usual auto-repeat delay
        for _ in range(repeats):
            self.send(QEvent.Type.KeyRelease, key, ch, mods, autorepeat=True)
            self.send(QEvent.Type.KeyPress, key, ch, mods, autorepeat=True)
            self.wait(ms)
        self.send(QEvent.Type.KeyRelease, key, ch, mods)
        self.wait(120)

    def commit(self, text: str) -> None:
        """What an input method (IBus, or Windows' IME) sends when a word is done."""
        event = QInputMethodEvent("", [])
        event.setCommitString(text)
        QApplication.sendEvent(focus_target(), event)
        self.wait(80)
