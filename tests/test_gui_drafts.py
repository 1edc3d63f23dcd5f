"""Nothing typed at the counter is lost: the wizard keeps its draft, closing asks, the next
start offers the draft back (and scanned pages never stored), at the same step with
every field filled."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QSpinBox
from sqlalchemy import select, text

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.intake.draft_store import DraftStore
from desktop_app.intake.drafts import IntakeDraft, SavedIntake
from desktop_app.intake.service import IntakeService
from desktop_app.scanning.workspace import Workspace
from desktop_app.station import StationInfo
from local_db.models import Dossier, IntakeDraftRow
from tests.support.dialogs import answer_text
from ui import intake_page
from ui.intake_page import IntakePage
from ui.main_window import MainWindow
from ui.slip_preview import SlipPreviewDialog

from .test_draft_store import page
from .test_gui_intake import CARD, key, type_text
from .test_intake import OWNER, TEST_CATALOG

pytestmark = pytest.mark.gui

Opener = Callable[..., MainWindow]


@pytest.fixture
def open_window(qtbot, ctx: AppContext, station: StationInfo,  # type: ignore[no-untyped-def]
                clerk: ClerkInfo) -> Iterator[Opener]:
    """A new MainWindow on the same data, as the app builds one after login."""
    CatalogService(ctx).import_data(TEST_CATALOG)
    opened: list[MainWindow] = []

    def make(who: ClerkInfo = clerk) -> MainWindow:
        win = MainWindow(ctx, who, station)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        opened.append(win)
        return win

    yield make
    for win in opened:
        win.runner.wait()


class Saved:
    """The draft row as it is in the database now."""

    def __init__(self, row: IntakeDraftRow) -> None:
        self.step, self.payload, self.clerk_id = row.step, row.payload, row.clerk_id


def saved_row(ctx: AppContext) -> Saved | None:
    with ctx.db.read() as s:
        row = s.scalars(select(IntakeDraftRow)).one_or_none()
        return Saved(row) if row is not None else None


def answer(qtbot, window: MainWindow, label: str) -> None:  # type: ignore[no-untyped-def]
    """Press one of the Vietnamese buttons of the question on screen."""
    qtbot.waitUntil(lambda: window.question is not None and window.question.isVisible())
    box = window.question
    assert isinstance(box, QMessageBox)
    labels = [b.text() for b in box.buttons()]
    assert label in labels, labels
    next(b for b in box.buttons() if b.text() == label).click()


def spin(intake: IntakePage, row: int, col: int) -> QSpinBox:
    widget = intake.components_step.table.cellWidget(row, col)
    assert isinstance(widget, QSpinBox)
    return widget


def fill_every_step(qtbot, window: MainWindow) -> IntakePage:  # type: ignore[no-untyped-def]
    """Procedure, owner (typed in Vietnamese), a proxy submitter, components ticked with
    counts and a note, fees and delivery by post: up to the review step."""
    window.show_page(window.INTAKE)
    intake = window.intake
    intake.choose_procedure("9.000005")
    owner = intake.applicant_step.owner
    qtbot.waitUntil(lambda: QApplication.focusWidget() is owner.full_name)
    type_text(None, "Hoàng Thị Mai")
    type_text(owner.id_number, "019190001234")
    type_text(owner.birth_date, "12/03/1992")
    owner.sex.setCurrentText("Nữ")
    type_text(owner.address, "Thôn Nà Lẹng, xã Nà Phặc")
    type_text(owner.phone, "0912 345 678")
    type_text(owner.email, "mai@example.vn")
    intake.applicant_step.proxy.setChecked(True)
    type_text(intake.applicant_step.submitter.full_name, "Lò Văn Páo")
    type_text(intake.applicant_step.submitter.phone, "0987 000 111")
    intake.go_next()
    assert intake.step == 2, intake.error.text()
    table = intake.components_step.table
    qtbot.waitUntil(lambda: QApplication.focusWidget() is table)
    key(qtbot, Qt.Key.Key_Space)  # row 0 given
    spin(intake, 0, 2).setValue(2)
    spin(intake, 1, 4).setValue(3)
    table.item(1, 5).setText("Bản photo mờ, cần bản rõ hơn")
    intake.go_next()
    assert intake.step == 3
    delivery = intake.delivery_step
    delivery.set_count.setValue(2)
    delivery.by_post.setChecked(True)
    type_text(delivery.address, "Bưu điện xã Nà Phặc")
    type_text(delivery.note, "Hẹn bổ sung thứ Hai")
    delivery.fees.payment.setChecked(True)  # the fee taken at the counter
    type_text(delivery.fees.payment.receipt, "BL-0077")
    intake.go_next()
    assert intake.step == 4
    return intake


def assert_every_step(intake: IntakePage) -> None:
    owner = intake.applicant_step.owner
    assert intake.procedure is not None and intake.procedure.code == "9.000005"
    assert (owner.full_name.text(), owner.id_number.text(), owner.birth_date.text(),
            owner.sex.currentText(), owner.address.text(), owner.phone.text(),
            owner.email.text()) == ("Hoàng Thị Mai", "019190001234", "12/03/1992", "Nữ",
                                    "Thôn Nà Lẹng, xã Nà Phặc", "0912 345 678",
                                    "mai@example.vn")
    submitter = intake.applicant_step.submitter
    assert intake.applicant_step.proxy.isChecked()
    assert (submitter.full_name.text(), submitter.phone.text()) == ("Lò Văn Páo",
                                                                    "0987 000 111")
    table = intake.components_step.table
    assert [table.item(r, 0).checkState() == Qt.CheckState.Checked for r in range(3)] == [
        True, False, False]
    assert [spin(intake, r, c).value() for r in range(3) for c in (2, 3, 4)] == [
        2, 0, 0, 0, 0, 3, 1, 0, 0]
    assert table.item(1, 5).text() == "Bản photo mờ, cần bản rõ hơn"
    delivery = intake.delivery_step
    assert delivery.set_count.value() == 2 and delivery.by_post.isChecked()
    assert delivery.address.text() == "Bưu điện xã Nà Phặc"
    assert delivery.note.toPlainText() == "Hẹn bổ sung thứ Hai"
    payment = delivery.fees.payment
    assert payment.isChecked() and not payment.fields.isHidden()
    assert (payment.amount.value(), payment.receipt.text()) == (2000, "BL-0077")


def test_close_keep_then_the_next_start_continues_at_the_same_step(
        qtbot, open_window: Opener, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    first = open_window()
    intake = fill_every_step(qtbot, first)
    review = intake.review.toPlainText()
    assert "Hoàng Thị Mai" in review

    first.close()
    assert first.isVisible(), "closing with a dossier half received must ask first"
    answer(qtbot, first, "&Giữ bản nháp và thoát")
    qtbot.waitUntil(lambda: not first.isVisible())
    row = saved_row(ctx)
    assert row is not None and row.step == 4

    second = open_window()
    home = second.home
    qtbot.waitUntil(lambda: home.draft_box.isVisible())
    text = home.draft_label.text()
    assert "Cấp Giấy xác nhận thử nghiệm năm ngày" in text
    assert "chủ hồ sơ Hoàng Thị Mai" in text
    assert "bước 5/5 (Xem lại)" in text
    assert "lưu lúc 09:32 ngày 27/10/2023" in text
    home.resume_btn.click()
    qtbot.waitUntil(lambda: second.pages.currentIndex() == second.INTAKE)
    resumed = second.intake
    assert resumed.step == 4
    assert_every_step(resumed)
    assert resumed.review.toPlainText() == review
    assert not resumed.notice.isVisible()
    assert resumed.draft_id == intake.draft_id

    # The dossier is received from the resumed draft: the draft is gone with it.
    resumed.go_back()
    resumed.components_step.tick_required()
    resumed.go_next()
    assert resumed.receive_btn.isEnabled(), resumed.review.toPlainText()
    resumed.receive()
    qtbot.waitUntil(lambda: isinstance(getattr(second, "last_preview", None),
                                       SlipPreviewDialog), timeout=10_000)
    second.last_preview.accept()
    assert saved_row(ctx) is None
    with ctx.db.read() as s:
        d = s.scalars(select(Dossier)).one()
        assert (d.owner.full_name, d.submitter.full_name, d.set_count, d.delivery) == (
            "Hoàng Thị Mai", "Lò Văn Páo", 2, "post")
        assert [(p.amount, p.receipt_number, p.payer_name) for p in d.payments] == [
            (2000, "BL-0077", "Lò Văn Páo")]
    assert not second.intake.has_work()
    second.close()
    assert not second.isVisible()  # nothing left to lose: no question


def test_go_back_keeps_the_window_and_the_work(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                               ctx: AppContext) -> None:
    window = open_window()
    intake = fill_every_step(qtbot, window)
    window.close()
    answer(qtbot, window, "&Quay lại")
    qtbot.waitUntil(lambda: not window.question.isVisible())  # type: ignore[union-attr]
    assert window.isVisible() and intake.step == 4
    assert_every_step(intake)
    # Esc on the question is "go back" too.
    window.close()
    qtbot.waitUntil(lambda: window.question is not None and window.question.isVisible())
    window.question.reject()  # type: ignore[union-attr]
    assert window.isVisible()


def test_discard_and_quit_leaves_nothing_to_offer(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                                  ctx: AppContext) -> None:
    window = open_window()
    fill_every_step(qtbot, window)
    qtbot.waitUntil(lambda: saved_row(ctx) is not None)
    window.close()
    answer(qtbot, window, "&Bỏ bản nháp và thoát")
    qtbot.waitUntil(lambda: not window.isVisible())
    assert saved_row(ctx) is None
    again = open_window()
    again.runner.wait()
    qtbot.waitUntil(lambda: not again.runner.busy())
    assert not again.home.draft_box.isVisible() and again.pending_draft is None


def test_closing_with_nothing_typed_asks_nothing(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                                 ctx: AppContext) -> None:
    window = open_window()
    window.show_page(window.INTAKE)
    window.intake.choose_procedure("9.000005")  # a procedure alone is redone in a moment
    window.close()
    assert not window.isVisible() and window.question is None
    assert saved_row(ctx) is None


def test_edits_are_saved_shortly_after_typing(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                              ctx: AppContext) -> None:
    window = open_window()
    window.show_page(window.INTAKE)
    intake = window.intake
    intake.choose_procedure("9.000005")
    owner = intake.applicant_step.owner
    type_text(owner.full_name, "Vàng Seo Sử")
    type_text(owner.birth_date, "05/11/19")  # still typing the year
    assert intake.autosave.isActive()

    def saved_owner() -> tuple[str, str] | None:
        row = saved_row(ctx)
        if row is None:
            return None
        return row.payload["owner"]["full_name"], row.payload["owner"]["birth_date_typed"]

    qtbot.waitUntil(lambda: saved_owner() == ("Vàng Seo Sử", "05/11/19"), timeout=10_000)
    # The row is committed on the worker before the UI thread hears of it.
    qtbot.waitUntil(lambda: "Đã lưu nháp lúc" in intake.draft_state.text(), timeout=10_000)
    # Power cut now; the next start brings back the date as typed, at step 2.
    restarted = open_window()
    qtbot.waitUntil(lambda: restarted.home.draft_box.isVisible())
    restarted.home.resume_btn.click()
    qtbot.waitUntil(lambda: restarted.intake.step == 1)
    again = restarted.intake.applicant_step.owner
    assert (again.full_name.text(), again.birth_date.text()) == ("Vàng Seo Sử", "05/11/19")


def test_an_id_card_scan_is_kept_too(qtbot, open_window: Opener, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    window = open_window()
    window.show_page(window.INTAKE)
    window.intake.choose_procedure("9.000005")
    window.intake.on_scanned(CARD)
    qtbot.waitUntil(lambda: (row := saved_row(ctx)) is not None
                    and row.payload["owner"]["id_number"] == "019190001234", timeout=10_000)


@pytest.mark.parametrize("action", ["cancel", "refuse", "supplement"])
def test_the_draft_goes_when_the_dossier_ends_at_the_counter(
        qtbot, open_window: Opener, ctx: AppContext, action: str,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_window()
    intake = fill_every_step(qtbot, window)
    qtbot.waitUntil(lambda: saved_row(ctx) is not None and saved_row(ctx).step == 4)  # type: ignore[union-attr]
    if action == "cancel":
        monkeypatch.setattr(intake_page.messages, "confirm", lambda *a, **k: True)
        intake.cancel_btn.click()
        assert intake.step == 0 and not intake.has_work()
        qtbot.waitUntil(lambda: saved_row(ctx) is None)
    else:
        answer_text("Thiếu giấy tờ")
        (intake.refuse_btn if action == "refuse" else intake.supplement_btn).click()
        qtbot.waitUntil(lambda: isinstance(getattr(window, "last_preview", None),
                                           SlipPreviewDialog), timeout=10_000)
        window.last_preview.accept()
        assert saved_row(ctx) is None
    window.runner.wait()
    assert saved_row(ctx) is None  # no late save brought it back
    window.close()
    assert not window.isVisible()


def put_draft(ctx: AppContext, clerk: ClerkInfo, step: int = 2) -> SavedIntake:
    """A draft left on this PC by an earlier run (kept at close, or a crash)."""
    draft = IntakeDraft.for_procedure(CatalogService(ctx).get("9.000005"))
    draft.owner = OWNER
    draft.components[0].provided = True
    saved = SavedIntake(draft, step, "from-before", "Cấp Giấy xác nhận thử nghiệm năm ngày")
    DraftStore(ctx).save(saved, clerk.id)
    return saved


def test_a_new_dossier_never_starts_over_a_saved_draft(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                                       ctx: AppContext,
                                                       clerk: ClerkInfo) -> None:
    CatalogService(ctx).import_data(TEST_CATALOG)
    put_draft(ctx, clerk)
    window = open_window()
    qtbot.waitUntil(lambda: window.pending_draft is not None)
    key(qtbot, Qt.Key.Key_F2)
    answer(qtbot, window, "&Quay lại")
    assert window.pages.currentIndex() == window.HOME
    assert window.nav.currentRow() == window.HOME
    key(qtbot, Qt.Key.Key_F2)
    answer(qtbot, window, "&Bỏ bản nháp, nhập hồ sơ mới")
    qtbot.waitUntil(lambda: window.pages.currentIndex() == window.INTAKE)
    assert window.intake.step == 0 and saved_row(ctx) is None


def test_entering_the_wizard_can_continue_the_saved_draft(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                                          ctx: AppContext,
                                                          clerk: ClerkInfo) -> None:
    CatalogService(ctx).import_data(TEST_CATALOG)
    put_draft(ctx, clerk)
    other = AccountService(ctx).create_clerk("lan", "Lò Thị Lan", "mat-khau-2", Role.CLERK)
    window = open_window(other)  # the next shift signs in on this PC
    qtbot.waitUntil(lambda: window.home.draft_box.isVisible())
    assert "bởi cán bộ Triệu Thị Hương" in window.home.draft_label.text()
    window.home.new_btn.click()
    answer(qtbot, window, "&Tiếp tục hồ sơ đang nhập dở")
    qtbot.waitUntil(lambda: window.intake.step == 2)
    assert window.intake.applicant_step.owner.full_name.text() == OWNER.full_name
    assert window.intake.components_step.table.item(0, 0).checkState() == Qt.CheckState.Checked
    window.runner.wait()
    qtbot.waitUntil(lambda: not window.runner.busy())
    row = saved_row(ctx)
    assert row is not None and row.clerk_id == other.id  # now hers


def test_discarding_the_saved_draft_from_home(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                              ctx: AppContext, clerk: ClerkInfo) -> None:
    CatalogService(ctx).import_data(TEST_CATALOG)
    put_draft(ctx, clerk)
    window = open_window()
    qtbot.waitUntil(lambda: window.home.draft_box.isVisible())
    window.home.drop_draft_btn.click()
    answer(qtbot, window, "&Quay lại")
    assert saved_row(ctx) is not None
    window.home.drop_draft_btn.click()
    answer(qtbot, window, "&Bỏ bản nháp")
    qtbot.waitUntil(lambda: not window.home.draft_box.isVisible())
    assert saved_row(ctx) is None and window.pending_draft is None
    window.home.new_btn.click()  # no question any more
    assert window.pages.currentIndex() == window.INTAKE


def test_a_draft_whose_catalog_changed_says_what_it_could_not_restore(
        qtbot, open_window: Opener, ctx: AppContext, clerk: ClerkInfo) -> None:  # type: ignore[no-untyped-def]
    CatalogService(ctx).import_data(TEST_CATALOG)
    put_draft(ctx, clerk, step=3)
    proc = dict(TEST_CATALOG["procedures"][0])  # type: ignore[index]
    proc["components"] = [{"code": "GT", "name": "Giấy tờ chứng minh nơi cư trú"}]
    CatalogService(ctx).import_data({"catalog_version": "test-2", "procedures": [proc]})
    window = open_window()
    qtbot.waitUntil(lambda: window.home.draft_box.isVisible())
    window.home.resume_btn.click()
    intake = window.intake
    qtbot.waitUntil(lambda: intake.notice.isVisible())
    assert intake.step == 3
    assert ("Thành phần “Tờ khai theo mẫu” (đã đánh dấu đã nộp) không còn trong thủ tục này"
            in intake.notice.text())
    assert intake.components_step.table.rowCount() == 1
    assert intake.applicant_step.owner.full_name.text() == OWNER.full_name


def test_a_draft_whose_procedure_is_gone_starts_at_the_procedure(
        qtbot, open_window: Opener, ctx: AppContext, clerk: ClerkInfo) -> None:  # type: ignore[no-untyped-def]
    from local_db.models import Procedure

    CatalogService(ctx).import_data(TEST_CATALOG)
    put_draft(ctx, clerk, step=3)
    with ctx.db.write() as s:
        s.delete(s.get(Procedure, "9.000005"))
    window = open_window()
    qtbot.waitUntil(lambda: window.home.draft_box.isVisible())
    window.home.resume_btn.click()
    intake = window.intake
    qtbot.waitUntil(lambda: intake.notice.isVisible())
    assert intake.step == 0 and intake.procedure is None
    assert "không còn trong danh mục" in intake.notice.text()
    assert intake.has_work()  # the applicant typed is still there, and still saved
    intake.choose_procedure("9.000000")
    assert intake.step == 1
    assert intake.applicant_step.owner.full_name.text() == OWNER.full_name
    qtbot.waitUntil(lambda: (row := saved_row(ctx)) is not None
                    and row.payload["procedure"]["code"] == "9.000000")


def test_unsaved_studio_work_is_listed_at_start(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                                ctx: AppContext, clerk: ClerkInfo) -> None:
    CatalogService(ctx).import_data(TEST_CATALOG)
    draft = IntakeDraft.for_procedure(CatalogService(ctx).get("9.000005"))
    draft.owner = OWNER
    for c in draft.components:
        c.provided = c.required
    received = IntakeService(ctx).receive(draft, clerk)
    scan_work = ctx.paths.scan_work
    for_dossier = Workspace.create(scan_work, [("0", "Tờ khai theo mẫu")],
                                   f"Hồ sơ {received.code} — {OWNER.full_name}")
    for_dossier.dossier_id = received.dossier_id
    for_dossier.add("0", page(for_dossier.root, "to-khai"))
    unfiled = Workspace.create(scan_work, [], "Trang chưa xếp của lô quét")
    unfiled.add("__unassigned__", page(unfiled.root, "a"))
    unfiled.add("__unassigned__", page(unfiled.root, "b"))
    Workspace.create(scan_work, [], "Lô quét")  # empty: nothing to show

    window = open_window()
    home = window.home
    qtbot.waitUntil(lambda: home.unsaved_box.isVisible())
    assert home.unsaved_label.text().startswith("2 lượt số hóa chưa lưu")
    labels = [home.unsaved_list.item(i).text() for i in range(home.unsaved_list.count())]
    assert sorted(re.search(r"(\d+) trang", label)[1] for label in labels) == ["1", "2"]  # type: ignore[index]

    # Open the dossier's pages in the studio, for that dossier.
    row = next(i for i, label in enumerate(labels) if received.code in label)
    home.unsaved_list.setCurrentRow(row)
    home.open_unsaved_btn.click()
    qtbot.waitUntil(lambda: getattr(window, "studio_dialog", None) is not None
                    and window.studio_dialog.isVisible())
    studio = window.studio_dialog.studio
    assert studio.ws is not None and studio.ws.root == for_dossier.root
    assert studio.ws.slot("0").pages[0].image_path.stem == "to-khai"
    window.studio_dialog.reject()

    # Drop the batch's leftovers, after confirming.
    qtbot.waitUntil(lambda: not window.runner.busy())
    row = next(i for i in range(home.unsaved_list.count())
               if "Trang chưa xếp" in home.unsaved_list.item(i).text())
    home.unsaved_list.setCurrentRow(row)
    home.drop_unsaved_btn.click()
    answer(qtbot, window, "&Bỏ các trang này")
    qtbot.waitUntil(lambda: not unfiled.root.exists())
    qtbot.waitUntil(lambda: home.unsaved_list.count() == 1)
    assert for_dossier.root.exists()


def test_pages_scanned_for_the_draft_come_back_with_it(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                                       ctx: AppContext,
                                                       clerk: ClerkInfo) -> None:
    CatalogService(ctx).import_data(TEST_CATALOG)
    ws = Workspace.create(ctx.paths.scan_work, [("0", "Tờ khai theo mẫu"),
                                                ("1", "Giấy tờ chứng minh nơi cư trú"),
                                                ("2", "Văn bản ủy quyền (nếu nộp thay)")],
                          "Hồ sơ")
    ws.add("1", page(ws.root, "cu-tru"))
    draft = IntakeDraft.for_procedure(CatalogService(ctx).get("9.000005"))
    draft.owner = OWNER
    DraftStore(ctx).save(SavedIntake(draft, 2, "with-pages", "x", studio_workspace=ws.root.name),
                         clerk.id)
    window = open_window()
    qtbot.waitUntil(lambda: window.home.draft_box.isVisible())
    assert "kèm 1 trang đã quét chưa lưu thành tệp" in window.home.draft_label.text()
    assert not window.home.unsaved_box.isVisible()  # shown with the draft, not twice
    window.home.resume_btn.click()
    qtbot.waitUntil(lambda: window.intake.step == 2)
    assert window.intake.studio_ws is not None
    assert window.intake.studio_ws.root == ws.root
    assert [p.image_path.stem for p in window.intake.studio_ws.slot("1").pages] == ["cu-tru"]


def test_home_shows_the_dossier_open_in_the_wizard(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                                   ctx: AppContext, tmp_path: Path) -> None:
    window = open_window()
    window.show_page(window.INTAKE)
    window.intake.choose_procedure("9.000005")
    owner = window.intake.applicant_step.owner
    qtbot.waitUntil(lambda: QApplication.focusWidget() is owner.full_name)
    type_text(None, "Hoàng Thị Mai")
    key(qtbot, Qt.Key.Key_F1)
    assert window.pages.currentIndex() == window.HOME
    qtbot.waitUntil(lambda: window.home.draft_box.isVisible())
    assert window.pending_draft is None
    assert "chủ hồ sơ Hoàng Thị Mai" in window.home.draft_label.text()
    window.home.resume_btn.click()
    assert window.pages.currentIndex() == window.INTAKE and window.intake.step == 1


def test_a_shutdown_saves_the_draft_as_it_is(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                             ctx: AppContext) -> None:
    window = open_window()
    window.show_page(window.INTAKE)
    window.intake.choose_procedure("9.000005")
    window.intake.applicant_step.owner.full_name.setText("Hà Văn Thắng")
    assert window.intake.autosave.isActive() and saved_row(ctx) is None
    window.save_before_session_end()  # what Windows' log-off or shutdown triggers
    row = saved_row(ctx)
    assert row is not None and row.payload["owner"]["full_name"] == "Hà Văn Thắng"


def test_the_wizard_waits_for_the_look_for_a_saved_draft(qtbot, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                         station: StationInfo,
                                                         clerk: ClerkInfo) -> None:
    CatalogService(ctx).import_data(TEST_CATALOG)
    put_draft(ctx, clerk)
    window = MainWindow(ctx, clerk, station)
    qtbot.addWidget(window)
    window.show_page(window.INTAKE)  # at once, before the start-up look has answered
    assert window.pages.currentIndex() == window.HOME
    answer(qtbot, window, "&Tiếp tục hồ sơ đang nhập dở")
    qtbot.waitUntil(lambda: window.intake.step == 2)
    assert window.intake.draft_id == "from-before"
    window.runner.wait()


def test_an_unreadable_draft_is_offered_for_discarding_only(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                                            ctx: AppContext,
                                                            clerk: ClerkInfo) -> None:
    with ctx.db.write() as s:
        s.add(IntakeDraftRow(install_id=ctx.paths.install_id(), clerk_id=clerk.id, step=2,
                             payload=["written by something else"],
                             updated_at=ctx.clock.now()))
    window = open_window()
    qtbot.waitUntil(lambda: window.home.draft_box.isVisible())
    assert "không đọc được" in window.home.draft_label.text()
    assert not window.home.resume_btn.isVisible()
    window.home.new_btn.click()
    qtbot.waitUntil(lambda: window.question is not None and window.question.isVisible())
    assert [b.text() for b in window.question.buttons()] == [  # type: ignore[union-attr]
        "&Bỏ bản nháp, nhập hồ sơ mới", "&Quay lại"]
    answer(qtbot, window, "&Bỏ bản nháp, nhập hồ sơ mới")
    qtbot.waitUntil(lambda: window.pages.currentIndex() == window.INTAKE)
    assert saved_row(ctx) is None


def test_a_draft_that_cannot_be_saved_is_said_before_quitting(qtbot, open_window: Opener,  # type: ignore[no-untyped-def]
                                                              ctx: AppContext) -> None:
    window = open_window()
    window.show_page(window.INTAKE)
    window.intake.choose_procedure("9.000005")
    window.intake.applicant_step.owner.full_name.setText("Hà Văn Thắng")
    with ctx.db.write() as s:  # the database refuses the draft (a real failure)
        s.execute(text("DROP TABLE intake_drafts"))
    window.close()
    answer(qtbot, window, "&Giữ bản nháp và thoát")
    qtbot.waitUntil(lambda: window.question is not None
                    and window.question.windowTitle() == "Chưa lưu được bản nháp")
    assert "hồ sơ đang nhập sẽ mất" in window.question.text()  # type: ignore[union-attr]
    answer(qtbot, window, "&Quay lại")
    assert window.isVisible()
    window.close()
    answer(qtbot, window, "&Giữ bản nháp và thoát")
    qtbot.waitUntil(lambda: window.question is not None
                    and window.question.windowTitle() == "Chưa lưu được bản nháp")
    answer(qtbot, window, "&Vẫn thoát")
    qtbot.waitUntil(lambda: not window.isVisible())


def test_a_dossier_recorded_without_its_slip_is_not_offered_again(
        qtbot, open_window: Opener, ctx: AppContext,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The numbers and facts committed, drawing the slip failed (a full disk): the wizard
    starts over with the dossier's number in the message, and no draft comes back that
    could be received a second time."""
    from desktop_app.intake import service

    def disk_full(*_args: object, **_kwargs: object) -> bytes:
        raise OSError(28, "No space left on device")

    window = open_window()
    intake = fill_every_step(qtbot, window)
    intake.go_back()
    intake.components_step.tick_required()
    intake.go_next()
    assert intake.receive_btn.isEnabled(), intake.review.toPlainText()
    monkeypatch.setattr(service, "_render", disk_full)
    intake.receive()
    qtbot.waitUntil(lambda: not intake.saving, timeout=10_000)
    assert intake.step == 0
    assert "000.00.12.H12-231027-1001" in intake.error.text()
    assert "Không bấm Tiếp nhận lại" in intake.error.text()
    window.runner.wait()
    qtbot.wait(300)  # any save still queued would have landed by now
    assert saved_row(ctx) is None
    with ctx.db.read() as s:
        d = s.scalars(select(Dossier)).one()
        assert d.slip_blob is None and d.owner.full_name == "Hoàng Thị Mai"
