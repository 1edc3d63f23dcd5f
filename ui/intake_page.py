"""The intake wizard: procedure → applicant → components → fees and delivery → review.

Keyboard-first: Ctrl+Enter (or Alt+T) goes forward, Alt+Q goes back, Enter in the
procedure list picks it, and an ID-card QR scanned at any step fills the owner. The
steps' widgets are in ``intake_steps``; this page moves between them and acts on the
draft.

The draft is kept in the database (``draft_store``) when the clerk changes step and
shortly after each edit, on the Runner, so a closed window, a crash or a power cut loses
at most the last moment of typing; Receive, refusal, a supplement request or "Hủy"
remove it."""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import ProcedureInfo
from desktop_app.digitization import DigitizedFile
from desktop_app.domain.citizen_qr import CitizenCard, parse_citizen_qr
from desktop_app.domain.errors import DomainError
from desktop_app.intake.draft_store import (
    DraftRef,
    DraftStore,
    DraftSummary,
    RestoredIntake,
    SaveResult,
)
from desktop_app.intake.drafts import (
    ComponentEntry,
    Delivery,
    IntakeDraft,
    SavedIntake,
)
from desktop_app.intake.province_reuse import fetch_province_copy, province_documents
from desktop_app.intake.reuse import OnFile, ReuseService, matches
from desktop_app.intake.service import IntakeOutcome, IntakeService, SlipNotStored
from desktop_app.scanning.studio import StudioBackend
from desktop_app.scanning.workspace import Workspace
from ui import intake_draft_form as draft_form
from ui import messages
from ui.intake_steps import ApplicantStep, ComponentsStep, DeliveryStep, ProcedureStep, ReviewStep
from ui.scan_question import CardUse, ScannedCardQuestion
from ui.screen_fit import ActionBar, scrolling
from ui.studio_dialog import StudioDialog
from ui.style import set_state
from ui.workers import Runner

log = logging.getLogger(__name__)

STEPS = ("Thủ tục", "Người nộp", "Thành phần hồ sơ", "Lệ phí, nhận kết quả", "Xem lại")
# Edits are saved this long after the last keystroke: typing a name is one save, not
# twenty, and a power cut loses at most this much.
AUTOSAVE_MS = 1500


