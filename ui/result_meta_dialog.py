"""The legal metadata of a paper result before it is scanned (F7, "Số hóa kết quả giấy"):
name, number, signing date, signer. The check itself is ``desktop_app``'s; the dialog
stays open with its message until the clerk corrects the fields or gives up."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from desktop_app.domain.errors import DomainError
from desktop_app.intake.counter_results import ResultMeta


class ResultMetaDialog(QDialog):
    def __init__(self, code: str, suggested_name: str,
                 check: Callable[[ResultMeta], ResultMeta],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Số hóa kết quả giấy — {code}")
        self.check = check
        self.meta: ResultMeta | None = None
        self.name = QLineEdit(suggested_name)
        self.name.setAccessibleName("Tên giấy tờ")
        self.number = QLineEdit()
        self.number.setPlaceholderText("Ví dụ: 45/GCN-UBND")
        self.number.setAccessibleName("Số văn bản")
        self.signed_on = QLineEdit()
        self.signed_on.setPlaceholderText("ngày/tháng/năm, ví dụ 20/10/2023")
        self.signed_on.setAccessibleName("Ngày ký")
        self.signer = QLineEdit()
        self.signer.setAccessibleName("Người ký")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setObjectName("error")
        self.error.setVisible(False)
        form = QFormLayout(self)
        form.addRow(QLabel("Nhập thông tin trên giấy tờ kết quả, rồi quét hoặc nhập tệp."))
        form.addRow("&Tên giấy tờ:", self.name)
        form.addRow("&Số văn bản:", self.number)
        form.addRow("&Ngày ký:", self.signed_on)
        form.addRow("Người &ký:", self.signer)
        form.addRow(self.error)
        self.box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                    | QDialogButtonBox.StandardButton.Cancel)
        self.box.button(QDialogButtonBox.StandardButton.Ok).setText("Tiếp tục: quét giấy tờ")
        self.box.button(QDialogButtonBox.StandardButton.Cancel).setText("Quay lại")
        self.box.accepted.connect(self.accept)
        self.box.rejected.connect(self.reject)
        form.addRow(self.box)
        (self.number if suggested_name else self.name).setFocus()

    def accept(self) -> None:
        try:
            self.meta = self.check(ResultMeta.from_form(
                self.name.text(), self.number.text(), self.signed_on.text(),
                self.signer.text()))
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            self.error.setVisible(True)
            return
        super().accept()
