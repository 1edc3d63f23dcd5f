"""The intake wizard: procedure → applicant → components → fees and delivery → review.

Keyboard-first: Ctrl+Enter (or Alt+T) goes forward, Alt+Q goes back, Enter in the
procedure list picks it, and an ID-card QR scanned at any step fills the owner. The
steps' widgets are in ``intake_steps``; this page moves between them and acts on the
draft."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import ProcedureInfo
from desktop_app.digitization import DigitizedFile
from desktop_app.domain.citizen_qr import parse_citizen_qr
from desktop_app.domain.errors import DomainError
from desktop_app.intake.drafts import Delivery, IntakeDraft
from desktop_app.intake.service import IntakeOutcome, IntakeService
from desktop_app.scanning.studio import StudioBackend
from desktop_app.scanning.workspace import Workspace
from ui import messages
from ui.intake_steps import ApplicantStep, ComponentsStep, DeliveryStep, ProcedureStep, ReviewStep
from ui.screen_fit import ActionBar, scrolling
from ui.studio_dialog import StudioDialog
from ui.workers import Runner

STEPS = ("Thủ tục", "Người nộp", "Thành phần hồ sơ", "Lệ phí, nhận kết quả", "Xem lại")


class IntakePage(QWidget):
    """Emits ``finished`` with the IntakeOutcome once a slip has been recorded."""

    finished = Signal(object)

    def __init__(self, service: IntakeService, clerk: ClerkInfo, runner: Runner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.clerk = clerk
        self.runner = runner
        self.procedure: ProcedureInfo | None = None
        self.saving = False

        self.title = QLabel("Tiếp nhận hồ sơ")
        self.title.setObjectName("pageTitle")
        self.crumbs = QLabel()
        self.crumbs.setTextFormat(Qt.TextFormat.RichText)
        self.chosen = QLabel()
        self.chosen.setObjectName("hint")
        self.chosen.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)

        self.proc_step = ProcedureStep(service, clerk)
        self.applicant_step = ApplicantStep()
        self.components_step = ComponentsStep()
        self.delivery_step = DeliveryStep()
        self.review = ReviewStep()
        self.stack = QStackedWidget()
        for w in (self.proc_step, self.applicant_step, self.components_step,
                  self.delivery_step, self.review):
            self.stack.addWidget(w)

        self.back_btn = QPushButton("&Quay lại")
        self.back_btn.setToolTip("Về bước trước (Alt+Q); thông tin đã nhập được giữ")
        self.next_btn = QPushButton("&Tiếp tục  (Ctrl+Enter)")
        self.next_btn.setToolTip("Sang bước tiếp theo")
        self.next_btn.setObjectName("primary")
        self.supplement_btn = QPushButton("Yêu cầu &bổ sung…")
        self.supplement_btn.setToolTip(
            "Lập phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (mẫu 02); không cấp mã hồ sơ")
        self.refuse_btn = QPushButton("Từ &chối tiếp nhận…")
        self.refuse_btn.setToolTip(
            "Lập phiếu từ chối tiếp nhận (mẫu 03) có ghi lý do; không cấp mã hồ sơ")
        self.receive_btn = QPushButton("&Tiếp nhận và in phiếu  (Ctrl+Enter)")
        self.receive_btn.setToolTip(
            "Lưu hồ sơ, cấp mã hồ sơ, tính ngày hẹn trả và mở giấy tiếp nhận để in")
        self.receive_btn.setObjectName("primary")
        self.cancel_btn = QPushButton("&Hủy, nhập hồ sơ khác")
        self.cancel_btn.setToolTip(
            "Bỏ hồ sơ đang nhập (hỏi lại trước khi bỏ) để tiếp nhận hồ sơ khác")
        # The step scrolls on a small screen; the buttons below it never leave the screen.
        buttons = ActionBar([self.cancel_btn, self.back_btn, self.supplement_btn,
                             self.refuse_btn], [self.next_btn, self.receive_btn])

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.crumbs)
        layout.addWidget(self.chosen)
        layout.addWidget(scrolling(self.stack), 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

        self.proc_step.chosen.connect(self.choose_procedure)
        self.components_step.digitize_requested.connect(self.digitize)
        self.back_btn.clicked.connect(self.go_back)
        self.next_btn.clicked.connect(self.go_next)
        self.receive_btn.clicked.connect(self.receive)
        self.supplement_btn.clicked.connect(self.request_supplement)
        self.refuse_btn.clicked.connect(self.refuse)
        self.cancel_btn.clicked.connect(self.ask_reset)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self.forward)
        self.reset()

    # --- navigation -----------------------------------------------------------------

    @property
    def step(self) -> int:
        return self.stack.currentIndex()

    def _show_step(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        self.error.clear()
        parts = []
        for i, name in enumerate(STEPS):
            label = f"{i + 1}. {name}"
            parts.append(f"<b><u>{label}</u></b>" if i == index else label)
        self.crumbs.setText("  ›  ".join(parts))
        last = index == len(STEPS) - 1
        self.back_btn.setEnabled(index > 0)
        self.next_btn.setVisible(not last)
        self.receive_btn.setVisible(last)
        self.supplement_btn.setVisible(index > 0)
        self.refuse_btn.setVisible(index > 0)
        focus = {
            0: self.proc_step.search,
            1: self.applicant_step.owner.full_name,
            2: self.components_step.table,
            3: self.delivery_step.set_count,
            4: self.receive_btn,
        }[index]
        QTimer.singleShot(0, focus.setFocus)

    def reset(self) -> None:
        self.procedure = None
        self.chosen.clear()
        self.applicant_step.clear()
        self.components_step.load([])
        self.studio_ws: Workspace | None = None  # pages left unfinished stay on disk
        self.delivery_step.clear()
        self.proc_step.search.clear()
        self.proc_step.refresh()
        self._show_step(0)

    def ask_reset(self) -> None:
        if self.step == 0 or messages.confirm(
                self, "Bỏ hồ sơ đang nhập và bắt đầu hồ sơ mới?", yes="Bỏ, nhập mới"):
            self.reset()

    def forward(self) -> None:
        if self.step == len(STEPS) - 1:
            self.receive()
        else:
            self.go_next()

    def go_back(self) -> None:
        if self.step > 0:
            self._show_step(self.step - 1)

    def go_next(self) -> None:
        if self.step == 0:
            code = self.proc_step.current_code()
            if code:
                self.choose_procedure(code)
            else:
                self.error.setText("Hãy chọn một thủ tục.")
            return
        try:
            draft = self.draft()
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            return
        if self.step == 1:
            problems = draft.applicant_problems()
            if problems:
                self.error.setText("\n".join(problems))
                return
        if self.step == 3:
            self._fill_review(draft)
        self._show_step(self.step + 1)

    def digitize(self, row: int) -> None:
        """Open the studio over the wizard for this draft's components."""
        entries = self.components_step.entries
        if not entries:
            return
        backend = StudioBackend(self.service.ctx, self.clerk)
        if self.studio_ws is None:
            owner = self.applicant_step.owner.full_name.text().strip()
            title = (f"Hồ sơ {self.procedure.name if self.procedure else ''}"
                     + (f" — {owner}" if owner else ""))
            self.studio_ws = Workspace.create(
                backend.work_root(), [(str(i), c.name) for i, c in enumerate(entries)], title)

        def stored(key: str, files: list[DigitizedFile]) -> None:
            self.components_step.set_files(int(key), files)

        dialog = StudioDialog(backend, self.studio_ws, self.runner, stored, str(row), self)
        self.studio_dialog = dialog
        dialog.finished.connect(lambda _: self.components_step.table.setFocus())
        dialog.open()

    def choose_procedure(self, code: str) -> None:
        try:
            proc = self.service.catalog.get(code)
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            return
        if self.procedure is None or self.procedure.code != proc.code:
            self.components_step.load(IntakeDraft.for_procedure(proc).components)
        self.procedure = proc
        self.chosen.setText(f"Thủ tục: {proc.name} ({proc.code}) — thời hạn "
                            f"{proc.time_limit_label}")
        self.delivery_step.show_procedure(proc, self.service.appointment_for(proc))
        self._show_step(1)

    # --- the draft ------------------------------------------------------------------

    def draft(self) -> IntakeDraft:
        assert self.procedure is not None
        step = self.applicant_step
        delivery = self.delivery_step
        return IntakeDraft(
            procedure_code=self.procedure.code,
            owner=step.owner.person(),
            submitter=step.submitter.person() if step.proxy.isChecked() else None,
            components=self.components_step.collect(),
            set_count=delivery.set_count.value(),
            delivery=Delivery.POST if delivery.by_post.isChecked() else Delivery.COUNTER,
            delivery_address=delivery.address.text(),
            note=delivery.note.toPlainText(),
        )

    def _fill_review(self, draft: IntakeDraft) -> None:
        assert self.procedure is not None
        proc = self.procedure
        ok = self.review.show_draft(draft, proc, self.service.appointment_for(proc))
        self.receive_btn.setEnabled(ok)

    # --- the ID card QR ---------------------------------------------------------------

    def on_scanned(self, payload: str) -> None:
        banner = self.applicant_step.banner
        try:
            card = parse_citizen_qr(payload)
        except DomainError as exc:
            banner.setText(f"Mã QR không đọc được: {exc.message_vi}")
            banner.setStyleSheet("background:#fde7e9;border:1px solid #b00020;")
            return
        step = self.applicant_step
        target = step.owner
        focus = self.focusWidget()
        if step.proxy.isChecked() and focus is not None and step.submitter.isAncestorOf(focus):
            target = step.submitter
        target.fill_from_card(card)
        banner.setStyleSheet("background:#e6f4ea;border:1px solid #1b7a2f;")
        who = "người nộp" if target is step.submitter else "chủ hồ sơ"
        banner.setText(f"Đã điền thông tin {who} từ thẻ căn cước: {card.full_name}, "
                       f"số {card.id_number}.")
        if self.step == 1:
            QTimer.singleShot(0, target.phone.setFocus)

    # --- actions ----------------------------------------------------------------------

    def receive(self) -> None:
        if self.step != len(STEPS) - 1 or not self.receive_btn.isEnabled():
            return
        draft = self.draft()
        self._run(lambda: self.service.receive(draft, self.clerk))

    def request_supplement(self) -> None:
        if self.procedure is None:
            return
        reason = messages.ask_text(
            self, "Yêu cầu bổ sung, hoàn thiện hồ sơ",
            "Lý do (ghi cụ thể thành phần cần bổ sung ở bước Thành phần hồ sơ):",
            multiline=True, text="Hồ sơ chưa đầy đủ, hợp lệ theo quy định",
            ok="Lập phiếu yêu cầu bổ sung")
        draft = self._draft_or_show_error() if reason is not None else None
        if draft is not None and reason is not None:
            self._run(lambda: self.service.request_supplement(draft, self.clerk, reason))

    def refuse(self) -> None:
        if self.procedure is None:
            return
        # The refusal slip must state the reason (it is printed and sent to the province).
        reason = messages.ask_text(self, "Từ chối tiếp nhận hồ sơ",
                                   "Lý do từ chối (in trên phiếu):", multiline=True,
                                   ok="Lập phiếu từ chối")
        draft = self._draft_or_show_error() if reason is not None else None
        if draft is not None and reason is not None:
            self._run(lambda: self.service.refuse(draft, self.clerk, reason))

    def _draft_or_show_error(self) -> IntakeDraft | None:
        try:
            return self.draft()
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            return None

    def _run(self, action: object) -> None:
        if self.saving:
            return
        self.saving = True
        self._set_busy(True)
        self.error.setText("Đang lưu hồ sơ và tạo phiếu…")
        self.runner.submit(action, self._saved, self._failed)  # type: ignore[arg-type]

    def _set_busy(self, busy: bool) -> None:
        for b in (self.back_btn, self.next_btn, self.receive_btn, self.supplement_btn,
                  self.refuse_btn, self.cancel_btn):
            b.setDisabled(busy)

    def _saved(self, outcome: IntakeOutcome) -> None:
        self.saving = False
        self._set_busy(False)
        self.error.clear()
        if self.studio_ws is not None and self.studio_ws.page_count() == 0:
            self.studio_ws.discard()  # every page became a stored PDF of this dossier
        self.finished.emit(outcome)
        self.reset()

    def _failed(self, message: str, detail: str) -> None:
        self.saving = False
        self._set_busy(False)
        self._show_step(self.step)
        if self.step == len(STEPS) - 1:
            self._fill_review(self.draft())
        self.error.setText(message)
