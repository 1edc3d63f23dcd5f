"""The intake wizard's steps, each a widget that shows and collects one part of the
draft: the procedure picker, the applicant (owner and, when filing for someone else,
the submitter), the components table, fees and delivery, and the review. The wizard
itself (``intake_page``) moves between them and acts on the draft."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import ProcedureInfo
from desktop_app.digitization import DigitizedFile
from desktop_app.domain.citizen_qr import CitizenCard
from desktop_app.domain.dates import parse_birth_date
from desktop_app.domain.text import vnd
from desktop_app.fees import assess_procedure
from desktop_app.intake.drafts import ComponentEntry, IntakeDraft, PersonInfo
from desktop_app.intake.reuse import OnFile
from desktop_app.intake.service import IntakeService
from ui.fee_panel import FeePanel
from ui.style import set_state


class PersonForm(QGroupBox):
    """Name, ID number, birth date, sex, address, phone, email of one person."""

    def __init__(self, title: str, full: bool = True) -> None:
        super().__init__(title)
        self.full_name = QLineEdit()
        self.id_number = QLineEdit()
        self.id_number.setPlaceholderText("12 chữ số")
        self.birth_date = QLineEdit()
        self.birth_date.setPlaceholderText("ngày/tháng/năm")
        self.sex = QComboBox()
        self.sex.addItems(["", "Nam", "Nữ"])
        self.address = QLineEdit()
        self.phone = QLineEdit()
        self.email = QLineEdit()
        form = QFormLayout(self)
        form.addRow("Họ và tên:", self.full_name)
        form.addRow("Số định danh cá nhân:", self.id_number)
        if full:
            form.addRow("Ngày sinh:", self.birth_date)
            form.addRow("Giới tính:", self.sex)
        form.addRow("Địa chỉ:", self.address)
        form.addRow("Số điện thoại:", self.phone)
        if full:
            form.addRow("Thư điện tử:", self.email)

    def fill_from_card(self, card: CitizenCard) -> None:
        self.full_name.setText(card.full_name)
        self.id_number.setText(card.id_number)
        self.birth_date.setText(f"{card.birth_date:%d/%m/%Y}")
        self.sex.setCurrentText(card.sex)
        self.address.setText(card.address)

    def person(self) -> PersonInfo:
        return PersonInfo(
            full_name=self.full_name.text(),
            id_number=self.id_number.text(),
            birth_date=parse_birth_date(self.birth_date.text()),
            sex=self.sex.currentText(),
            address=self.address.text(),
            phone=self.phone.text(),
            email=self.email.text(),
        )

    def clear(self) -> None:
        for edit in (self.full_name, self.id_number, self.birth_date, self.address, self.phone,
                     self.email):
            edit.clear()
        self.sex.setCurrentIndex(0)


class ProcedureStep(QWidget):
    chosen = Signal(str)

    def __init__(self, service: IntakeService, clerk: ClerkInfo) -> None:
        super().__init__()
        self.service = service
        self.clerk = clerk
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            "Gõ tên thủ tục (có dấu hoặc không dấu) hoặc mã thủ tục, ví dụ “khai sinh”, “1.0011”")
        self.search.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        hint = QLabel("↓ để chọn trong danh sách · Enter để chọn thủ tục · Ctrl+D: đánh dấu "
                      "/ bỏ thủ tục hay dùng (★ hiện lên đầu)")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Tìm thủ tục hành chính:"))
        layout.addWidget(self.search)
        layout.addWidget(self.results, 1)
        layout.addWidget(hint)
        self.search.textChanged.connect(self.refresh)
        self.search.returnPressed.connect(self._choose_current)
        self.results.itemActivated.connect(
            lambda item: self.chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.search.installEventFilter(self)
        fav = QShortcut(QKeySequence("Ctrl+D"), self)
        fav.activated.connect(self.toggle_favourite)

    def eventFilter(self, obj: object, event: object) -> bool:
        if (obj is self.search and isinstance(event, QKeyEvent)
                and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_PageDown)):
            self.results.setFocus()
            if self.results.currentRow() < 0 and self.results.count():
                self.results.setCurrentRow(0)
            return True
        return False

    def refresh(self) -> None:
        current = self.current_code()
        self.results.clear()
        for p in self.service.catalog.search(self.search.text(), self.clerk.id):
            star = "★ " if p.favourite else ""
            item = QListWidgetItem(f"{star}{p.name}\n    {p.code} · {p.field_name} · "
                                   f"{p.time_limit_text}")
            item.setData(Qt.ItemDataRole.UserRole, p.code)
            self.results.addItem(item)
            if p.code == current:
                self.results.setCurrentItem(item)
        if self.results.currentRow() < 0 and self.results.count():
            self.results.setCurrentRow(0)

    def current_code(self) -> str | None:
        item = self.results.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _choose_current(self) -> None:
        code = self.current_code()
        if code:
            self.chosen.emit(code)

    def toggle_favourite(self) -> None:
        item = self.results.currentItem()
        if item is None:
            return
        code = item.data(Qt.ItemDataRole.UserRole)
        self.service.catalog.set_favourite(self.clerk.id, code, not item.text().startswith("★"))
        self.refresh()


class ApplicantStep(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.banner = QLabel("Quét mã QR trên thẻ căn cước / CCCD gắn chip của chủ hồ sơ "
                             "(ở bất kỳ bước nào), hoặc nhập tay.")
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.owner = PersonForm("Chủ hồ sơ")
        self.proxy = QCheckBox("Người nộp không phải chủ hồ sơ (&nộp thay)")
        self.submitter = PersonForm("Người nộp hồ sơ", full=False)
        self.submitter.setVisible(False)
        self.proxy.toggled.connect(self.submitter.setVisible)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.owner)
        layout.addWidget(self.proxy)
        layout.addWidget(self.submitter)
        layout.addStretch()

    def clear(self) -> None:
        self.owner.clear()
        self.submitter.clear()
        self.proxy.setChecked(False)
        set_state(self.banner, "")  # the last scan's colour is not the next dossier's
        self.banner.setText("Quét mã QR trên thẻ căn cước / CCCD gắn chip của chủ hồ sơ "
                            "(ở bất kỳ bước nào), hoặc nhập tay.")


COLS = ("Đã nộp", "Thành phần hồ sơ", "Bản chính", "Bản sao CT", "Bản photo",
        "Cần bổ sung / ghi chú", "Bản điện tử")


def files_summary(files: list[DigitizedFile], offered: bool = False) -> str:
    if not files:
        return "Có bản số hóa cũ — Ctrl+R" if offered else "Chưa số hóa"
    pages = sum(f.pages for f in files)
    size = sum(f.size for f in files) / 1_048_576
    parts = f", {len(files)} tệp" if len(files) > 1 else ""
    reused = f" — dùng lại từ {files[0].source_code}" if files[0].source_code else ""
    return f"✔ {pages} trang{parts}, {size:.1f} MB".replace(".", ",") + reused


class ComponentsStep(QWidget):
    digitize_requested = Signal(int)  # row of the component to start with
    reused = Signal(int)  # row whose component took a copy on file (Ctrl+R)
    fetch_offer = Signal(int)  # row whose copy is on the province's system: fetch it first

    def __init__(self) -> None:
        super().__init__()
        self.table = QTableWidget(0, len(COLS))
        self.table.setHorizontalHeaderLabels(COLS)
        header = self.table.horizontalHeader()
        # The component's name gets the room; counts and states take what they need.
        for col in (0, 2, 3, 4, 6):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(5, 170)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        # Rows as tall as their text (a long name wraps), re-measured when columns resize.
        self.table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setMinimumSectionSize(
            self.table.fontMetrics().height() + 14)
        all_btn = QPushButton("Đã nộp đủ các thành phần bắt buộc  (Ctrl+A)")
        all_btn.setToolTip("Đánh dấu đã nộp mọi thành phần có dấu * (từng thành phần: phím "
                           "cách)")
        all_btn.clicked.connect(self.tick_required)
        # One key for the usual case (every required paper is there), instead of a space
        # and an arrow per component; the table's own select-all means nothing here.
        tick_all = QShortcut(QKeySequence("Ctrl+A"), self)
        tick_all.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        tick_all.activated.connect(self.tick_required)
        self.digitize_btn = QPushButton("&Số hóa thành phần đang chọn…  (Ctrl+S)")
        self.digitize_btn.setToolTip("Quét hoặc nhập tệp cho thành phần đang chọn trong bảng")
        self.digitize_btn.clicked.connect(
            lambda: self.digitize_requested.emit(max(0, self.table.currentRow())))
        QShortcut(QKeySequence("Ctrl+S"), self).activated.connect(self.digitize_btn.click)
        # One key instead of a scan: the citizen's copy already digitized for this kind.
        reuse = QShortcut(QKeySequence("Ctrl+R"), self)
        reuse.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        reuse.activated.connect(self.reuse_current)
        self.offer_note = QLabel()
        self.offer_note.setObjectName("banner")
        self.offer_note.setWordWrap(True)
        self.offer_note.setVisible(False)
        self.offers: dict[int, OnFile] = {}
        hint = QLabel("Ctrl+A: đã nộp đủ thành phần bắt buộc · Phím cách: đánh dấu từng thành "
                      "phần · Tab: sang ô kế tiếp · gõ số để sửa số bản · Ctrl+R: dùng lại bản "
                      "số hóa đã có. Thành phần có dấu * là bắt buộc.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.offer_note)
        self.table.currentCellChanged.connect(lambda *_: self._show_offer())
        row = QHBoxLayout()
        row.addWidget(all_btn)
        row.addWidget(self.digitize_btn)
        row.addStretch()
        layout.addLayout(row)
        layout.addWidget(hint)
        self.entries: list[ComponentEntry] = []

    def load(self, entries: list[ComponentEntry]) -> None:
        self.entries = entries
        self.offers = {}
        self.table.setRowCount(len(entries))
        for row, c in enumerate(entries):
            check = QTableWidgetItem()
            check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
                           | Qt.ItemFlag.ItemIsSelectable)
            check.setCheckState(Qt.CheckState.Checked if c.provided else Qt.CheckState.Unchecked)
            self.table.setItem(row, 0, check)
            name = QTableWidgetItem(("* " if c.required else "") + c.name)
            name.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.table.setItem(row, 1, name)
            for col, value in ((2, c.originals), (3, c.certified_copies), (4, c.photocopies)):
                spin = QSpinBox()
                spin.setRange(0, 99)
                spin.setValue(value)
                spin.setFrame(False)
                self.table.setCellWidget(row, col, spin)
            self.table.setItem(row, 5, QTableWidgetItem(c.problem))
            self._show_files(row, c.files)
        if entries:
            self.table.setCurrentCell(0, 0)
        self._show_offer()

    def show_offers(self, offers: dict[int, OnFile]) -> None:
        """Documents of the owner already digitized, by checklist row (desktop_app reuse)."""
        self.offers = {row: o for row, o in offers.items() if row < len(self.entries)}
        for row in range(len(self.entries)):
            self._show_files(row, self.entries[row].files)
        self._show_offer()

    def _show_offer(self) -> None:
        row = self.table.currentRow()
        offer = self.offers.get(row)
        shown = offer is not None and not self.entries[row].files
        self.offer_note.setText(f"“{offer.component_name}”: {offer.label_vi}"
                                if shown and offer else "")
        self.offer_note.setVisible(shown)

    def reuse_current(self) -> bool:
        """Ctrl+R: the current component takes the copy on file instead of a scan (a copy
        on the province's system is downloaded first: ``fetch_offer``)."""
        row = self.table.currentRow()
        offer = self.offers.get(row)
        if offer is None or self.entries[row].files:
            return False
        if offer.where == "province":
            self.fetch_offer.emit(row)
        else:
            self.take_offer(row)
        return True

    def take_offer(self, row: int) -> None:
        offer = self.offers.get(row)
        if offer is None or row >= len(self.entries) or self.entries[row].files:
            return
        self.set_files(row, list(offer.files))
        self._show_offer()
        self.reused.emit(row)

    def _show_files(self, row: int, files: list[DigitizedFile]) -> None:
        item = QTableWidgetItem(files_summary(files, row in self.offers))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        self.table.setItem(row, 6, item)

    def set_files(self, row: int, files: list[DigitizedFile]) -> None:
        """A component was digitized: its files go with the draft, and it counts as given."""
        self.entries[row].files = list(files)
        self._show_files(row, files)
        if files:
            self.table.item(row, 0).setCheckState(Qt.CheckState.Checked)

    def tick_required(self) -> None:
        for row, c in enumerate(self.entries):
            if c.required:
                self.table.item(row, 0).setCheckState(Qt.CheckState.Checked)

    def collect(self) -> list[ComponentEntry]:
        out = []
        for row, c in enumerate(self.entries):
            spins = [self.table.cellWidget(row, col) for col in (2, 3, 4)]
            assert all(isinstance(s, QSpinBox) for s in spins)
            out.append(ComponentEntry(
                code=c.code,
                name=c.name,
                originals=spins[0].value(),  # type: ignore[union-attr]
                certified_copies=spins[1].value(),  # type: ignore[union-attr]
                photocopies=spins[2].value(),  # type: ignore[union-attr]
                required=c.required,
                provided=self.table.item(row, 0).checkState() == Qt.CheckState.Checked,
                problem=(self.table.item(row, 5).text() if self.table.item(row, 5) else ""),
                files=list(c.files),
            ))
        return out


class DeliveryStep(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.fees = FeePanel()
        self.set_count = QSpinBox()
        self.set_count.setRange(1, 99)
        self.set_count.setMaximumWidth(110)
        self.at_counter = QRadioButton("Tại &Bộ phận tiếp nhận và trả kết quả")
        self.by_post = QRadioButton("Qua dịch vụ &bưu chính công ích")
        self.at_counter.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.at_counter)
        group.addButton(self.by_post)
        self.address = QLineEdit()
        self.address.setPlaceholderText("Địa chỉ nhận kết quả qua bưu chính")
        self.address.setEnabled(False)
        self.by_post.toggled.connect(self.address.setEnabled)
        self.note = QPlainTextEdit()
        self.note.setMaximumHeight(70)
        self.note.setTabChangesFocus(True)
        self.appointment = QLabel()
        self.appointment.setObjectName("ok")
        self.appointment.setWordWrap(True)  # a long limit must not widen the window

        delivery_box = QGroupBox("Hình thức nhận kết quả")
        dl = QVBoxLayout(delivery_box)
        dl.addWidget(self.at_counter)
        dl.addWidget(self.by_post)
        dl.addWidget(self.address)
        form = QFormLayout()
        form.addRow("Số lượng hồ sơ (bộ):", self.set_count)
        form.addRow("Ghi chú:", self.note)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fees)
        layout.addWidget(delivery_box)
        layout.addLayout(form)
        layout.addWidget(self.appointment)
        layout.addStretch()

    def show_procedure(self, proc: ProcedureInfo, appointment: datetime) -> None:
        if self.fees.rules != proc.fees:  # keep the counts typed for the same procedure
            self.fees.show_rules(proc.fees)
        self.appointment.setText(
            f"Thời hạn giải quyết: {proc.time_limit_label}. Nếu tiếp nhận bây giờ, hẹn trả "
            f"kết quả lúc {appointment:%H giờ %M}, ngày {appointment:%d/%m/%Y}.")

    def clear(self) -> None:
        self.fees.show_rules(self.fees.rules)
        self.set_count.setValue(1)
        self.at_counter.setChecked(True)
        self.address.clear()
        self.note.clear()


