"""Print preview of a slip (QtPdf), and printing it without blocking the counter.

Ctrl+P prints at once to this PC's receipt printer (the provisioned one, else the system
default) with the defaults; Ctrl+Shift+P opens the Vietnamese picker. The job runs on a
pool thread through ``desktop_app.printing`` (the PDF itself to CUPS, pdfium on the GDI
device context on Windows, capped-resolution bands through Qt elsewhere), with progress
and the outcome shown in the dialog. Closing the dialog does not stop a job already
started: it finishes in the background, and a failure is then reported over the window
that opened the preview."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import QRect, QSize, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut, QShowEvent
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.printers import PrinterChoice, printer_choice
from desktop_app.printing.choose import default_backend
from desktop_app.printing.job import Control, Paper, PrintBackend, PrintJob, PrintOutcome, paper_of
from ui import messages
from ui.jobs import Job, JobRunner
from ui.print_dialog import PrintDialog, PrintSettings

log = logging.getLogger(__name__)

PREFERRED_SIZE = QSize(900, 1000)
MINIMUM_SIZE = QSize(560, 400)
SCREEN_SHARE = 0.9


def _system_temp(data: bytes, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="motcua-slip-", suffix=suffix)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return Path(name)


def load_pdf(data: bytes, parent: QWidget | None = None,
             scratch: Callable[[bytes, str], Path] = _system_temp
             ) -> tuple[QPdfDocument, Path]:
    """A QPdfDocument on a private temporary copy of ``data``, written by ``scratch``
    (a citizen's slip: the blob store's private directory, swept at start-up; the
    system's temporary directory for sheets without personal data).

    Loaded from a file rather than a QBuffer: QPdfView renders pages on a worker thread,
    and pages of a buffer-backed document came out blank there."""
    name = scratch(data, ".pdf")
    doc = QPdfDocument(parent)
    doc.load(str(name))
    return doc, name


def fit_size(available: QRect, preferred: QSize = PREFERRED_SIZE,
             share: float = SCREEN_SHARE, minimum: QSize = MINIMUM_SIZE) -> QSize:
    """The dialog's size on a screen whose free area is ``available``: the preferred size,
    at most ``share`` of the screen, and not below ``minimum`` unless the screen is."""
    w = min(preferred.width(), int(available.width() * share))
    h = min(preferred.height(), int(available.height() * share))
    w = max(w, min(minimum.width(), available.width()))
    h = max(h, min(minimum.height(), available.height()))
    return QSize(w, h)


def holds_both_copies(doc: QPdfDocument) -> bool:
    """Whether the PDF is a slip in two copies (Liên 1 and Liên 2), as the counter's slips
    are; separator sheets and other documents are not."""
    n = doc.pageCount()
    if n < 2:
        return False
    return "Liên 1" in doc.getAllText(0).text() and "Liên 2" in doc.getAllText(n - 1).text()


def outcome_text(outcome: PrintOutcome) -> str:
    where = f"“{outcome.printer}”" if outcome.printer else "mặc định"
    text = (f"Đã gửi phiếu tới máy in {where}: {outcome.copies} bản × {outcome.pages} trang"
            + (f" (lệnh in {outcome.job_id})." if outcome.job_id else "."))
    return f"{text} {outcome.note_vi}".strip()


class SlipPreviewDialog(QDialog):
    printed = Signal(object)  # PrintOutcome, once the printer's queue has the job
    print_failed = Signal(str)  # the Vietnamese message shown

    def __init__(self, pdf: bytes, title: str, suggested_name: str,
                 parent: QWidget | None = None, printer_name: str = "",
                 backend: PrintBackend | None = None,
                 printers: PrinterChoice | None = None, expected_paper: str = "",
                 scratch: Callable[[bytes, str], Path] = _system_temp) -> None:
        """``expected_paper``: the station's paper for slips; a slip laid out on another
        (an A5 receipt too long for one page per copy comes on A4) is pointed out.
        ``scratch`` writes the copy the viewer reads (see ``load_pdf``)."""
        super().__init__(parent)
        self.pdf = pdf
        self.printer_name = printer_name  # the station's receipt printer, if provisioned
        self.suggested_name = suggested_name
        self.backend = backend  # None: the one this platform uses (chosen when printing)
        self.printers = printers or printer_choice(printer_name)
        self.setWindowTitle(title)
        self.doc, self._file = load_pdf(pdf, self, scratch)
        self.finished.connect(self._discard_copy)
        self.jobs = JobRunner(self)
        self.job: Job | None = None
        self.picker: PrintDialog | None = None
        self._pending_note = ""
        self.view = QPdfView(self)
        self.view.setDocument(self.doc)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        first = self.doc.pagePointSize(0)
        self.paper: Paper = paper_of(first.width(), first.height())
        self.two_copies = holds_both_copies(self.doc)

        heading = QLabel(title)
        heading.setObjectName("stepTitle")
        heading.setWordWrap(True)
        pages = self.doc.pageCount()
        about = (f"{pages} trang — Liên 1 lưu tại bộ phận một cửa, Liên 2 giao người nộp hồ sơ."
                 if self.two_copies else f"{pages} trang.")
        if expected_paper and expected_paper != self.paper:
            about = (f"Phiếu dài, không vừa một trang {expected_paper} mỗi liên: đã dàn trang "
                     f"trên khổ {self.paper}, hãy in trên giấy {self.paper}. {about}")
        self.hint = QLabel(f"{about} {self._keys_hint()}")
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(14)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.hide()

        self.print_btn = QPushButton("&In phiếu  (Ctrl+P)")
        self.print_btn.setToolTip("In phiếu ngay ra máy in của quầy (Ctrl+P)")
        self.print_btn.setObjectName("primary")
        self.choose_btn = QPushButton("In…  (Ctrl+Shift+P)")
        self.choose_btn.setToolTip("Chọn máy in, số bản và khổ giấy trước khi in")
        self.save_btn = QPushButton("&Lưu PDF…")
        self.save_btn.setToolTip("Lưu phiếu thành tệp PDF (phiếu đã được lưu trong hồ sơ)")
        self.close_btn = QPushButton("Đó&ng  (Esc)")
        self.close_btn.setToolTip("Đóng, quay lại nhập hồ sơ tiếp theo")
        self.print_btn.clicked.connect(self.print_now)
        self.choose_btn.clicked.connect(self.print_with_picker)
        self.save_btn.clicked.connect(self.save_pdf)
        self.close_btn.clicked.connect(self.accept)
        QShortcut(QKeySequence.StandardKey.Print, self).activated.connect(self.print_now)
        QShortcut(QKeySequence("Ctrl+Shift+P"), self).activated.connect(self.print_with_picker)

        buttons = QHBoxLayout()
        buttons.addStretch()
        for b in (self.save_btn, self.close_btn, self.choose_btn, self.print_btn):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hint)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.print_btn.setFocus()
        self.print_btn.setDefault(True)
        self.fit_to_screen()

    # --- size ----------------------------------------------------------------------------

    def fit_to_screen(self, available: QRect | None = None) -> None:
        """Size and centre the dialog within the free area of its screen (or ``available``)
        so its buttons stay on screen at 1024×768 and 1366×768 at 125 %."""
        if available is None:
            screen = (self.parentWidget().screen() if self.parentWidget() is not None
                      else self.screen() or QGuiApplication.primaryScreen())
            available = screen.availableGeometry()
        # The window manager's frame (known once shown) comes out of the same share.
        frame = self.frameGeometry()
        extra_w = max(0, frame.width() - self.width())
        extra_h = max(0, frame.height() - self.height())
        outer = fit_size(available)
        size = QSize(max(1, outer.width() - extra_w), max(1, outer.height() - extra_h))
        self.setMaximumSize(available.size())
        self.resize(size)
        x = available.x() + max(0, (available.width() - self.width() - extra_w) // 2)
        y = available.y() + max(0, (available.height() - self.height() - extra_h) // 2)
        self.move(x, y)

    def showEvent(self, event: QShowEvent) -> None:
        # The screen is only certain once the window is shown (the parent may be on
        # another monitor than the primary one).
        if not getattr(self, "_fitted", False):
            self._fitted = True
            self.fit_to_screen()
        super().showEvent(event)

    # --- printing ------------------------------------------------------------------------

    def _keys_hint(self) -> str:
        target = self.printers.preselected
        where = f"“{target}”" if target else "máy in mặc định"
        return (f"Ctrl+P: in ngay ra {where} (1 bản, {self.paper}); Ctrl+Shift+P: chọn máy "
                "in, số bản, khổ giấy.")

    def busy(self) -> bool:
        return self.job is not None and self.job.running

    def print_now(self) -> None:
        """One key: the receipt printer (or the default one), one copy, the slip's paper."""
        if self.busy():
            return
        note = ""
        if self.printers.provisioned_missing:
            note = (f"Máy in biên nhận “{self.printers.provisioned}” chưa được cài trên máy "
                    "này; in ra máy in mặc định.")
            log.warning("configured printer %r not installed; printing to %r",
                        self.printers.provisioned, self.printers.preselected)
        self.start_print(PrintSettings(self.printers.preselected, 1, self.paper), note)

    def print_with_picker(self) -> None:
        if self.busy():
            return
        self.picker = PrintDialog(self.printers, self.paper, self.two_copies, self)
        picker = self.picker
        picker.accepted.connect(lambda: self.start_print(picker.settings()))
        picker.open()

    def start_print(self, settings: PrintSettings, note: str = "") -> None:
        if self.busy():
            return
        job = PrintJob(self.pdf, settings.printer, settings.copies, settings.paper,
                       self.windowTitle())
        backend = self.backend or default_backend()
        where = f"“{settings.printer}”" if settings.printer else "mặc định"
        self._show_status(f"Đang gửi phiếu tới máy in {where}… {note}".strip(), "")
        self.progress.setRange(0, 0)  # busy until the backend reports steps
        self.progress.show()
        self.print_btn.setEnabled(False)
        self.choose_btn.setEnabled(False)
        self._pending_note = note

        # JobRunner starts the job before it hands back the signals to connect to, and a
        # quick job (CUPS takes the PDF in milliseconds) would report into the void: the
        # work waits until this thread has connected.
        connected = threading.Event()

        def work(control: Control) -> PrintOutcome:
            connected.wait()
            return backend.print_pdf(job, control)

        self.job = self.jobs.start(work)
        self.job.signals.progress.connect(self._on_progress)
        self.job.signals.done.connect(self._on_printed)
        self.job.signals.failed.connect(self._on_failed)
        self.job.signals.cancelled.connect(self._on_cancelled)
        connected.set()

    def _on_progress(self, done: int, total: int, text: str) -> None:
        if total > 1:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        if text:
            self.status.setText(text)

    def _idle(self) -> None:
        self.progress.hide()
        self.print_btn.setEnabled(True)
        self.choose_btn.setEnabled(True)

    def _on_printed(self, outcome: object) -> None:
        assert isinstance(outcome, PrintOutcome)
        self._idle()
        text = f"{outcome_text(outcome)} {self._pending_note}".strip()
        self._show_status(text, "ok")
        self.printed.emit(outcome)

    def _on_failed(self, message: str, detail: str) -> None:
        self._idle()
        self._show_status(message, "error")
        self.print_failed.emit(message)
        if not self.isVisible():
            # Closed while printing: the clerk must still learn the slip did not print.
            parent = self.parentWidget()
            if parent is not None and shiboken6.isValid(parent) and parent.isVisible():
                messages.error(parent, message, "Không in được phiếu")

    def _on_cancelled(self) -> None:
        self._idle()
        self._show_status("Đã dừng in.", "")

    def _show_status(self, text: str, kind: str) -> None:
        self.status.setObjectName(kind)
        self.status.style().unpolish(self.status)  # the style sheet selects by name
        self.status.style().polish(self.status)
        self.status.setText(text)
        self.status.show()

    # --- the rest ------------------------------------------------------------------------

    def _discard_copy(self) -> None:
        self.view.setDocument(None)  # type: ignore[arg-type]
        self.doc.close()
        self._file.unlink(missing_ok=True)

    def save_pdf(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Lưu phiếu", self.suggested_name,
                                              "Tệp PDF (*.pdf)")
        if not path:
            return
        try:
            Path(path).write_bytes(self.pdf)
        except OSError as exc:
            log.error("save pdf %s failed: %r", path, exc)
            messages.error(self, f"Không lưu được tệp: {exc.strerror or exc}.")
