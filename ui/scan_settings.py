"""Station and digitization settings (F9): scan profiles, whether this PC's document
scanner shows its driver's own window, hot folders, this PC's receipt printer and the
retention period, and what this PC's handheld QR scanner sends around each code.

Anyone may tune an unlocked profile or switch the driver's window (the person at the
scanner knows when it is needed); only a technician locks, unlocks or changes a locked
one, and only a technician changes the hot folders, the printer, the retention and the
QR scanner's prefix/suffix."""

from __future__ import annotations

import sys
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import ClerkInfo, Role
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService
from desktop_app.domain.errors import DomainError
from desktop_app.printers import available_printers
from desktop_app.scanning.driver_dialog import driver_dialog_enabled, set_driver_dialog
from desktop_app.scanning.model import (
    COLOUR_MODE_VI,
    MAX_DPI,
    MIN_DPI,
    MIN_JPEG_QUALITY,
    PAGE_SIZES_MM,
    ColourMode,
    ScanProfile,
)
from desktop_app.scanning.profiles import NAME_RULE_VI, PROFILE_NAME
from desktop_app.station import (
    MAX_RETENTION_DAYS,
    MIN_RETENTION_DAYS,
    StationInfo,
    StationService,
    parse_scanner_affix,
    scanner_affix_text,
)
from ui import messages
from ui.screen_fit import fit, scrolling
from ui.signer_settings import SignerTab
from ui.workers import Runner

PAPER_VI = {"auto": "Tự động (ưu tiên khay nạp giấy)", "flatbed": "Mặt kính",
            "feeder": "Khay nạp giấy (ADF)"}


class ProfileEditor(QWidget):
    """The form of one profile."""

    def __init__(self, technician: bool) -> None:
        super().__init__()
        self.technician = technician
        form = QFormLayout(self)
        self.label = QLineEdit()
        self.dpi = QSpinBox()
        self.dpi.setRange(MIN_DPI, MAX_DPI)
        self.dpi.setSingleStep(50)
        self.dpi.setSuffix(" dpi")
        self.mode = QComboBox()
        for mode in ColourMode:
            self.mode.addItem(COLOUR_MODE_VI[mode], mode.value)
        self.page_size = QComboBox()
        for size in PAGE_SIZES_MM:
            self.page_size.addItem(size, size)
        self.paper = QComboBox()
        for key, text in PAPER_VI.items():
            self.paper.addItem(text, key)
        self.duplex = QCheckBox("Quét hai mặt")
        self.drop_blank = QCheckBox("Bỏ trang trắng")
        self.deskew = QCheckBox("Chỉnh thẳng trang nghiêng")
        self.crop = QCheckBox("Cắt viền đen của máy quét")
        self.ocr = QCheckBox("Thêm lớp chữ nhận dạng (OCR tiếng Việt) để tìm kiếm được")
        self.quality = QSpinBox()
        self.quality.setRange(MIN_JPEG_QUALITY, 100)
        self.quality.setSuffix(" %")
        self.locked = QCheckBox("Khóa (chỉ kỹ thuật viên được sửa)")
        self.locked.setEnabled(technician)
        self.state = QLabel()
        self.state.setWordWrap(True)
        form.addRow("Tên hiển thị:", self.label)
        form.addRow("Độ phân giải:", self.dpi)
        form.addRow("Chế độ màu:", self.mode)
        form.addRow("Khổ giấy:", self.page_size)
        form.addRow("Nguồn giấy:", self.paper)
        form.addRow("", self.duplex)
        form.addRow("", self.drop_blank)
        form.addRow("", self.deskew)
        form.addRow("", self.crop)
        form.addRow("", self.ocr)
        form.addRow("Chất lượng JPEG:", self.quality)
        form.addRow("", self.locked)
        form.addRow(self.state)
        self.profile: ScanProfile | None = None

    def show_profile(self, profile: ScanProfile) -> None:
        self.profile = profile
        self.label.setText(profile.label_vi)
        self.dpi.setValue(profile.dpi)
        self.mode.setCurrentIndex(self.mode.findData(profile.mode.value))
        self.page_size.setCurrentIndex(self.page_size.findData(profile.page_size))
        self.paper.setCurrentIndex(self.paper.findData(profile.paper))
        self.duplex.setChecked(profile.duplex)
        self.drop_blank.setChecked(profile.drop_blank)
        self.deskew.setChecked(profile.deskew)
        self.crop.setChecked(profile.crop_borders)
        self.quality.setValue(profile.jpeg_quality)
        self.ocr.setChecked(profile.ocr)
        self.locked.setChecked(profile.locked)
        editable = self.technician or not profile.locked
        for w in (self.label, self.dpi, self.mode, self.page_size, self.paper, self.duplex,
                  self.drop_blank, self.deskew, self.crop, self.quality, self.ocr):
            w.setEnabled(editable)
        self.state.setText(
            "" if editable else "Hồ sơ quét này do kỹ thuật viên khóa: bạn dùng được nhưng "
            "không sửa được.")

    def edited(self) -> ScanProfile:
        assert self.profile is not None
        return replace(
            self.profile, label_vi=self.label.text().strip() or self.profile.label_vi,
            dpi=self.dpi.value(), mode=ColourMode(self.mode.currentData()),
            page_size=self.page_size.currentData(), paper=self.paper.currentData(),
            duplex=self.duplex.isChecked(), drop_blank=self.drop_blank.isChecked(),
            deskew=self.deskew.isChecked(), crop_borders=self.crop.isChecked(),
            jpeg_quality=self.quality.value(), ocr=self.ocr.isChecked(),
            locked=self.locked.isChecked())


class ScanSettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, clerk: ClerkInfo, parent: QWidget | None = None,
                 printers: list[str] | None = None,
                 driver_sources: bool | None = None) -> None:
        """``driver_sources``: whether WIA/TWAIN drivers can be used here (Windows);
        by default from the platform."""
        super().__init__(parent)
        self.setWindowTitle("Cài đặt quầy và số hóa")
        self.ctx = ctx
        fit(self, 960, 580)
        self.service = DigitizationService(ctx)
        self.stations = StationService(ctx)
        self.clerk = clerk
        self.runner = Runner(self)
        technician = clerk.role is Role.TECHNICIAN

        tabs = QTabWidget()
        # --- profiles
        page = QWidget()
        row = QHBoxLayout(page)
        left = QVBoxLayout()
        self.list = QListWidget()
        self.list.setMinimumWidth(340)
        self.new_btn = QPushButton("&Thêm hồ sơ quét…")
        self.new_btn.setToolTip("Tạo hồ sơ quét mới từ hồ sơ đang chọn")
        left.addWidget(self.list, 1)
        left.addWidget(self.new_btn)
        right = QVBoxLayout()
        self.editor = ProfileEditor(technician)
        self.save_btn = QPushButton("&Lưu hồ sơ quét")
        self.save_btn.setToolTip("Lưu các thông số của hồ sơ quét đang sửa")
        self.save_btn.setDefault(True)
        right.addWidget(self.editor)
        right.addStretch(1)
        right.addWidget(self.save_btn, 0, Qt.AlignmentFlag.AlignRight)
        row.addLayout(left)
        row.addLayout(right, 1)
        tabs.addTab(page, "Hồ sơ &quét")

        # --- this PC's document scanner, then the hot folders
        folders = QWidget()
        fl = QVBoxLayout(folders)
        fl.addWidget(self._driver_dialog_box(
            sys.platform == "win32" if driver_sources is None else driver_sources))
        hint = QLabel(
            "Phần mềm của máy quét khổ lớn (A0/A3) lưu tệp TIFF/JPEG/PNG/PDF vào các thư mục "
            "này; ứng dụng chỉ lấy tệp khi đã ghi xong, mỗi tệp đúng một lần.")
        hint.setWordWrap(True)
        self.folders = QListWidget()
        buttons = QHBoxLayout()
        self.add_folder_btn = QPushButton("Thêm &thư mục…")
        self.add_folder_btn.setToolTip(
            "Thêm thư mục mà phần mềm máy quét khổ lớn lưu bản quét vào")
        self.remove_folder_btn = QPushButton("&Bỏ thư mục")
        self.remove_folder_btn.setToolTip("Bỏ thư mục đang chọn khỏi danh sách (không xóa tệp)")
        self.save_folders_btn = QPushButton("Lưu &danh sách")
        self.save_folders_btn.setToolTip("Lưu danh sách thư mục nhận bản quét của máy này")
        for b in (self.add_folder_btn, self.remove_folder_btn, self.save_folders_btn):
            b.setEnabled(technician)
            buttons.addWidget(b)
        buttons.addStretch(1)
        fl.addWidget(hint)
        fl.addWidget(self.folders, 1)
        fl.addLayout(buttons)
        if not technician:
            fl.addWidget(QLabel("Chỉ kỹ thuật viên được thay đổi thư mục nhận bản quét."))
        tabs.addTab(folders, "Máy quét và thư mục &bản quét")

        # --- printing and retention (this PC's printer; the agency's retention period)
        printing = QWidget()
        pl = QVBoxLayout(printing)
        form = QFormLayout()
        self.printer = QComboBox()
        self.printer.addItem("(máy in mặc định của hệ điều hành)", "")
        for name in printers if printers is not None else (available_printers() or []):
            self.printer.addItem(name, name)
        self.retention = QSpinBox()
        self.retention.setRange(MIN_RETENTION_DAYS, MAX_RETENTION_DAYS)
        self.retention.setSuffix(" ngày")
        form.addRow("&Máy in biên nhận của máy này:", self.printer)
        form.addRow("&Giữ tệp trên máy sau khi hồ sơ kết thúc:", self.retention)
        pl.addLayout(form)
        note = QLabel("Tệp quét chỉ bị xoá khỏi máy sau thời hạn trên và khi tỉnh đã xác nhận "
                      "đã nhận (lệnh motcua retention); hồ sơ trong sổ theo dõi giữ nguyên.")
        note.setWordWrap(True)
        pl.addWidget(note)
        self.save_printing_btn = QPushButton("Lưu cài đặt &in")
        self.save_printing_btn.setToolTip("Lưu máy in biên nhận của máy này và số ngày giữ tệp")
        self.save_printing_btn.setEnabled(technician)
        for w in (self.printer, self.retention):
            w.setEnabled(technician)
        pl.addWidget(self.save_printing_btn, 0, Qt.AlignmentFlag.AlignRight)
        if not technician:
            pl.addWidget(QLabel("Chỉ kỹ thuật viên được thay đổi máy in và thời hạn giữ tệp."))
        pl.addStretch(1)
        tabs.addTab(printing, "In ấn và &lưu trữ")

        tabs.addTab(self._scanner_tab(technician), "Máy đọc mã Q&R")
        self.signers = SignerTab(ctx, clerk, self.runner)
        tabs.addTab(scrolling(self.signers), "Người &ký")
        self.scanner_affixes: tuple[str, str] | None = None  # set once saved here

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setText("Đóng")
        close.button(QDialogButtonBox.StandardButton.Close).setToolTip("Đóng cài đặt (Esc)")
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs, 1)
        layout.addWidget(close)

        self.list.currentItemChanged.connect(self._selected)
        self.new_btn.clicked.connect(self.new_profile)
        self.save_btn.clicked.connect(self.save_profile)
        self.add_folder_btn.clicked.connect(self.add_folder)
        self.remove_folder_btn.clicked.connect(self.remove_folder)
        self.save_folders_btn.clicked.connect(self.save_folders)
        self.save_printing_btn.clicked.connect(self.save_printing)
        self.load()

    # --- profiles ------------------------------------------------------------------------

    def load(self, select: str = "") -> None:
        self.list.clear()
        for p in self.service.profiles():
            item = QListWidgetItem(f"{'🔒 ' if p.locked else ''}{p.label_vi}")
            item.setData(Qt.ItemDataRole.UserRole, p)
            item.setToolTip(f"{p.name} · {p.dpi} dpi · {p.page_size}")
            self.list.addItem(item)
            if p.name == select:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        station = self.stations.get()
        self.folders.clear()
        self.folders.addItems(list(station.hot_folders) if station else [])
        if station is not None:
            self._show_printing(station)
            self._show_scanner(station)

    def _show_printing(self, station: StationInfo) -> None:
        index = self.printer.findData(station.printer)
        if index < 0:  # provisioned, but not installed on this PC (any more)
            self.printer.addItem(f"{station.printer} (chưa cài trên máy này)", station.printer)
            index = self.printer.count() - 1
        self.printer.setCurrentIndex(index)
        self.retention.setValue(station.retention_days)

    def _selected(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.editor.show_profile(item.data(Qt.ItemDataRole.UserRole))

    def new_profile(self) -> None:
        name = messages.ask_text(self, "Thêm hồ sơ quét", f"Mã hồ sơ quét ({NAME_RULE_VI}):",
                                 ok="Thêm")
        if name is None:
            return
        name = name.strip().lower()
        if not PROFILE_NAME.match(name):
            messages.error(self, f"Mã hồ sơ quét gồm {NAME_RULE_VI}.")
            return
        if any(p.name == name for p in self.service.profiles()):
            messages.error(self, f"Đã có hồ sơ quét mã “{name}”.")
            return
        base = self.editor.profile or ScanProfile(name, name)
        self.editor.show_profile(replace(base, name=name, label_vi=name, locked=False))
        self.editor.label.setFocus()
        self.editor.label.selectAll()

    def save_profile(self) -> None:
        if self.editor.profile is None:
            return
        try:
            profile = self.editor.edited()
        except ValueError as exc:
            messages.error(self, f"Thông số không hợp lệ: {exc}")
            return
        self.save_btn.setEnabled(False)
        self.runner.submit(lambda: self.service.save_profile(profile, self.clerk),
                           self._saved, self._failed)

    def _saved(self, profile: ScanProfile) -> None:
        self.save_btn.setEnabled(True)
        self.load(select=profile.name)
        self.editor.state.setText(f"Đã lưu hồ sơ quét “{profile.label_vi}”.")

    def _failed(self, message: str, _detail: str) -> None:
        self.save_btn.setEnabled(True)
        self.save_folders_btn.setEnabled(self.clerk.role is Role.TECHNICIAN)
        self.save_printing_btn.setEnabled(self.clerk.role is Role.TECHNICIAN)
        self.save_scanner_btn.setEnabled(self.clerk.role is Role.TECHNICIAN)
        messages.error(self, message)

    # --- the scanner driver's own window -------------------------------------------------

    def _driver_dialog_box(self, possible: bool) -> QGroupBox:
        box = QGroupBox("Máy quét tài liệu của máy này")
        layout = QVBoxLayout(box)
        self.driver_dialog = QCheckBox(
            "Dùng cửa sổ &cài đặt của trình điều khiển máy quét (WIA/TWAIN)")
        self.driver_dialog.setToolTip(
            "Mỗi lần quét, trình điều khiển của hãng mở cửa sổ cài đặt riêng: độ phân giải "
            "(DPI), màu, khổ giấy chọn trong cửa sổ đó, không theo hồ sơ quét. Chỉ bật khi "
            "máy quét không quét đúng theo hồ sơ quét. Chỉ áp dụng cho máy tính này.")
        self.driver_dialog.setEnabled(possible)
        self.driver_dialog_state = QLabel(
            "Hồ sơ quét vẫn kiểm tra độ phân giải tối thiểu và dung lượng tệp sau khi quét."
            if possible else
            "Chỉ áp dụng cho trình điều khiển WIA/TWAIN trên Windows; máy này quét qua "
            "SANE hoặc thư mục nhận bản quét.")
        self.driver_dialog_state.setObjectName("hint")
        self.driver_dialog_state.setWordWrap(True)
        layout.addWidget(self.driver_dialog)
        layout.addWidget(self.driver_dialog_state)
        self.driver_dialog.setChecked(driver_dialog_enabled(self.ctx))
        self.driver_dialog.clicked.connect(self.save_driver_dialog)  # the user's clicks only
        return box

    def save_driver_dialog(self, enabled: bool) -> None:
        self.driver_dialog.setEnabled(False)
        self.runner.submit(lambda: set_driver_dialog(self.ctx, enabled, self.clerk),
                           self._driver_dialog_saved, self._driver_dialog_failed)

    def _driver_dialog_saved(self, enabled: bool) -> None:
        self.driver_dialog.setEnabled(True)
        self.driver_dialog.setChecked(enabled)
        self.driver_dialog_state.setText(
            "Đã lưu: lần quét sau mở cửa sổ cài đặt của trình điều khiển máy quét."
            if enabled else "Đã lưu: máy quét dùng thông số của hồ sơ quét.")

    def _driver_dialog_failed(self, message: str, _detail: str) -> None:
        self.driver_dialog.setEnabled(True)
        self.driver_dialog.setChecked(driver_dialog_enabled(self.ctx))
        messages.error(self, message)

    # --- hot folders ---------------------------------------------------------------------

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Chọn thư mục nhận bản quét")
        if folder and not self.folders.findItems(folder, Qt.MatchFlag.MatchExactly):
            self.folders.addItem(folder)

    def remove_folder(self) -> None:
        row = self.folders.currentRow()
        if row >= 0:
            self.folders.takeItem(row)

    def folder_list(self) -> tuple[str, ...]:
        return tuple(self.folders.item(i).text() for i in range(self.folders.count()))

    def save_folders(self) -> None:
        folders = self.folder_list()

        def save() -> tuple[str, ...]:
            station = self.stations.require()
            return self.stations.save(replace(station, hot_folders=folders),
                                      self.clerk.id).hot_folders

        self.save_folders_btn.setEnabled(False)
        self.runner.submit(save, self._folders_saved, self._failed)

    def _folders_saved(self, folders: tuple[str, ...]) -> None:
        self.save_folders_btn.setEnabled(True)
        self.folders.clear()
        self.folders.addItems(list(folders))
        messages.info(self, f"Đã lưu {len(folders)} thư mục nhận bản quét.")

    # --- printing and retention ------------------------------------------------------------

    def save_printing(self) -> None:
        printer = str(self.printer.currentData() or "")
        days = self.retention.value()

        def save() -> StationInfo:
            station = self.stations.require()
            return self.stations.save(replace(station, printer=printer, retention_days=days),
                                      self.clerk.id)

        self.save_printing_btn.setEnabled(False)
        self.runner.submit(save, self._printing_saved, self._failed)

    def _printing_saved(self, station: StationInfo) -> None:
        self.save_printing_btn.setEnabled(True)
        self._show_printing(station)
        messages.info(self, "Đã lưu: biên nhận in ra "
                            f"{station.printer or 'máy in mặc định'}; giữ tệp "
                            f"{station.retention_days} ngày sau khi hồ sơ kết thúc.")

    # --- the handheld QR scanner -----------------------------------------------------------

    def _scanner_tab(self, technician: bool) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        hint = QLabel(
            "Máy quét mã QR cầm tay gõ mã như bàn phím. Hầu hết các máy chỉ gửi mã rồi Enter: "
            "để trống hai ô dưới. Nếu máy đã được cài để gửi thêm ký tự trước (tiền tố) hoặc "
            "sau (hậu tố) mỗi mã, ghi đúng các ký tự đó; ký tự điều khiển viết dạng \\x02 "
            "(STX), \\x03 (ETX). Mọi mã bắt đầu bằng tiền tố đều được coi là mã quét, không "
            "phải chữ gõ tay.")
        hint.setWordWrap(True)
        form = QFormLayout()
        self.scanner_prefix = QLineEdit()
        self.scanner_prefix.setPlaceholderText("(không có)")
        self.scanner_suffix = QLineEdit()
        self.scanner_suffix.setPlaceholderText("(không có)")
        form.addRow("Tiền tố (&prefix):", self.scanner_prefix)
        form.addRow("Hậu tố (s&uffix):", self.scanner_suffix)
        self.save_scanner_btn = QPushButton("Lưu cài đặt má&y đọc mã")
        self.save_scanner_btn.setToolTip("Lưu tiền tố và hậu tố của máy quét mã QR cầm tay "
                                         "gắn với máy tính này; áp dụng ngay từ lần quét sau")
        self.save_scanner_btn.clicked.connect(self.save_scanner)
        for w in (self.scanner_prefix, self.scanner_suffix, self.save_scanner_btn):
            w.setEnabled(technician)
        layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(self.save_scanner_btn, 0, Qt.AlignmentFlag.AlignRight)
        if not technician:
            layout.addWidget(QLabel("Chỉ kỹ thuật viên được thay đổi cài đặt máy đọc mã."))
        layout.addStretch(1)
        return tab

    def _show_scanner(self, station: StationInfo) -> None:
        self.scanner_prefix.setText(scanner_affix_text(station.scanner_prefix))
        self.scanner_suffix.setText(scanner_affix_text(station.scanner_suffix))

    def save_scanner(self) -> None:
        try:
            prefix = parse_scanner_affix(self.scanner_prefix.text(), "prefix")
            suffix = parse_scanner_affix(self.scanner_suffix.text(), "suffix")
        except DomainError as exc:
            messages.error(self, exc.message_vi)
            return

        def save() -> StationInfo:
            station = self.stations.require()
            return self.stations.save(replace(station, scanner_prefix=prefix,
                                              scanner_suffix=suffix), self.clerk.id)

        self.save_scanner_btn.setEnabled(False)
        self.runner.submit(save, self._scanner_saved, self._failed)

    def _scanner_saved(self, station: StationInfo) -> None:
        self.save_scanner_btn.setEnabled(True)
        self._show_scanner(station)
        self.scanner_affixes = (station.scanner_prefix, station.scanner_suffix)
        prefix = scanner_affix_text(station.scanner_prefix) or "không có"
        suffix = scanner_affix_text(station.scanner_suffix) or "không có"
        messages.info(self, f"Đã lưu: máy đọc mã gửi tiền tố {prefix}, hậu tố {suffix}.")
