"""Sync in the window: the always-visible online/offline and queue indicator, and the
sync panel (F6) with each queued item, its last error and "retry now"."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.context import AppContext
from desktop_app.sync.link import clock_is_off
from desktop_app.sync.service import QueueItem, SyncService
from desktop_app.sync.usb_bundle import export_bundle
from desktop_app.sync.worker import SyncWorker, WorkerState
from ui import messages
from ui.network_watch import NetworkWatch
from ui.screen_fit import fit
from ui.style import set_state
from ui.workers import Runner


class SyncBridge(QObject):
    """Carries the worker thread's state to the UI thread (queued signal), and the OS's
    network-change signal to the worker (an immediate probe)."""

    changed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = SyncService(ctx)
        self.worker = SyncWorker(self.service, listener=self.changed.emit)
        self.state = WorkerState()
        self.changed.connect(self._keep)
        self.network = NetworkWatch(self.worker.probe_now, self)

    def _keep(self, state: WorkerState) -> None:
        self.state = state

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()

    def ensure_alive(self) -> None:
        """Called by the window's status timer: a sync thread that died is started again."""
        self.worker.ensure_alive()


def _when(value: datetime | None) -> str:
    return value.strftime("%H:%M %d/%m/%Y") if value else "—"


def indicator_text(state: WorkerState) -> tuple[str, str]:
    """(text, style class) of the status-bar indicator."""
    q = state.queue
    queued = f"{q.pending} chờ gửi" if q and q.pending else "hàng đợi trống"
    if q and q.refused:
        queued += f" · {q.refused} bị từ chối"
    if state.db_error:  # the queue cannot be read: say nothing of it unless known
        return "● Lỗi cơ sở dữ liệu, đang thử lại" + (f" · {queued}" if q else ""), "bad"
    if not state.configured:
        return f"● Chưa cấu hình đồng bộ · {queued}", "warn"
    if state.auth_failed:
        return f"● Mã xác thực bị từ chối · {queued}", "bad"
    if state.online is None:
        return f"● Đang kiểm tra kết nối · {queued}", "warn"
    if state.running:
        what, done, total = state.progress
        step = f" · {what} {done * 100 // total if total else 0}%" if what else ""
        return f"● Trực tuyến · đang đồng bộ{step}", "ok"
    if state.online:
        return f"● Trực tuyến · {queued}", "bad" if q and q.refused else "ok"
    return f"● Ngoại tuyến · {queued}", "warn"


def overdue_text(state: WorkerState) -> str:
    q = state.queue
    if q is None or not q.overdue or q.oldest_pending is None:
        return ""
    days = (q.now - q.oldest_pending).days
    return (f"Có hồ sơ chưa gửi được lên tỉnh đã {days} ngày (ngưỡng {q.warn_days} ngày). "
            "Hãy kiểm tra đường truyền; nếu mất mạng lâu ngày, xuất gói USB (F6) để "
            "chuyển hồ sơ lên tỉnh.")


