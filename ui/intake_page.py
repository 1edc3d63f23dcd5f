"""The intake wizard: procedure → applicant → components → fees and delivery → review.

Keyboard-first: Ctrl+Enter (or Alt+T) goes forward, Alt+Q goes back, Enter in the
procedure list picks it, and an ID-card QR scanned at any step fills the owner."""

from __future__ import annotations

from datetime import datetime
from html import escape

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import ProcedureInfo
from desktop_app.digitization import DigitizedFile
from desktop_app.domain.citizen_qr import CitizenCard, parse_citizen_qr
from desktop_app.domain.dates import parse_birth_date
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import vnd
from desktop_app.intake.drafts import ComponentEntry, Delivery, IntakeDraft, PersonInfo
from desktop_app.intake.service import IntakeOutcome, IntakeService
from desktop_app.scanning.studio import StudioBackend
from desktop_app.scanning.workspace import Workspace
from ui import messages
from ui.workers import Runner

STEPS = ("Thủ tục", "Người nộp", "Thành phần hồ sơ", "Lệ phí, nhận kết quả", "Xem lại")


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
        from PySide6.QtCore import QEvent
        from PySide6.QtGui import QKeyEvent

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
        self.banner.setObjectName("banner")
        self.banner.setText("Quét mã QR trên thẻ căn cước / CCCD gắn chip của chủ hồ sơ "
                            "(ở bất kỳ bước nào), hoặc nhập tay.")


COLS = ("Đã nộp", "Thành phần hồ sơ", "Bản chính", "Bản sao CT", "Bản photo",
        "Cần bổ sung / ghi chú", "Bản điện tử")


def files_summary(files: list[DigitizedFile]) -> str:
    if not files:
        return "Chưa số hóa"
    pages = sum(f.pages for f in files)
    size = sum(f.size for f in files) / 1_048_576
    parts = f", {len(files)} tệp" if len(files) > 1 else ""
    return f"✔ {pages} trang{parts}, {size:.1f} MB".replace(".", ",")


