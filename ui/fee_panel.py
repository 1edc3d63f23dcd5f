"""Fees on screen: what the citizen asks for on the lines charged per copy or per page
(intake), the amount owed as the schedule computes it, and the money collected (intake
and the return counter). The amounts come from ``desktop_app.domain.fees``; nothing
here is stored until the clerk presses Receive or Trả kết quả."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.fees import (
    FeeBasis,
    FeeCount,
    FeeRule,
    PaymentEntry,
    PaymentMethod,
    assess,
)
from desktop_app.domain.text import vnd
from desktop_app.fees import fee_key
from ui.style import set_state


def _spin(low: int, high: int, value: int, suffix: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setSuffix(suffix)
    spin.setAccelerated(True)
    return spin


class CountTable(QWidget):
    """The documents one counted line is charged for: copies (and pages) of each."""

    changed = Signal()

    def __init__(self, rule: FeeRule) -> None:
        super().__init__()
        self.rule = rule
        per_page = rule.basis is FeeBasis.PAGE
        self.table = QTableWidget(0, 2 if per_page else 1)
        self.table.setHorizontalHeaderLabels(["Số bản", "Số trang mỗi bản"][:2 if per_page
                                                                           else 1])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setTabKeyNavigation(False)  # Tab walks the spin boxes, not the cells
        self.table.setMaximumHeight(110)
        self.add_btn = QPushButton("Thêm giấy tờ")
        self.add_btn.setToolTip("Thêm một giấy tờ khác cần tính phí (số bản, số trang)")
        self.remove_btn = QPushButton("Bớt")
        self.remove_btn.setToolTip("Bỏ giấy tờ ở dòng cuối")
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_btn)
        buttons.addWidget(self.remove_btn)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.add_btn.clicked.connect(lambda: self.add_row())
        self.remove_btn.clicked.connect(self.remove_row)

    def add_row(self, count: FeeCount | None = None) -> None:
        count = count or FeeCount(1, 1)
        row = self.table.rowCount()
        self.table.insertRow(row)
        copies = _spin(0, 999, count.copies, " bản")
        copies.valueChanged.connect(self.changed)
        self.table.setCellWidget(row, 0, copies)
        if self.table.columnCount() == 2:
            pages = _spin(0, 9999, count.pages, " trang")
            pages.valueChanged.connect(self.changed)
            self.table.setCellWidget(row, 1, pages)
        self.remove_btn.setEnabled(self.table.rowCount() > 1)
        self.changed.emit()

    def remove_row(self) -> None:
        if self.table.rowCount() > 1:
            self.table.removeRow(self.table.rowCount() - 1)
        self.remove_btn.setEnabled(self.table.rowCount() > 1)
        self.changed.emit()

    def counts(self) -> list[FeeCount]:
        out = []
        for row in range(self.table.rowCount()):
            copies = self.table.cellWidget(row, 0)
            pages = self.table.cellWidget(row, 1) if self.table.columnCount() == 2 else None
            assert isinstance(copies, QSpinBox)
            out.append(FeeCount(copies.value(),
                                pages.value() if isinstance(pages, QSpinBox) else 1))
        return out

    def set_counts(self, counts: list[FeeCount]) -> None:
        self.table.setRowCount(0)
        for c in counts or [FeeCount(1, 1)]:
            self.add_row(c)


class PaymentForm(QWidget):
    """Money collected now: a check box ("unchecked" = nothing collected now) and, when
    ticked, the amount, method, receipt number, payer and reason. The amount follows
    what is owed until the clerk changes it; a different amount asks for its reason,
    which the service then requires."""

    changed = Signal()
    toggled = Signal(bool)

    def __init__(self, title: str) -> None:
        super().__init__()
        self.check = QCheckBox(title)
        self.check.toggled.connect(self.toggled)
        self.owed = 0
        self._follow = True
        self.amount = _spin(0, 100_000_000, 0, " đồng")
        self.amount.setSingleStep(1000)
        # 16.000 đồng, as the documents print it (not the C locale's 16,000).
        self.amount.setLocale(QLocale(QLocale.Language.Vietnamese, QLocale.Country.Vietnam))
        self.amount.setGroupSeparatorShown(True)
        self.method = QComboBox()
        for m in PaymentMethod:
            self.method.addItem(m.label_vi, m.value)
        self.receipt = QLineEdit()
        self.receipt.setPlaceholderText("Số biên lai thu phí, lệ phí hoặc mã giao dịch")
        self.receipt.setMaxLength(60)
        self.payer = QLineEdit()
        self.payer.setPlaceholderText("Để trống: người đang nộp hồ sơ / nhận kết quả")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Bắt buộc khi số tiền khác số phải nộp (miễn, giảm…)")
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        # Unchecked, this is one line: the fields show only when money is taken.
        self.fields = QFrame()
        self.fields.setFrameShape(QFrame.Shape.StyledPanel)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.check)
        outer.addWidget(self.fields)
        form = QFormLayout(self.fields)
        form.addRow("Số tiền:", self.amount)
        form.addRow("Hình thức:", self.method)
        form.addRow("Biên lai số:", self.receipt)
        form.addRow("Người nộp tiền:", self.payer)
        form.addRow("Lý do (nếu khác):", self.reason)
        form.addRow(self.hint)
        self.amount.valueChanged.connect(self._amount_edited)
        for edit in (self.receipt, self.payer, self.reason):
            edit.textChanged.connect(self.changed)
        self.method.currentIndexChanged.connect(self.changed)
        self.toggled.connect(self.fields.setVisible)
        self.fields.setVisible(False)
        self.toggled.connect(lambda _: self._show_hint())
        self.toggled.connect(lambda _: self.changed.emit())

    # Qt's names, as the check box has them.
    def isChecked(self) -> bool:
        return self.check.isChecked()

    def setChecked(self, on: bool) -> None:
        self.check.setChecked(on)

    def _amount_edited(self, _value: int) -> None:
        if not self.amount.signalsBlocked():
            self._follow = False
        self._show_hint()
        self.changed.emit()

    def set_owed(self, owed: int) -> None:
        self.owed = owed
        if self._follow:
            self.amount.blockSignals(True)
            self.amount.setValue(owed)
            self.amount.blockSignals(False)
        self._show_hint()

    def _show_hint(self) -> None:
        differs = self.isChecked() and self.amount.value() != self.owed
        self.hint.setText(f"Số tiền khác số phải nộp ({vnd(self.owed)}): ghi lý do."
                          if differs else "")
        self.hint.setVisible(differs)
        set_state(self.reason, "warn" if differs and not self.reason.text().strip() else "")

    def entry(self) -> PaymentEntry | None:
        if not self.isChecked():
            return None
        return PaymentEntry(self.amount.value(), self.receipt.text(),
                            PaymentMethod(self.method.currentData()), self.payer.text(),
                            self.reason.text())

    def fill(self, entry: PaymentEntry | None) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(entry is not None)
        self.check.blockSignals(False)
        self.fields.setVisible(entry is not None)
        if entry is None:
            self.clear()
            return
        self._follow = False
        self.amount.blockSignals(True)
        self.amount.setValue(entry.amount)
        self.amount.blockSignals(False)
        self.method.setCurrentIndex(max(self.method.findData(entry.method.value), 0))
        self.receipt.setText(entry.receipt_number)
        self.payer.setText(entry.payer_name)
        self.reason.setText(entry.reason)
        self._show_hint()

    def clear(self) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(False)
        self.check.blockSignals(False)
        self.fields.setVisible(False)
        self._follow = True
        self.amount.blockSignals(True)
        self.amount.setValue(self.owed)
        self.amount.blockSignals(False)
        self.method.setCurrentIndex(0)
        for edit in (self.receipt, self.payer, self.reason):
            edit.clear()
        self._show_hint()


class FeePanel(QGroupBox):
    """Intake: the schedule of the chosen procedure, counts for the counted lines, the
    total owed, and the money collected with Receive."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__("Phí, lệ phí")
        self.rules: tuple[FeeRule, ...] = ()
        self.tables: dict[str, CountTable] = {}
        self.amounts: dict[str, QLabel] = {}
        self.lines = QVBoxLayout()
        self.lines.setContentsMargins(0, 0, 0, 0)
        self.total = QLabel()
        self.total.setTextFormat(Qt.TextFormat.RichText)
        self.payment = PaymentForm("Đã thu tiền &ngay khi tiếp nhận")
        layout = QVBoxLayout(self)
        layout.addLayout(self.lines)
        layout.addWidget(self.total)
        layout.addWidget(self.payment)
        self.payment.changed.connect(self.changed)

    def show_rules(self, rules: tuple[FeeRule, ...]) -> None:
        self.rules = rules
        self.tables = {}
        while self.lines.count():
            item = self.lines.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.amounts = {}
        for rule in rules:
            label = QLabel(f"<b>{escape(rule.name)}</b>: {escape(rule.rate_text())}")
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setToolTip(rule.note)
            amount = QLabel()
            amount.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.amounts[fee_key(rule)] = amount
            row = QWidget()
            row_layout = QHBoxLayout(row)
            row_layout.setContentsMargins(0, 0, 0, 0)
            row_layout.addWidget(label, 1)
            row_layout.addWidget(amount)
            self.lines.addWidget(row)
            if rule.counted:
                table = CountTable(rule)
                table.set_counts([])
                table.changed.connect(self._recompute)
                self.tables[fee_key(rule)] = table
                self.lines.addWidget(table)
        if not rules:
            self.lines.addWidget(QLabel("Thủ tục này không thu phí, lệ phí."))
        self.payment.setVisible(bool(rules))
        self.payment.clear()
        self._recompute()

    def counts(self) -> dict[str, list[FeeCount]]:
        return {key: table.counts() for key, table in self.tables.items()}

    def set_counts(self, counts: dict[str, list[FeeCount]]) -> None:
        for key, table in self.tables.items():
            table.blockSignals(True)
            table.set_counts(counts.get(key, []))
            table.blockSignals(False)
        self._recompute()

    def owed(self) -> int:
        counts = self.counts()
        return sum(assess(r, counts.get(fee_key(r), ())).amount for r in self.rules)

    def _recompute(self) -> None:
        counts = self.counts()
        for rule in self.rules:
            a = assess(rule, counts.get(fee_key(rule), ()))
            self.amounts[fee_key(rule)].setText(vnd(a.amount) if rule.amount else "Không thu")
        owed = self.owed()
        self.total.setText(f"<b>Tổng số phải nộp: {vnd(owed)}</b>" if self.rules else "")
        self.payment.set_owed(owed)
        self.changed.emit()

    def watch(self, edited: Callable[[], None]) -> None:
        self.changed.connect(edited)
