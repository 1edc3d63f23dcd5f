"""Main window: navigation (F1 home, F2 new dossier, F3 look-up, F4 batch, F7 return,
F8 late dossiers, F10 dashboard), the status bar with the signed-in clerk and the sync
indicator, and scans routed where they belong (ID cards to intake or return, receipts to
return)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.domain.citizen_qr import looks_like_citizen_qr
from desktop_app.dossiers import DossierDetail, DossierQueries, HomeCounts
from desktop_app.intake.returns import ActionOutcome, ReturnService
from desktop_app.intake.service import IntakeKind, IntakeOutcome, IntakeService
from desktop_app.reports import ReportService
from desktop_app.scanning.studio import StudioBackend
from desktop_app.scanning.workspace import Workspace
from desktop_app.station import StationInfo
from desktop_app.sync.worker import WorkerState
from ui import messages
from ui.batch_page import BatchPage
from ui.dashboard_page import DashboardPage
from ui.dossier_list import DossierListPage
from ui.home_page import HomePage
from ui.intake_page import IntakePage
from ui.password_dialog import ChangePasswordDialog
from ui.return_page import LatePage, ReturnPage
from ui.scan_settings import ScanSettingsDialog
from ui.slip_preview import SlipPreviewDialog
from ui.studio_dialog import StudioDialog
from ui.sync_panel import SyncBridge, SyncPanel, indicator_text, overdue_text
from ui.workers import Runner

SLIP_TITLES = {
    IntakeKind.RECEIVED: "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    IntakeKind.SUPPLEMENT_REQUESTED: "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    IntakeKind.REFUSED: "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
}


class MainWindow(QMainWindow):
    HOME, INTAKE, LOOKUP, BATCH, RETURN, LATE, DASHBOARD = range(7)

    def __init__(self, ctx: AppContext, clerk: ClerkInfo, station: StationInfo) -> None:
        super().__init__()
        self.station = station
        self.ctx = ctx
        self.clerk = clerk
        self.runner = Runner(self)
        self.queries = DossierQueries(ctx)
        self.setWindowTitle(f"Một Cửa Offline — {station.agency_name}")
        self.resize(1280, 860)

        self.home = HomePage()
        self.home.greeting.setText(
            f"{station.agency_name} · quầy số {station.station_digit} · "
            f"cán bộ: {clerk.full_name} ({clerk.role.label_vi})")
        self.intake = IntakePage(IntakeService(ctx), clerk, self.runner)
        self.lookup = DossierListPage(self.queries, self.runner)
        self.batch = BatchPage(ctx, clerk, self.runner)
        returns = ReturnService(ctx)
        self.returns = ReturnPage(returns, clerk, self.runner)
        self.late = LatePage(returns, clerk, self.runner)
        self.dashboard = DashboardPage(ReportService(ctx), self.runner,
                                       lambda: ctx.clock.now().date())

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.addItems(["Trang chủ  (F1)", "Tiếp nhận hồ sơ  (F2)", "Tra cứu hồ sơ  (F3)",
                           "Số hóa theo lô  (F4)", "Trả kết quả  (F7)",
                           "Hồ sơ trễ hẹn  (F8)", "Bảng điều khiển  (F10)"])
        self.nav.setFixedWidth(230)
        self.pages = QStackedWidget()
        for page in (self.home, self.intake, self.lookup, self.batch, self.returns,
                     self.late, self.dashboard):
            self.pages.addWidget(page)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.nav)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.sync_label = QLabel()
        self.sync_label.setObjectName("syncIndicator")
        self.sync_label.setToolTip("Trạng thái đồng bộ với hệ thống tỉnh — F6 để xem chi tiết")
        self.statusBar().addPermanentWidget(self.sync_label)
        self.sync = SyncBridge(ctx, self)
        self.sync.changed.connect(self.show_sync)
        self.statusBar().showMessage(f"Đăng nhập: {clerk.full_name}")

        self.nav.currentRowChanged.connect(self.show_page)
        self.home.new_dossier.connect(lambda: self.show_page(self.INTAKE))
        self.home.find_dossier.connect(lambda: self.show_page(self.LOOKUP))
        self.intake.finished.connect(self.on_outcome)
        self.lookup.open_slip.connect(self.show_stored_slip)
        self.lookup.digitize_dossier.connect(self.digitize_dossier)
        QShortcut(QKeySequence("F1"), self).activated.connect(lambda: self.show_page(self.HOME))
        QShortcut(QKeySequence("F2"), self).activated.connect(lambda: self.show_page(self.INTAKE))
        QShortcut(QKeySequence("F3"), self).activated.connect(lambda: self.show_page(self.LOOKUP))
        QShortcut(QKeySequence("F4"), self).activated.connect(lambda: self.show_page(self.BATCH))
        QShortcut(QKeySequence("F7"), self).activated.connect(lambda: self.show_page(self.RETURN))
        QShortcut(QKeySequence("F8"), self).activated.connect(lambda: self.show_page(self.LATE))
        QShortcut(QKeySequence("F10"), self).activated.connect(
            lambda: self.show_page(self.DASHBOARD))
        self.returns.printed.connect(self.on_printed)
        self.returns.digitize_supplement.connect(self.digitize_dossier)
        self.late.printed.connect(self.on_printed)
        self.late.open_return.connect(self.on_receipt_scanned)
        self.batch.open_workspace.connect(self.file_by_hand)
        self.home.scan_settings.connect(self.open_scan_settings)
        QShortcut(QKeySequence("F9"), self).activated.connect(self.open_scan_settings)
        QShortcut(QKeySequence("F6"), self).activated.connect(self.open_sync_panel)
        QShortcut(QKeySequence("F12"), self).activated.connect(self.change_password)
        password_btn = QPushButton("Đổi mật khẩu (F12)")
        password_btn.setFlat(True)
        password_btn.clicked.connect(self.change_password)
        self.statusBar().addPermanentWidget(password_btn)
        self.home.sync_panel.connect(self.open_sync_panel)

        self.timer = QTimer(self)
        self.timer.setInterval(30_000)
        self.timer.timeout.connect(self.refresh_counts)
        self.timer.start()
        self.show_page(self.HOME)
        self.sync.start()

    def show_page(self, index: int) -> None:
        if self.nav.currentRow() != index:
            self.nav.setCurrentRow(index)  # re-enters through currentRowChanged
            return
        self.pages.setCurrentIndex(index)
        if index == self.HOME:
            self.refresh_counts()
            self.home.new_btn.setFocus()
        elif index == self.INTAKE:
            if self.intake.step == 0:
                self.intake.proc_step.search.setFocus()
        elif index == self.LOOKUP:
            self.lookup.search.setFocus()
            self.lookup.search.selectAll()
            self.lookup.load_choices()
            self.lookup.refresh()
        elif index == self.BATCH:
            self.batch.codes.setFocus()
        elif index == self.RETURN:
            self.returns.scan.setFocus()
            self.returns.scan.selectAll()
        elif index == self.LATE:
            self.late.refresh()
            self.late.table.setFocus()
        else:
            self.dashboard.refresh()
            self.dashboard.period.setFocus()

    def on_receipt_scanned(self, payload: str) -> None:
        """A receipt's QR was scanned (or a late dossier opened): the return counter shows
        it; in the look-up page the code becomes the search."""
        if self.pages.currentIndex() == self.LOOKUP:
            self.lookup.search.setText(payload)
            self.lookup.refresh()
            return
        self.show_page(self.RETURN)
        self.returns.open_code(payload)

    def on_printed(self, outcome: ActionOutcome) -> None:
        self.refresh_counts()
        self.sync.worker.wake()
        self.statusBar().showMessage(f"Đã lưu: {outcome.title} — {outcome.code}", 15_000)
        self._preview(outcome.pdf, outcome.title, outcome.code)

    def change_password(self) -> None:
        dialog = ChangePasswordDialog(self.ctx, self.clerk, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.updated is not None:
            self.clerk = dialog.updated
            self.statusBar().showMessage("Đã đổi mật khẩu.", 5000)

    def open_scan_settings(self) -> None:
        dialog = ScanSettingsDialog(self.ctx, self.clerk, self)
        dialog.exec()
        if dialog.scanner_affixes is not None:  # a technician changed them: next scan on
            prefix, suffix = dialog.scanner_affixes
            self.station = replace(self.station, scanner_prefix=prefix, scanner_suffix=suffix)

    def on_scanned(self, payload: str) -> None:
        """An ID card was scanned somewhere (the keyboard filter let no key of it reach a
        widget): the return counter takes it for the person collecting a result,
        otherwise the intake wizard, which fills the owner or asks what the card is for.
        Another code sent with the scanner's prefix is only reported."""
        if not looks_like_citizen_qr(payload):
            self.statusBar().showMessage(
                "Mã vừa quét không phải mã QR trên thẻ căn cước hay trên giấy tiếp nhận hồ sơ; "
                "không dùng mã này.", 15_000)
            return
        if self.pages.currentIndex() == self.RETURN and self.returns.on_id_card(payload):
            return
        if self.pages.currentIndex() != self.INTAKE:
            self.show_page(self.INTAKE)
        self.intake.on_scanned(payload)

    def scanner_affixes(self) -> tuple[str, str]:
        """What this PC's handheld scanner sends around each code (the keyboard filter,
        whose parent this window is, asks at each burst)."""
        return self.station.scanner_prefix, self.station.scanner_suffix

    def refresh_counts(self) -> None:
        self.runner.submit(self.queries.home_counts, self._show_counts,
                           lambda m, d: self.sync_label.setText(m))

    def _show_counts(self, counts: HomeCounts) -> None:
        self.home.show_counts(counts)
        if self.sync.state.queue is None:
            self.sync_label.setText(f"● Đang kiểm tra kết nối · {counts.unsynced} chờ gửi"
                                    if counts.unsynced else "● Đang kiểm tra kết nối")

    def show_sync(self, state: WorkerState) -> None:
        text, kind = indicator_text(state)
        self.sync_label.setText(text)
        self.sync_label.setProperty("state", kind)
        self.sync_label.style().unpolish(self.sync_label)
        self.sync_label.style().polish(self.sync_label)
        self.home.show_sync_warning(overdue_text(state))
        report = state.last_report
        if report is not None and report.changes_pulled:
            self.refresh_counts()

    def open_sync_panel(self) -> None:
        SyncPanel(self.sync, self).exec()

    def on_outcome(self, outcome: IntakeOutcome) -> None:
        self.refresh_counts()
        self.sync.worker.wake()
        self.statusBar().showMessage(
            f"Đã lưu {SLIP_TITLES[outcome.kind].lower()}: {outcome.reference}", 15_000)
        self._preview(outcome.slip_pdf, SLIP_TITLES[outcome.kind], outcome.reference)

    def show_stored_slip(self, dossier_id: int) -> None:
        def show(pdf: bytes) -> None:
            self._preview(pdf, "Phiếu đã in của hồ sơ", str(dossier_id))

        self.runner.submit(lambda: self.queries.slip_pdf(dossier_id), show,
                           lambda m, d: messages.error(self, m))

    def digitize_dossier(self, dossier_id: int, existing: Workspace | None = None) -> None:
        """Digitize the components of a dossier received earlier (files are linked, with
        their upload queued, as each component is stored)."""

        def open_studio(detail: DossierDetail) -> None:
            code = detail.row.code
            backend = StudioBackend(self.ctx, self.clerk, dossier_id=dossier_id,
                                    dossier_code=code)
            slots = [(str(i), c.name) for i, c in enumerate(detail.components)]
            title = f"Hồ sơ {code} — {detail.owner.full_name}"
            if existing is not None:
                ws = existing
                ws.retarget(slots, title)
            else:
                ws = Workspace.create(backend.work_root(), slots, title)

            def stored(key: str, files: list[object]) -> None:
                self.refresh_counts()
                self.sync.worker.wake()

            dialog = StudioDialog(backend, ws, self.runner, stored, None, self)
            self.studio_dialog = dialog
            dialog.finished.connect(lambda _: ws.discard() if ws.page_count() == 0 else None)
            dialog.open()

        self.runner.submit(lambda: self.queries.detail(dossier_id), open_studio,
                           lambda m, d: messages.error(self, m))

    def file_by_hand(self, path: object) -> None:
        """Pages a batch could not file: the operator names the dossier they belong to."""
        if not isinstance(path, Path):
            return
        code, ok = QInputDialog.getText(self, "Xếp các trang chưa xếp",
                                        "Mã hồ sơ của các trang này:")
        if not ok or not code.strip():
            return
        found = self.queries.search(code.strip(), limit=1)
        if not found or found[0].code != code.strip():
            messages.error(self, f"Không tìm thấy hồ sơ có mã {code.strip()}.")
            return
        self.digitize_dossier(found[0].id, Workspace.open(path))

    def _preview(self, pdf: bytes, title: str, reference: str) -> None:
        dialog = SlipPreviewDialog(pdf, f"{title} — {reference}", f"{reference}.pdf", self,
                                   printer_name=self.station.printer)
        self.last_preview = dialog
        dialog.finished.connect(self._after_preview)
        dialog.open()

    def _after_preview(self) -> None:
        # Back to the keyboard flow: the next citizen starts at the procedure search.
        self.activateWindow()
        if self.pages.currentIndex() == self.INTAKE:
            self.intake.proc_step.search.setFocus()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.runner.busy():
            self.runner.wait(10_000)  # let a Receive in flight commit before quitting
        self.sync.stop()  # an upload in flight resumes from its offset next time
        event.accept()
