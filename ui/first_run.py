"""First run on a new counter PC: the technician configures the station and accounts."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import AccountService, Role, check_new_clerk
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.station import StationInfo, StationService, validate_station


def _password() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class FirstRunDialog(QDialog):
    """Station settings, the technician's account and the first counter clerk's account."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Thiết lập lần đầu — Một Cửa Offline")
        self.setMinimumWidth(640)

        intro = QLabel(
            "Máy quầy này chưa được thiết lập. Kỹ thuật viên nhập thông tin cơ quan, số hiệu "
            "quầy (1–9, mỗi quầy của cùng cơ quan một số khác nhau) và tạo tài khoản."
        )
        intro.setWordWrap(True)
        intro.setObjectName("hint")

        self.agency_code = QLineEdit()
        self.agency_code.setPlaceholderText("ví dụ 000.00.12.H12")
        self.agency_name = QLineEdit()
        self.agency_name.setPlaceholderText("ví dụ UBND XÃ NÀ PHẶC")
        self.parent_name = QLineEdit()
        self.parent_name.setPlaceholderText("ví dụ UBND TỈNH THÁI NGUYÊN")
        self.place_name = QLineEdit()
        self.place_name.setPlaceholderText("ví dụ Nà Phặc")
        self.station_digit = QSpinBox()
        self.station_digit.setRange(1, 9)
        self.page_size = QComboBox()
        self.page_size.addItems(["A4", "A5"])
        self.tracking_url = QLineEdit()
        self.tracking_url.setPlaceholderText("địa chỉ tra cứu hồ sơ của tỉnh (không bắt buộc)")

        station_box = QGroupBox("Cơ quan và quầy")
        form = QFormLayout(station_box)
        form.addRow("Mã cơ quan (mã định danh):", self.agency_code)
        form.addRow("Tên cơ quan:", self.agency_name)
        form.addRow("Cơ quan cấp trên:", self.parent_name)
        form.addRow("Địa danh:", self.place_name)
        form.addRow("Số hiệu quầy:", self.station_digit)
        form.addRow("Khổ giấy biên nhận:", self.page_size)
        form.addRow("Trang tra cứu:", self.tracking_url)

        self.tech_user = QLineEdit("kythuat")
        self.tech_name = QLineEdit()
        self.tech_pass = _password()
        tech_box = QGroupBox("Tài khoản kỹ thuật viên")
        form = QFormLayout(tech_box)
        form.addRow("Tên đăng nhập:", self.tech_user)
        form.addRow("Họ và tên:", self.tech_name)
        form.addRow("Mật khẩu:", self.tech_pass)

        self.clerk_user = QLineEdit()
        self.clerk_name = QLineEdit()
        self.clerk_pass = _password()
        clerk_box = QGroupBox("Tài khoản cán bộ tiếp nhận đầu tiên")
        form = QFormLayout(clerk_box)
        form.addRow("Tên đăng nhập:", self.clerk_user)
        form.addRow("Họ và tên:", self.clerk_name)
        form.addRow("Mật khẩu:", self.clerk_pass)

        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("&Lưu thiết lập")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Thoát")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(station_box)
        layout.addWidget(tech_box)
        layout.addWidget(clerk_box)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _save(self) -> None:
        accounts = AccountService(self.ctx)
        info = StationInfo(
            agency_code=self.agency_code.text(),
            agency_name=self.agency_name.text(),
            parent_name=self.parent_name.text(),
            place_name=self.place_name.text(),
            station_digit=self.station_digit.value(),
            receipt_page_size=self.page_size.currentText(),
            tracking_url=self.tracking_url.text(),
        )
        try:
            validate_station(info)
            if not self.clerk_user.text().strip():
                raise DomainError("Hãy tạo tài khoản cho cán bộ tiếp nhận đầu tiên.",
                                  "first clerk missing")
            # Check both accounts before creating either, so a typo leaves nothing behind.
            check_new_clerk(self.tech_user.text(), self.tech_name.text(), self.tech_pass.text())
            check_new_clerk(self.clerk_user.text(), self.clerk_name.text(),
                            self.clerk_pass.text())
            if self.tech_user.text().strip().lower() == self.clerk_user.text().strip().lower():
                raise DomainError("Hai tài khoản phải có tên đăng nhập khác nhau.", "same user")
            tech = accounts.create_clerk(self.tech_user.text(), self.tech_name.text(),
                                         self.tech_pass.text(), Role.TECHNICIAN)
            accounts.create_clerk(self.clerk_user.text(), self.clerk_name.text(),
                                  self.clerk_pass.text(), Role.CLERK, created_by=tech.id)
            StationService(self.ctx).save(info, clerk_id=tech.id)
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            return
        self.accept()
