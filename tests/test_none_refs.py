"""ui/none_refs.py: calls that PySide 6.12 charges a reference to None for (under Python
3.11) leave None's count as it was when made through ``call``/``void_call``."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit

from ui.none_refs import call, set_timestamp, void_call

pytestmark = [pytest.mark.gui, pytest.mark.nodb]


def test_calls_returning_nothing_keep_none_alive(qtbot) -> None:  # type: ignore[no-untyped-def]
    edit = QLineEdit()
    qtbot.addWidget(edit)
    timer = QTimer()
    event = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier,
                      0, 0, 0, "a")
    before = sys.getrefcount(None)
    for i in range(20_000):  # more than None's whole count in a small process
        void_call(edit.setText, "x")
        void_call(timer.start, 50)
        void_call(timer.stop)
        set_timestamp(event, i)
        assert call(edit.parentWidget) is None
    assert sys.getrefcount(None) >= before
    assert event.timestamp() == 19_999 and edit.text() == "x"
    assert call(edit.text) == "x"
