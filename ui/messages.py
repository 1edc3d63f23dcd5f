"""Message boxes with Vietnamese buttons."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QMessageBox, QWidget


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


def ask(parent: QWidget | None, message: str, title: str, choices: Sequence[tuple[str, str]],
        on_answer: Callable[[str], None], *, default: str, escape: str) -> QMessageBox:
    """A question with the caller's own Vietnamese buttons, ``choices`` as (key, label),
    shown without blocking (window-modal); ``on_answer(key)`` gets the button pressed, and
    ``escape``'s key for Esc or the box's own close button."""
    box = QMessageBox(QMessageBox.Icon.Question, title, message,
                      QMessageBox.StandardButton.NoButton, parent)
    keys = {}
    for key, label in choices:
        role = (QMessageBox.ButtonRole.RejectRole if key == escape
                else QMessageBox.ButtonRole.AcceptRole)
        button = box.addButton(label, role)
        keys[button] = key
        if key == default:
            box.setDefaultButton(button)
        if key == escape:
            box.setEscapeButton(button)
    box.finished.connect(lambda _: on_answer(keys.get(box.clickedButton(), escape)))
    box.open()
    return box