def _fee_rows(d: IntakeDraft, proc: ProcedureInfo) -> list[tuple[str, str]]:
    assessed = assess_procedure(proc, d.fee_counts)
    owed = sum(a.amount for a in assessed)
    detail = "; ".join(f"{a.rule.name}{f' ({a.quantity_text})' if a.quantity_text else ''}: "
                       f"{vnd(a.amount)}" for a in assessed if a.rule.amount)
    rows = [("Phí, lệ phí phải nộp", f"{vnd(owed)}" + (f" — {detail}" if detail else ""))]
    p = d.payment
    if p is not None:
        paid = f"{vnd(p.amount)}, {p.method.label_vi}"
        if p.receipt_number:
            paid += f", biên lai số {p.receipt_number}"
        if p.reason:
            paid += f" — {p.reason}"
        rows.append(("Thu ngay khi tiếp nhận", paid))
    return rows


class ReviewStep(QTextBrowser):
    """The last step: the draft as it would be received, and what still stops it."""

    def show_draft(self, draft: IntakeDraft, proc: ProcedureInfo,
                   appointment: datetime, more_problems: Sequence[str] = (),
                   notice: str = "") -> bool:
        """Show ``draft`` (normalised) for ``proc``; True when it can be received as is.
        ``notice`` is a warning that does not stop Receive (this PC's clock is off)."""
        d = draft.normalised()
        rows = [
            ("Thủ tục", f"{proc.name} ({proc.code})"),
            ("Chủ hồ sơ", f"{d.owner.full_name} — {d.owner.id_number or 'chưa có số định danh'}"),
            ("Địa chỉ", d.owner.address),
            ("Điện thoại", d.owner.phone),
        ]
        if d.submitter:
            rows.append(("Người nộp thay", f"{d.submitter.full_name} — {d.submitter.id_number}"))
        rows += [
            ("Số bộ hồ sơ", str(d.set_count)),
            ("Nhận kết quả", d.delivery.label_vi
             + (f": {d.delivery_address}" if d.delivery_address else "")),
            *_fee_rows(d, proc),
            ("Hẹn trả (nếu tiếp nhận bây giờ)", f"{appointment:%H giờ %M, ngày %d/%m/%Y}"),
        ]
        comps = "".join(
            f"<li>{'✔' if c.provided else '✘'} {escape(c.name)}"
            + (f" — {c.originals} bản chính, {c.certified_copies} bản sao chứng thực, "
               f"{c.photocopies} bản photo" if c.provided else " — <i>chưa nộp</i>")
            + (f" <span style='color:#b00020'>({escape(c.problem)})</span>" if c.problem else "")
            + "</li>"
            for c in d.components
        )
        problems = d.receive_problems() + list(more_problems)
        warn = ""
        if problems:
            warn = ("<p style='color:#b00020'><b>Chưa thể tiếp nhận:</b><br>"
                    + "<br>".join(escape(p) for p in problems) + "</p>")
        if notice:
            warn += f"<p style='color:#8a4b00'><b>Chú ý:</b> {escape(notice)}</p>"
        table = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>"
                        for k, v in rows)
        self.setHtml(f"{warn}<table cellpadding='3'>{table}</table>"
                     f"<p><b>Thành phần hồ sơ</b></p><ul>{comps}</ul>")
        return not problems
