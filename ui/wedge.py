"""Tell a handheld QR scanner from a person typing, before any widget sees the keys.

A keyboard-wedge scanner types the QR's text as a burst of key presses, then Enter (or
Tab, or the suffix it was configured with). One application-wide event filter watches
every key event of every window and dialog, password fields included:

- A key that could begin a scan (a digit, ``h`` of ``https://``, the station's prefix)
  is **held**: the widget does not get it yet. Keys following it at scanner speed are
  held too, as long as what they spell can still become an ID-card payload, a receipt
  code or tracking URL, or a prefixed code (``desktop_app.wedge_codes``).
- When the burst **completes** a scan (Enter/Tab, or the suffix), every held key is
  dropped and ``scanned`` (ID card, or any prefixed code) or ``receipt_scanned`` is
  emitted: no button was pressed, no field got a character. A terminating Enter/Tab and
  key releases following within the burst gap are swallowed too.
- As soon as the input is **clearly a person's** — a pause longer than the burst gap, a
  key no scanner sends (function and navigation keys, Escape, Ctrl/Alt shortcuts, keys
  held down), a mouse click or an input-method commit, or a text that can no longer be
  the start of a code — the held keys are **released**: re-sent in order, each to the
  widget it was first delivered to, as a copy with the same key, text, modifiers, native
  codes and time stamp, so the widget sees what it would have seen. Released copies go
  through ``QApplication::notify`` like the original did, shortcut handling included
  (the original's ``ShortcutOverride`` was accepted here so no shortcut fired on it), and
  the filter lets them pass.
- A lone held key that nothing follows is released by a timer.

The numbers. Scanners type at 2–10 ms per key (slow ones about 30 ms); people rarely
type faster than 60–80 ms per key, and never 13 keys in a row like that.

- ``SCAN_KEY_GAP_MS`` = 50: keys further apart than this are not one scan. It leaves a
  slow 30 ms scanner 20 ms of jitter (USB polling is 1–8 ms). The gap is measured with
  the key events' own time stamps (taken by the window system when the key arrived), so
  a UI thread busy for a moment does not split a scan; events without one (0) are timed
  when they arrive here.
- ``RELEASE_AFTER_MS`` = 80: a held key nothing follows reaches its widget this long
  after it arrived — under the ~100 ms at which people notice an echo lag, and 50 ms of
  slack over a slow scanner's key for a busy UI thread. Only keys that may begin a code
  are ever held, and only until the next key shows they are typing.

The timer's release is deferred by one trip through the event queue, so key events that
were already waiting (queued while the UI thread was busy) are seen first. Widgets
deleted while their keys are held simply do not get them. A Backspace inside an ID-card
payload (12 digits and "|" already came at scanner speed) is part of the scan: a
Vietnamese keyboard hook like Unikey rewrites letters that way, and the parser then
reports the damage."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from enum import Enum, auto
from typing import Protocol, runtime_checkable

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QInputDevice, QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.wedge_codes import ScanKind, WedgeCodes, WedgeScan, id_card_head_seen

log = logging.getLogger(__name__)

SCAN_KEY_GAP_MS = 50
RELEASE_AFTER_MS = 80

_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_MODIFIER_KEYS = frozenset({
    Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_AltGr, Qt.Key.Key_Meta,
    Qt.Key.Key_Super_L, Qt.Key.Key_Super_R, Qt.Key.Key_Hyper_L, Qt.Key.Key_Hyper_R,
    Qt.Key.Key_CapsLock, Qt.Key.Key_NumLock, Qt.Key.Key_Mode_switch,
})
_KEY_EVENTS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride)
# Input that shows a person is at the keyboard: what was held goes first, in order.
_PERSON_EVENTS = (QEvent.Type.InputMethod, QEvent.Type.MouseButtonPress,
                  QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel,
                  QEvent.Type.TouchBegin)
_CTRL = Qt.KeyboardModifier.ControlModifier
_ALT = Qt.KeyboardModifier.AltModifier
_META = Qt.KeyboardModifier.MetaModifier
_SHIFT = Qt.KeyboardModifier.ShiftModifier
_KEYPAD = Qt.KeyboardModifier.KeypadModifier


@runtime_checkable
class ScannerAffixSource(Protocol):
    """The filter's parent (the main window) may say what this PC's scanner sends around
    each code; it is asked at every key, so a change in the settings applies at the next
    scan."""

    def scanner_affixes(self) -> tuple[str, str]: ...


class _Kind(Enum):
    TEXT = auto()  # a character a scanner types (Shift and AltGr allowed)
    TERMINATOR = auto()  # Enter or Tab, which end a scan
    NEUTRAL = auto()  # a modifier alone, Alt+numpad digits (Windows "Alt codes")
    BACKSPACE = auto()
    PERSON = auto()  # anything else: no scanner sends it


class _Do(Enum):
    PASS = auto()
    HOLD = auto()
    RELEASE_THEN_PASS = auto()
    RELEASE_THEN_HOLD = auto()
    FINISH = auto()
    SWALLOW = auto()


@dataclass
class _Held:
    target: QWidget
    address: int
    life: int  # the target's life at that address (see WedgeScanFilter._lives)
    event: QKeyEvent


def _address(obj: object) -> int:
    return int(shiboken6.getCppPointer(obj)[0])  # type: ignore[arg-type]


def _copy(event: QKeyEvent) -> QKeyEvent:
    """The same key for the same widget, later. (QKeyEvent's copy constructor would keep
    the original's "spontaneous" flag and skip the shortcut check on delivery.)"""
    copy = QKeyEvent(event.type(), event.key(), event.modifiers(), event.nativeScanCode(),
                     event.nativeVirtualKey(), event.nativeModifiers(), event.text(),
                     event.isAutoRepeat(), event.count(),
                     event.device() or QInputDevice.primaryKeyboard())
    copy.setTimestamp(event.timestamp())
    return copy


class WedgeScanFilter(QObject):
    """Install once on the application (``install``). ``prefix``/``suffix`` override what
    the parent says (``ScannerAffixSource``); both default to none."""

    # An ID-card QR (or, with a prefix configured, any other code the scanner sent).
    scanned = Signal(str)
    receipt_scanned = Signal(str)  # a receipt's QR: the dossier code or a tracking URL

    def __init__(self, parent: QObject | None = None, prefix: str | None = None,
                 suffix: str | None = None) -> None:
        super().__init__(parent)
        self._affixes = None if prefix is None and suffix is None else (prefix or "",
                                                                          suffix or "")
        self._affix_source = parent if isinstance(parent, ScannerAffixSource) else None
        self._codes = WedgeCodes()
        self._enabled = True
        self._held: list[_Held] = []
        self._text: list[str] = []  # what the held keys spell (Backspace applied)
        # Widgets that keys were held for are watched until they are destroyed (one
        # connection each); a destroyed widget's address starts a new life, so keys held
        # for the dead one are never sent to whatever lives there next.
        self._watching: set[int] = set()
        self._lives: dict[int, int] = {}
        self._last_stamp = 0  # the window system's time of the last key event (ms)
        self._last_arrival = float("-inf")
        self._tail = False  # a scan just ended: its Enter/Tab and key releases follow
        self._consumed_presses: set[int] = set()  # keys whose release is still to come
        self._replaying: list[QKeyEvent] = []
        self._first_delivery: tuple[int, QEvent.Type, int, tuple[int, ...]] | None = None
        self._generation = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(RELEASE_AFTER_MS)
        self._timer.timeout.connect(self._quiet)

    # --- set-up ---------------------------------------------------------------------------

    def install(self, app: QApplication) -> None:
        app.installEventFilter(self)

    def uninstall(self, app: QApplication) -> None:
        self.release()
        app.removeEventFilter(self)

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        if not value:
            self.release()
        self._enabled = value

    def set_affixes(self, prefix: str, suffix: str) -> None:
        self._affixes = (prefix, suffix)

    def set_affix_source(self, source: ScannerAffixSource | None) -> None:
        """For a filter made before the main window (installed for the login and the
        first-run wizard): the window, once it exists, says what the scanner sends; it
        overrides affixes set before."""
        self._affixes = None
        self._affix_source = source

    def holding(self) -> bool:
        """Whether keys are being held back right now (for tests and diagnostics)."""
        return bool(self._held)

    def _current_codes(self) -> WedgeCodes:
        affixes = self._affixes
        if affixes is None:
            source = self._affix_source
            affixes = source.scanner_affixes() if source is not None else ("", "")
        if (self._codes.prefix, self._codes.suffix) != affixes:
            self._codes = WedgeCodes(*affixes)
        return self._codes

    # --- the filter ---------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _PERSON_EVENTS:
            self.release()  # a person clicked or the input method committed: keep order
            return False
        if kind not in _KEY_EVENTS or not self._enabled or not watched.isWidgetType():
            # The window (QWidgetWindow) sees a key first, then hands it to its widget.
            return False
        assert isinstance(event, QKeyEvent) and isinstance(watched, QWidget)
        if self._replaying and self._is_replay(event):
            return False
        if self._repeat_delivery(watched, event):
            return False  # the same event going up to the parents: looked at already
        if kind == QEvent.Type.KeyRelease:
            return self._on_release(watched, event)
        return self._on_press(watched, event, kind == QEvent.Type.ShortcutOverride)

    def _is_replay(self, event: QKeyEvent) -> bool:
        top = self._replaying[-1]
        if event.type() == QEvent.Type.ShortcutOverride:
            # QApplication::notify asks the shortcut map about a re-sent press first.
            return (event.key(), event.modifiers(), event.text()) == (
                top.key(), top.modifiers(), top.text())
        return _address(event) == _address(top)

    def _repeat_delivery(self, watched: QWidget, event: QKeyEvent) -> bool:
        """An event a widget did not accept is offered to its parents, through this
        filter again each time."""
        key = (_address(event), event.type(), event.key())
        first = self._first_delivery
        if first is not None and first[:3] == key and _address(watched) in first[3][1:]:
            return True
        chain: list[int] = []
        widget = watched
        while True:
            chain.append(_address(widget))
            if widget.isWindow():
                break
            widget = widget.parentWidget()
        self._first_delivery = (*key, tuple(chain))
        return False

    def _gap_ms(self, event: QKeyEvent) -> float:
        stamp = event.timestamp()
        if stamp and self._last_stamp and stamp >= self._last_stamp:
            return float(stamp - self._last_stamp)
        return (time.monotonic() - self._last_arrival) * 1000

    def _note(self, event: QKeyEvent) -> None:
        self._last_stamp = event.timestamp()
        self._last_arrival = time.monotonic()

    def _classify(self, event: QKeyEvent, codes: WedgeCodes) -> _Kind:
        key, mods, text = event.key(), event.modifiers(), event.text()
        if event.isAutoRepeat():
            return _Kind.PERSON  # a key held down: scanners never repeat
        if key in _MODIFIER_KEYS:
            return _Kind.NEUTRAL
        if text and codes.prefix + codes.suffix and all(
                ch in codes.prefix + codes.suffix for ch in text):
            return _Kind.TEXT  # e.g. STX sent as Ctrl+B
        ctrl, alt, meta = bool(mods & _CTRL), bool(mods & _ALT), bool(mods & _META)
        if alt and mods & _KEYPAD and not ctrl:
            return _Kind.NEUTRAL  # Alt + numpad digits: a character by its code
        if key in _ENTER_KEYS or key == Qt.Key.Key_Tab:
            return _Kind.PERSON if ctrl or alt or meta or mods & _SHIFT else _Kind.TERMINATOR
        if key == Qt.Key.Key_Backspace:
            return _Kind.PERSON if ctrl or alt or meta else _Kind.BACKSPACE
        altgr = ctrl and alt  # how Windows reports AltGr
        if meta or ((ctrl or alt) and not altgr):
            return _Kind.PERSON  # a shortcut or a mnemonic
        if text and not any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
            return _Kind.TEXT
        if not text and key in (0, Qt.Key.Key_unknown):
            # A key the keymap cannot name: a scanner's character lost on the way (X11
            # remapping a spare keycode for it), no person's command. A scan so damaged
            # is still a scan, reported or filled, never typed into the focused field.
            return _Kind.NEUTRAL
        return _Kind.PERSON  # function, navigation and editing keys

    def _plan(self, kind: _Kind, text: str, gap: float,
              codes: WedgeCodes) -> tuple[_Do, WedgeScan | None]:
        if self._tail and gap <= SCAN_KEY_GAP_MS and kind in (_Kind.TERMINATOR,
                                                              _Kind.NEUTRAL):
            return _Do.SWALLOW, None
        if not self._held:
            hold = kind is _Kind.TEXT and codes.could_continue(text)
            return (_Do.HOLD if hold else _Do.PASS), None
        spelt = "".join(self._text)
        if kind is _Kind.TEXT:
            grown = spelt + text
            if codes.ends_with_suffix(grown):
                scan = codes.complete(grown, by_suffix=True)
                if scan is not None:
                    return _Do.FINISH, scan
            if codes.could_continue(grown):
                return _Do.HOLD, None
            again = codes.could_continue(text)
            return (_Do.RELEASE_THEN_HOLD if again else _Do.RELEASE_THEN_PASS), None
        if kind is _Kind.NEUTRAL:
            return _Do.HOLD, None
        if kind is _Kind.BACKSPACE and (id_card_head_seen(spelt) or codes.prefixed(spelt)):
            return _Do.HOLD, None
        if kind is _Kind.TERMINATOR:
            scan = codes.complete(spelt)
            if scan is not None:
                return _Do.FINISH, scan
        return _Do.RELEASE_THEN_PASS, None

    def _on_press(self, watched: QWidget, event: QKeyEvent, override: bool) -> bool:
        """A key press, or the ``ShortcutOverride`` that comes before it: that one is
        accepted (so no shortcut fires) when the press is going to be held or consumed;
        what has to be released is released already then, before any shortcut runs."""
        gap = self._gap_ms(event)
        if gap > SCAN_KEY_GAP_MS:
            self.release()  # a pause: a person is typing
            self._tail = False
        codes = self._current_codes()
        kind = self._classify(event, codes)
        do, scan = self._plan(kind, event.text(), gap, codes)
        if do in (_Do.RELEASE_THEN_PASS, _Do.RELEASE_THEN_HOLD):
            self.release()
        if override:
            if do in (_Do.PASS, _Do.RELEASE_THEN_PASS):
                return False
            event.accept()
            return True
        self._note(event)
        if do is _Do.SWALLOW:
            self._consumed_presses.add(event.key())
        else:
            self._tail = False
        if do in (_Do.HOLD, _Do.RELEASE_THEN_HOLD):
            self._hold(watched, event, kind)
        elif do is _Do.FINISH:
            assert scan is not None
            self._finish(scan, event)
        elif do in (_Do.PASS, _Do.RELEASE_THEN_PASS):
            self._consumed_presses.discard(event.key())
            return False
        event.accept()
        return True

    def _on_release(self, watched: QWidget, event: QKeyEvent) -> bool:
        if self._gap_ms(event) > SCAN_KEY_GAP_MS:
            self.release()
            self._tail = False
        self._note(event)
        if event.key() in self._consumed_presses and not event.isAutoRepeat():
            self._consumed_presses.discard(event.key())
            return True
        if self._held:
            self._hold(watched, event, _Kind.NEUTRAL)
            return True
        return self._tail

    # --- holding, finishing, releasing ----------------------------------------------------

    def _hold(self, watched: QWidget, event: QKeyEvent, kind: _Kind) -> None:
        address = _address(watched)
        if address not in self._watching:
            self._watching.add(address)
            watched.destroyed.connect(functools.partial(self._target_gone, address))
        life = self._lives.setdefault(address, 0)
        self._held.append(_Held(watched, address, life, _copy(event)))
        if event.type() == QEvent.Type.KeyPress:
            if kind is _Kind.TEXT:
                self._text.append(event.text())
            elif kind is _Kind.BACKSPACE and self._text:
                self._text.pop()
        self._generation += 1
        self._timer.start()

    def _target_gone(self, address: int, *_destroyed: object) -> None:
        # Its held keys are dropped, never sent to a dead widget.
        # (A few bytes per destroyed widget that ever had keys held: kept, since a copy
        # being re-sent right now may still refer to the life that just ended.)
        self._watching.discard(address)
        self._lives[address] = self._lives.get(address, 0) + 1

    def _finish(self, scan: WedgeScan, event: QKeyEvent) -> None:
        pressed: set[int] = set()
        for held in self._held:
            if held.event.type() == QEvent.Type.KeyPress:
                pressed.add(held.event.key())
            else:
                pressed.discard(held.event.key())
        self._consumed_presses = pressed | {event.key()}
        self._drop()
        self._tail = True
        # Personal data: the kind and size go to the log, never the text.
        log.debug("wedge scan: %s, %d characters", scan.kind.value, len(scan.payload))
        if scan.kind is ScanKind.RECEIPT:
            self.receipt_scanned.emit(scan.payload)
        else:
            self.scanned.emit(scan.payload)

    def _drop(self) -> list[_Held]:
        held, self._held = self._held, []
        self._text = []
        self._timer.stop()
        self._generation += 1
        return held

    def release(self) -> None:
        """Send every held key on to the widget it was meant for, in order."""
        if not self._held:
            return
        for item in self._drop():
            if self._lives.get(item.address, 0) == item.life:
                self._replay(item.target, item.event)

    def _replay(self, target: QWidget, event: QKeyEvent) -> None:
        self._replaying.append(event)
        try:
            QApplication.sendEvent(target, event)
        finally:
            self._replaying.pop()

    def _quiet(self) -> None:
        """Nothing followed the held keys: a person typed them. Key events already queued
        behind this timer (the UI thread was busy) are let in first."""
        generation = self._generation
        QTimer.singleShot(0, self, functools.partial(self._release_if_still, generation))

    def _release_if_still(self, generation: int) -> None:
        if generation == self._generation:
            self.release()
