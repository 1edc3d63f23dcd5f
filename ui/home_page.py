"""Home: today's counts, the sync queue, quick actions."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.dossiers import HomeCounts


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
        layout.addSpacing(8)
        layout.addLayout(actions)
        layout.addWidget(hint)
        layout.addStretch()
        self.new_btn = new_btn

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
