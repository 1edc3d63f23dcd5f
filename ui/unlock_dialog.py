"""Lifting a login lock at the counter: a supervisor or technician types the locked
username and their own credentials (AccountService.unlock records who did it)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import AccountService, ClerkInfo
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError


class UnlockDialog(QDialog):
    def __init__(self, ctx: AppContext, username: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.unlocked: ClerkInfo | None = None
        self.setWindowTitle("Mở khóa tài khoản — Một Cửa Offline")
        self.setMinimumWidth(440)
        intro = QLabel("Lãnh đạo hoặc kỹ thuật viên nhập tài khoản của mình để mở khóa "
                       "tài khoản bị khóa do nhập sai mật khẩu nhiều lần.")
        intro.setWordWrap(True)
        intro.setObjectName("hint")
        self.username = QLineEdit(username)
        self.by_username = QLineEdit()
        self.by_password = QLineEdit()
        self.by_password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("Tài khoản cần &mở khóa:", self.username)
        form.addRow("Tên đăng nhập của &lãnh đạo / kỹ thuật viên:", self.by_username)
        form.addRow("Mật &khẩu của lãnh đạo / kỹ thuật viên:", self.by_password)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Mở khóa")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Đóng")
        buttons.accepted.connect(self._unlock)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        (self.by_username if username else self.username).setFocus()

    def _unlock(self) -> None:
        try:
            self.unlocked = AccountService(self.ctx).unlock(
                self.username.text(), self.by_username.text(), self.by_password.text())
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            self.by_password.clear()
            self.by_password.setFocus()
            return
        self.accept()
