"""F9 → "Người ký": who signs Mẫu 04 and 05 for the agency (technicians edit, clerks see)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import ClerkInfo, Role
from desktop_app.context import AppContext
from desktop_app.signers import FALLBACK, Signature, SignedKind, SignerBlock, SignerService
from desktop_app.station import StationService
from ui import messages
from ui.workers import Runner


class _SignerForm(QGroupBox):
    def __init__(self, kind: SignedKind) -> None:
        super().__init__(kind.label_vi)
        self.kind = kind
        self.authority = QLineEdit()
        self.authority.setPlaceholderText("TM. ỦY BAN NHÂN DÂN")
        self.delegation = QLineEdit()
        self.delegation.setPlaceholderText("KT. CHỦ TỊCH (khi cấp phó ký; để trống nếu "
                                           "Chủ tịch ký)")
        self.title = QLineEdit()
        self.title.setPlaceholderText("CHỦ TỊCH / PHÓ CHỦ TỊCH")
        self.name = QLineEdit()
        self.name.setPlaceholderText("Họ và tên người ký")
        form = QFormLayout(self)
        form.addRow("Thẩm quyền:", self.authority)
        form.addRow("Ký thay:", self.delegation)
        form.addRow("Chức vụ:", self.title)
        form.addRow("Họ tên:", self.name)

    def show_signature(self, signature: Signature) -> None:
        # A block the province gave without a name shows its lines, for the name to be added.
        block = SignerBlock(title="") if signature is FALLBACK else signature.block
        self.authority.setText(block.authority)
        self.delegation.setText(block.delegation)
        self.title.setText(block.title)
        self.name.setText(block.name)

    def block(self) -> SignerBlock:
        return SignerBlock(self.authority.text(), self.delegation.text(), self.title.text(),
                           self.name.text())


class SignerTab(QWidget):
    def __init__(self, ctx: AppContext, clerk: ClerkInfo, runner: Runner) -> None:
        super().__init__()
        self.ctx = ctx
        self.clerk = clerk
        self.runner = runner
        technician = clerk.role is Role.TECHNICIAN
        hint = QLabel("Mẫu 04 và Mẫu 05 nhân danh cơ quan nên do người đứng đầu (hoặc cấp phó "
                      "ký thay) ký và đóng dấu. Khối chữ ký in đúng các dòng dưới đây; mẫu "
                      "nào chưa có người ký thì phiếu in “(chưa cấu hình người ký)”.")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        self.forms = {kind: _SignerForm(kind) for kind in SignedKind}
        self.save_btn = QPushButton("Lưu &người ký")
        self.save_btn.setToolTip("Lưu khối chữ ký của Mẫu 04 và 05 cho cả cơ quan (mọi quầy "
                                 "dùng chung)")
        self.save_btn.clicked.connect(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        for form in self.forms.values():
            form.setEnabled(technician)
            layout.addWidget(form)
        self.save_btn.setEnabled(technician)
        layout.addWidget(self.save_btn, 0, Qt.AlignmentFlag.AlignRight)
        if not technician:
            layout.addWidget(QLabel("Chỉ kỹ thuật viên được thay đổi người ký."))
        layout.addStretch(1)
        runner.submit(self._load, self._show, self._failed)

    def _service(self) -> SignerService:
        return SignerService(self.ctx, StationService(self.ctx).require().agency_code)

    def _load(self) -> dict[SignedKind, Signature]:
        return self._service().all()

    def _show(self, signatures: dict[SignedKind, Signature]) -> None:
        for kind, signature in signatures.items():
            self.forms[kind].show_signature(signature)

    def save(self) -> None:
        # Forms left wholly empty are not saved (nothing configured for them yet).
        wanted = {kind: form.block() for kind, form in self.forms.items()
                  if any(form.block().title_lines()) or form.block().name.strip()}

        def save() -> dict[SignedKind, Signature]:
            service = self._service()
            for kind, block in wanted.items():
                service.save(kind, block, by=self.clerk.username)
            return service.all()

        self.save_btn.setEnabled(False)
        self.runner.submit(save, self._saved, self._failed)

    def _saved(self, signatures: dict[SignedKind, Signature]) -> None:
        self.save_btn.setEnabled(True)
        self._show(signatures)
        done = [k.value for k, s in signatures.items() if s.configured]
        messages.info(self, "Đã lưu người ký cho Mẫu " + ", ".join(done) + "."
                      if done else "Chưa có mẫu nào có người ký.")

    def _failed(self, message: str, detail: str) -> None:
        self.save_btn.setEnabled(self.clerk.role is Role.TECHNICIAN)
        messages.error(self, message)
