"""Digitization studio: capture or import pages, see thumbnails as they arrive, fix them
(rotate, delete, reorder, move to another component, re-scan one page), check the quality
badges against the legal rules and the upload limit, then store each component as PDF.

All capture, image processing and PDF assembly runs on workers (``ui.jobs``) with progress
and Cancel; this module only arranges widgets and calls ``desktop_app.scanning.studio``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QImageReader,
    QKeySequence,
    QPixmap,
    QShortcut,
    QTransform,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.digitization import DigitizedFile
from desktop_app.scanning.model import COLOUR_MODE_VI, ProcessedPage, ScanProfile
from desktop_app.scanning.studio import IMPORT_SOURCE, FinishResult, StudioBackend
from desktop_app.scanning.workspace import UNASSIGNED, Workspace
from ui import messages
from ui.jobs import Job, JobControl, JobRunner
from ui.page_viewer import PageViewer
from ui.slip_preview import SlipPreviewDialog
from ui.workers import Runner

log = logging.getLogger(__name__)

THUMB = 150
CAMERA = "camera"


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.1f}".replace(".", ",")


def page_badges(page: ProcessedPage, min_dpi: int) -> str:
    dpi_ok = page.dpi >= min_dpi
    w_mm, h_mm = page.size_mm
    parts = [
        f"{page.dpi} dpi" + ("" if dpi_ok else f" (dưới mức tối thiểu {min_dpi})"),
        COLOUR_MODE_VI[page.mode],
        f"{w_mm:.0f}×{h_mm:.0f} mm",
        f"{_mb(page.encoded_bytes)} MB",
    ]
    if page.rotation:
        parts.append(f"xoay {page.rotation}°")
    return " · ".join(parts + page.notes)


class ThumbList(QListWidget):
    """Thumbnails of one component's pages; drag to reorder, drop files to import."""

    files_dropped = Signal(list)
    reordered = Signal(int, int)

    def __init__(self) -> None:
        super().__init__()
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 24, THUMB + 44))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Snap)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setAcceptDrops(True)
        self.setWordWrap(True)
        self.setAccessibleName("Các trang của thành phần")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if event.mimeData().hasUrls():
            paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
            return
        before = self.currentRow()
        super().dropEvent(event)
        after = self.currentRow()
        if before >= 0 and after >= 0 and before != after:
            self.reordered.emit(before, after)


def thumbnail(page: ProcessedPage) -> QIcon:
    reader = QImageReader(str(page.preview_path))
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    pix = QPixmap.fromImage(image)
    if page.rotation and not pix.isNull():
        pix = pix.transformed(QTransform().rotate(page.rotation))
    return QIcon(pix)


