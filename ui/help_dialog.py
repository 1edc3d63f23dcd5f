"""Help where the clerk is (Ctrl+/): the keyboard shortcuts, what this PC is (version,
data directory, station, last sync), the log folder and the support bundle for the
helpdesk call — and the message shown when the software failed unexpectedly."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from platformdirs import user_documents_dir
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app import __version__
from desktop_app.context import AppContext
from desktop_app.setup.support_bundle import default_bundle_name, support_bundle
from desktop_app.station import StationService
from desktop_app.sync.service import SyncService
from local_db.engine import redacted_url
from ui import messages
from ui.screen_fit import fit
from ui.workers import Runner

log = logging.getLogger(__name__)

# (keys, what they do, where): the sheet a clerk reads; a GUI test checks that every
# shortcut of the main window is on it.
SHORTCUTS: tuple[tuple[str, str, str], ...] = (
    ("F1", "Trang chủ", "mọi nơi"),
    ("F2", "Tiếp nhận hồ sơ mới", "mọi nơi"),
    ("F3", "Tra cứu hồ sơ", "mọi nơi"),
    ("F4", "Số hóa theo lô (tờ phân cách)", "mọi nơi"),
    ("F6", "Đồng bộ với hệ thống tỉnh", "mọi nơi"),
    ("F7", "Trả kết quả", "mọi nơi"),
    ("F8", "Hồ sơ trễ hẹn", "mọi nơi"),
    ("F9", "Cài đặt quầy và số hóa", "mọi nơi"),
    ("F10", "Bảng điều khiển, sổ theo dõi", "mọi nơi"),
    ("F12", "Đổi mật khẩu", "mọi nơi"),
    ("Ctrl+/", "Trợ giúp (trang này)", "mọi nơi"),
    ("Quét QR thẻ căn cước", "Điền chủ hồ sơ (hoặc người nộp thay)", "mọi nơi"),
    ("Quét QR biên nhận", "Mở hồ sơ ở quầy trả kết quả", "mọi nơi"),
    ("↓ / Enter", "Chọn thủ tục trong danh sách", "Tiếp nhận — bước 1"),
    ("Ctrl+D", "Đánh dấu thủ tục hay dùng (★)", "Tiếp nhận — bước 1"),
    ("Ctrl+Enter", "Bước tiếp theo; ở bước cuối: tiếp nhận và in phiếu", "Tiếp nhận"),
    ("Alt+Q", "Quay lại bước trước", "Tiếp nhận"),
    ("Ctrl+A", "Đã nộp đủ các thành phần bắt buộc", "Tiếp nhận — thành phần"),
    ("Phím cách", "Đánh dấu đã nộp từng thành phần", "Tiếp nhận — thành phần"),
    ("Ctrl+R", "Dùng lại bản số hóa đã có của công dân (trên máy hoặc trên hệ thống tỉnh)",
     "Tiếp nhận — thành phần"),
    ("Ctrl+S", "Số hóa thành phần đang chọn", "Tiếp nhận — thành phần; Tra cứu"),
    ("Ctrl+P", "In phiếu ngay ra máy in của quầy", "Xem phiếu"),
    ("Ctrl+Shift+P", "Chọn máy in, số bản, khổ giấy rồi in", "Xem phiếu"),
    ("Ctrl+Enter", "Ghi nhận trả kết quả và in biên nhận", "Trả kết quả"),
    ("F5", "Quét", "Số hóa"),
    ("Ctrl+O", "Nhập tệp", "Số hóa"),
    ("R / Shift+R", "Xoay trang", "Số hóa"),
    ("Delete / Ctrl+Z", "Xóa trang / lấy lại trang vừa xóa", "Số hóa"),
    ("Ctrl+↑ / Ctrl+↓", "Đổi thứ tự trang", "Số hóa"),
    ("Ctrl+M", "Chuyển trang sang thành phần khác", "Số hóa"),
    ("Ctrl+Shift+F5", "Quét lại một trang", "Số hóa"),
    ("Ctrl+Enter", "Lưu thành phần thành PDF", "Số hóa"),
    ("Esc", "Hủy việc đang chạy / đóng cửa sổ", "Số hóa, hộp thoại"),
    ("F5", "Đồng bộ ngay", "Đồng bộ"),
)


@dataclass(frozen=True)
class AboutInfo:
    version: str
    data_dir: str
    database: str
    logs_dir: str
    station: str
    printer: str
    last_sync: str


def about_info(ctx: AppContext) -> AboutInfo:
    """What the helpdesk asks first (read on a worker: it touches the database)."""
    station = StationService(ctx).get()
    status = SyncService(ctx).status()
    last: datetime | None = status.last_success
    return AboutInfo(
        version=__version__,
        data_dir=str(ctx.paths.root),
        database=(f"SQLite {ctx.db.sqlite_path}" if ctx.db.is_sqlite
                  else f"PostgreSQL {redacted_url(str(ctx.db.url))}"),
        logs_dir=str(ctx.paths.logs),
        station=(f"{station.agency_name} ({station.agency_code}), quầy số "
                 f"{station.station_digit}" if station else "chưa cấu hình"),
        printer=(station.printer if station and station.printer
                 else "máy in mặc định của hệ điều hành"),
        last_sync=(f"{last:%H:%M %d/%m/%Y}" if last else "chưa có")
        + f" · {status.pending} mục chờ gửi",
    )


def open_folder(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def bundle_folder() -> Path:
    """Where a clerk finds the bundle to attach to an e-mail or copy to a USB stick."""
    return Path(user_documents_dir()) / "MotCuaOffline"


def make_support_bundle(parent: QWidget, ctx: AppContext, runner: Runner) -> None:
    """Write the helpdesk's zip on a worker, then say where it is."""
    out = bundle_folder() / default_bundle_name()

    def done(path: Path) -> None:
        box = messages.Question(parent, "Gói hỗ trợ",
                                f"Đã tạo gói hỗ trợ: {path}\n\nGói không chứa dữ liệu cá nhân "
                                "của công dân, tệp hồ sơ hay mã xác thực; có thể gửi cho bộ "
                                "phận hỗ trợ của tỉnh.",
                                [("folder", "&Mở thư mục chứa gói"), ("close", "Đó&ng")])
        if box.ask() == "folder":
            open_folder(path.parent)

    def failed(message: str, detail: str) -> None:
        messages.error(parent, f"Không tạo được gói hỗ trợ: {message}")

    runner.submit(lambda: support_bundle(out, ctx.paths.root, str(ctx.db.url)), done, failed)


