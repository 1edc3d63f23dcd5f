"""Return counter (F7): scan the receipt's QR (anywhere in the app) or type the code, see
whether the result is ready, record who takes it and print; receive a supplement; the
citizen's withdrawal. Late dossiers (F8) with the apology-and-new-appointment letter."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import ClerkInfo
from desktop_app.documents.letters import ResultDocument
from desktop_app.domain.citizen_qr import parse_citizen_qr
from desktop_app.domain.dossier_status import DossierStatus
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import vnd
from desktop_app.fees import FeeService
from desktop_app.intake.result_documents import ELECTRONIC, ResultDocuments
from desktop_app.intake.returns import (
    ActionOutcome,
    LateRow,
    Receiver,
    ReturnService,
    ReturnView,
)
from ui import messages
from ui.fee_panel import PaymentForm
from ui.result_docs_panel import ResultDocsPanel
from ui.screen_fit import ActionBar, scrolling
from ui.workers import Runner


def _when(value: datetime | None) -> str:
    return value.strftime("%H:%M %d/%m/%Y") if value else "—"


class ReturnPage(QWidget):
    printed = Signal(object)  # ActionOutcome: the main window previews and prints it
    digitize_supplement = Signal(int)  # dossier id: open the studio for its components
    # dossier id, code, the catalog's result name: digitize a paper result as its result
    digitize_result = Signal(int, str, str)

    def __init__(self, service: ReturnService, clerk: ClerkInfo, runner: Runner) -> None:
        super().__init__()
        self.service = service
        self.clerk = clerk
        self.runner = runner
        self.current: ReturnView | None = None

        title = QLabel("Trả kết quả")
        title.setObjectName("pageTitle")
        self.scan = QLineEdit()
        self.scan.setPlaceholderText("Quét mã QR trên giấy tiếp nhận hoặc gõ mã hồ sơ rồi "
                                     "nhấn Enter")
        self.scan.setClearButtonEnabled(True)
        self.status = QLabel()
        self.status.setObjectName("banner")
        self.status.setWordWrap(True)
        self.status.setVisible(False)
        self.card = QLabel()
        self.card.setWordWrap(True)
        self.card.setTextFormat(Qt.TextFormat.PlainText)

        who = QGroupBox("Người nhận kết quả")
        form = QFormLayout(who)
        self.is_owner = QRadioButton("Chủ hồ sơ")
        self.is_proxy = QRadioButton("Người được ủy quyền")
        self.is_owner.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.is_owner)
        group.addButton(self.is_proxy)
        owner_row = QHBoxLayout()
        owner_row.addWidget(self.is_owner)
        owner_row.addWidget(self.is_proxy)
        owner_row.addStretch(1)
        self.receiver_name = QLineEdit()
        self.receiver_id = QLineEdit()
        self.receiver_id.setPlaceholderText("Quét QR thẻ căn cước của người nhận để điền")
        self.authorisation = QLineEdit()
        self.authorisation.setPlaceholderText("Số, ngày văn bản ủy quyền")
        self.by_post = QRadioButton("Gửi qua bưu chính")
        self.at_counter = QRadioButton("Bản giấy tại quầy")
        self.electronic = QRadioButton("Bản điện tử (USB của công dân)")
        self.electronic.setToolTip("Công dân nhận bản điện tử của giấy tờ kết quả: lưu ra "
                                   "USB bằng nút “Lưu ra…” ở bảng giấy tờ kết quả")
        self.at_counter.setChecked(True)
        how = QButtonGroup(self)
        how.addButton(self.at_counter)
        how.addButton(self.by_post)
        how.addButton(self.electronic)
        how_row = QHBoxLayout()
        how_row.addWidget(self.at_counter)
        how_row.addWidget(self.by_post)
        how_row.addWidget(self.electronic)
        how_row.addStretch(1)
        self.post_address = QLineEdit()
        self.results = ResultsTable()
        form.addRow("", owner_row)
        form.addRow("Họ và tên:", self.receiver_name)
        form.addRow("Số định danh:", self.receiver_id)
        form.addRow("Ủy quyền:", self.authorisation)
        form.addRow("Hình thức:", how_row)
        form.addRow("Địa chỉ nhận:", self.post_address)
        form.addRow("Kết quả trao:", self.results)

        fees = QGroupBox("Phí, lệ phí")
        fee_layout = QVBoxLayout(fees)
        self.fee_state = QLabel()
        self.fee_state.setWordWrap(True)
        self.reverse_btn = QPushButton("Hủy &khoản thu ghi nhầm…")
        self.reverse_btn.setToolTip("Hủy khoản thu đã ghi nhận (ghi lý do); khoản thu cũ vẫn "
                                    "được lưu, kèm dòng hủy")
        fee_row = QHBoxLayout()
        fee_row.addWidget(self.fee_state, 1)
        fee_row.addWidget(self.reverse_btn)
        fee_layout.addLayout(fee_row)
        self.payment = PaymentForm("Thu tiền &phí, lệ phí khi trả kết quả")
        fee_layout.addWidget(self.payment)

        self.return_btn = QPushButton("&Trả kết quả  (Ctrl+Enter)")
        self.return_btn.setToolTip(
            "Ghi nhận đã trả kết quả cho người nhận và in biên nhận; gửi lên tỉnh")
        self.return_btn.setObjectName("primary")
        self.supplement_btn = QPushButton("Số hóa thành phần &bổ sung…")
        self.supplement_btn.setToolTip("Quét các giấy tờ công dân nộp bổ sung cho hồ sơ này")
        self.supplement_done_btn = QPushButton("&Hoàn tất nhận bổ sung (hẹn lại)")
        self.supplement_done_btn.setToolTip(
            "Ghi nhận đã nhận đủ bổ sung: tính lại thời hạn và in giấy tiếp nhận mới")
        self.result_scan_btn = QPushButton("Số hóa kết quả &giấy…")
        self.result_scan_btn.setToolTip(
            "Quét giấy tờ kết quả bản giấy của cơ quan giải quyết (số, ngày ký, người ký) "
            "thành kết quả điện tử của hồ sơ; gửi lên tỉnh")
        self.withdraw_btn = QPushButton("Công dân &rút hồ sơ…")
        self.withdraw_btn.setToolTip("Ghi nhận công dân rút hồ sơ và in thông báo (mẫu 05)")
        self.stop_btn = QPushButton("In thông báo &dừng giải quyết")
        self.stop_btn.setToolTip("In thông báo dừng giải quyết hồ sơ (Mẫu 05) để trao cho công dân")
        buttons = ActionBar([self.result_scan_btn, self.supplement_btn,
                             self.supplement_done_btn, self.withdraw_btn, self.stop_btn],
                            [self.return_btn])

        # The dossier and the receiver scroll on a small screen; the buttons stay visible.
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self.status)
        body_layout.addWidget(self.card)
        self.result_docs = ResultDocsPanel(ResultDocuments(service.ctx), clerk, runner)
        self.result_docs.failed.connect(self._error)
        self.result_docs.copy_saved.connect(self._error)
        body_layout.addWidget(self.result_docs)
        body_layout.addWidget(who)
        body_layout.addWidget(fees)
        body_layout.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.scan)
        layout.addWidget(scrolling(body), 1)
        layout.addWidget(buttons)

        self.scan.returnPressed.connect(lambda: self.open_code(self.scan.text()))
        self.is_owner.toggled.connect(self._owner_toggled)
        self.by_post.toggled.connect(lambda on: self.post_address.setEnabled(on))
        self.return_btn.clicked.connect(self.do_return)
        self.supplement_btn.clicked.connect(self._digitize_supplement)
        self.result_scan_btn.clicked.connect(self._digitize_result)
        self.supplement_done_btn.clicked.connect(self.do_supplement)
        self.withdraw_btn.clicked.connect(self.do_withdraw)
        self.stop_btn.clicked.connect(self.do_stop_notice)
        self.reverse_btn.clicked.connect(self.do_reverse)
        QShortcut(QKeySequence("Ctrl+Return"), self).activated.connect(self.do_return)
        self.show_view(None)

    # --- look-up ---------------------------------------------------------------------

    def open_code(self, text: str) -> None:
        if not text.strip():
            return
        self.scan.setText(text.strip())
        self.runner.submit(lambda: self.service.find(text), self.show_view, self._error)

    def reload(self) -> None:
        if self.current is not None:
            dossier_id = self.current.dossier_id
            self.runner.submit(lambda: self.service.view(dossier_id), self.show_view,
                               self._error)

    def _error(self, message: str, _detail: str = "") -> None:
        self.status.setText(message)
        self.status.setVisible(True)

    def show_view(self, view: ReturnView | None) -> None:
        previous, self.current = self.current, view
        self.status.setVisible(view is not None)
        if view is None:
            self.card.setText("Chưa chọn hồ sơ.")
        else:
            self.status.setText(view.state_vi + (" Hồ sơ trễ hẹn." if view.late else ""))
            self.card.setText(
                f"Mã hồ sơ: {view.code}\nChủ hồ sơ: {view.owner_name}\n"
                f"Thủ tục: {view.procedure_name}\nTiếp nhận: {_when(view.received_at)} · "
                f"Hẹn trả: {_when(view.current_appointment_at)}"
                + (f" (hẹn ban đầu {_when(view.appointment_at)})"
                   if view.current_appointment_at != view.appointment_at else "")
                + f"\nPhí, lệ phí: {view.fees.summary_vi()}"
                + (f"\nGhi chú của cơ quan giải quyết: {view.remote_note}"
                   if view.remote_note else ""))
            if view.delivery == "post":
                self.by_post.setChecked(True)
                self.post_address.setText(view.delivery_address)
            else:
                self.at_counter.setChecked(True)
            self._owner_toggled(self.is_owner.isChecked())
            if previous is None or previous.dossier_id != view.dossier_id:
                self.results.fill(view.result_name)  # a reload keeps what was typed
        self.result_docs.fill(view.code if view else "",
                              view.result_documents if view else ())
        self._show_fees(view)
        ready = view is not None and view.ready
        self.return_btn.setEnabled(ready)
        supplement = view is not None and view.status is DossierStatus.SUPPLEMENT_REQUESTED
        self.supplement_btn.setEnabled(supplement)
        # Any received dossier: the paper may arrive before the province's status does.
        self.result_scan_btn.setEnabled(view is not None and bool(view.code))
        self.supplement_done_btn.setEnabled(supplement)
        open_ = view is not None and not view.status.is_terminal \
            and view.status is not DossierStatus.RESULT_READY
        self.withdraw_btn.setEnabled(open_)
        self.stop_btn.setEnabled(view is not None and view.status is DossierStatus.STOPPED)
        self.post_address.setEnabled(self.by_post.isChecked())
        if ready:
            self.receiver_name.setFocus()

    def _show_fees(self, view: ReturnView | None) -> None:
        fees = view.fees if view is not None else None
        self.fee_state.setText(fees.summary_vi() if fees is not None else "")
        self.reverse_btn.setEnabled(fees is not None and bool(fees.live))
        # Collect only what is still owed, and only when handing over now.
        due = fees is not None and view is not None and view.ready and (
            fees.outstanding > 0 or (fees.owed > 0 and not fees.live))
        self.payment.setVisible(due)
        self.payment.clear()
        if due and fees is not None:
            self.payment.set_owed(fees.outstanding)

    def _owner_toggled(self, owner: bool) -> None:
        self.authorisation.setEnabled(not owner)
        if owner and self.current is not None:
            self.receiver_name.setText(self.current.owner_name)
            self.receiver_id.setText(self.current.owner_id_number)
        elif not owner:
            self.receiver_name.clear()
            self.receiver_id.clear()

    def on_id_card(self, payload: str) -> bool:
        """An ID card scanned while this page is open fills the receiver."""
        if self.current is None:
            return False
        try:
            card = parse_citizen_qr(payload)
        except DomainError as exc:
            self._error(exc.message_vi)
            return True
        if card.id_number != self.current.owner_id_number:
            self.is_proxy.setChecked(True)
        self.receiver_name.setText(card.full_name)
        self.receiver_id.setText(card.id_number)
        return True

    # --- actions ---------------------------------------------------------------------

    def _done(self, outcome: ActionOutcome) -> None:
        self.printed.emit(outcome)
        self.reload()

    def do_return(self) -> None:
        view = self.current
        if view is None or not self.return_btn.isEnabled():
            return
        receiver = Receiver(self.receiver_name.text(), self.receiver_id.text(),
                            self.is_owner.isChecked(), self.authorisation.text())
        method = "post" if self.by_post.isChecked() else "counter"
        handover = ELECTRONIC if self.electronic.isChecked() else ""
        address = self.post_address.text()
        results = self.results.documents()
        payment = self.payment.entry() if self.payment.isVisible() else None
        self.return_btn.setEnabled(False)
        self.runner.submit(
            lambda: self.service.record_return(view.dossier_id, receiver, self.clerk,
                                               method, address, results, payment,
                                               handover),
            self._done, self._failed)

    def do_reverse(self) -> None:
        view = self.current
        if view is None or not view.fees.live:
            return
        last = view.fees.live[-1]
        reason = messages.ask_text(
            self, "Hủy khoản thu",
            f"Hủy khoản thu {vnd(last.amount)}"
            + (f", biên lai số {last.receipt_number}" if last.receipt_number else "")
            + f" ({last.collected_at:%H:%M %d/%m/%Y}).\nLý do hủy:",
            ok="Hủy khoản thu")
        if reason is None:
            return
        fees = FeeService(self.service.ctx)
        self.runner.submit(lambda: fees.reverse(view.dossier_id, last.id, reason, self.clerk),
                           lambda _statement: self.reload(), self._failed)

    def _failed(self, message: str, _detail: str) -> None:
        self.show_view(self.current)
        messages.error(self, message)

    def _digitize_supplement(self) -> None:
        if self.current is not None:
            self.digitize_supplement.emit(self.current.dossier_id)

    def _digitize_result(self) -> None:
        if self.current is not None and self.current.code:
            self.digitize_result.emit(self.current.dossier_id, self.current.code,
                                      self.current.result_name)

    def do_supplement(self) -> None:
        view = self.current
        if view is None:
            return
        note = messages.ask_text(self, "Nhận hồ sơ bổ sung", "Nội dung đã bổ sung (ghi chú):",
                                 ok="Hoàn tất nhận bổ sung", required=False)
        if note is None:
            return
        self.runner.submit(lambda: self.service.receive_supplement(view.dossier_id,
                                                                   self.clerk, note),
                           self._done, self._failed)

    def do_withdraw(self) -> None:
        view = self.current
        if view is None:
            return
        reason = messages.ask_text(self, "Công dân rút hồ sơ", "Lý do rút hồ sơ:",
                                   ok="Ghi nhận rút hồ sơ", required=False)
        if reason is None:
            return
        self.runner.submit(lambda: self.service.withdraw(view.dossier_id, reason, self.clerk),
                           self._done, self._failed)

    def do_stop_notice(self) -> None:
        view = self.current
        if view is None:
            return
        self.runner.submit(lambda: self.service.stop_notice(view.dossier_id, "", self.clerk),
                           self._done, self._failed)


class ResultsTable(QWidget):
    """The result documents handed over: name, number/symbol, and copies as counted at
    the counter ("chưa đếm" leaves the count to be written on the form by hand)."""

    NOT_COUNTED = -1

    def __init__(self) -> None:
        super().__init__()
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Giấy tờ kết quả", "Số, ký hiệu", "Số bản"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.setMaximumHeight(90)
        self.add_btn = QPushButton("Thêm dòng")
        self.add_btn.setToolTip("Thêm một giấy tờ kết quả")
        self.remove_btn = QPushButton("Bớt dòng")
        self.remove_btn.setToolTip("Bỏ giấy tờ ở dòng đang chọn")
        side = QVBoxLayout()
        side.addWidget(self.add_btn)
        side.addWidget(self.remove_btn)
        side.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(side)
        self.add_btn.clicked.connect(lambda: self.add_row(""))
        self.remove_btn.clicked.connect(self._remove)

    def add_row(self, name: str, reference: str = "", copies: int | None = None) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(name))
        self.table.setItem(row, 1, QTableWidgetItem(reference))
        spin = QSpinBox()
        spin.setRange(self.NOT_COUNTED, 99)
        spin.setSpecialValueText("chưa đếm")
        spin.setSuffix(" bản")
        spin.setValue(self.NOT_COUNTED if copies is None else copies)
        self.table.setCellWidget(row, 2, spin)

    def _remove(self) -> None:
        row = self.table.currentRow()
        self.table.removeRow(row if row >= 0 else self.table.rowCount() - 1)

    def fill(self, result_name: str) -> None:
        self.table.setRowCount(0)
        self.add_row(result_name)

    def documents(self) -> list[ResultDocument]:
        out = []
        for row in range(self.table.rowCount()):
            name = self.table.item(row, 0)
            ref = self.table.item(row, 1)
            spin = self.table.cellWidget(row, 2)
            assert isinstance(spin, QSpinBox)
            copies = None if spin.value() == self.NOT_COUNTED else spin.value()
            if name is not None and name.text().strip():
                out.append(ResultDocument(name.text(), copies,
                                          ref.text() if ref is not None else ""))
        return out


class ApologyDialog(QDialog):
    """Reason, responsible unit and the new appointment for a late dossier (form 04)."""

    def __init__(self, row: LateRow, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Văn bản xin lỗi, đề nghị gia hạn — {row.code}")
        form = QFormLayout(self)
        self.reason = QPlainTextEdit()
        self.reason.setMaximumHeight(80)
        self.unit = QLineEdit()
        self.unit.setPlaceholderText("Ví dụ: Công chức Tư pháp - Hộ tịch")
        self.new_date = QDateTimeEdit()
        self.new_date.setDisplayFormat("HH:mm dd/MM/yyyy")
        self.new_date.setCalendarPopup(True)
        start = max(now, row.current_appointment_at) + timedelta(days=3)
        self.new_date.setDateTime(QDateTime(start.replace(minute=0, second=0,
                                                           microsecond=0)))
        form.addRow("Lý do chậm trễ:", self.reason)
        form.addRow("Đơn vị chịu trách nhiệm:", self.unit)
        form.addRow("Hẹn lại lúc:", self.new_date)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
        box.button(QDialogButtonBox.StandardButton.Ok).setText("Lập văn bản")
        box.button(QDialogButtonBox.StandardButton.Cancel).setText("Quay lại")
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)

    def values(self) -> tuple[str, str, datetime]:
        return (self.reason.toPlainText(), self.unit.text(),
                self.new_date.dateTime().toPython())  # type: ignore[return-value]


class LatePage(QWidget):
    printed = Signal(object)
    open_return = Signal(str)

    COLUMNS = ("Mã hồ sơ", "Chủ hồ sơ", "Thủ tục", "Tiếp nhận", "Hẹn trả", "Trạng thái",
               "Tình hình")

    def __init__(self, service: ReturnService, clerk: ClerkInfo, runner: Runner) -> None:
        super().__init__()
        self.service = service
        self.clerk = clerk
        self.runner = runner
        self.rows: list[LateRow] = []
        title = QLabel("Hồ sơ trễ hẹn và sắp đến hẹn")
        title.setObjectName("pageTitle")
        self.horizon = QSpinBox()
        self.horizon.setRange(0, 30)
        self.horizon.setValue(2)
        self.horizon.setSuffix(" ngày tới")
        top = QHBoxLayout()
        top.addWidget(QLabel("Gồm cả hồ sơ đến hẹn trong:"))
        top.addWidget(self.horizon)
        top.addStretch(1)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.apology_btn = QPushButton("Lập văn bản &xin lỗi, đề nghị gia hạn…")
        self.apology_btn.setToolTip(
            "Lập văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết (Mẫu 04) cho hồ sơ "
            "đã chọn")
        self.open_btn = QPushButton("&Mở ở quầy trả kết quả")
        self.open_btn.setToolTip("Mở hồ sơ đã chọn ở màn hình trả kết quả")
        self.summary = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.apology_btn)
        buttons.addWidget(self.open_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.horizon.valueChanged.connect(lambda _: self.refresh())
        self.apology_btn.clicked.connect(self.apologise)
        self.open_btn.clicked.connect(self._open)
        self.table.doubleClicked.connect(lambda _: self._open())

    def refresh(self) -> None:
        days = self.horizon.value()
        self.runner.submit(lambda: self.service.late(days), self._fill,
                           lambda m, d: messages.error(self, m))

    def _fill(self, rows: list[LateRow]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            values = (row.code, row.owner_name, row.procedure_name, _when(row.received_at),
                      _when(row.current_appointment_at), row.status.label_vi,
                      "Quá hẹn" if row.overdue else "Sắp đến hẹn")
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                item.setToolTip(v)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(2, min(self.table.columnWidth(2), 380))  # long names
        overdue = sum(1 for r in rows if r.overdue)
        self.summary.setText(f"{overdue} hồ sơ quá hẹn · {len(rows) - overdue} sắp đến hẹn")
        if rows:
            self.table.selectRow(0)

    def selected(self) -> LateRow | None:
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def _open(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_return.emit(row.code)

    def apologise(self) -> None:
        row = self.selected()
        if row is None:
            messages.error(self, "Hãy chọn một hồ sơ trong bảng.")
            return
        dialog = ApologyDialog(row, self.service.ctx.clock.now(), self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        reason, unit, when = dialog.values()
        self.runner.submit(
            lambda: self.service.apologise(row.dossier_id, reason, unit, when, self.clerk),
            self._printed, lambda m, d: messages.error(self, m))

    def _printed(self, outcome: ActionOutcome) -> None:
        self.printed.emit(outcome)
        self.refresh()
