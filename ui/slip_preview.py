"""Print preview of a slip (QtPdf) and printing through Qt's print support."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QImage, QKeySequence, QPageLayout, QPageSize, QPainter, QShortcut
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui import messages
from ui.screen_fit import fit

log = logging.getLogger(__name__)


def load_pdf(data: bytes, parent: QWidget | None = None) -> tuple[QPdfDocument, Path]:
    """A QPdfDocument on a private temporary copy of ``data``.

    Loaded from a file rather than a QBuffer: QPdfView renders pages on a worker thread,
    and pages of a buffer-backed document came out blank there."""
    fd, name = tempfile.mkstemp(prefix="motcua-slip-", suffix=".pdf")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    doc = QPdfDocument(parent)
    doc.load(name)
    return doc, Path(name)


def print_pdf(doc: QPdfDocument, printer: QPrinter) -> int:
    """Render each page at the printer's resolution, keeping the PDF's own scale (100%)."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("không mở được máy in")
    try:
        dpi = printer.resolution()
        for i in range(doc.pageCount()):
            if i:
                printer.newPage()
            points = doc.pagePointSize(i)
            size = QSize(round(points.width() * dpi / 72), round(points.height() * dpi / 72))
            image: QImage = doc.render(i, size)
            painter.drawImage(0, 0, image)
    finally:
        painter.end()
    return doc.pageCount()


class SlipPreviewDialog(QDialog):
    def __init__(self, pdf: bytes, title: str, suggested_name: str,
                 parent: QWidget | None = None, printer_name: str = "") -> None:
        super().__init__(parent)
        self.pdf = pdf
        self.printer_name = printer_name  # the station's receipt printer, if provisioned
        self.suggested_name = suggested_name
        self.setWindowTitle(title)
        fit(self, 900, 1000)
        self.doc, self._file = load_pdf(pdf, self)
        self.finished.connect(self._discard_copy)
        self.view = QPdfView(self)
        self.view.setDocument(self.doc)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)

        heading = QLabel(title)
        heading.setObjectName("stepTitle")
        pages = QLabel(f"{self.doc.pageCount()} trang — Liên 1 lưu tại bộ phận một cửa, "
                       "Liên 2 giao người nộp hồ sơ.")
        pages.setObjectName("hint")
        self.print_btn = QPushButton("&In phiếu  (Ctrl+P)")
        self.print_btn.setToolTip("In phiếu ra máy in của quầy")
        self.print_btn.setObjectName("primary")
        self.save_btn = QPushButton("&Lưu PDF…")
        self.save_btn.setToolTip("Lưu phiếu thành tệp PDF (phiếu đã được lưu trong hồ sơ)")
        close_btn = QPushButton("Đó&ng  (Esc)")
        close_btn.setToolTip("Đóng, quay lại nhập hồ sơ tiếp theo")
        self.print_btn.clicked.connect(self.print_slip)
        self.save_btn.clicked.connect(self.save_pdf)
        close_btn.clicked.connect(self.accept)
        QShortcut(QKeySequence.StandardKey.Print, self).activated.connect(self.print_slip)

        buttons = QHBoxLayout()
        buttons.addWidget(pages)
        buttons.addStretch()
        buttons.addWidget(self.save_btn)
        buttons.addWidget(close_btn)
        buttons.addWidget(self.print_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.print_btn.setFocus()
        self.print_btn.setDefault(True)

    def _discard_copy(self) -> None:
        self.view.setDocument(None)  # type: ignore[arg-type]
        self.doc.close()
        self._file.unlink(missing_ok=True)

    def print_slip(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if self.printer_name:
            if QPrinterInfo.printerInfo(self.printer_name).isNull():
                log.warning("configured printer %r not installed; using the default",
                            self.printer_name)
            else:
                printer.setPrinterName(self.printer_name)
        first = self.doc.pagePointSize(0)
        size_id = QPageSize.PageSizeId.A5 if first.height() < 700 else QPageSize.PageSizeId.A4
        printer.setPageLayout(QPageLayout(QPageSize(size_id), QPageLayout.Orientation.Portrait,
                                          printer.pageLayout().margins()))
        printer.setFullPage(True)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("In phiếu")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            print_pdf(self.doc, printer)
        except OSError as exc:
            log.error("printing failed: %r", exc)
            messages.error(self, "Không in được phiếu. Hãy kiểm tra máy in (đã bật, còn giấy, "
                                 "đã kết nối) rồi in lại; phiếu đã được lưu trong hồ sơ.")

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
