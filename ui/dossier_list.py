"""Dossier look-up: search as you type (on a worker) and a detail view with history."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.dossier_status import DossierStatus
from desktop_app.dossiers import DossierDetail, DossierQueries, DossierRow, SearchFilters
from ui.screen_fit import FlowLayout, fit
from ui.workers import Runner

HEADERS = ("Mã hồ sơ / số phiếu", "Chủ hồ sơ", "Số định danh", "Thủ tục", "Tiếp nhận",
           "Hẹn trả", "Trạng thái", "Đồng bộ")

_Index = QModelIndex | QPersistentModelIndex


class DossierTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[DossierRow] = []

    def set_rows(self, rows: list[DossierRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                r.reference,
                r.owner_name,
                r.owner_id_number,
                r.procedure_name,
                f"{r.received_at:%d/%m/%Y %H:%M}",
                f"{r.appointment_at:%d/%m/%Y %H:%M}" if r.appointment_at else "",
                r.status_label,
                r.sync_label,
            )[index.column()]
        if role == Qt.ItemDataRole.UserRole:
            return r.id
        return None


class DossierDetailDialog(QDialog):
    reprint = Signal(int)
    digitize = Signal(int)

    def __init__(self, detail: DossierDetail, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detail = detail
        r = detail.row
        self.setWindowTitle(f"Hồ sơ {r.reference}")
        fit(self, 820, 760)
        body = QTextBrowser()
        body.setHtml(detail_html(detail))
        slip_btn = QPushButton("&Xem / in lại phiếu")
        slip_btn.setToolTip("Mở đúng phiếu đã in khi tiếp nhận để xem hoặc in lại")
        slip_btn.setEnabled(detail.has_slip)
        slip_btn.clicked.connect(lambda: self.reprint.emit(r.id))
        digitize_btn = QPushButton("&Số hóa thành phần…  (Ctrl+S)")
        digitize_btn.setToolTip(
            "Quét hoặc nhập tệp cho các thành phần của hồ sơ này; tệp được gửi lên tỉnh")
        digitize_btn.setShortcut("Ctrl+S")
        digitize_btn.setEnabled(bool(r.code))  # a refused dossier has nothing to digitize
        digitize_btn.clicked.connect(lambda: (self.accept(), self.digitize.emit(r.id)))
        close_btn = QPushButton("Đó&ng")
        close_btn.setToolTip("Đóng chi tiết hồ sơ (Esc)")
        close_btn.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(digitize_btn)
        buttons.addWidget(slip_btn)
        buttons.addWidget(close_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(body, 1)
        layout.addLayout(buttons)
        slip_btn.setFocus()


def detail_html(d: DossierDetail) -> str:
    r = d.row
    def row(k: str, v: str) -> str:
        return f"<tr><td><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>"

    rows = [
        row("Mã hồ sơ", r.code or "(không cấp mã — " + d.slip_number + ")"),
        row("Trạng thái", r.status_label),
        row("Thủ tục", f"{r.procedure_name} ({d.procedure_code})"),
        row("Chủ hồ sơ", f"{d.owner.full_name} — {d.owner.id_number}"),
        row("Địa chỉ", d.owner.address),
        row("Điện thoại", d.owner.phone),
    ]
    if d.submitter:
        rows.append(row("Người nộp thay", f"{d.submitter.full_name} — {d.submitter.id_number}"))
    rows += [
        row("Tiếp nhận lúc", f"{r.received_at:%H:%M ngày %d/%m/%Y}"),
        row("Hẹn trả", f"{r.appointment_at:%H:%M ngày %d/%m/%Y}" if r.appointment_at else "—"),
        *([row("Hẹn lại", f"{r.current_appointment_at:%H:%M ngày %d/%m/%Y}")]
          if r.current_appointment_at else []),
        row("Cán bộ tiếp nhận", d.clerk_name),
        row("Sổ theo dõi", f"Quyển {d.book_number}, số {d.sequence_number}"
            if d.sequence_number else "—"),
        row("Phí, lệ phí", d.fee_summary),
        row("Đồng bộ", r.sync_label),
    ]
    if d.reason:
        rows.append(row("Lý do", d.reason))
    comps = "".join(
        f"<li>{escape(c.name)} — "
        + (f"{c.originals} bản chính, {c.certified_copies} bản sao CT, {c.photocopies} bản photo"
           if c.provided else "<i>chưa nộp</i>")
        + (f" <span style='color:#b00020'>({escape(c.problem)})</span>" if c.problem else "")
        + "".join(f"<br>&nbsp;&nbsp;📄 {escape(f)}" for f in c.files)
        + "</li>"
        for c in d.components
    )
    history = "".join(
        f"<tr><td>{h.at:%d/%m/%Y %H:%M}</td><td>{escape(h.who)}</td><td>{escape(h.what)}</td></tr>"
        for h in d.history
    )
    return (f"<h2>{escape(r.reference)}</h2><table cellpadding='3'>{''.join(rows)}</table>"
            f"<h3>Thành phần hồ sơ</h3><ul>{comps}</ul>"
            f"<h3>Lịch sử</h3><table cellpadding='3'>{history}</table>")


class DossierListPage(QWidget):
    open_slip = Signal(int)
    digitize_dossier = Signal(int)

    def __init__(self, queries: DossierQueries, runner: Runner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queries = queries
        self.runner = runner
        self._generation = 0
        title = QLabel("Tra cứu hồ sơ")
        title.setObjectName("pageTitle")
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            "Mã hồ sơ, họ tên (có dấu hoặc không dấu), số định danh hoặc số điện thoại")
        self.search.setClearButtonEnabled(True)
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.f_status = QComboBox()
        self.f_status.setAccessibleName("Lọc theo trạng thái")
        self.f_status.addItem("Mọi trạng thái", None)
        for st in DossierStatus:
            self.f_status.addItem(st.label_vi, int(st))
        self.f_proc = QComboBox()
        self.f_proc.setAccessibleName("Lọc theo thủ tục")
        self.f_proc.setMaximumWidth(320)
        self.f_clerk = QComboBox()
        self.f_clerk.setAccessibleName("Lọc theo cán bộ tiếp nhận")
        self.f_period = QComboBox()
        self.f_period.setAccessibleName("Lọc theo ngày tiếp nhận")
        for label, key in (("Mọi ngày tiếp nhận", ""), ("Hôm nay", "today"),
                           ("7 ngày qua", "week"), ("Tháng này", "month"),
                           ("Tháng trước", "last_month"), ("Năm nay", "year")):
            self.f_period.addItem(label, key)
        self.f_late = QComboBox()
        self.f_late.setAccessibleName("Lọc theo đúng hạn / trễ hạn")
        for label, value in (("Đúng hạn và trễ hạn", None), ("Trễ hạn", True),
                             ("Đúng hạn", False)):
            self.f_late.addItem(label, value)
        filters = FlowLayout()  # wraps onto a second line on a narrow screen
        for w in (self.f_status, self.f_proc, self.f_period, self.f_clerk, self.f_late):
            filters.addWidget(w)
            w.currentIndexChanged.connect(lambda _=0: self._debounce.start())
        self.model = DossierTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(self.open_detail)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        hint = QLabel("↓ để vào danh sách · Enter để xem chi tiết hồ sơ")
        hint.setObjectName("hint")
        layout.addWidget(hint)
        self._choices_loaded = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self._enter_table)

    def _enter_table(self) -> None:
        if self.model.rowCount():
            self.table.setFocus()
            self.table.selectRow(0)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Down and self.search.hasFocus():
            self._enter_table()
            return
        super().keyPressEvent(event)

    def load_choices(self) -> None:
        def fill(choices: tuple[list[tuple[str, str]], list[tuple[int, str]]]) -> None:
            procs, clerks = choices
            for combo, first, items in ((self.f_proc, "Mọi thủ tục", procs),
                                        (self.f_clerk, "Mọi cán bộ", clerks)):
                combo.blockSignals(True)
                current = combo.currentData()
                combo.clear()
                combo.addItem(first, None)
                for key, label in items:
                    combo.addItem(label, key)
                combo.setCurrentIndex(max(0, combo.findData(current)))
                combo.blockSignals(False)
            self._choices_loaded = True

        self.runner.submit(self.queries.filter_choices, fill, lambda m, d: None)

    def filters(self) -> SearchFilters:
        today = self.queries.ctx.clock.now().date()
        start: date | None = None
        end: date | None = None
        period = self.f_period.currentData()
        if period == "today":
            start = end = today
        elif period == "week":
            start, end = today - timedelta(days=6), today
        elif period == "month":
            start, end = today.replace(day=1), today
        elif period == "last_month":
            end = today.replace(day=1) - timedelta(days=1)
            start = end.replace(day=1)
        elif period == "year":
            start, end = today.replace(month=1, day=1), today
        return SearchFilters(status=self.f_status.currentData(),
                             procedure_code=self.f_proc.currentData() or "",
                             date_from=start, date_to=end,
                             clerk_id=self.f_clerk.currentData(),
                             late=self.f_late.currentData())

    def refresh(self) -> None:
        if not self._choices_loaded:
            self.load_choices()
        self._generation += 1
        generation = self._generation
        query = self.search.text()
        filters = self.filters()
        self.status.setText("Đang tìm…")

        def done(rows: list[DossierRow]) -> None:
            if generation != self._generation:
                return  # a newer search is on its way; drop this stale answer
            self.model.set_rows(rows)
            self.table.resizeColumnsToContents()
            self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
            self.status.setText(f"{len(rows)} hồ sơ" + (" (hiển thị 200 hồ sơ mới nhất)"
                                                         if len(rows) >= 200 else ""))

        def failed(message: str, detail: str) -> None:
            self.status.setText(message)

        self.runner.submit(lambda: self.queries.search(query, filters=filters), done, failed)

    def open_detail(self, index: QModelIndex) -> None:
        dossier_id = self.model.data(index, Qt.ItemDataRole.UserRole)

        def show(detail: DossierDetail) -> None:
            dialog = DossierDetailDialog(detail, self)
            dialog.reprint.connect(self.open_slip)
            dialog.digitize.connect(self.digitize_dossier)
            dialog.exec()

        self.runner.submit(lambda: self.queries.detail(dossier_id), show,
                           lambda m, d: self.status.setText(m))
