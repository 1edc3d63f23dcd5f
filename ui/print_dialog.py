"""The print picker in Vietnamese (instead of Qt's English QPrintDialog): printer, number
of copies, paper. Keyboard first: the printer list has the focus, Tab moves on, Enter
prints, Esc goes back."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.printers import PrinterChoice
from desktop_app.printing.job import MAX_COPIES, Paper

PAPER_LABELS: dict[Paper, str] = {"A4": "A4 (210 × 297 mm)", "A5": "A5 (148 × 210 mm)"}


@dataclass(frozen=True)
class PrintSettings:
    printer: str  # "" lets the system choose its default printer
    copies: int
    paper: Paper


def printer_label(name: str, choice: PrinterChoice) -> str:
    tags = []
    if name == choice.provisioned:
        tags.append("máy in biên nhận của quầy")
    if name == choice.default:
        tags.append("mặc định")
    return f"{name}  ({', '.join(tags)})" if tags else name


def copies_hint(holds_both_copies: bool) -> str:
    if holds_both_copies:
        return ("Mỗi bản in gồm đủ Liên 1 (lưu tại bộ phận một cửa) và Liên 2 (giao người "
                "nộp hồ sơ); thường chỉ cần 1 bản.")
    return "Số lần in cả tài liệu."


def missing_printer_text(choice: PrinterChoice) -> str:
    fallback = choice.preselected
    then = f"đang chọn “{fallback}”" if fallback else "sẽ in ra máy in mặc định của hệ thống"
    return (f"Máy in biên nhận đã cấu hình cho quầy “{choice.provisioned}” chưa được cài "
            f"trên máy tính này; {then}. Hãy báo kỹ thuật viên.")


class PrintDialog(QDialog):
    def __init__(self, choice: PrinterChoice, paper: Paper, holds_both_copies: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choice = choice
        self.setWindowTitle("In phiếu")

        self.printer = QComboBox()
        for name in choice.installed:
            self.printer.addItem(printer_label(name, choice), name)
        if choice.provisioned_missing:
            # Shown so the clerk sees why it is not used, but it cannot be picked.
            self.printer.addItem(f"{choice.provisioned}  (chưa cài trên máy này)", None)
            item = self.printer.model().item(self.printer.count() - 1)  # type: ignore[attr-defined]
            item.setEnabled(False)
        if not choice.installed:
            self.printer.insertItem(0, "Máy in mặc định của hệ thống", "")
        index = self.printer.findData(choice.preselected)
        self.printer.setCurrentIndex(max(index, 0))

        self.copies = QSpinBox()
        self.copies.setRange(1, MAX_COPIES)
        self.copies.setValue(1)
        self.copies.setSuffix(" bản")
        self.paper = QComboBox()
        for size, label in PAPER_LABELS.items():
            self.paper.addItem(label, size)
        self.paper.setCurrentIndex(self.paper.findData(paper))

        form = QFormLayout()
        form.addRow("&Máy in:", self.printer)
        self.missing = QLabel(missing_printer_text(choice) if choice.provisioned_missing else "")
        self.missing.setObjectName("error")
        self.missing.setWordWrap(True)
        self.missing.setVisible(choice.provisioned_missing)
        form.addRow("", self.missing)
        form.addRow("Số &bản in:", self.copies)
        hint = QLabel(copies_hint(holds_both_copies))
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        form.addRow("", hint)
        form.addRow("&Khổ giấy:", self.paper)
        paper_hint = QLabel("In đúng cỡ thật (100 %), không co giãn theo lề máy in.")
        paper_hint.setObjectName("hint")
        paper_hint.setWordWrap(True)
        form.addRow("", paper_hint)

        self.ok = QPushButton("&In")
        self.ok.setObjectName("primary")
        self.ok.setDefault(True)
        self.ok.setAutoDefault(True)
        self.ok.setToolTip("In phiếu ra máy in đã chọn")
        cancel = QPushButton("&Hủy  (Esc)")
        cancel.setToolTip("Không in, quay lại xem phiếu")
        cancel.setAutoDefault(False)
        self.ok.clicked.connect(self.accept)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(cancel)
        buttons.addWidget(self.ok)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.setMinimumWidth(460)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # After QDialog's own show handling, which would give the focus to the default
        # button: the clerk starts at the printer list.
        self.printer.setFocus()

    def settings(self) -> PrintSettings:
        printer = self.printer.currentData()
        paper = self.paper.currentData()
        return PrintSettings(printer if isinstance(printer, str) else "", self.copies.value(),
                             paper if paper in PAPER_LABELS else "A4")