class SyncPanel(QDialog):
    COLUMNS = ("Loại", "Hồ sơ / tệp", "Trạng thái", "Số lần thử", "Lỗi gần nhất",
               "Thử lại lúc")

    def __init__(self, bridge: SyncBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Đồng bộ với hệ thống một cửa của tỉnh")
        fit(self, 1000, 560)
        self.bridge = bridge
        self.service = bridge.service
        self.runner = Runner(self)

        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setObjectName("syncIndicator")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel("Không còn mục nào chờ gửi.")
        self.sync_btn = QPushButton("Đồng bộ &ngay  (F5)")
        self.sync_btn.setToolTip(
            "Gửi ngay các mục chờ gửi lên hệ thống tỉnh và nhận trạng thái mới")
        self.sync_btn.setDefault(True)
        self.retry_btn = QPushButton("&Thử lại mục đã chọn")
        self.retry_btn.setToolTip("Gửi lại ngay các mục đang chọn (mục bị từ chối: hỏi lại trước)")
        self.export_btn = QPushButton("&Xuất gói USB…")
        self.export_btn.setToolTip(
            "Khi mất mạng lâu ngày: ghi các hồ sơ chờ gửi thành gói mã hóa vào USB")
        self.close_btn = QPushButton("Đóng")
        self.close_btn.setToolTip("Đóng màn hình đồng bộ (Esc)")
        buttons = QHBoxLayout()
        for b in (self.sync_btn, self.retry_btn, self.export_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.progress)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)

        self.sync_btn.clicked.connect(self.sync_now)
        self.retry_btn.clicked.connect(self.retry_selected)
        self.export_btn.clicked.connect(self.export_bundle)
        self.close_btn.clicked.connect(self.accept)
        QShortcut(QKeySequence("F5"), self).activated.connect(self.sync_now)
        bridge.changed.connect(self.show_state)
        self.show_state(bridge.state)
        bridge.worker.probe_now()  # the clerk looks at the link: show it as it is now
        self.reload()

    def show_state(self, state: WorkerState) -> None:
        text, kind = indicator_text(state)
        set_state(self.header, kind)
        lines = [text]
        if state.queue is not None:
            lines.append(f"Lần đồng bộ trọn vẹn gần nhất: {_when(state.queue.last_success)}")
        if state.db_error:
            lines.append(state.db_error)
        if state.restarts:
            lines.append(f"Tiến trình đồng bộ đã được khởi động lại {state.restarts} lần; "
                         "hãy báo kỹ thuật viên (kèm gói hỗ trợ).")
        if state.last_error:
            lines.append(f"Lỗi gần nhất: {state.last_error}")
        report = state.last_report
        if report is not None and clock_is_off(report.clock_skew_s):
            lines.append(f"Cảnh báo: đồng hồ máy lệch {report.clock_skew_s / 60:+.0f} phút so "
                         "với hệ thống tỉnh; hãy báo kỹ thuật viên chỉnh giờ.")
        warn = overdue_text(state)
        if warn:
            lines.append(warn)
        self.header.setText("\n".join(lines))
        what, done, total = state.progress
        self.progress.setVisible(state.running and bool(total))
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(f"{what}: %p%")
        if not state.running:
            self.reload()

    def reload(self) -> None:
        self.runner.submit(self.service.items, self._fill,
                           lambda m, d: self.header.setText(m))

    def _fill(self, items: list[QueueItem]) -> None:
        self.table.setRowCount(len(items))
        for row, it in enumerate(items):
            values = (it.kind_vi, it.reference, it.state_vi, str(it.attempts), it.last_error,
                      _when(it.next_attempt_at) if it.state == "pending" else "—")
            for col, value in enumerate(values):
                cell = QTableWidgetItem(value)
                cell.setData(Qt.ItemDataRole.UserRole, it.id)
                if col == 4:
                    cell.setToolTip(value)
                self.table.setItem(row, col, cell)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty.setVisible(not items)

    def selected_ids(self) -> list[int]:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return [int(self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)) for r in sorted(rows)]

    def sync_now(self) -> None:
        self.runner.submit(lambda: self.service.retry(), lambda _: self.bridge.worker.wake(),
                           lambda m, d: messages.error(self, m))

    def retry_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            messages.error(self, "Hãy chọn mục cần gửi lại trong bảng.")
            return
        rows = {i.row() for i in self.table.selectedIndexes()}
        refused = any(self.table.item(r, 2).text().startswith("Bị từ chối") for r in rows)
        if refused and not messages.confirm(
                self, "Có mục đã bị tỉnh từ chối. Chỉ gửi lại khi đã xử lý nguyên nhân (ví "
                "dụ đã thống nhất với tỉnh). Gửi lại?"):
            return

        def done(_: object) -> None:
            self.bridge.worker.wake()
            self.reload()

        self.runner.submit(lambda: self.service.retry(ids, include_refused=True), done,
                           lambda m, d: messages.error(self, m))

    def export_bundle(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Chọn USB hoặc thư mục để lưu gói")
        if not folder:
            return
        self.export_btn.setEnabled(False)

        def done(summary: object) -> None:
            self.export_btn.setEnabled(True)
            messages.info(self, getattr(summary, "text_vi", str(summary)))

        def failed(message: str, _detail: str) -> None:
            self.export_btn.setEnabled(True)
            messages.error(self, message)

        self.runner.submit(lambda: export_bundle(self.service.ctx, self.service, Path(folder)),
                           done, failed)