class StudioPage(QWidget):
    """``on_finished(slot_key, files)`` is called when a component is stored; the caller
    decides what to do with the files (put them in the intake draft, or attach them to a
    received dossier)."""

    finished_slot = Signal(str, list)
    close_requested = Signal()

    def __init__(self, backend: StudioBackend, runner: Runner,
                 on_finished: Callable[[str, list[DigitizedFile]], None] | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.runner = runner
        self.jobs = JobRunner(self)
        self.on_finished = on_finished
        self.ws: Workspace | None = None
        self.job: Job | None = None
        self.rules = backend.rules()
        self.warnings: list[str] = []

        self.title = QLabel("Số hóa hồ sơ")
        self.title.setObjectName("pageTitle")
        self.profile = QComboBox()
        self.profile.setAccessibleName("Hồ sơ quét")
        self.source = QComboBox()
        self.source.setAccessibleName("Nguồn quét")
        self.scan_btn = QPushButton("&Quét (F5)")
        self.scan_btn.setToolTip("Quét từ máy quét đã chọn theo hồ sơ quét đã chọn")
        self.scan_btn.setObjectName("primary")
        self.import_btn = QPushButton("&Nhập tệp… (Ctrl+O)")
        self.import_btn.setToolTip(
            "Nhập tệp ảnh hoặc PDF (cũng có thể kéo thả tệp vào danh sách trang)")
        self.sep_btn = QPushButton("In tờ &phân cách…")
        self.sep_btn.setToolTip("In tờ phân cách để quét cả hồ sơ một lần qua khay nạp giấy")
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        for label, w in (("Hồ sơ quét:", self.profile), ("Nguồn:", self.source)):
            lab = QLabel(label)
            lab.setBuddy(w)
            top.addWidget(lab)
            top.addWidget(w)
        top.addWidget(self.scan_btn)
        top.addWidget(self.import_btn)
        top.addWidget(self.sep_btn)

        self.slots = QListWidget()
        self.slots.setAccessibleName("Thành phần hồ sơ")
        self.slots.setMinimumWidth(260)
        self.slots.setWordWrap(True)  # component names are long legal phrases
        self.slots.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.slots.setSpacing(3)
        self.thumbs = ThumbList()
        self.viewer = PageViewer(runner)
        self.badges = QLabel()
        self.badges.setObjectName("hint")
        self.badges.setWordWrap(True)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.viewer, 1)
        rl.addWidget(self.badges)
        split = QSplitter()
        split.addWidget(self.slots)
        split.addWidget(self.thumbs)
        split.addWidget(right)
        split.setSizes([280, 460, 560])

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.status = QLabel("Chọn nguồn quét rồi bấm Quét, hoặc kéo thả tệp ảnh/PDF vào đây.")
        self.status.setWordWrap(True)
        self.cancel_btn = QPushButton("&Hủy (Esc)")
        self.cancel_btn.setToolTip("Dừng việc đang chạy; các trang đã xong vẫn được giữ")
        self.cancel_btn.setEnabled(False)
        self.finish_btn = QPushButton("&Lưu thành phần này thành PDF (Ctrl+Enter)")
        self.finish_btn.setToolTip(
            "Ghép các trang của thành phần thành PDF đúng quy định và vừa giới hạn dung lượng")
        self.finish_btn.setObjectName("primary")
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.cancel_btn)
        bottom.addWidget(self.finish_btn)
        hint = QLabel("R/Shift+R: xoay · Delete: xóa (Ctrl+Z: lấy lại) · Ctrl+↑/↓: đổi thứ tự · "
                      "Ctrl+M: chuyển sang thành phần khác · Ctrl+Shift+F5: quét lại trang · "
                      "+/−/0: phóng to/thu nhỏ/vừa khung")
        hint.setObjectName("hint")
        hint.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)
        layout.addWidget(hint)

        self.scan_btn.clicked.connect(self.scan)
        self.import_btn.clicked.connect(self.choose_files)
        self.sep_btn.clicked.connect(self.print_separators)
        self.cancel_btn.clicked.connect(self.cancel)
        self.finish_btn.clicked.connect(self.finish_current)
        self.slots.currentRowChanged.connect(lambda _: self.show_slot())
        self.thumbs.currentRowChanged.connect(lambda _: self.show_current_page())
        self.thumbs.files_dropped.connect(self.import_paths)
        self.thumbs.reordered.connect(self._reordered)
        self.thumbs.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.thumbs.customContextMenuRequested.connect(self._context_menu)
        for keys, fn in (("F5", self.scan), ("Ctrl+O", self.choose_files),
                         ("R", lambda: self.rotate(90)), ("Shift+R", lambda: self.rotate(270)),
                         ("Delete", self.delete_page), ("Ctrl+Z", self.undelete),
                         ("Ctrl+Up", lambda: self.move_page(-1)),
                         ("Ctrl+Down", lambda: self.move_page(1)),
                         ("Ctrl+M", self.move_to_menu), ("Ctrl+Shift+F5", self.rescan_page),
                         ("Escape", self._escape), ("Ctrl+Return", self.finish_current),
                         ("Ctrl+Enter", self.finish_current)):
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(fn)
        self.setAcceptDrops(True)
        self._load_choices()

    # --- set-up --------------------------------------------------------------------------

    def _load_choices(self) -> None:
        self.profile.clear()
        for p in self.backend.profiles():
            self.profile.addItem(p.label_vi + ("  🔒" if p.locked else ""), p.name)
        self.source.clear()
        self.source.addItem("Nhập từ tệp (ảnh, PDF)", IMPORT_SOURCE)
        self.source.addItem("Đang tìm máy quét…", None)
        self.scan_btn.setEnabled(False)
        # Finding scanners can take seconds (SANE probes USB and the network): off the UI
        # thread, like everything slow, and on a thread that closing never waits for.
        folders = self.backend.hot_folders()
        self.runner.submit_detached(lambda: self.backend.sources(folders), self._show_sources,
                                    lambda m, d: self._show_sources(
                                        [(IMPORT_SOURCE, "Nhập từ tệp (ảnh, PDF)")]),
                                    owner=self)

    def _show_sources(self, sources: list[tuple[str, str]]) -> None:
        self.source.clear()
        for key, label in sources:
            self.source.addItem(label, key)
        # Cameras are enumerated only when chosen: QtMultimedia's backend start-up can take
        # seconds and must not hold the UI thread at every studio opening.
        self.source.addItem("Máy ảnh / camera tài liệu", CAMERA)
        self.source.setCurrentIndex(0)
        self.scan_btn.setEnabled(True)

    def open_workspace(self, ws: Workspace) -> None:
        self.ws = ws
        self.title.setText(ws.title or "Số hóa hồ sơ")
        self.refresh_slots()
        first = 1 if len(ws.slots) > 1 else 0
        self.slots.setCurrentRow(first)
        self.thumbs.setFocus()

    def current_profile(self) -> ScanProfile:
        return self.backend.profile(str(self.profile.currentData()))

    def current_key(self) -> str:
        item = self.slots.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else UNASSIGNED

    # --- display -----------------------------------------------------------------------

    def refresh_slots(self) -> None:
        if self.ws is None:
            return
        row = self.slots.currentRow()
        self.slots.blockSignals(True)
        self.slots.clear()
        limit = self.rules.max_file_bytes
        for slot in self.ws.slots:
            size = sum(p.encoded_bytes for p in slot.pages)
            over = " ⚠ vượt giới hạn, sẽ giảm dung lượng/chia tệp" if size > limit else ""
            text = (f"{slot.label}\n{len(slot.pages)} trang · {_mb(size)}/{_mb(limit)} MB"
                    f"{over}")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, slot.key)
            self.slots.addItem(item)
        self.slots.blockSignals(False)
        self.slots.setCurrentRow(max(0, min(row, self.slots.count() - 1)))
        self.show_slot()

    def show_slot(self) -> None:
        if self.ws is None:
            return
        row = self.thumbs.currentRow()
        self.thumbs.clear()
        for i, page in enumerate(self.ws.slot(self.current_key()).pages, 1):
            item = QListWidgetItem(thumbnail(page), f"Trang {i}\n{page.dpi} dpi · "
                                   f"{COLOUR_MODE_VI[page.mode]}")
            self.thumbs.addItem(item)
        if self.thumbs.count():
            self.thumbs.setCurrentRow(max(0, min(row, self.thumbs.count() - 1)))
        else:
            self.viewer.show_page(None)
            self.badges.setText("")
        self.finish_btn.setEnabled(self.thumbs.count() > 0 and self.current_key() != UNASSIGNED)

    def current_page(self) -> ProcessedPage | None:
        if self.ws is None or self.thumbs.currentRow() < 0:
            return None
        pages = self.ws.slot(self.current_key()).pages
        row = self.thumbs.currentRow()
        return pages[row] if row < len(pages) else None

    def show_current_page(self) -> None:
        page = self.current_page()
        self.viewer.show_page(page)
        self.badges.setText(page_badges(page, self.rules.min_dpi) if page else "")

    # --- page operations ---------------------------------------------------------------

    def _op(self, fn: Callable[[Workspace, str, int], object]) -> None:
        if self.ws is None or self.thumbs.currentRow() < 0 or self._busy():
            return
        fn(self.ws, self.current_key(), self.thumbs.currentRow())
        self.refresh_slots()

    def rotate(self, degrees: int) -> None:
        self._op(lambda ws, key, i: ws.rotate(key, i, degrees))

    def delete_page(self) -> None:
        self._op(lambda ws, key, i: ws.delete(key, i))
        self.status.setText("Đã xóa trang (Ctrl+Z để lấy lại).")

    def undelete(self) -> None:
        if self.ws is None or self._busy():
            return
        where = self.ws.undelete(self.current_key())
        if where is None:
            return
        key, index = where
        for row in range(self.slots.count()):
            if self.slots.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self.slots.setCurrentRow(row)
        self.refresh_slots()
        self.thumbs.setCurrentRow(index)
        self.status.setText("Đã lấy lại trang vừa xóa.")

    def move_page(self, delta: int) -> None:
        row = self.thumbs.currentRow()
        self._op(lambda ws, key, i: ws.move(key, i, i + delta))
        self.thumbs.setCurrentRow(max(0, min(row + delta, self.thumbs.count() - 1)))

    def _reordered(self, before: int, after: int) -> None:
        if self.ws is not None:
            self.ws.move(self.current_key(), before, after)
            self.refresh_slots()
            self.thumbs.setCurrentRow(after)

    def move_to_menu(self) -> None:
        if self.ws is None or self.thumbs.currentRow() < 0:
            return
        menu = self._move_menu()
        menu.exec(self.thumbs.mapToGlobal(self.thumbs.visualItemRect(
            self.thumbs.currentItem()).center()))

    def _move_menu(self) -> QMenu:
        menu = QMenu("Chuyển sang thành phần", self)
        assert self.ws is not None
        for slot in self.ws.slots:
            if slot.key == self.current_key():
                continue
            action = menu.addAction(slot.label)
            action.triggered.connect(lambda _=False, k=slot.key: self._op(
                lambda ws, key, i: ws.move_to(key, i, k)))
        return menu

    def _context_menu(self, pos) -> None:  # type: ignore[no-untyped-def]
        if self.thumbs.itemAt(pos) is None:
            return
        menu = QMenu(self)
        menu.addAction("Xoay phải (R)", lambda: self.rotate(90))
        menu.addAction("Xoay trái (Shift+R)", lambda: self.rotate(270))
        menu.addAction("Quét lại trang này (Ctrl+Shift+F5)", self.rescan_page)
        menu.addMenu(self._move_menu())
        menu.addSeparator()
        menu.addAction("Xóa trang (Delete)", self.delete_page)
        menu.exec(self.thumbs.mapToGlobal(pos))

    # --- long work -----------------------------------------------------------------------

    def _busy(self) -> bool:
        return self.job is not None and self.job.running

    def _start(self, fn: Callable[[JobControl], object], on_done: Callable[[object], None],
               on_item: Callable[[object], None] | None = None, label: str = "") -> None:
        if self._busy():
            self.status.setText("Đang làm việc khác; chờ xong hoặc bấm Hủy.")
            return
        job = self.jobs.start(fn)
        self.job = job
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.cancel_btn.setEnabled(True)
        for w in (self.scan_btn, self.import_btn, self.finish_btn):
            w.setEnabled(False)
        self.status.setText(label)
        job.signals.progress.connect(self._progress)
        job.signals.warning.connect(self._warning)
        if on_item is not None:
            job.signals.item.connect(on_item)
        job.signals.done.connect(lambda result: (self._idle(), on_done(result)))
        job.signals.cancelled.connect(lambda: (self._idle(), self.status.setText(
            "Đã hủy. Các trang đã xong vẫn được giữ.")))
        job.signals.failed.connect(lambda m, d: (self._idle(), self.status.setText(m),
                                                 messages.error(self, m)))

    def _progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        if text:
            self.status.setText(text)

    def _warning(self, message: str) -> None:
        self.warnings.append(message)
        self.status.setText(message)

    def _idle(self) -> None:
        self.progress.setVisible(False)
        self.cancel_btn.setEnabled(False)
        self.scan_btn.setEnabled(True)
        self.import_btn.setEnabled(True)
        self.show_slot()

    def _escape(self) -> None:
        if self._busy():
            self.cancel()
        else:
            self.close_requested.emit()

    def cancel(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.status.setText("Đang hủy… (trang đang xử lý sẽ xong rồi dừng)")

    def _page_arrived(self, key: str) -> Callable[[object], None]:
        def add(page: object) -> None:
            if self.ws is None or not isinstance(page, ProcessedPage):
                return
            self.ws.add(key, page)
            if key == self.current_key():
                self.thumbs.addItem(QListWidgetItem(
                    thumbnail(page), f"Trang {self.thumbs.count() + 1}\n{page.dpi} dpi · "
                    f"{COLOUR_MODE_VI[page.mode]}"))
                self.thumbs.setCurrentRow(self.thumbs.count() - 1)
        return add

    def scan(self) -> None:
        if self.ws is None:
            return
        key, profile = self.current_key(), self.current_profile()
        source = str(self.source.currentData())
        work = self.ws.root
        if source == CAMERA:
            self._camera()
            return
        if source == IMPORT_SOURCE:
            self.choose_files()
            return
        self.warnings = []
        self._start(lambda c: self.backend.capture(source, profile, work, c),
                    self._after_capture, self._page_arrived(key),
                    f"Đang quét bằng “{self.source.currentText()}”…")

    def rescan_page(self) -> None:
        if self.ws is None or self.current_page() is None:
            return
        key, index = self.current_key(), self.thumbs.currentRow()
        profile, source, work = (self.current_profile(), str(self.source.currentData()),
                                 self.ws.root)

        def replace(page: object) -> None:
            if self.ws is not None and isinstance(page, ProcessedPage):
                self.ws.replace(key, index, page)
                self.refresh_slots()
                self.thumbs.setCurrentRow(index)

        self._start(lambda c: self.backend.capture(source, profile, work, c, single=True),
                    self._after_capture, replace, "Đang quét lại một trang…")

    def _camera(self) -> None:
        # QtMultimedia loads only when a camera is used: a PC without its libraries
        # (libpulse) still scans and imports.
        from ui.camera_capture import CameraDialog

        assert self.ws is not None
        dialog = CameraDialog(self.ws.root / "camera", self)
        if dialog.exec() and dialog.files:
            self.import_paths(dialog.files)

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Chọn tệp ảnh hoặc PDF để số hóa", str(Path.home()),
            "Ảnh và PDF (*.jpg *.jpeg *.png *.tif *.tiff *.bmp *.pdf);;Mọi tệp (*)")
        if paths:
            self.import_paths([Path(p) for p in paths])

    def import_paths(self, paths: list[Path]) -> None:
        if self.ws is None or not paths:
            return
        key, profile, work = self.current_key(), self.current_profile(), self.ws.root
        self.warnings = []
        self._start(lambda c: self.backend.import_files(paths, profile, work, c),
                    self._after_capture, self._page_arrived(key),
                    f"Đang nhập {len(paths)} tệp…")

    def _after_capture(self, summary: object) -> None:
        text = str(summary)
        if self.warnings:
            messages.error(self, "\n".join(self.warnings), "Một số trang/tệp không nhận được")
        self.status.setText(text)
        self.refresh_slots()

    def finish_current(self) -> None:
        if self.ws is None or self.current_key() == UNASSIGNED or self._busy():
            return
        key = self.current_key()
        ws = self.ws
        if not ws.slot(key).pages:
            return
        ocr = self.current_profile().ocr
        self._start(lambda c: self.backend.finish(ws, key, c, ocr), self._finished,
                    label="Đang tạo tệp PDF…")

    def _finished(self, result: object) -> None:
        assert isinstance(result, FinishResult)
        lines = [f"Đã lưu “{result.label}”: "
                 + "; ".join(f.file_name + " (" + f.label_vi + ")" for f in result.files)]
        lines += result.actions
        self.status.setText(" ".join(lines))
        if result.actions:
            messages.error(self, "\n".join(lines), "Đã lưu, có điều chỉnh để vừa giới hạn")
        self.refresh_slots()
        self.finished_slot.emit(result.key, list(result.files))
        if self.on_finished is not None:
            self.on_finished(result.key, list(result.files))

    def print_separators(self) -> None:
        if self.ws is None:
            return

        def show(pdf: object) -> None:
            assert isinstance(pdf, bytes)
            dialog = SlipPreviewDialog(pdf, "Tờ phân cách để quét theo lô", "to-phan-cach.pdf",
                                       self)
            self.last_preview = dialog
            dialog.open()

        ws = self.ws
        self.runner.submit(lambda: self.backend.separator_sheets(ws), show,
                           lambda m, d: messages.error(self, m))
