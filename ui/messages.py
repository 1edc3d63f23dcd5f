"""The app's own small dialogs, with Vietnamese buttons and keyboard-first defaults:
errors, confirmations, a question with named choices, and a line or a paragraph of text
(instead of QInputDialog, whose OK/Cancel are English)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

_ICONS = {"question": QMessageBox.Icon.Question, "warning": QMessageBox.Icon.Warning,
          "info": QMessageBox.Icon.Information}


def error(parent: QWidget | None, message: str, title: str = "Không thực hiện được") -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok,
                      parent)
    box.button(QMessageBox.StandardButton.Ok).setText("Đã hiểu")
    box.exec()


def confirm(parent: QWidget | None, message: str, title: str = "Xác nhận",
            yes: str = "Đồng ý", no: str = "Quay lại") -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, title, message,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.button(QMessageBox.StandardButton.Yes).setText(yes)
    box.button(QMessageBox.StandardButton.No).setText(no)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def info(parent: QWidget | None, message: str, title: str = "Thông báo") -> None:
    box = QMessageBox(QMessageBox.Icon.Information, title, message,
                      QMessageBox.StandardButton.Ok, parent)
    box.button(QMessageBox.StandardButton.Ok).setText("Đóng")
    box.exec()


class Question(QMessageBox):
    """A question whose answers are named: ``choices`` are (key, Vietnamese label) in
    order; ``default`` is what Enter means (the first by default), ``escape`` what Esc
    and the close button mean (the last by default)."""

    def __init__(self, parent: QWidget | None, title: str, text: str,
                 choices: Sequence[tuple[str, str]], icon: str = "question",
                 default: str | None = None, escape: str | None = None) -> None:
        super().__init__(_ICONS[icon], title, text, QMessageBox.StandardButton.NoButton, parent)
        self._escape_key = escape or choices[-1][0]
        self._keys: dict[object, str] = {}
        for key, label in choices:
            role = (QMessageBox.ButtonRole.RejectRole if key == self._escape_key
                    else QMessageBox.ButtonRole.AcceptRole)
            button = self.addButton(label, role)
            self._keys[button] = key
            if key == (default or choices[0][0]):
                self.setDefaultButton(button)
            if key == self._escape_key:
                self.setEscapeButton(button)

    def key(self) -> str:
        """The key of the button pressed (Esc's when none was)."""
        return self._keys.get(self.clickedButton(), self._escape_key)

    def ask(self) -> str:
        """Ask and wait for the answer."""
        self.exec()
        return self.key()


def ask(parent: QWidget | None, message: str, title: str, choices: Sequence[tuple[str, str]],
        on_answer: Callable[[str], None], *, default: str, escape: str) -> QMessageBox:
    """A ``Question`` shown without blocking (window-modal); ``on_answer(key)`` gets the
    button pressed, and ``escape``'s key for Esc or the box's own close button."""
    box = Question(parent, title, message, choices, default=default, escape=escape)
    box.finished.connect(lambda _: on_answer(box.key()))
    box.open()
    return box


class TextDialog(QDialog):
    """One line or one paragraph of text, e.g. the reason of a refusal."""

    def __init__(self, parent: QWidget | None, title: str, label: str, *,
                 multiline: bool = False, text: str = "", ok: str = "Đồng ý",
                 cancel: str = "Quay lại", required: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.required = required
        self.label = QLabel(label)
        self.label.setWordWrap(True)
        self.edit: QLineEdit | QPlainTextEdit
        if multiline:
            self.edit = QPlainTextEdit(text)
            self.edit.setTabChangesFocus(True)
            self.edit.setMinimumHeight(90)
        else:
            self.edit = QLineEdit(text)
        self.label.setBuddy(self.edit)
        self.ok_btn = QPushButton(ok)
        self.ok_btn.setObjectName("primary")
        cancel_btn = QPushButton(cancel)
        self.ok_btn.clicked.connect(self.accept)
        cancel_btn.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(cancel_btn)
        buttons.addWidget(self.ok_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.edit, 1)
        layout.addLayout(buttons)
        self.ok_btn.setDefault(not multiline)  # Enter in a paragraph is a new line
        self.edit.textChanged.connect(self._update)
        self._update()
        self.resize(520, 260 if multiline else 140)

    def value(self) -> str:
        edit = self.edit
        return (edit.text() if isinstance(edit, QLineEdit) else edit.toPlainText()).strip()

    def _update(self) -> None:
        self.ok_btn.setEnabled(bool(self.value()) or not self.required)


def ask_text(parent: QWidget | None, title: str, label: str, *, multiline: bool = False,
             text: str = "", ok: str = "Đồng ý", required: bool = True) -> str | None:
    """The text entered (stripped), or None when the clerk went back."""
    dialog = TextDialog(parent, title, label, multiline=multiline, text=text, ok=ok,
                        required=required)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.value()
