"""Main window: navigation (F1 home, F2 new dossier, F3 look-up, F4 batch, F7 return,
F8 late dossiers, F10 dashboard), the status bar with the signed-in clerk and the sync
indicator, and scans routed where they belong (ID cards to intake or return, receipts to
return).

Nothing typed is lost by closing: with a dossier half received, closing asks whether to
keep its draft for later (the default), go back, or discard it; the next start offers a
kept draft (or one left by a crash or a power cut) on the home page, with the scanned
pages never stored as files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.domain.citizen_qr import looks_like_citizen_qr
from desktop_app.dossiers import DossierDetail, DossierQueries, HomeCounts, StoredSlip
from desktop_app.intake.counter_results import (
    RESULT_SLOT,
    CounterResults,
    ResultMeta,
    ResultStudioBackend,
)
from desktop_app.intake.draft_store import DraftStore, DraftSummary, RestoredIntake
from desktop_app.intake.returns import ActionOutcome, ReturnService
from desktop_app.intake.service import IntakeKind, IntakeOutcome, IntakeService
from desktop_app.reports import ReportService
from desktop_app.scanning.leftovers import UnsavedWork, discard_work, unsaved_work
from desktop_app.scanning.studio import StudioBackend
from desktop_app.scanning.workspace import Workspace
from desktop_app.station import StationInfo
from desktop_app.sync.worker import WorkerState
from ui import messages
from ui.batch_page import BatchPage
from ui.dashboard_page import DashboardPage
from ui.dossier_list import DossierListPage
from ui.help_dialog import HelpDialog, show_crash
from ui.home_page import HomePage, draft_text
from ui.intake_page import IntakePage
from ui.password_dialog import ChangePasswordDialog
from ui.result_meta_dialog import ResultMetaDialog
from ui.return_page import LatePage, ReturnPage
from ui.scan_settings import ScanSettingsDialog
from ui.screen_fit import MIN_WINDOW, fit, scrolling
from ui.slip_preview import SlipPreviewDialog
from ui.studio_dialog import StudioDialog
from ui.style import set_state
from ui.sync_panel import SyncBridge, SyncPanel, indicator_text, overdue_text
from ui.update_notice import UpdateNotice
from ui.wedge import WedgeScanFilter
from ui.workers import Runner

PREFERRED_SIZE = (1280, 860)

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
        self.last_preview: SlipPreviewDialog | None = None  # the slip shown last
        self.setWindowTitle(f"Một Cửa Offline — {station.agency_name}")
        self.setMinimumSize(MIN_WINDOW)
        fit(self, *PREFERRED_SIZE)

        self.home = HomePage()
        self.home.greeting.setText(
            f"{station.agency_name} · quầy số {station.station_digit} · "
            f"cán bộ: {clerk.full_name} ({clerk.role.label_vi})")
        self.drafts = DraftStore(ctx)
        # A draft saved on this PC (after a crash, or kept at the last close) that the
        # clerk has not resumed or discarded yet: the wizard must not start over it.
        self.pending_draft: DraftSummary | None = None
        self.question: QMessageBox | None = None  # the last question asked, for tests
        self._quitting = False
        # Until the start-up look for a saved draft has answered, the wizard waits (a
        # new dossier must not start over one left by a crash): the page asked for opens
        # when it has.
        self._drafts_checked = False
        self._after_check: Callable[[], None] | None = None
        self.intake = IntakePage(IntakeService(ctx), clerk, self.runner, self.drafts)
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
        self.nav.setFixedWidth(205)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.pages = QStackedWidget()
        for page in (self.home, self.intake, self.lookup, self.batch, self.returns,
                     self.late, self.dashboard):
            # A page taller than the screen scrolls; it never grows the window. The
            # intake and return pages scroll their content themselves, under buttons
            # that stay in view.
            own = page in (self.intake, self.returns)
            self.pages.addWidget(page if own else scrolling(page))
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
        self._last_pending: int | None = None  # the queue size the home page shows
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
        self.returns.result_docs.show_pdf.connect(self._preview)
        self.returns.digitize_supplement.connect(self.digitize_dossier)
        self.returns.digitize_result.connect(self.digitize_result)
        self.late.printed.connect(self.on_printed)
        self.late.open_return.connect(self.on_receipt_scanned)
        self.batch.open_workspace.connect(self.file_by_hand)
        self.home.scan_settings.connect(self.open_scan_settings)
        QShortcut(QKeySequence("F9"), self).activated.connect(self.open_scan_settings)
        QShortcut(QKeySequence("F6"), self).activated.connect(self.open_sync_panel)
        QShortcut(QKeySequence("F12"), self).activated.connect(self.change_password)
        password_btn = QPushButton("Đổi mật khẩu (F12)")
        password_btn.setFlat(True)
        password_btn.setToolTip("Đổi mật khẩu đăng nhập; số điện thoại và thư điện tử in "
                                "trên phiếu")
        password_btn.clicked.connect(self.change_password)
        self.statusBar().addPermanentWidget(password_btn)
        help_btn = QPushButton("Trợ giúp (Ctrl+/)")
        help_btn.setFlat(True)
        help_btn.setToolTip("Phím tắt, thông tin máy trạm, nhật ký và gói hỗ trợ")
        help_btn.clicked.connect(self.open_help)
        self.statusBar().addPermanentWidget(help_btn)
        QShortcut(QKeySequence("Ctrl+/"), self).activated.connect(self.open_help)
        self._crash_shown = False
        self.home.sync_panel.connect(self.open_sync_panel)
        self.home.resume_draft.connect(self.resume_draft)
        self.home.discard_draft.connect(self.ask_discard_draft)
        self.home.open_unsaved.connect(self.open_unsaved)
        self.home.discard_unsaved.connect(self.ask_discard_unsaved)
        # A window deleted without being closed (closing was put to a question) still
        # stops its sync thread.
        worker = self.sync.worker
        self.destroyed.connect(lambda *_: worker.stop())

        # A downloaded, verified new version: offered now (technician, supervisor) or at
        # the end of the day.
        self.updates = UpdateNotice(
            ctx, clerk, self.runner, ask=self._ask, quit_app=self.quit_now,
            say=lambda text: self.statusBar().showMessage(text, 15_000), parent=self)

        self.timer = QTimer(self)
        self.timer.setInterval(30_000)
        self.timer.timeout.connect(self.refresh_counts)
        self.timer.timeout.connect(self.sync.ensure_alive)
        self.timer.timeout.connect(self.updates.check)
        self.timer.start()
        self.show_page(self.HOME)
        self.sync.start()

    def show_page(self, index: int) -> None:
        if index == self.INTAKE and self.pages.currentIndex() != self.INTAKE and (
                self.pending_draft is not None or not self._drafts_checked):
            if self._drafts_checked:
                self._ask_about_pending()  # a new dossier would start over the saved one
            else:
                self._after_check = lambda: self.show_page(self.INTAKE)
            if self.nav.currentRow() != self.pages.currentIndex():
                self.nav.blockSignals(True)
                self.nav.setCurrentRow(self.pages.currentIndex())
                self.nav.blockSignals(False)
            return
        if self.nav.currentRow() != index:
            self.nav.setCurrentRow(index)  # re-enters through currentRowChanged
            return
        self.pages.setCurrentIndex(index)
        if index == self.HOME:
            self.refresh_counts()
            self.refresh_unfinished()
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

    def take_scans(self, wedge: WedgeScanFilter) -> None:
        """From now on the keyboard filter's scans come here, and it asks this window
        what the scanner sends around each code."""
        wedge.set_affix_source(self)
        wedge.scanned.connect(self.on_scanned)
        wedge.receipt_scanned.connect(self.on_receipt_scanned)

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
        set_state(self.sync_label, kind)
        self.home.show_sync_warning(overdue_text(state))
        # The home page's queue line and figures follow the worker: a drained queue or a
        # status pulled from the province shows at once, not at the next 30 s refresh.
        pending = state.queue.pending if state.queue is not None else None
        report = state.last_report
        if pending != self._last_pending or (report is not None and report.changes_pulled):
            self._last_pending = pending
            self.refresh_counts()

    def open_help(self) -> None:
        HelpDialog(self.ctx, self.runner, self).exec()

    def on_crash(self, what: str) -> None:
        """An unexpected exception somewhere (already in the log): tell the clerk once at a
        time, and offer the support bundle."""
        if self._crash_shown:
            return
        self._crash_shown = True
        try:
            show_crash(self, self.ctx, self.runner, what)
        finally:
            self._crash_shown = False

    def open_sync_panel(self) -> None:
        SyncPanel(self.sync, self).exec()

    def on_outcome(self, outcome: IntakeOutcome) -> None:
        self.refresh_counts()
        self.sync.worker.wake()
        self.statusBar().showMessage(
            f"Đã lưu {SLIP_TITLES[outcome.kind].lower()}: {outcome.reference}", 15_000)
        self._preview(outcome.slip_pdf, SLIP_TITLES[outcome.kind], outcome.reference)

    def show_stored_slip(self, dossier_id: int) -> None:
        def show(slip: StoredSlip) -> None:
            self._preview(slip.pdf, "Phiếu đã in của hồ sơ", slip.reference)

        self.runner.submit(lambda: self.queries.stored_slip(dossier_id), show,
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
            if ws.dossier_id != dossier_id:
                ws.dossier_id = dossier_id  # pages left unsaved reopen for this dossier
                ws.save()

            def stored(key: str, files: list[object]) -> None:
                self.refresh_counts()
                self.sync.worker.wake()

            dialog = StudioDialog(backend, ws, self.runner, stored, None, self)
            self.studio_dialog = dialog
            dialog.finished.connect(lambda _: ws.discard() if ws.page_count() == 0 else None)
            dialog.finished.connect(lambda _: self.refresh_unfinished())
            dialog.open()

        self.runner.submit(lambda: self.queries.detail(dossier_id), open_studio,
                           lambda m, d: messages.error(self, m))

    def digitize_result(self, dossier_id: int, code: str, result_name: str) -> None:
        """F7: a paper result, its metadata first, then the studio with one slot; stored,
        it is the dossier's result (viewed, printed, handed over, sent to the province)."""
        form = ResultMetaDialog(code, result_name, CounterResults(self.ctx).check, self)
        self.result_form = form
        form.accepted.connect(lambda: self._result_studio(dossier_id, code, form.meta))
        form.open()

    def _result_studio(self, dossier_id: int, code: str, meta: ResultMeta | None) -> None:
        if meta is None:
            return
        backend = ResultStudioBackend(self.ctx, self.clerk, dossier_id, code, meta)
        ws = Workspace.create(backend.work_root(), [(RESULT_SLOT, meta.name)],
                              f"Hồ sơ {code} — {meta.number}")

        def stored(key: str, files: list[object]) -> None:
            self.returns.reload()
            self.sync.worker.wake()
            self.statusBar().showMessage(f"Đã lưu kết quả “{meta.name}” của hồ sơ {code}.",
                                         15_000)

        dialog = StudioDialog(backend, ws, self.runner, stored, RESULT_SLOT, self,
                              heading="Số hóa kết quả giấy")
        self.studio_dialog = dialog
        dialog.finished.connect(lambda _: ws.discard() if ws.page_count() == 0 else None)
        dialog.open()

    def file_by_hand(self, path: object) -> None:
        """Pages a batch could not file: the operator names the dossier they belong to."""
        if not isinstance(path, Path):
            return
        code = messages.ask_text(self, "Xếp các trang chưa xếp", "Mã hồ sơ của các trang này:",
                                 ok="Mở hồ sơ")
        if not code:
            return
        found = self.queries.search(code.strip(), limit=1)
        if not found or found[0].code != code.strip():
            messages.error(self, f"Không tìm thấy hồ sơ có mã {code.strip()}.")
            return
        self.digitize_dossier(found[0].id, Workspace.open(path))

    def _preview(self, pdf: bytes, title: str, reference: str) -> None:
        dialog = SlipPreviewDialog(pdf, f"{title} — {reference}", f"{reference}.pdf", self,
                                   printer_name=self.station.printer,
                                   expected_paper=self.station.receipt_page_size,
                                   scratch=self.ctx.blobs.write_scratch)
        self.last_preview = dialog
        dialog.finished.connect(self._after_preview)
        dialog.open()

    def _after_preview(self) -> None:
        # Back to the keyboard flow: the next citizen starts at the procedure search.
        self.activateWindow()
        if self.pages.currentIndex() == self.INTAKE:
            self.intake.proc_step.search.setFocus()

    # --- work left unfinished -------------------------------------------------------------

    def refresh_unfinished(self) -> None:
        """The saved draft and the scanned pages never stored, for the home page."""
        live_ws = self.intake.studio_ws.root.name if self.intake.studio_ws else ""
        drafts, scan_work = self.drafts, self.ctx.paths.scan_work

        def load() -> tuple[DraftSummary | None, list[UnsavedWork]]:
            summary = drafts.summary()
            # Pages that belong to a draft come back with the draft.
            exclude = {live_ws, summary.studio_workspace if summary else ""} - {""}
            return summary, unsaved_work(scan_work, exclude)

        self.runner.submit(load, self._show_unfinished, self._unfinished_failed)

    def _show_unfinished(self, found: tuple[DraftSummary | None, list[UnsavedWork]]) -> None:
        saved, works = found
        self.pending_draft = (saved if saved is not None
                              and saved.draft_id != self.intake.draft_id else None)
        self.home.show_draft(self.pending_draft or self.intake.summary(), self.clerk.id)
        self.home.show_unsaved(works)
        self._checked()

    def _unfinished_failed(self, message: str, detail: str) -> None:
        self.statusBar().showMessage(message, 15_000)
        self._checked()  # the draft store still never lets a save replace a saved draft

    def _checked(self) -> None:
        self._drafts_checked = True
        then, self._after_check = self._after_check, None
        if then is not None:
            then()

    def _ask(self, message: str, title: str, choices: list[tuple[str, str]],
             on_answer: Callable[[str], None], default: str, escape: str) -> None:
        self.question = messages.ask(self, message, title, choices, on_answer,
                                     default=default, escape=escape)

    def _ask_about_pending(self) -> None:
        assert self.pending_draft is not None
        if self.question is not None and self.question.isVisible():
            self.question.raise_()
            return
        pending = self.pending_draft

        def answer(choice: str) -> None:
            if choice == "resume":
                self.resume_draft()
            elif choice == "new":
                self._discard_pending(pending, then=lambda: self.show_page(self.INTAKE))

        choices = [("resume", "&Tiếp tục hồ sơ đang nhập dở")] if pending.readable else []
        choices += [("new", "&Bỏ bản nháp, nhập hồ sơ mới"), ("back", "&Quay lại")]
        self._ask(draft_text(pending, self.clerk.id) + "\n\nTiếp tục hồ sơ này, hay bỏ bản nháp "
                  "để nhập hồ sơ mới?", "Có hồ sơ đang nhập dở", choices, answer,
                  default="resume" if pending.readable else "back", escape="back")

    def resume_draft(self) -> None:
        if self.pending_draft is None:  # the dossier is open in the wizard already
            self.show_page(self.INTAKE)
            return
        self.runner.submit(self.drafts.resume, self._resumed, self._resume_failed)

    def _resumed(self, restored: RestoredIntake) -> None:
        self.pending_draft = None
        self.show_page(self.INTAKE)
        self.intake.restore(restored)
        self.statusBar().showMessage("Đã mở lại hồ sơ đang nhập dở.", 10_000)

    def _resume_failed(self, message: str, detail: str) -> None:
        self.refresh_unfinished()
        messages.error(self, message, "Không mở lại được bản nháp")

    def ask_discard_draft(self) -> None:
        pending = self.pending_draft
        summary = pending or self.intake.summary()
        if summary is None:
            return
        owner = f" của {summary.owner_name}" if summary.owner_name else ""

        def answer(choice: str) -> None:
            if choice != "discard":
                return
            if pending is not None:
                self._discard_pending(pending, then=self.refresh_unfinished)
            else:
                self.intake.discard_draft(on_done=self.refresh_unfinished)

        self._ask(f"Bỏ hồ sơ đang nhập dở{owner}? Bản nháp sẽ bị xóa và không khôi phục "
                  "được. (Các trang đã quét chưa lưu vẫn được giữ.)", "Bỏ bản nháp",
                  [("discard", "&Bỏ bản nháp"), ("back", "&Quay lại")], answer,
                  default="back", escape="back")

    def _discard_pending(self, pending: DraftSummary, then: Callable[[], None]) -> None:
        self.pending_draft = None
        drafts = self.drafts
        self.runner.submit(lambda: drafts.discard(pending.draft_id), lambda _: then(),
                           lambda m, d: messages.error(self, m))

    def open_unsaved(self, path: object) -> None:
        """Reopen scanned pages never stored: for their dossier when known, otherwise the
        clerk names the dossier (as for pages a batch could not file)."""
        if not isinstance(path, Path):
            return

        def opened(ws: Workspace) -> None:
            if ws.dossier_id is not None:
                self.digitize_dossier(ws.dossier_id, ws)
            else:
                self.file_by_hand(path)
                self.refresh_unfinished()

        self.runner.submit(lambda: Workspace.open(path), opened,
                           lambda m, d: messages.error(self, m))

    def ask_discard_unsaved(self, path: object) -> None:
        if not isinstance(path, Path):
            return
        scan_work = self.ctx.paths.scan_work

        def answer(choice: str) -> None:
            if choice == "discard":
                self.runner.submit(lambda: discard_work(scan_work, path),
                                   lambda _: self.refresh_unfinished(),
                                   lambda m, d: messages.error(self, m))

        self._ask("Bỏ các trang đã quét của lượt số hóa này? Các trang sẽ bị xóa khỏi máy và "
                  "không khôi phục được.", "Bỏ các trang đã quét",
                  [("discard", "&Bỏ các trang này"), ("back", "&Quay lại")], answer,
                  default="back", escape="back")

    # --- closing --------------------------------------------------------------------------

    def _open_studio_pages(self) -> tuple[Workspace | None, int]:
        for dialog in (getattr(self, "studio_dialog", None),
                       getattr(self.intake, "studio_dialog", None)):
            if isinstance(dialog, StudioDialog) and dialog.isVisible():
                ws = dialog.studio.ws
                if ws is not None and ws.page_count():
                    return ws, ws.page_count()
        return None, 0

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._quitting and self._ask_before_closing():
            event.ignore()
            return
        if self.runner.busy():
            self.runner.wait(10_000)  # let a Receive in flight commit before quitting
        self.sync.stop()  # an upload in flight resumes from its offset next time
        event.accept()

    def save_before_session_end(self) -> None:
        """Windows is logging off or shutting down: no close question can be answered
        now, so the draft is saved as it is (the session waits a few seconds for us)."""
        self.intake.save_draft()
        self.runner.wait(5_000)

    def quit_now(self) -> None:
        """Close without the unsaved-work question (its answer was given, or there is
        nobody to ask: a test tearing the window down)."""
        self._quitting = True
        self.close()

    def _ask_before_closing(self) -> bool:
        """Put the question if closing would lose work; False when there is none."""
        if self.question is not None and self.question.isVisible():
            self.question.raise_()
            return True
        summary = self.intake.summary()
        if summary is not None:
            pages = (f" Các trang đã quét cho hồ sơ này ({summary.unsaved_pages} trang) luôn "
                     "được giữ lại." if summary.unsaved_pages else "")
            self._ask(draft_text(summary, self.clerk.id) + "\n\nGiữ bản nháp để lần sau mở "
                      "lại và nhập tiếp? Nếu bỏ, những gì đã nhập cho hồ sơ này sẽ mất." + pages,
                      "Thoát khi đang nhập hồ sơ",
                      [("keep", "&Giữ bản nháp và thoát"), ("back", "&Quay lại"),
                       ("discard", "&Bỏ bản nháp và thoát")],
                      self._close_answer, default="keep", escape="back")
            return True
        ws, pages = self._open_studio_pages()
        if ws is not None:
            def answer(choice: str) -> None:
                if choice == "keep":
                    self.quit_now()
                elif choice == "discard":
                    ws.discard()
                    self.quit_now()

            self._ask(f"Còn {pages} trang đã quét chưa lưu thành tệp PDF ({ws.title}). Giữ "
                      "các trang để lần sau làm tiếp (hiện ở Trang chủ)?", "Thoát khi đang số hóa",
                      [("keep", "&Giữ các trang và thoát"), ("back", "&Quay lại"),
                       ("discard", "&Bỏ các trang này và thoát")],
                      answer, default="keep", escape="back")
            return True
        return self.updates.ask_at_close()

    def _close_answer(self, choice: str) -> None:
        if choice == "keep":  # the draft is saved once more, as it is now, then we quit
            self.intake.save_draft(on_done=self.quit_now, on_error=self._close_failed)
        elif choice == "discard":
            # Failing to delete leaves the draft to be offered (and dropped) next time:
            # nothing is lost by quitting anyway.
            self.intake.discard_draft(on_done=self.quit_now, on_error=lambda m, d: self.quit_now())

    def _close_failed(self, message: str, detail: str) -> None:
        saved = self.intake.saved_at
        lost = (f"những gì nhập sau lần lưu nháp lúc {saved:%H:%M} sẽ mất" if saved is not None
                else "hồ sơ đang nhập sẽ mất")
        self._ask(f"Không lưu được bản nháp: {message}\n\nNếu vẫn thoát, {lost}.",
                  "Chưa lưu được bản nháp",
                  [("back", "&Quay lại"), ("quit", "&Vẫn thoát")],
                  lambda choice: self.quit_now() if choice == "quit" else None,
                  default="back", escape="back")