class ComponentsStep(QWidget):
    digitize_requested = Signal(int)  # row of the component to start with

    def __init__(self) -> None:
        super().__init__()
        self.table = QTableWidget(0, len(COLS))
        self.table.setHorizontalHeaderLabels(COLS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(5, 240)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        all_btn = QPushButton("Đánh dấu đã nộp &đủ các thành phần bắt buộc")
        all_btn.clicked.connect(self.tick_required)
        self.digitize_btn = QPushButton("&Số hóa thành phần đang chọn…  (Ctrl+S)")
        self.digitize_btn.clicked.connect(
            lambda: self.digitize_requested.emit(max(0, self.table.currentRow())))
        QShortcut(QKeySequence("Ctrl+S"), self).activated.connect(self.digitize_btn.click)
        hint = QLabel("Phím cách: đánh dấu đã nộp · Tab: sang ô kế tiếp · gõ số để sửa số bản. "
                      "Thành phần có dấu * là bắt buộc.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(all_btn)
        row.addWidget(self.digitize_btn)
        row.addStretch()
        layout.addLayout(row)
        layout.addWidget(hint)
        self.entries: list[ComponentEntry] = []

    def load(self, entries: list[ComponentEntry]) -> None:
        self.entries = entries
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
                self.table.setCellWidget(row, col, spin)
            self.table.setItem(row, 5, QTableWidgetItem(c.problem))
            self._show_files(row, c.files)
        self.table.resizeRowsToContents()
        if entries:
            self.table.setCurrentCell(0, 0)

    def _show_files(self, row: int, files: list[DigitizedFile]) -> None:
        item = QTableWidgetItem(files_summary(files))
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
        self.fees = QLabel()
        self.fees.setWordWrap(True)
        self.fees.setTextFormat(Qt.TextFormat.RichText)
        self.set_count = QSpinBox()
        self.set_count.setRange(1, 99)
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

        fee_box = QGroupBox("Phí, lệ phí")
        QVBoxLayout(fee_box).addWidget(self.fees)
        delivery_box = QGroupBox("Hình thức nhận kết quả")
        dl = QVBoxLayout(delivery_box)
        dl.addWidget(self.at_counter)
        dl.addWidget(self.by_post)
        dl.addWidget(self.address)
        form = QFormLayout()
        form.addRow("Số lượng hồ sơ (bộ):", self.set_count)
        form.addRow("Ghi chú:", self.note)
        layout = QVBoxLayout(self)
        layout.addWidget(fee_box)
        layout.addWidget(delivery_box)
        layout.addLayout(form)
        layout.addWidget(self.appointment)
        layout.addStretch()

    def show_procedure(self, proc: ProcedureInfo, appointment: datetime) -> None:
        if proc.fees:
            lines = "".join(f"<tr><td>{escape(f.name)}</td><td align='right'>&nbsp;&nbsp;"
                            f"{vnd(f.amount)}</td></tr>" for f in proc.fees)
            self.fees.setText(f"<table>{lines}<tr><td><b>Tổng cộng</b></td><td align='right'>"
                              f"<b>{vnd(proc.fee_total)}</b></td></tr></table>")
        else:
            self.fees.setText("Thủ tục này không thu phí, lệ phí.")
        self.appointment.setText(
            f"Thời hạn giải quyết: {proc.time_limit_label}. Nếu tiếp nhận bây giờ, hẹn trả "
            f"kết quả lúc {appointment:%H giờ %M}, ngày {appointment:%d/%m/%Y}.")

    def clear(self) -> None:
        self.set_count.setValue(1)
        self.at_counter.setChecked(True)
        self.address.clear()
        self.note.clear()


class IntakePage(QWidget):
    """Emits ``finished`` with the IntakeOutcome once a slip has been recorded."""

    finished = Signal(object)

    def __init__(self, service: IntakeService, clerk: ClerkInfo, runner: Runner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.clerk = clerk
        self.runner = runner
        self.procedure: ProcedureInfo | None = None
        self.saving = False

        self.title = QLabel("Tiếp nhận hồ sơ")
        self.title.setObjectName("pageTitle")
        self.crumbs = QLabel()
        self.crumbs.setTextFormat(Qt.TextFormat.RichText)
        self.chosen = QLabel()
        self.chosen.setObjectName("hint")
        self.chosen.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)

        self.proc_step = ProcedureStep(service, clerk)
        self.applicant_step = ApplicantStep()
        self.components_step = ComponentsStep()
        self.delivery_step = DeliveryStep()
        self.review = QTextBrowser()
        self.stack = QStackedWidget()
        for w in (self.proc_step, self.applicant_step, self.components_step,
                  self.delivery_step, self.review):
            self.stack.addWidget(w)

        self.back_btn = QPushButton("&Quay lại")
        self.next_btn = QPushButton("&Tiếp tục  (Ctrl+Enter)")
        self.next_btn.setObjectName("primary")
        self.supplement_btn = QPushButton("Yêu cầu &bổ sung…")
        self.refuse_btn = QPushButton("Từ &chối tiếp nhận…")
        self.receive_btn = QPushButton("&Tiếp nhận và in phiếu  (Ctrl+Enter)")
        self.receive_btn.setObjectName("primary")
        self.cancel_btn = QPushButton("&Hủy, nhập hồ sơ khác")
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_btn)
        buttons.addStretch()
        for b in (self.back_btn, self.supplement_btn, self.refuse_btn, self.next_btn,
                  self.receive_btn):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.crumbs)
        layout.addWidget(self.chosen)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        self.proc_step.chosen.connect(self.choose_procedure)
        self.components_step.digitize_requested.connect(self.digitize)
        self.back_btn.clicked.connect(self.go_back)
        self.next_btn.clicked.connect(self.go_next)
        self.receive_btn.clicked.connect(self.receive)
        self.supplement_btn.clicked.connect(self.request_supplement)
        self.refuse_btn.clicked.connect(self.refuse)
        self.cancel_btn.clicked.connect(self.ask_reset)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self.forward)
        self.reset()

    # --- navigation -----------------------------------------------------------------

    @property
    def step(self) -> int:
        return self.stack.currentIndex()

    def _show_step(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        self.error.clear()
        parts = []
        for i, name in enumerate(STEPS):
            label = f"{i + 1}. {name}"
            parts.append(f"<b><u>{label}</u></b>" if i == index else label)
        self.crumbs.setText("  ›  ".join(parts))
        last = index == len(STEPS) - 1
        self.back_btn.setEnabled(index > 0)
        self.next_btn.setVisible(not last)
        self.receive_btn.setVisible(last)
        self.supplement_btn.setVisible(index > 0)
        self.refuse_btn.setVisible(index > 0)
        focus = {
            0: self.proc_step.search,
            1: self.applicant_step.owner.full_name,
            2: self.components_step.table,
            3: self.delivery_step.set_count,
            4: self.receive_btn,
        }[index]
        QTimer.singleShot(0, focus.setFocus)

    def reset(self) -> None:
        self.procedure = None
        self.chosen.clear()
        self.applicant_step.clear()
        self.components_step.load([])
        self.studio_ws: Workspace | None = None  # pages left unfinished stay on disk
        self.delivery_step.clear()
        self.proc_step.search.clear()
        self.proc_step.refresh()
        self._show_step(0)

    def ask_reset(self) -> None:
        if self.step == 0 or messages.confirm(
                self, "Bỏ hồ sơ đang nhập và bắt đầu hồ sơ mới?", yes="Bỏ, nhập mới"):
            self.reset()

    def forward(self) -> None:
        if self.step == len(STEPS) - 1:
            self.receive()
        else:
            self.go_next()

    def go_back(self) -> None:
        if self.step > 0:
            self._show_step(self.step - 1)

    def go_next(self) -> None:
        if self.step == 0:
            code = self.proc_step.current_code()
            if code:
                self.choose_procedure(code)
            else:
                self.error.setText("Hãy chọn một thủ tục.")
            return
        try:
            draft = self.draft()
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            return
        if self.step == 1:
            problems = draft.applicant_problems()
            if problems:
                self.error.setText("\n".join(problems))
                return
        if self.step == 3:
            self._fill_review(draft)
        self._show_step(self.step + 1)

    def digitize(self, row: int) -> None:
        """Open the studio over the wizard for this draft's components."""
        from ui.studio_dialog import StudioDialog

        entries = self.components_step.entries
        if not entries:
            return
        backend = StudioBackend(self.service.ctx, self.clerk)
        if self.studio_ws is None:
            owner = self.applicant_step.owner.full_name.text().strip()
            title = (f"Hồ sơ {self.procedure.name if self.procedure else ''}"
                     + (f" — {owner}" if owner else ""))
            self.studio_ws = Workspace.create(
                backend.work_root(), [(str(i), c.name) for i, c in enumerate(entries)], title)

        def stored(key: str, files: list[DigitizedFile]) -> None:
            self.components_step.set_files(int(key), files)

        dialog = StudioDialog(backend, self.studio_ws, self.runner, stored, str(row), self)
        self.studio_dialog = dialog
        dialog.finished.connect(lambda _: self.components_step.table.setFocus())
        dialog.open()

    def choose_procedure(self, code: str) -> None:
        try:
            proc = self.service.catalog.get(code)
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            return
        if self.procedure is None or self.procedure.code != proc.code:
            self.components_step.load(IntakeDraft.for_procedure(proc).components)
        self.procedure = proc
        self.chosen.setText(f"Thủ tục: {proc.name} ({proc.code}) — thời hạn "
                            f"{proc.time_limit_label}")
        self.delivery_step.show_procedure(proc, self.service.appointment_for(proc))
        self._show_step(1)

    # --- the draft ------------------------------------------------------------------

    def draft(self) -> IntakeDraft:
        assert self.procedure is not None
        step = self.applicant_step
        delivery = self.delivery_step
        return IntakeDraft(
            procedure_code=self.procedure.code,
            owner=step.owner.person(),
            submitter=step.submitter.person() if step.proxy.isChecked() else None,
            components=self.components_step.collect(),
            set_count=delivery.set_count.value(),
            delivery=Delivery.POST if delivery.by_post.isChecked() else Delivery.COUNTER,
            delivery_address=delivery.address.text(),
            note=delivery.note.toPlainText(),
        )

    def _fill_review(self, draft: IntakeDraft) -> None:
        assert self.procedure is not None
        d = draft.normalised()
        proc = self.procedure
        appointment = self.service.appointment_for(proc)
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
            ("Phí, lệ phí", vnd(proc.fee_total)),
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
        problems = d.receive_problems()
        warn = ""
        if problems:
            warn = ("<p style='color:#b00020'><b>Chưa thể tiếp nhận:</b><br>"
                    + "<br>".join(escape(p) for p in problems) + "</p>")
        table = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>"
                        for k, v in rows)
        self.review.setHtml(f"{warn}<table cellpadding='3'>{table}</table>"
                            f"<p><b>Thành phần hồ sơ</b></p><ul>{comps}</ul>")
        self.receive_btn.setEnabled(not problems)

    # --- the ID card QR ---------------------------------------------------------------

    def on_scanned(self, payload: str) -> None:
        banner = self.applicant_step.banner
        try:
            card = parse_citizen_qr(payload)
        except DomainError as exc:
            banner.setText(f"Mã QR không đọc được: {exc.message_vi}")
            banner.setStyleSheet("background:#fde7e9;border:1px solid #b00020;")
            return
        step = self.applicant_step
        target = step.owner
        focus = self.focusWidget()
        if step.proxy.isChecked() and focus is not None and step.submitter.isAncestorOf(focus):
            target = step.submitter
        target.fill_from_card(card)
        banner.setStyleSheet("background:#e6f4ea;border:1px solid #1b7a2f;")
        who = "người nộp" if target is step.submitter else "chủ hồ sơ"
        banner.setText(f"Đã điền thông tin {who} từ thẻ căn cước: {card.full_name}, "
                       f"số {card.id_number}.")
        if self.step == 1:
            QTimer.singleShot(0, target.phone.setFocus)

    # --- actions ----------------------------------------------------------------------

    def receive(self) -> None:
        if self.step != len(STEPS) - 1 or not self.receive_btn.isEnabled():
            return
        draft = self.draft()
        self._run(lambda: self.service.receive(draft, self.clerk))

    def request_supplement(self) -> None:
        if self.procedure is None:
            return
        reason, ok = QInputDialog.getMultiLineText(
            self, "Yêu cầu bổ sung, hoàn thiện hồ sơ",
            "Lý do (ghi cụ thể thành phần cần bổ sung ở bước Thành phần hồ sơ):",
            "Hồ sơ chưa đầy đủ, hợp lệ theo quy định")
        draft = self._draft_or_show_error() if ok else None
        if draft is not None:
            self._run(lambda: self.service.request_supplement(draft, self.clerk, reason))

    def refuse(self) -> None:
        if self.procedure is None:
            return
        reason, ok = QInputDialog.getMultiLineText(
            self, "Từ chối tiếp nhận hồ sơ", "Lý do từ chối (in trên phiếu):", "")
        draft = self._draft_or_show_error() if ok else None
        if draft is not None:
            self._run(lambda: self.service.refuse(draft, self.clerk, reason))

    def _draft_or_show_error(self) -> IntakeDraft | None:
        try:
            return self.draft()
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            return None

    def _run(self, action: object) -> None:
        if self.saving:
            return
        self.saving = True
        self._set_busy(True)
        self.error.setText("Đang lưu hồ sơ và tạo phiếu…")
        self.runner.submit(action, self._saved, self._failed)  # type: ignore[arg-type]

    def _set_busy(self, busy: bool) -> None:
        for b in (self.back_btn, self.next_btn, self.receive_btn, self.supplement_btn,
                  self.refuse_btn, self.cancel_btn):
            b.setDisabled(busy)

    def _saved(self, outcome: IntakeOutcome) -> None:
        self.saving = False
        self._set_busy(False)
        self.error.clear()
        if self.studio_ws is not None and self.studio_ws.page_count() == 0:
            self.studio_ws.discard()  # every page became a stored PDF of this dossier
        self.finished.emit(outcome)
        self.reset()

    def _failed(self, message: str, detail: str) -> None:
        self.saving = False
        self._set_busy(False)
        self._show_step(self.step)
        if self.step == len(STEPS) - 1:
            self._fill_review(self.draft())
        self.error.setText(message)
