"""Batch digitization with separator sheets: print the sheets for received dossiers, put
one before each component, feed the whole stack through the ADF (or import the files the
scanner wrote), and every component lands in its dossier."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.scanning.batch_filing import BatchReport, file_batch
from desktop_app.scanning.model import CapturedFile
from desktop_app.scanning.studio import IMPORT_SOURCE, StudioBackend, separator_sheets_for_codes
from desktop_app.scanning.workspace import Workspace
from ui import messages
from ui.jobs import Job, JobControl, JobRunner
from ui.screen_fit import ActionBar
from ui.slip_preview import SlipPreviewDialog
from ui.workers import Runner


class BatchPage(QWidget):
    open_workspace = Signal(object)  # Path of a workspace with pages to file by hand

    def __init__(self, ctx: AppContext, clerk: ClerkInfo, runner: Runner) -> None:
        super().__init__()
        self.ctx = ctx
        self.clerk = clerk
        self.runner = runner
        self.backend = StudioBackend(ctx, clerk)
        self.jobs = JobRunner(self)
        self.job: Job | None = None

        title = QLabel("Số hóa theo lô (tờ phân cách)")
        title.setObjectName("pageTitle")
        steps = QLabel(
            "1. In tờ phân cách cho các hồ sơ đã tiếp nhận.  2. Đặt mỗi tờ ngay trước "
            "thành phần của nó, xếp cả chồng vào khay nạp giấy (ADF).  3. Quét một lần: từng "
            "thành phần được tách, tạo PDF và gắn vào đúng hồ sơ.")
        steps.setWordWrap(True)
        steps.setObjectName("hint")
        self.codes = QLineEdit()
        self.codes.setPlaceholderText("Mã các hồ sơ cần in tờ phân cách, cách nhau bởi dấu "
                                      "phẩy hoặc dấu cách")
        print_btn = QPushButton("&In tờ phân cách…")
        print_btn.setToolTip("In tờ phân cách (mã QR) cho các hồ sơ đã nhập mã ở ô bên trái")
        row1 = QHBoxLayout()
        row1.addWidget(self.codes, 1)
        row1.addWidget(print_btn)
        self.profile = QComboBox()
        self.source = QComboBox()
        self.scan_btn = QPushButton("&Quét cả lô (F5)")
        self.scan_btn.setToolTip(
            "Quét cả chồng giấy qua khay nạp giấy; mỗi thành phần được tách theo tờ phân cách và "
            "gắn vào hồ sơ")
        self.scan_btn.setObjectName("primary")
        self.import_btn = QPushButton("&Nhập tệp của lô…")
        self.import_btn.setToolTip(
            "Dùng tệp ảnh/PDF máy quét đã lưu (kể cả một tệp TIFF/PDF nhiều trang) thay cho quét")
        row2 = QHBoxLayout()
        for label, w in (("Hồ sơ quét:", self.profile), ("Nguồn:", self.source)):
            lab = QLabel(label)
            lab.setBuddy(w)
            row2.addWidget(lab)
            row2.addWidget(w, 1)
            w.setMinimumContentsLength(12)
            w.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        actions = ActionBar([self.import_btn], [self.scan_btn])
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.cancel_btn = QPushButton("&Hủy")
        self.cancel_btn.setToolTip("Dừng lô đang chạy; các thành phần đã xếp xong vẫn được giữ")
        self.cancel_btn.setEnabled(False)
        row3 = QHBoxLayout()
        row3.addWidget(self.status, 1)
        row3.addWidget(self.progress)
        row3.addWidget(self.cancel_btn)
        self.report = QTextBrowser()
        self.open_unfiled = QPushButton("Mở các trang &chưa xếp để xếp tay…")
        self.open_unfiled.setToolTip(
            "Mở các trang lô không tự xếp được để chọn hồ sơ và thành phần bằng tay")
        self.open_unfiled.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(steps)
        layout.addLayout(row1)
        layout.addLayout(row2)
        layout.addWidget(actions)
        layout.addLayout(row3)
        layout.addWidget(self.report, 1)
        layout.addWidget(self.open_unfiled)

        self.report.setHtml(
            "<p style='color:#555'>Kết quả của lô quét sẽ hiện ở đây: thành phần nào đã gắn "
            "vào hồ sơ nào, số trang, và các trang cần xếp tay (nếu có).</p>")
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        QShortcut(QKeySequence("F5"), self).activated.connect(self.scan)
        print_btn.clicked.connect(self.print_sheets)
        self.codes.returnPressed.connect(self.print_sheets)
        self.scan_btn.clicked.connect(self.scan)
        self.import_btn.clicked.connect(self.choose_files)
        self.cancel_btn.clicked.connect(lambda: self.job.cancel() if self.job else None)
        self.unfiled: Path | None = None
        self.open_unfiled.clicked.connect(lambda: self.open_workspace.emit(self.unfiled))
        self.load_choices()

    def load_choices(self) -> None:
        self.profile.clear()
        for p in self.backend.profiles():
            self.profile.addItem(p.label_vi, p.name)
        duplex = self.profile.findData("a4-duplex")
        self.profile.setCurrentIndex(max(0, duplex))
        self.source.clear()
        self.scan_btn.setEnabled(False)
        # Seconds of probing for scanners: on a thread that closing never waits for.
        folders = self.backend.hot_folders()
        self.runner.submit_detached(lambda: self.backend.sources(folders), self._show_sources,
                                    lambda m, d: None, owner=self)

    def _show_sources(self, sources: list[tuple[str, str]]) -> None:
        self.source.clear()
        for key, label in sources:
            if key != IMPORT_SOURCE:
                self.source.addItem(label, key)
        if self.source.count() == 0:
            self.source.addItem("(không có máy quét — hãy nhập tệp của lô)", None)
        self.scan_btn.setEnabled(self.source.currentData() is not None)

    # --- separator sheets ----------------------------------------------------------------

    def print_sheets(self) -> None:
        codes = [c for c in re.split(r"[\s,;]+", self.codes.text().strip()) if c]
        if not codes:
            self.status.setText("Nhập mã hồ sơ cần in tờ phân cách.")
            return

        def show(pdf: bytes) -> None:
            dialog = SlipPreviewDialog(pdf, "Tờ phân cách để quét theo lô", "to-phan-cach.pdf",
                                       self)
            self.last_preview = dialog
            dialog.open()

        self.runner.submit(lambda: separator_sheets_for_codes(self.ctx, codes), show,
                           lambda m, d: messages.error(self, m))

    # --- the batch -----------------------------------------------------------------------

    def _busy(self) -> bool:
        return self.job is not None and self.job.running

    def scan(self) -> None:
        if self._busy() or self.source.currentData() is None:
            return
        source = str(self.source.currentData())
        self._run(lambda c, work: self.backend.capture_raw(
            source, self.backend.profile(str(self.profile.currentData())), work, c))

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Chọn các tệp của lô quét (theo đúng thứ tự)", str(Path.home()),
            "Ảnh và PDF (*.jpg *.jpeg *.png *.tif *.tiff *.pdf);;Mọi tệp (*)")
        if paths:
            self.import_paths([Path(p) for p in sorted(paths)])

    def import_paths(self, paths: list[Path]) -> None:
        if self._busy():
            return
        self._run(lambda c, work: self.backend.import_raw(paths, work, c))

    def _run(self, get_pages) -> None:  # type: ignore[no-untyped-def]
        profile = self.backend.profile(str(self.profile.currentData()))
        work = Workspace.create(self.backend.work_root(), [], "Lô quét").root
        warnings: list[str] = []

        def job(c: JobControl) -> BatchReport:
            captured: list[CapturedFile] = get_pages(c, work)
            report = file_batch(self.ctx, self.clerk, captured, profile, work, c)
            return report

        self.job = self.jobs.start(job)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.cancel_btn.setEnabled(True)
        self.scan_btn.setEnabled(False)
        self.import_btn.setEnabled(False)
        self.status.setText("Đang xử lý lô quét…")
        self.job.signals.progress.connect(self._progress)
        self.job.signals.warning.connect(warnings.append)
        self.job.signals.done.connect(lambda r: (self._idle(), self.show_report(r, warnings)))
        self.job.signals.cancelled.connect(lambda: (self._idle(), self.status.setText(
            "Đã hủy. Các thành phần đã lưu vẫn còn; có thể quét lại phần còn lại.")))
        self.job.signals.failed.connect(lambda m, d: (self._idle(), self.status.setText(m),
                                                      messages.error(self, m)))

    def _progress(self, done: int, total: int, text: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        if text:
            self.status.setText(text)

    def _idle(self) -> None:
        self.progress.setVisible(False)
        self.cancel_btn.setEnabled(False)
        self.scan_btn.setEnabled(self.source.currentData() is not None)
        self.import_btn.setEnabled(True)

    def show_report(self, report: BatchReport, warnings: list[str]) -> None:
        self.status.setText(report.summary_vi)
        rows = "".join(
            f"<tr><td>{escape(f.dossier_code)}</td><td>{escape(f.component_name)}</td>"
            f"<td align='right'>{f.pages}</td><td>{len(f.files)}</td>"
            f"<td>{escape(' '.join(f.actions))}</td></tr>" for f in report.filed)
        notes = "".join(f"<li>{escape(w)}</li>" for w in warnings + report.warnings)
        self.report.setHtml(
            f"<p><b>{escape(report.summary_vi)}</b></p>"
            "<table border='1' cellspacing='0' cellpadding='4'><tr><th>Mã hồ sơ</th>"
            "<th>Thành phần</th><th>Số trang</th><th>Số tệp</th><th>Điều chỉnh</th></tr>"
            f"{rows}</table>" + (f"<h3>Cần chú ý</h3><ul>{notes}</ul>" if notes else ""))
        self.unfiled = report.unfiled_workspace
        self.open_unfiled.setVisible(report.unfiled_workspace is not None)
