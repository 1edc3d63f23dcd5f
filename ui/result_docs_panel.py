"""The province's result documents of the dossier on the return page (F7): name, number,
date, signer, downloaded or waiting; view and print one (the slip preview renders the
PDF and prints it), or save an electronic copy to the citizen's USB stick."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop_app.accounts import ClerkInfo
from desktop_app.intake.result_documents import ResultDocuments, ResultDocView
from ui.workers import Runner

_COLUMNS = ("Giấy tờ kết quả", "Số", "Ngày ký", "Người ký", "Tình trạng")


class ResultDocsPanel(QGroupBox):
    show_pdf = Signal(bytes, str, str)  # pdf, title, reference: the main window previews it
    copy_saved = Signal(str)  # the Vietnamese confirmation
    failed = Signal(str)

    def __init__(self, documents: ResultDocuments, clerk: ClerkInfo, runner: Runner) -> None:
        super().__init__("Giấy tờ kết quả của cơ quan giải quyết")
        self.documents = documents
        self.clerk = clerk
        self.runner = runner
        self.code = ""
        self.rows: tuple[ResultDocView, ...] = ()
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setAccessibleName("Giấy tờ kết quả")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.view_btn = QPushButton("&Xem, in giấy tờ kết quả")
        self.view_btn.setToolTip("Mở giấy tờ kết quả đã chọn để xem và in")
        self.save_btn = QPushButton("&Lưu ra…")
        self.save_btn.setToolTip("Lưu bản điện tử của giấy tờ kết quả vào USB của công dân "
                                 "(ghi nhận đã trao bản điện tử)")
        row = QHBoxLayout()
        row.addWidget(self.view_btn)
        row.addWidget(self.save_btn)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.note)
        layout.addLayout(row)
        self.view_btn.clicked.connect(self.open_selected)
        self.save_btn.clicked.connect(self.save_selected)
        self.table.itemSelectionChanged.connect(self._enable)
        self.table.itemActivated.connect(lambda _item: self.open_selected())
        self.fill("", ())

    def fill(self, code: str, rows: tuple[ResultDocView, ...]) -> None:
        self.code, self.rows = code, rows
        self.setVisible(bool(rows))
        self.table.setRowCount(len(rows))
        for n, r in enumerate(rows):
            signed = r.signed_on.strftime("%d/%m/%Y") if r.signed_on else ""
            for col, text in enumerate((r.name, r.number, signed, r.signer, r.state_vi)):
                self.table.setItem(n, col, QTableWidgetItem(text))
        refused = [r.refused_reason for r in rows if r.state == "refused"]
        waiting = sum(r.state == "waiting" for r in rows)
        notes = refused + ([f"{waiting} giấy tờ đang chờ tải về từ cổng tỉnh (tự tải khi có "
                            "mạng và không còn hồ sơ chờ gửi)."] if waiting else [])
        self.note.setText("\n".join(notes))
        self.note.setVisible(bool(notes))
        if rows:
            self.table.selectRow(0)
        self._enable()

    def selected(self) -> ResultDocView | None:
        n = self.table.currentRow()
        return self.rows[n] if 0 <= n < len(self.rows) else None

    def _enable(self) -> None:
        ready = (r := self.selected()) is not None and r.state == "fetched"
        self.view_btn.setEnabled(ready)
        self.save_btn.setEnabled(ready)

    def open_selected(self) -> None:
        r = self.selected()
        if r is None or r.state != "fetched":
            return
        title = f"{r.name} {r.number}".strip()
        reference = f"{self.code} {r.name}".strip()
        self.runner.submit(lambda: self.documents.content(r.id),
                           lambda pdf: self.show_pdf.emit(pdf, title, reference),
                           lambda message, _detail: self.failed.emit(message))

    def save_selected(self) -> None:
        r = self.selected()
        if r is None or r.state != "fetched":
            return
        suggested = f"{r.name} {r.number}".replace("/", "-").strip() + r.file_suffix
        name, _ = QFileDialog.getSaveFileName(self, "Lưu bản điện tử giấy tờ kết quả",
                                              suggested, "Tệp PDF (*.pdf);;Mọi tệp (*)")
        if not name:
            return
        dest = Path(name)
        self.runner.submit(lambda: self.documents.save_copy(r.id, dest, self.clerk),
                           lambda _none: self.copy_saved.emit(
                               f"Đã lưu bản điện tử “{r.name}” vào {dest.parent}."),
                           lambda message, _detail: self.failed.emit(message))
