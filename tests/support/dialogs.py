"""Answering the app's own modal dialogs from a test: they run their own event loop, so
the answer is scheduled before the action that opens them."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLineEdit

from ui.messages import TextDialog


def answer_text(text: str | None, tries: int = 500) -> None:
    """Type ``text`` into the next TextDialog and accept it (None: go back)."""

    def step(left: int) -> None:
        dialog = next((w for w in QApplication.topLevelWidgets()
                       if isinstance(w, TextDialog) and w.isVisible()), None)
        if dialog is None:
            if left:
                QTimer.singleShot(20, lambda: step(left - 1))
            return
        if text is None:
            dialog.reject()
            return
        if isinstance(dialog.edit, QLineEdit):
            dialog.edit.setText(text)
        else:
            dialog.edit.setPlainText(text)
        dialog.ok_btn.click()

    QTimer.singleShot(0, lambda: step(tries))