class HelpDialog(QDialog):
    def __init__(self, ctx: AppContext, runner: Runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.runner = runner
        self.setWindowTitle("Trợ giúp — Một Cửa Offline")
        tabs = QTabWidget()
        tabs.addTab(self._shortcuts(), "&Phím tắt")
        self.about = QWidget()
        self.about_form = QFormLayout(self.about)
        tabs.addTab(self.about, "&Giới thiệu")

        logs_btn = QPushButton("Mở thư mục &nhật ký")
        logs_btn.setToolTip("Mở thư mục chứa các tệp nhật ký của máy này (motcua-gui.log, "
                           "motcua-sync.log, motcua-cli.log, crash.log)")
        logs_btn.clicked.connect(lambda: open_folder(ctx.paths.logs))
        bundle_btn = QPushButton("Tạo gói &hỗ trợ…")
        bundle_btn.setToolTip("Tạo tệp .zip gửi bộ phận hỗ trợ của tỉnh (không có dữ liệu cá "
                              "nhân, tệp hồ sơ hay mã xác thực)")
        bundle_btn.clicked.connect(lambda: make_support_bundle(self, ctx, runner))
        close_btn = QPushButton("Đó&ng  (Esc)")
        close_btn.setToolTip("Đóng trợ giúp")
        close_btn.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(logs_btn)
        buttons.addWidget(bundle_btn)
        buttons.addStretch()
        buttons.addWidget(close_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs, 1)
        layout.addLayout(buttons)
        close_btn.setDefault(True)
        fit(self, 860, 640)  # room for the "Việc" column; less on a small screen
        runner.submit(lambda: about_info(ctx), self._show_about,
                      lambda m, d: self.about_form.addRow(QLabel(m)))

    def _shortcuts(self) -> QTableWidget:
        table = QTableWidget(len(SHORTCUTS), 3)
        table.setHorizontalHeaderLabels(["Phím", "Việc", "Ở đâu"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for row, cells in enumerate(SHORTCUTS):
            for col, text in enumerate(cells):
                table.setItem(row, col, QTableWidgetItem(text))
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        return table

    def _show_about(self, info: AboutInfo) -> None:
        for label, value in (("Phiên bản", info.version), ("Quầy", info.station),
                             ("Máy in biên nhận", info.printer),
                             ("Đồng bộ gần nhất", info.last_sync),
                             ("Thư mục dữ liệu", info.data_dir), ("Cơ sở dữ liệu", info.database),
                             ("Nhật ký", info.logs_dir)):
            value_label = QLabel(value)
            value_label.setWordWrap(True)
            value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.about_form.addRow(f"{label}:", value_label)


def show_crash(parent: QWidget | None, ctx: AppContext, runner: Runner, what: str) -> None:
    """The clerk's view of an unexpected failure (its details are in the log already)."""
    from ui.crash import crash_dialog_text

    box = messages.Question(parent, "Lỗi không mong muốn", crash_dialog_text(what),
                            [("bundle", "Tạo gói &hỗ trợ…"), ("close", "Đó&ng")],
                            icon="warning")
    if box.ask() == "bundle" and parent is not None:
        make_support_bundle(parent, ctx, runner)
