"""Changing one's own password: at will (F12), or required after a one-time password.
At will, the same dialog also keeps the work phone and e-mail printed on the supplement
request (Mẫu 02) and the refusal (Mẫu 03) as the official to contact."""

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

from desktop_app.accounts import MIN_PASSWORD, AccountService, ClerkInfo
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError


def _password() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class ChangePasswordDialog(QDialog):
    """``current`` is given when the clerk has just typed it at the login (a one-time
    password that must be replaced before working)."""

    def __init__(self, ctx: AppContext, clerk: ClerkInfo, parent: QWidget | None = None,
                 current: str | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.clerk = clerk
        self.updated: ClerkInfo | None = None
        self._given = current
        self.setWindowTitle("Đổi mật khẩu — Một Cửa Offline")
        self.setMinimumWidth(440)
        if current is not None:
            text = (f"{clerk.full_name}: mật khẩu vừa dùng là mật khẩu dùng một lần. Hãy đặt "
                    "mật khẩu riêng trước khi làm việc.")
        else:
            text = f"Đổi mật khẩu của {clerk.full_name} ({clerk.username})."
        text += f" Mật khẩu mới có ít nhất {MIN_PASSWORD} ký tự."
        intro = QLabel(text)
        intro.setWordWrap(True)
        intro.setObjectName("hint")
        self.current = _password()
        self.new = _password()
        self.confirm = _password()
        form = QFormLayout()
        if current is None:
            form.addRow("Mật khẩu &hiện tại:", self.current)
        form.addRow("Mật khẩu &mới:", self.new)
        form.addRow("&Nhập lại mật khẩu mới:", self.confirm)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Đổi mật khẩu")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(
            "Thoát" if current is not None else "Huỷ")
        buttons.accepted.connect(self._change)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        if current is None:
            self._add_contact(layout)
        layout.addWidget(buttons)
        (self.new if current is not None else self.current).setFocus()

    def _add_contact(self, layout: QVBoxLayout) -> None:
        stored = AccountService(self.ctx).clerk(self.clerk.id) or self.clerk
        hint = QLabel("Số điện thoại và thư điện tử in trên phiếu yêu cầu bổ sung và phiếu "
                      "từ chối để người dân liên hệ (để trống: phiếu in dòng chấm để ghi tay).")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        self.phone = QLineEdit(stored.phone)
        self.phone.setPlaceholderText("0208 3888 999")
        self.email = QLineEdit(stored.email)
        self.email.setPlaceholderText("canbo@naphac.gov.vn")
        form = QFormLayout()
        form.addRow("Số điện thoại &cơ quan:", self.phone)
        form.addRow("Thư điện &tử:", self.email)
        self.save_contact = QPushButton("&Lưu liên hệ")
        self.save_contact.setAutoDefault(False)  # Return still changes the password
        self.save_contact.clicked.connect(self._save_contact)
        form.addRow("", self.save_contact)
        self.contact_status = QLabel()
        self.contact_status.setWordWrap(True)
        layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(self.contact_status)

    def _save_contact(self) -> None:
        try:
            info = AccountService(self.ctx).update_contact(self.clerk.id, self.phone.text(),
                                                           self.email.text())
        except DomainError as exc:
            self._status("error", exc.message_vi)
            return
        self.phone.setText(info.phone)
        self.email.setText(info.email)
        self._status("hint", "Đã lưu liên hệ in trên phiếu.")

    def _status(self, kind: str, text: str) -> None:
        self.contact_status.setObjectName(kind)
        self.contact_status.style().polish(self.contact_status)  # the style follows the name
        self.contact_status.setText(text)

    def _change(self) -> None:
        if self.new.text() != self.confirm.text():
            self.error.setText("Hai lần nhập mật khẩu mới không giống nhau.")
            self.confirm.selectAll()
            self.confirm.setFocus()
            return
        current = self._given if self._given is not None else self.current.text()
        try:
            self.updated = AccountService(self.ctx).change_password(self.clerk.id, current,
                                                                    self.new.text())
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            return
        self.accept()
