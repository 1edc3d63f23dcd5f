"""The intake wizard: procedure → applicant → components → fees and delivery → review.

Keyboard-first: Ctrl+Enter (or Alt+T) goes forward, Alt+Q goes back, Enter in the
procedure list picks it, and an ID-card QR scanned at any step fills the owner. The
steps' widgets are in ``intake_steps``; this page moves between them and acts on the
draft."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import ProcedureInfo
from desktop_app.digitization import DigitizedFile
from desktop_app.domain.citizen_qr import CitizenCard, parse_citizen_qr
from desktop_app.domain.errors import DomainError
from desktop_app.intake.drafts import Delivery, IntakeDraft
from desktop_app.intake.service import IntakeOutcome, IntakeService
from desktop_app.scanning.studio import StudioBackend
from desktop_app.scanning.workspace import Workspace
from ui import messages
from ui.intake_steps import ApplicantStep, ComponentsStep, DeliveryStep, ProcedureStep, ReviewStep
from ui.scan_question import CardUse, ScannedCardQuestion
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
        self.card_question: ScannedCardQuestion | None = None  # open while asking

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
        self.next_btn = QPushButton("&Tiếp tục  (Ctrl+Enter)")
        self.next_btn.setObjectName("primary")
        self.supplement_btn = QPushButton("Yêu cầu &bổ sung…")
        self.refuse_btn = QPushButton("Từ &chối tiếp nhận…")
        self.receive_btn = QPushButton("&Tiếp nhận và in phiếu  (Ctrl+Enter)")
        self.receive_btn.setObjectName("primary")
        self.cancel_btn = QPushButton("&Hủy, nhập hồ sơ khác")
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_btn)
        buttons.addStretch()
        for b in (self.back_btn, self.supplement_btn, self.refuse_btn, self.next_btn,
                  self.receive_btn):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.crumbs)
        layout.addWidget(self.chosen)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

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
        """An ID card was scanned (at any step). An empty owner, or the same person again,
        is filled at once; when the focus is in the submitter's form, the submitter. When
        the dossier already has another owner the clerk is asked what the card is for. A
        scan never moves the wizard, and never receives anything."""
        banner = self.applicant_step.banner
        if self.saving:
            self._scan_banner("Đang lưu hồ sơ trước; hãy quét lại thẻ sau khi phiếu được in.",
                              ok=False)
            return
        try:
            card = parse_citizen_qr(payload)
        except DomainError as exc:
            banner.setText(f"Mã QR không đọc được: {exc.message_vi}")
            banner.setStyleSheet("background:#fde7e9;border:1px solid #b00020;")
            return
        step = self.applicant_step
        owner = step.owner
        focus = self.focusWidget()
        if step.proxy.isChecked() and focus is not None and step.submitter.isAncestorOf(focus):
            self._use_card(card, CardUse.SUBMITTER)
            return
        owner_name, owner_id = owner.full_name.text().strip(), owner.id_number.text().strip()
        if (not owner_name and not owner_id) or owner_id == card.id_number:
            self._use_card(card, CardUse.OWNER)
            return
        if self.card_question is not None:  # a second card while still asking: ask anew
            old = self.card_question
            old.finished.disconnect()
            old.reject()
            old.deleteLater()
        question = ScannedCardQuestion(card, owner_name, owner_id, self)
        self.card_question = question
        question.finished.connect(lambda result: self._card_answered(question, result))
        question.open()

    def _card_answered(self, question: ScannedCardQuestion, result: int) -> None:
        self.card_question = None
        question.deleteLater()
        if result in (CardUse.OWNER, CardUse.SUBMITTER):
            self._use_card(question.card, CardUse(result))
        else:
            self._scan_banner(f"Đã bỏ qua thẻ vừa quét ({question.card.full_name}); hồ sơ "
                              "giữ nguyên.", ok=False)

    def _use_card(self, card: CitizenCard, use: CardUse) -> None:
        step = self.applicant_step
        if use is CardUse.SUBMITTER:
            step.proxy.setChecked(True)
            target = step.submitter
        else:
            target = step.owner
            if target.id_number.text().strip() not in ("", card.id_number):
                # Another person: the previous owner's phone and email are not theirs.
                target.phone.clear()
                target.email.clear()
        target.fill_from_card(card)
        who = "người nộp thay" if use is CardUse.SUBMITTER else "chủ hồ sơ"
        self._scan_banner(f"Đã điền thông tin {who} từ thẻ căn cước: {card.full_name}, "
                          f"số {card.id_number}.", ok=True)
        if self.step == 1:
            QTimer.singleShot(0, target.phone.setFocus)
        elif self.step == len(STEPS) - 1 and self.procedure is not None:
            self._fill_review(self.draft())  # the review shows who is in the dossier now

    def _scan_banner(self, text: str, ok: bool) -> None:
        banner = self.applicant_step.banner
        banner.setStyleSheet("background:#e6f4ea;border:1px solid #1b7a2f;" if ok
                             else "background:#fff4e5;border:1px solid #b26a00;")
        banner.setText(text)
        if not ok and self.step != 1:
            self.error.setText(text)

    # --- actions ----------------------------------------------------------------------

    def receive(self) -> None:
        if self.step != len(STEPS) - 1 or not self.receive_btn.isEnabled():
            return
        draft = self.draft()
        self._run(lambda: self.service.receive(draft, self.clerk))

    def request_supplement(self) -> None:
        if self.procedure is None:
            return
        reason, ok = QInputDialog.getMultiLineText(
            self, "Yêu cầu bổ sung, hoàn thiện hồ sơ",
            "Lý do (ghi cụ thể thành phần cần bổ sung ở bước Thành phần hồ sơ):",
            "Hồ sơ chưa đầy đủ, hợp lệ theo quy định")
        draft = self._draft_or_show_error() if ok else None
        if draft is not None:
            self._run(lambda: self.service.request_supplement(draft, self.clerk, reason))

    def refuse(self) -> None:
        if self.procedure is None:
            return
        reason, ok = QInputDialog.getMultiLineText(
            self, "Từ chối tiếp nhận hồ sơ", "Lý do từ chối (in trên phiếu):", "")
        draft = self._draft_or_show_error() if ok else None
        if draft is not None:
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
