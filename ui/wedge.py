"""Recognise a chip-ID-card QR typed by a keyboard-wedge scanner, wherever the focus is.

A handheld 2D scanner "types" the QR payload followed by Enter. The filter watches key
presses application-wide; when the characters typed since the last pause form a citizen
QR payload and Enter arrives, it swallows that Enter (so no dialog button fires),
restores the text of the field the scanner typed into, and emits ``scanned``."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QTextEdit

from desktop_app.domain.citizen_qr import looks_like_citizen_qr
from desktop_app.intake.returns import CODE_RE, code_from_scan

# A person cannot type 12 digits and pipes with pauses this short; a scanner does.
PAUSE_RESETS_AFTER_S = 0.5
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class WedgeScanFilter(QObject):
    scanned = Signal(str)  # a citizen ID-card QR
    receipt_scanned = Signal(str)  # the QR of a receipt (dossier code or tracking URL)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._buffer: list[str] = []
        self._last = 0.0
        # Text of the focused field before each digit run began: a payload may follow
        # what the clerk typed by hand moments before.
        self._snapshots: dict[int, tuple[QObject, str] | None] = {}
        self._url_snapshot: tuple[QObject, str] | None = None
        self.enabled = True

    def install(self, app: QApplication) -> None:
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.enabled or event.type() != QEvent.Type.KeyPress:
            return False
        # Each key press is delivered to the focus widget and then propagates to its
        # parents; only look at it once, where it is first delivered.
        focus = QApplication.focusWidget()
        if (focus is not None and watched is not focus) or not watched.isWidgetType():
            return False
        assert isinstance(event, QKeyEvent)
        now = time.monotonic()
        if now - self._last > PAUSE_RESETS_AFTER_S:
            self._reset()
        self._last = now
        if event.key() in ENTER_KEYS:
            payload = "".join(self._buffer)
            start = _payload_start(payload)
            self._buffer.clear()
            snapshots, self._snapshots = self._snapshots, {}
            if start is not None:
                _restore(snapshots.get(start))
                self.scanned.emit(payload[start:])
                return True
            start = _receipt_start(payload)
            if start is not None:
                _restore(snapshots.get(start, self._url_snapshot))
                self.receipt_scanned.emit(payload[start:])
                return True
            return False
        text = event.text()
        if text == "h" and not self._buffer:
            self._url_snapshot = _snapshot(QApplication.focusWidget())
        if text and text.isprintable():
            if text.isdigit() and not (self._buffer and self._buffer[-1].isdigit()):
                self._snapshots[len(self._buffer)] = _snapshot(QApplication.focusWidget())
            self._buffer.append(text)
        return False

    def _reset(self) -> None:
        self._buffer.clear()
        self._snapshots = {}
        self._url_snapshot: tuple[QObject, str] | None = None


def _restore(snapshot: tuple[QObject, str] | None) -> None:
    if snapshot is None:
        return
    widget, text = snapshot
    if isinstance(widget, QLineEdit):
        widget.setText(text)
    elif isinstance(widget, QPlainTextEdit | QTextEdit):
        widget.setPlainText(text)


def _snapshot(widget: object) -> tuple[QObject, str] | None:
    if isinstance(widget, QLineEdit):
        return widget, widget.text()
    if isinstance(widget, QPlainTextEdit | QTextEdit):
        return widget, widget.toPlainText()
    return None


def _payload_start(buffer: str) -> int | None:
    """Where a citizen QR payload starts inside what was typed since the last pause."""
    for i in range(len(buffer) - 11):
        starts_run = buffer[i].isdigit() and (i == 0 or not buffer[i - 1].isdigit())
        if starts_run and looks_like_citizen_qr(buffer[i:]):
            return i
    return None


def _receipt_start(buffer: str) -> int | None:
    """Where a receipt payload (a whole dossier code, or a tracking URL carrying one)
    starts; it must run to the end of what was typed, so a code inside a longer text a
    clerk is typing is left alone."""
    url = buffer.find("http")
    if url >= 0 and "://" in buffer[url:] and code_from_scan(buffer[url:]):
        return url
    for i in range(len(buffer)):
        starts_run = buffer[i].isdigit() and (i == 0 or (not buffer[i - 1].isalnum()
                                                          and buffer[i - 1] not in ".-"))
        if starts_run and CODE_RE.fullmatch(buffer[i:]):
            return i
    return None
