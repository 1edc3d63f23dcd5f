"""Home: today's counts, the sync queue, quick actions, and work left unfinished (the
dossier being received when the app was closed or the PC lost power, and scanned pages
never stored as files)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.dossiers import HomeCounts
from desktop_app.intake.draft_store import DraftSummary
from desktop_app.scanning.leftovers import UnsavedWork
from ui.intake_page import STEPS


def draft_text(d: DraftSummary, clerk_id: int) -> str:
    """One paragraph a clerk reads at a glance: what, whose, how far, when, by whom."""
    if not d.readable:
        return f"Có một bản nháp hồ sơ không đọc được. {d.problem}"
    owner = d.owner_name or "(chưa nhập tên chủ hồ sơ)"
    step = min(max(d.step, 0), len(STEPS) - 1)
    parts = [f"Hồ sơ đang nhập dở: {d.procedure_name or d.procedure_code} — chủ hồ sơ {owner}",
             f"đang ở bước {step + 1}/{len(STEPS)} ({STEPS[step]})"]
    if d.saved_at is not None:
        saved = f"lưu lúc {d.saved_at:%H:%M ngày %d/%m/%Y}"
        if d.clerk_id is not None and d.clerk_id != clerk_id:
            saved += f" bởi cán bộ {d.clerk_name or 'khác'}"
        parts.append(saved)
    if d.unsaved_pages:
        parts.append(f"kèm {d.unsaved_pages} trang đã quét chưa lưu thành tệp")
    return " · ".join(parts) + "."


class _Card(QFrame):
    def __init__(self, label: str) -> None:
        super().__init__()
        self.setObjectName("card")
        self.value = QLabel("–")
        self.value.setObjectName("cardValue")
        self.label = QLabel(label)
        self.label.setObjectName("cardLabel")
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.value)
        layout.addWidget(self.label)


class HomePage(QWidget):
    new_dossier = Signal()
    find_dossier = Signal()
    scan_settings = Signal()
    sync_panel = Signal()
    resume_draft = Signal()
    discard_draft = Signal()
    open_unsaved = Signal(object)  # Path of a studio workspace
    discard_unsaved = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Trang chủ")
        self.title.setObjectName("pageTitle")
        self.greeting = QLabel()
        self.greeting.setObjectName("hint")

        self.received = _Card("hồ sơ đã tiếp nhận hôm nay")
        self.supplement = _Card("phiếu yêu cầu bổ sung hôm nay")
        self.refused = _Card("phiếu từ chối tiếp nhận hôm nay")
        self.due = _Card("hồ sơ hẹn trả kết quả hôm nay")
        grid = QGridLayout()
        for i, card in enumerate((self.received, self.supplement, self.refused, self.due)):
            grid.addWidget(card, 0, i)

        self.queue = QLabel()
        self.queue.setObjectName("banner")
        self.queue.setWordWrap(True)

        new_btn = QPushButton("Tiếp nhận hồ sơ mới  (F2)")
        new_btn.setToolTip(
            "Bắt đầu tiếp nhận một hồ sơ: chọn thủ tục, quét thẻ căn cước, đánh dấu thành phần")
        new_btn.setObjectName("primary")
        new_btn.clicked.connect(self.new_dossier)
        find_btn = QPushButton("Tra cứu hồ sơ  (F3)")
        find_btn.setToolTip(
            "Tìm hồ sơ theo mã, tên (có hoặc không dấu), số định danh, số điện thoại")
        find_btn.clicked.connect(self.find_dossier)
        sync_btn = QPushButton("Đồng bộ  (F6)")
        sync_btn.setToolTip("Xem hàng đợi gửi lên tỉnh, đồng bộ ngay, xuất gói USB")
        sync_btn.clicked.connect(self.sync_panel)
        settings_btn = QPushButton("Cài đặt số hóa  (F9)")
        settings_btn.setToolTip("Hồ sơ quét, thư mục nhận bản quét, máy in và thời gian giữ tệp")
        settings_btn.clicked.connect(self.scan_settings)
        actions = QHBoxLayout()
        actions.addWidget(new_btn)
        actions.addWidget(find_btn)
        actions.addWidget(sync_btn)
        actions.addWidget(settings_btn)
        actions.addStretch()

        hint = QLabel(
            "Mẹo: có thể quét mã QR trên thẻ căn cước của người dân ở bất kỳ bước nào của "
            "màn hình tiếp nhận; thông tin chủ hồ sơ sẽ được điền tự động."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.greeting)
        layout.addSpacing(8)
        layout.addLayout(grid)
        layout.addSpacing(8)
        layout.addWidget(self.queue)
        self.sync_warning = QLabel()
        self.sync_warning.setObjectName("warningBanner")
        self.sync_warning.setWordWrap(True)
        self.sync_warning.setVisible(False)
        layout.addWidget(self.sync_warning)
        self.draft_box = self._draft_box()
        layout.addWidget(self.draft_box)
        self.unsaved_box = self._unsaved_box()
        layout.addWidget(self.unsaved_box)
        layout.addSpacing(8)
        layout.addLayout(actions)
        layout.addWidget(hint)
        layout.addStretch()
        self.new_btn = new_btn

    # --- unfinished work ------------------------------------------------------------------

    def _draft_box(self) -> QWidget:
        box = QWidget()
        self.draft_label = QLabel()
        self.draft_label.setObjectName("banner")
        self.draft_label.setWordWrap(True)
        self.resume_btn = QPushButton("Tiếp tục hồ sơ đang nhập &dở")
        self.resume_btn.setObjectName("primary")
        self.resume_btn.clicked.connect(self.resume_draft)
        self.drop_draft_btn = QPushButton("Bỏ bản &nháp…")
        self.drop_draft_btn.clicked.connect(self.discard_draft)
        row = QHBoxLayout()
        row.addWidget(self.resume_btn)
        row.addWidget(self.drop_draft_btn)
        row.addStretch()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.draft_label)
        layout.addLayout(row)
        box.setVisible(False)
        return box

    def _unsaved_box(self) -> QWidget:
        box = QWidget()
        self.unsaved_label = QLabel()
        self.unsaved_label.setObjectName("banner")
        self.unsaved_label.setWordWrap(True)
        self.unsaved_list = QListWidget()
        self.unsaved_list.setMaximumHeight(96)
        self.unsaved_list.setAccessibleName("Các lượt số hóa chưa lưu")
        self.open_unsaved_btn = QPushButton("&Mở để số hóa tiếp…")
        self.drop_unsaved_btn = QPushButton("Bỏ các &trang này…")
        self.open_unsaved_btn.clicked.connect(lambda: self._emit_unsaved(self.open_unsaved))
        self.drop_unsaved_btn.clicked.connect(lambda: self._emit_unsaved(self.discard_unsaved))
        self.unsaved_list.itemActivated.connect(lambda _: self._emit_unsaved(self.open_unsaved))
        row = QHBoxLayout()
        row.addWidget(self.open_unsaved_btn)
        row.addWidget(self.drop_unsaved_btn)
        row.addStretch()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.unsaved_label)
        layout.addWidget(self.unsaved_list)
        layout.addLayout(row)
        box.setVisible(False)
        return box

    def _emit_unsaved(self, signal: SignalInstance) -> None:
        item = self.unsaved_list.currentItem()
        if item is not None:
            signal.emit(Path(item.data(Qt.ItemDataRole.UserRole)))

    def show_draft(self, summary: DraftSummary | None, clerk_id: int) -> None:
        """The dossier being received, saved or still open in the wizard (None: none)."""
        self.draft_box.setVisible(summary is not None)
        if summary is None:
            return
        self.draft_label.setText(draft_text(summary, clerk_id))
        self.resume_btn.setVisible(summary.readable)

    def show_unsaved(self, works: list[UnsavedWork]) -> None:
        self.unsaved_box.setVisible(bool(works))
        current = self.unsaved_list.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        self.unsaved_list.clear()
        for w in works:
            item = QListWidgetItem(w.label_vi)
            item.setData(Qt.ItemDataRole.UserRole, str(w.path))
            self.unsaved_list.addItem(item)
            if str(w.path) == keep:
                self.unsaved_list.setCurrentItem(item)
        if self.unsaved_list.currentRow() < 0 and works:
            self.unsaved_list.setCurrentRow(0)
        self.unsaved_label.setText(
            f"{len(works)} lượt số hóa chưa lưu: các trang đã quét nhưng chưa lưu thành tệp "
            "PDF (ứng dụng bị đóng hoặc máy tắt giữa chừng). Mở để lưu tiếp, hoặc bỏ nếu "
            "không cần nữa.")

    def show_counts(self, counts: HomeCounts) -> None:
        self.received.value.setText(str(counts.received_today))
        self.supplement.value.setText(str(counts.supplement_today))
        self.refused.value.setText(str(counts.refused_today))
        self.due.value.setText(str(counts.due_today))
        if counts.unsynced:
            since = (f" (cũ nhất từ {counts.oldest_unsynced:%H:%M %d/%m/%Y})"
                     if counts.oldest_unsynced else "")
            self.queue.setText(
                f"Hàng đợi đồng bộ: {counts.unsynced} bản ghi chưa đồng bộ{since}. "
                "Dữ liệu được lưu an toàn trên máy này và sẽ được gửi lên hệ thống một cửa "
                "của tỉnh khi có kết nối."
            )
        else:
            self.queue.setText("Hàng đợi đồng bộ: không có hồ sơ chờ gửi.")

    def show_sync_warning(self, text: str) -> None:
        self.sync_warning.setText(text)
        self.sync_warning.setVisible(bool(text))
