"""Offline login against the locally stored password hashes. After repeated wrong
passwords the account waits (the message gives the time to try again; the check runs on
this thread, so it refuses rather than sleeps) and then is locked until a supervisor or
technician unlocks it here ("Mở khóa tài khoản…").

"Tập huấn…" leaves the station for training mode (ui.training_app): the dialog closes with
``training_requested`` set and the caller opens the training station instead."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import AccountService, ClerkInfo
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from ui.password_dialog import ChangePasswordDialog
from ui.unlock_dialog import UnlockDialog


class LoginDialog(QDialog):
    def __init__(self, ctx: AppContext, agency_name: str, parent: QWidget | None = None,
                 *, offer_training: bool = True, training_note: str = "") -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.clerk: ClerkInfo | None = None
        self.training_requested = False
        self.setWindowTitle("Đăng nhập — Một Cửa Offline"
                            + (" — TẬP HUẤN" if ctx.training else ""))
        self.setMinimumWidth(420)

        title = QLabel("Một Cửa Offline")
        title.setObjectName("pageTitle")
        subtitle = QLabel(agency_name or "Bộ phận tiếp nhận và trả kết quả")
        subtitle.setObjectName("hint")
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)

        form = QFormLayout()
        form.addRow("&Tên đăng nhập:", self.username)
        form.addRow("&Mật khẩu:", self.password)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Đăng nhập")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Thoát")
        buttons.accepted.connect(self._login)
        buttons.rejected.connect(self.reject)
        self.unlock_button = QPushButton("Mở &khóa tài khoản…")
        self.unlock_button.setAutoDefault(False)
        self.unlock_button.clicked.connect(self._open_unlock)
        buttons.addButton(self.unlock_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.training_button: QPushButton | None = None
        if offer_training and not ctx.training:
            self.training_button = QPushButton("Tập &huấn…")
            self.training_button.setAutoDefault(False)
            self.training_button.setToolTip(
                "Mở chế độ tập huấn: dữ liệu riêng, cổng tỉnh giả lập, giấy tờ in ra không có "
                "giá trị; hồ sơ thật của quầy không bị đụng tới")
            self.training_button.clicked.connect(self._choose_training)
            buttons.addButton(self.training_button, QDialogButtonBox.ButtonRole.ResetRole)
        note = QLabel(training_note)
        note.setObjectName("banner")
        note.setWordWrap(True)
        note.setVisible(bool(training_note))

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.username.setFocus()

    def _login(self) -> None:
        try:
            clerk = AccountService(self.ctx).authenticate(self.username.text(),
                                                          self.password.text())
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            self.password.selectAll()
            self.password.setFocus()
            return
        if clerk.must_change_password:
            change = ChangePasswordDialog(self.ctx, clerk, self, current=self.password.text())
            if change.exec() != QDialog.DialogCode.Accepted or change.updated is None:
                self.error.setText("Cần đặt mật khẩu mới trước khi làm việc.")
                self.password.clear()
                self.password.setFocus()
                return
            clerk = change.updated
        self.clerk = clerk
        self.accept()

    def _choose_training(self) -> None:
        self.training_requested = True
        self.reject()

    def _open_unlock(self) -> None:
        dialog = UnlockDialog(self.ctx, self.username.text().strip(), self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.unlocked is not None:
            self.error.setText(f"Đã mở khóa tài khoản “{dialog.unlocked.username}”; "
                               "hãy đăng nhập lại.")
            self.password.clear()
            self.password.setFocus()