class IntakePage(QWidget):
    """Emits ``finished`` with the IntakeOutcome once a slip has been recorded."""

    finished = Signal(object)

    def __init__(self, service: IntakeService, clerk: ClerkInfo, runner: Runner,
                 drafts: DraftStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.clerk = clerk
        self.runner = runner
        self.drafts = drafts
        self.procedure: ProcedureInfo | None = None
        # The draft's procedure (code, name): also kept when a resumed draft's procedure
        # left the catalog, until the clerk picks another.
        self.draft_procedure: tuple[str, str] | None = None
        self.draft_id = ""
        self.saved_at: datetime | None = None
        self.saving = False
        self._restoring = False
        self._save_seq = itertools.count(1)
        self.autosave = QTimer(self)
        self.autosave.setSingleShot(True)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.save_draft)
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
        # What a resumed draft could not bring back (the catalog changed meanwhile).
        self.notice = QLabel()
        self.notice.setObjectName("banner")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.draft_state = QLabel()
        self.draft_state.setObjectName("hint")
        self.draft_state.setWordWrap(True)  # never widens the row of buttons

        self.proc_step = ProcedureStep(service, clerk)
        self.applicant_step = ApplicantStep()
        self.components_step = ComponentsStep()
        self.delivery_step = DeliveryStep()
        self.review = ReviewStep()
        self.stack = QStackedWidget()
        for w in (self.proc_step, self.applicant_step, self.components_step,
                  self.delivery_step, self.review):
            self.stack.addWidget(w)
        self._step_policies = [self.stack.widget(i).sizePolicy()
                               for i in range(self.stack.count())]

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
        buttons = ActionBar([self.cancel_btn, self.draft_state, self.back_btn,
                             self.supplement_btn, self.refuse_btn],
                            [self.next_btn, self.receive_btn])

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.crumbs)
        layout.addWidget(self.chosen)
        layout.addWidget(self.notice)
        layout.addWidget(scrolling(self.stack), 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

        self.proc_step.chosen.connect(self.choose_procedure)
        self.components_step.digitize_requested.connect(self.digitize)
        self.components_step.reused.connect(lambda _row: self.save_draft())
        self.components_step.fetch_offer.connect(self._fetch_offer)
        self.back_btn.clicked.connect(self.go_back)
        self.next_btn.clicked.connect(self.go_next)
        self.receive_btn.clicked.connect(self.receive)
        self.supplement_btn.clicked.connect(self.request_supplement)
        self.refuse_btn.clicked.connect(self.refuse)
        self.cancel_btn.clicked.connect(self.ask_reset)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self.forward)
        draft_form.watch_edits(self.applicant_step, self.components_step, self.delivery_step,
                               self._edited)
        self.reset()

    # --- navigation -----------------------------------------------------------------

    @property
    def step(self) -> int:
        return self.stack.currentIndex()

    def _show_step(self, index: int) -> None:
        # The scroll area around the stack sizes it by the current step alone: the tall
        # fees form must not make the review (which scrolls itself) taller than the
        # screen, or a short screen shows two scroll bars and cuts the review's end.
        ignored = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        for i, own in enumerate(self._step_policies):
            self.stack.widget(i).setSizePolicy(own if i == index else ignored)
        self.stack.setCurrentIndex(index)
        self.stack.adjustSize()
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
        _focus_soon(focus)
        self.save_draft()  # every change of step is kept at once

    def reset(self) -> None:
        """A new, empty dossier (the previous draft's fate is decided by the caller)."""
        self.autosave.stop()
        self._restoring = True
        try:
            self.procedure = None
            self.draft_procedure = None
            self.draft_id = uuid.uuid4().hex
            self.saved_at = None
            self.draft_state.clear()
            self.notice.clear()
            self.notice.setVisible(False)
            self.chosen.clear()
            self.applicant_step.clear()
            self._load_components([])
            self.studio_ws: Workspace | None = None  # pages left unfinished stay on disk
            self.delivery_step.clear()
            self.proc_step.search.clear()
            self.proc_step.refresh()
            self._show_step(0)
        finally:
            self._restoring = False

    def ask_reset(self) -> None:
        if (self.step == 0 and not self.has_work()) or messages.confirm(
                self, "Bỏ hồ sơ đang nhập và bắt đầu hồ sơ mới? Hồ sơ đang nhập sẽ không "
                "được giữ lại (các trang đã quét chưa lưu vẫn còn ở Trang chủ).",
                yes="Bỏ, nhập mới"):
            self.discard_draft()

    def discard_draft(self, on_done: Callable[[], None] | None = None,
                      on_error: Callable[[str, str], None] | None = None) -> None:
        """The clerk abandons this dossier: its saved draft goes, the wizard starts anew."""
        draft_id, store = self.draft_id, self.drafts
        self.reset()
        if store is None:
            if on_done is not None:
                on_done()
            return
        self.runner.submit(lambda: store.discard(draft_id),
                           lambda _: on_done() if on_done is not None else None,
                           on_error or self._draft_failed)

    def forward(self) -> None:
        if self.step == len(STEPS) - 1:
            self.receive()
        else:
            self.go_next()

    def go_back(self) -> None:
        if self.step > 0:
            self._show_step(self.step - 1)

    def go_next(self) -> None:
        if self.step == len(STEPS) - 1:
            return  # the last step has Receive, not Next
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
            self._look_up_documents(draft)
        if self.step == 3:
            self._fill_review(draft)
        self._show_step(self.step + 1)

    def _look_up_documents(self, draft: IntakeDraft) -> None:
        """The owner's documents already digitized, beside the checklist (once per owner
        and procedure: each look-up is audited)."""
        key = (draft.owner.id_number.strip(), draft.procedure_code)
        if not key[0] or key == self._looked_up:
            return
        self._looked_up = key
        reuse = ReuseService(self.service.ctx)
        names = [c.name for c in self.components_step.entries]
        ctx, clerk = self.service.ctx, self.clerk

        def look_up() -> list[OnFile]:
            local = reuse.on_file(key[0], clerk, key[1])
            # Then the province's copies of kinds this PC has none of, when online (a
            # short timeout; offline or an older gateway answers nothing, quietly).
            return local + province_documents(ctx, clerk, key[0], key[1],
                                              [o.kind for o in local])

        def found(offers: list[OnFile]) -> None:
            if self._looked_up == key:  # not another owner's by now
                self.components_step.show_offers(matches(names, offers))

        def failed(message: str, detail: str) -> None:
            log.warning("citizen documents not looked up: %s", detail)

        self.runner.submit(look_up, found, failed)

    def _fetch_offer(self, row: int) -> None:
        """Ctrl+R on a copy held by the province: downloaded (hash-checked, encrypted)
        in the background, then taken like a local one."""
        offer = self.components_step.offers.get(row)
        if offer is None:
            return
        ctx = self.service.ctx
        self.error.setText("Đang tải bản số hóa từ hệ thống tỉnh…")

        def done(_entry: OnFile) -> None:
            self.error.setText("")
            self.components_step.take_offer(row)

        def failed(message: str, detail: str) -> None:
            log.warning("province document not fetched: %s", detail)
            self.error.setText(message)

        self.runner.submit(lambda: fetch_province_copy(ctx, offer), done, failed)

    def digitize(self, row: int) -> None:
        """Open the studio over the wizard for this draft's components."""
        entries = self.components_step.entries
        if not entries:
            return
        backend = StudioBackend(self.service.ctx, self.clerk)
        if self.studio_ws is None:
            title = self._studio_title(self.procedure.name if self.procedure else "")
            self.studio_ws = Workspace.create(
                backend.work_root(), [(str(i), c.name) for i, c in enumerate(entries)], title)
            self.save_draft()  # the draft now knows where its pages are

        def stored(key: str, files: list[DigitizedFile]) -> None:
            self.components_step.set_files(int(key), files)
            self.save_draft()  # stored files are the costliest thing to redo

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
            self._load_components(IntakeDraft.for_procedure(proc).components)
            if self.studio_ws is not None:
                # Slots are the old procedure's rows: its pages wait in the unassigned
                # tray for the clerk to sort into the new components.
                self.studio_ws.retarget([], self.studio_ws.title)
                self.studio_ws.retarget(
                    [(str(i), c.name) for i, c in enumerate(self.components_step.entries)],
                    self._studio_title(proc.name))
        self.procedure = proc
        self.draft_procedure = (proc.code, proc.name)
        self._show_procedure(proc)
        self._show_step(1)

    def _show_procedure(self, proc: ProcedureInfo) -> None:
        self.chosen.setText(f"Thủ tục: {proc.name} ({proc.code}) — thời hạn "
                            f"{proc.time_limit_label}")
        self.delivery_step.show_procedure(proc, self.service.appointment_for(proc))

    def _studio_title(self, procedure_name: str) -> str:
        owner = self.applicant_step.owner.full_name.text().strip()
        return f"Hồ sơ {procedure_name}" + (f" — {owner}" if owner else "")

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
            fee_counts=delivery.fees.counts(),
            payment=delivery.fees.payment.entry(),
        )

    def _fill_review(self, draft: IntakeDraft) -> None:
        assert self.procedure is not None
        proc = self.procedure
        ok = self.review.show_draft(draft, proc, self.service.appointment_for(proc),
                                    self.service.fee_problems(draft.normalised(), proc),
                                    self.service.clock_warning())
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
            set_state(banner, "bad")
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
            _focus_soon(target.phone)
        elif self.step == len(STEPS) - 1 and self.procedure is not None:
            self._fill_review(self.draft())  # the review shows who is in the dossier now

    def _scan_banner(self, text: str, ok: bool) -> None:
        banner = self.applicant_step.banner
        set_state(banner, "good" if ok else "bad")
        banner.setText(text)
        if not ok and self.step != 1:
            self.error.setText(text)

    # --- actions ----------------------------------------------------------------------

    def receive(self) -> None:
        if self.step != len(STEPS) - 1 or not self.receive_btn.isEnabled():
            return
        draft = self.draft()
        self._run(lambda ref: self.service.receive(draft, self.clerk, ref))

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
            self._run(lambda ref: self.service.request_supplement(draft, self.clerk, reason,
                                                                  ref))

    def refuse(self) -> None:
        if self.procedure is None:
            return
        # The refusal slip must state the reason (it is printed and sent to the province).
        reason = messages.ask_text(self, "Từ chối tiếp nhận hồ sơ",
                                   "Lý do từ chối (in trên phiếu):", multiline=True,
                                   ok="Lập phiếu từ chối")
        draft = self._draft_or_show_error() if reason is not None else None
        if draft is not None and reason is not None:
            self._run(lambda ref: self.service.refuse(draft, self.clerk, reason, ref))

    def _draft_or_show_error(self) -> IntakeDraft | None:
        try:
            return self.draft()
        except DomainError as exc:
            self.error.setText(exc.message_vi)
            return None

    def _run(self, action: Callable[[DraftRef | None], IntakeOutcome]) -> None:
        """Run a counter action that ends this dossier; its saved draft is removed in the
        action's own transaction, and a save still queued can no longer bring it back."""
        if self.saving:
            return
        self.saving = True
        self.autosave.stop()
        self._set_busy(True)
        self.error.setText("Đang lưu hồ sơ và tạo phiếu…")
        store, draft_id = self.drafts, self.draft_id

        def act(ref: DraftRef | None) -> IntakeOutcome | SlipNotStored:
            try:
                return action(ref)
            except SlipNotStored as exc:
                # Recorded (number taken, draft gone), only the slip is missing: this
                # dossier is done here (the draft stays finished); receiving it again
                # would make a second one.
                return exc

        def job() -> IntakeOutcome | SlipNotStored:
            if store is None:
                return act(None)
            with store.finishing(draft_id) as ref:
                return act(ref)

        self.runner.submit(job, self._saved, self._failed)

    def _set_busy(self, busy: bool) -> None:
        for b in (self.back_btn, self.next_btn, self.receive_btn, self.supplement_btn,
                  self.refuse_btn, self.cancel_btn):
            b.setDisabled(busy)

    def _saved(self, outcome: IntakeOutcome | SlipNotStored) -> None:
        self.saving = False
        self._set_busy(False)
        self.error.clear()
        if isinstance(outcome, SlipNotStored):
            self.reset()
            self.error.setText(outcome.message_vi)
            return
        if self.studio_ws is not None and self.studio_ws.page_count() == 0:
            self.studio_ws.discard()  # every page became a stored PDF of this dossier
        self.finished.emit(outcome)
        self.reset()

    def _failed(self, message: str, detail: str) -> None:
        self.saving = False
        self._set_busy(False)
        self._show_step(self.step)  # saves the draft again: nothing was recorded
        if self.step == len(STEPS) - 1:
            self._fill_review(self.draft())
        self.error.setText(message)

    # --- the saved draft ----------------------------------------------------------------

    def _load_components(self, entries: list[ComponentEntry]) -> None:
        self._looked_up: tuple[str, str] | None = None  # a new checklist: offers again
        self.components_step.load(entries)
        draft_form.watch_counts(self.components_step, self._edited)

    def _edited(self) -> None:
        if not self._restoring and self.draft_procedure is not None and not self.saving:
            self.autosave.start()

    def snapshot(self) -> SavedIntake | None:
        """The wizard as it is now (None before a procedure is chosen: nothing to keep)."""
        if self.draft_procedure is None:
            return None
        code, name = self.draft_procedure
        draft, owner_typed, submitter_typed = draft_form.collect(
            code, self.applicant_step, self.components_step, self.delivery_step)
        return SavedIntake(draft, self.step, self.draft_id, name, owner_typed,
                           submitter_typed,
                           self.studio_ws.root.name if self.studio_ws is not None else "")

    def has_work(self) -> bool:
        """Something typed, ticked or digitized that closing would lose."""
        snap = self.snapshot()
        return snap is not None and not snap.is_blank()

    def summary(self) -> DraftSummary | None:
        """The dossier in the wizard, as the start page shows a saved one."""
        snap = self.snapshot()
        if snap is None or snap.is_blank():
            return None
        pages = self.studio_ws.page_count() if self.studio_ws is not None else 0
        return DraftSummary(snap.draft_id, snap.draft.procedure_code, snap.procedure_name,
                            snap.draft.owner.full_name, snap.step, self.saved_at,
                            self.clerk.id, self.clerk.full_name, snap.studio_workspace, pages)

    def save_draft(self, on_done: Callable[[], None] | None = None,
                   on_error: Callable[[str, str], None] | None = None) -> None:
        """Keep the draft now, on the Runner. Saves are numbered, so one overtaken on
        another thread never replaces a newer one."""
        self.autosave.stop()
        snap = self.snapshot()
        if self.drafts is None or self.saving or snap is None:
            if on_done is not None:
                on_done()
            return
        store, clerk_id, seq = self.drafts, self.clerk.id, next(self._save_seq)

        def done(result: SaveResult) -> None:
            self._draft_saved(result)
            if on_done is not None:
                on_done()

        self.runner.submit(lambda: store.save(snap, clerk_id, seq), done,
                           on_error or self._draft_failed)

    def _draft_saved(self, result: SaveResult) -> None:
        if result is SaveResult.SAVED:
            self.saved_at = self.service.ctx.clock.now()
            self.draft_state.setText(f"Đã lưu nháp lúc {self.saved_at:%H:%M:%S}")
        elif result is SaveResult.BLANK:
            self.draft_state.clear()
        elif result is SaveResult.OTHER_DRAFT:
            self.draft_state.setText("Chưa lưu nháp: máy này còn một hồ sơ nhập dở khác "
                                     "(xem Trang chủ).")

    def _draft_failed(self, message: str, detail: str) -> None:
        self.draft_state.setText(f"Chưa lưu được bản nháp: {message}")

    def restore(self, restored: RestoredIntake) -> None:
        """Fill every step from a resumed draft and show the step it was saved at."""
        self.reset()
        saved, d = restored.saved, restored.saved.draft
        self._restoring = True
        try:
            self.draft_id = saved.draft_id or self.draft_id
            self.draft_procedure = (d.procedure_code, saved.procedure_name)
            self.saved_at = restored.saved_at
            draft_form.fill(saved, self.applicant_step, self.delivery_step)
            self.studio_ws = restored.workspace
            self.procedure = restored.procedure
            self._load_components(d.components)
            if restored.notes:
                self.notice.setText("Đã mở lại hồ sơ đang nhập dở. Lưu ý: "
                                    + " ".join(restored.notes))
                self.notice.setVisible(True)
        finally:
            self._restoring = False
        if self.procedure is None:
            self._show_step(0)
            return
        self._show_procedure(self.procedure)
        self._restoring = True
        try:  # the fee lines exist once the procedure is shown
            draft_form.fill_fees(d, self.delivery_step)
        finally:
            self._restoring = False
        index = saved.step
        if index == len(STEPS) - 1:
            try:
                self._fill_review(self.draft())
            except DomainError:
                index -= 1  # cannot happen for a draft saved at review; be safe anyway
        self._show_step(index)


def _focus_soon(widget: QWidget) -> None:
    """Focus `widget` once the events in hand are done — unless by then it is no longer
    on screen: a clerk who pressed F3 (or scanned a receipt) right after a step change
    must not have the keyboard pulled back to the intake page behind the new one."""
    QTimer.singleShot(0, lambda: widget.setFocus() if widget.isVisible() else None)
