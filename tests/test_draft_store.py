"""The intake draft in the database (SQLite, and PostgreSQL under MOTCUA_TEST_DB): saved,
read back field for field, fitted to a catalog that changed, finished in the same
transaction as the dossier it became, one row per counter PC."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.catalog import CatalogService, ComponentInfo
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizedFile
from desktop_app.domain.errors import DomainError
from desktop_app.intake.draft_payload import DraftUnreadable
from desktop_app.intake.draft_store import DraftStore, NoDraft, SaveResult, fit_to_catalog
from desktop_app.intake.drafts import (
    ComponentEntry,
    Delivery,
    IntakeDraft,
    PersonInfo,
    SavedIntake,
)
from desktop_app.intake.service import IntakeService
from desktop_app.scanning.model import ColourMode, ProcessedPage
from desktop_app.scanning.workspace import UNASSIGNED, Workspace
from desktop_app.station import StationInfo
from local_db.models import AuditEntry, IntakeDraftRow, Procedure

from .test_draft_payload import saved_intakes
from .test_intake import OWNER, TEST_CATALOG


def page(root: Path, stem: str) -> ProcessedPage:
    """A processed page on disk, as the studio leaves it in a workspace."""
    img = root / "pages" / f"{stem}.jpg"
    img.parent.mkdir(parents=True, exist_ok=True)
    img.write_bytes(b"jpeg")
    return ProcessedPage(img, img, 1654, 2339, 200, ColourMode.GREY, 4, source="test")


@pytest.fixture
def store(ctx: AppContext, station: StationInfo) -> DraftStore:
    CatalogService(ctx).import_data(TEST_CATALOG)
    return DraftStore(ctx)


def typed(ctx: AppContext, draft_id: str = "d-1", step: int = 2) -> SavedIntake:
    draft = IntakeDraft.for_procedure(CatalogService(ctx).get("9.000005"))
    draft.owner = OWNER
    draft.components[0].provided = True
    draft.components[1].problem = "Bản photo mờ"
    draft.note = "Công dân hẹn bổ sung"
    return SavedIntake(draft, step, draft_id, "Cấp Giấy xác nhận thử nghiệm năm ngày")


def stored_file(ctx: AppContext, content: bytes) -> DigitizedFile:
    sha = ctx.blobs.put_bytes(content)
    return DigitizedFile(sha, "to-khai.pdf", 1, 1, 2, len(content), 300, ("bilevel",))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(saved=saved_intakes)
def test_every_field_round_trips_through_the_database(ctx: AppContext, clerk: ClerkInfo,
                                                      saved: SavedIntake) -> None:
    store = DraftStore(ctx)  # one per example: hypothesis may draw the same draft id again
    if saved.is_blank():
        saved = replace(saved, draft=replace(saved.draft, note="giữ"))
    if saved.draft.submitter is None:
        saved = replace(saved, submitter_birth_text="")
    assert store.save(saved, clerk.id) is SaveResult.SAVED
    stored = store.load()
    assert stored is not None and stored.problems == ()
    assert stored.saved == saved
    assert (stored.clerk_id, stored.clerk_name) == (clerk.id, "Triệu Thị Hương")
    store.discard(saved.draft_id)


def test_saving_again_replaces_the_row_and_writes_no_audit(ctx: AppContext, store: DraftStore,
                                                           clerk: ClerkInfo) -> None:
    with ctx.db.read() as s:
        audits = s.scalar(select(func.count()).select_from(AuditEntry))
    saved = typed(ctx)
    assert store.save(saved, clerk.id) is SaveResult.SAVED
    saved.draft.owner = replace(OWNER, phone="0987 654 321")
    assert store.save(replace(saved, step=3), clerk.id) is SaveResult.SAVED
    stored = store.load()
    assert stored is not None
    assert stored.saved.step == 3 and stored.saved.draft.owner.phone == "0987 654 321"
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(IntakeDraftRow)) == 1
        # A draft is not a recorded fact: the audit log is untouched.
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_a_blank_draft_is_never_saved_and_blanking_one_removes_it(
        ctx: AppContext, store: DraftStore, clerk: ClerkInfo) -> None:
    blank = SavedIntake(IntakeDraft.for_procedure(CatalogService(ctx).get("9.000005")),
                        1, "d-1", "x")
    assert store.save(blank, clerk.id) is SaveResult.BLANK
    assert store.load() is None
    assert store.save(typed(ctx), clerk.id) is SaveResult.SAVED
    assert store.save(blank, clerk.id) is SaveResult.BLANK  # the clerk erased it all
    assert store.load() is None


def test_an_older_snapshot_never_replaces_a_newer_one(ctx: AppContext, store: DraftStore,
                                                      clerk: ClerkInfo) -> None:
    newer = replace(typed(ctx), step=3)
    assert store.save(newer, clerk.id, seq=2) is SaveResult.SAVED
    assert store.save(typed(ctx), clerk.id, seq=1) is SaveResult.OVERTAKEN
    stored = store.load()
    assert stored is not None and stored.saved.step == 3


def test_a_save_never_replaces_another_draft_not_yet_resumed(
        ctx: AppContext, store: DraftStore, clerk: ClerkInfo) -> None:
    store.save(typed(ctx, "before-the-crash"), clerk.id)
    after_restart = DraftStore(ctx)
    assert after_restart.save(typed(ctx, "new-one"), clerk.id) is SaveResult.OTHER_DRAFT
    assert not after_restart.discard("stale-id")  # never touches the saved one
    stored = after_restart.load()
    assert stored is not None and stored.saved.draft_id == "before-the-crash"
    # Resuming keeps its id, so it is saved again; discarding it makes room.
    assert after_restart.save(typed(ctx, "before-the-crash", 4), clerk.id) is SaveResult.SAVED
    assert after_restart.discard("before-the-crash")
    assert after_restart.save(typed(ctx, "new-one"), clerk.id) is SaveResult.SAVED


def test_a_discarded_draft_is_never_saved_again(ctx: AppContext, store: DraftStore,
                                                clerk: ClerkInfo) -> None:
    store.save(typed(ctx), clerk.id)
    assert store.discard("d-1")
    assert store.load() is None
    assert store.save(typed(ctx), clerk.id) is SaveResult.FINISHED  # a save queued before
    assert store.load() is None


@pytest.mark.parametrize("action", ["receive", "request_supplement", "refuse"])
def test_the_draft_goes_in_the_same_transaction_as_the_dossier(
        ctx: AppContext, store: DraftStore, clerk: ClerkInfo, action: str) -> None:
    intake = IntakeService(ctx)
    saved = typed(ctx)
    saved.draft.components[1].provided = True
    store.save(saved, clerk.id)
    with store.finishing("d-1") as ref:
        if action == "receive":
            intake.receive(saved.draft, clerk, ref)
        else:
            getattr(intake, action)(saved.draft, clerk, "Lý do", ref)
    assert store.load() is None
    assert store.save(saved, clerk.id) is SaveResult.FINISHED


def test_a_failed_action_keeps_the_draft_going(ctx: AppContext, store: DraftStore,
                                               clerk: ClerkInfo) -> None:
    intake = IntakeService(ctx)
    saved = typed(ctx)  # a required component is missing: Receive refuses
    store.save(saved, clerk.id)
    with pytest.raises(DomainError), store.finishing("d-1") as ref:
        intake.receive(saved.draft, clerk, ref)
    assert store.load() is not None
    assert store.save(replace(saved, step=4), clerk.id) is SaveResult.SAVED


def test_a_power_cut_inside_receive_keeps_the_draft(ctx: AppContext, store: DraftStore,
                                                    clerk: ClerkInfo,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The intake failed after the row was deleted in the transaction: the rollback
    brings the draft back with the dossier's number."""
    import desktop_app.intake.service as service

    intake = IntakeService(ctx)
    saved = typed(ctx)
    saved.draft.components[1].provided = True
    store.save(saved, clerk.id)

    def broken(*args: object) -> dict:
        raise OSError("disk gone")

    monkeypatch.setattr(service, "dossier_document", broken)
    with pytest.raises(OSError), store.finishing("d-1") as ref:
        intake.receive(saved.draft, clerk, ref)
    stored = store.load()
    assert stored is not None and stored.saved.draft_id == "d-1"


def test_saves_wait_for_an_action_in_flight_and_are_then_dropped(
        ctx: AppContext, store: DraftStore, clerk: ClerkInfo) -> None:
    saved = typed(ctx)
    store.save(saved, clerk.id)
    results: list[SaveResult] = []
    with store.finishing("d-1"):
        late = threading.Thread(target=lambda: results.append(store.save(saved, clerk.id)))
        late.start()
        late.join(0.2)
        assert late.is_alive()  # blocked on the action, not racing it
        with ctx.db.write() as s:
            s.delete(s.get(IntakeDraftRow, store.install_id))
    late.join()
    assert results == [SaveResult.FINISHED]
    assert store.load() is None


def test_each_counter_pc_keeps_its_own_draft(ctx: AppContext, store: DraftStore,
                                            clerk: ClerkInfo) -> None:
    other_clerk = AccountService(ctx).create_clerk("lan", "Lò Thị Lan", "mat-khau-2",
                                                   Role.CLERK)
    pc2 = DraftStore(ctx, install_id="00000000-0000-4000-8000-000000000002")
    store.save(typed(ctx, "pc1"), clerk.id)
    pc2.save(typed(ctx, "pc2", 4), other_clerk.id)
    one, two = store.summary(), pc2.summary()
    assert one is not None and two is not None
    assert (one.draft_id, one.step, one.clerk_name) == ("pc1", 2, "Triệu Thị Hương")
    assert (two.draft_id, two.step, two.clerk_name) == ("pc2", 4, "Lò Thị Lan")
    pc2.discard("pc2")
    assert pc2.summary() is None and store.summary() is not None


def test_the_summary_says_what_whose_how_far_and_by_whom(ctx: AppContext, store: DraftStore,
                                                         clerk: ClerkInfo) -> None:
    ws = Workspace.create(ctx.paths.scan_work, [("0", "Tờ khai")], "Hồ sơ")
    ws.add("0", page(ws.root, "a"))
    ws.add(UNASSIGNED, page(ws.root, "b"))
    store.save(replace(typed(ctx), studio_workspace=ws.root.name), clerk.id)
    other = AccountService(ctx).create_clerk("lan", "Lò Thị Lan", "mat-khau-2", Role.CLERK)
    summary = store.summary()
    assert summary is not None
    assert summary.procedure_name == "Cấp Giấy xác nhận thử nghiệm năm ngày"
    assert summary.owner_name == OWNER.full_name
    assert (summary.step, summary.saved_at, summary.unsaved_pages) == (2, ctx.clock.now(), 2)
    assert summary.readable
    # Another clerk signs in on this PC: the draft still says who saved it.
    assert DraftStore(ctx).summary().clerk_name == "Triệu Thị Hương"  # type: ignore[union-attr]
    store.save(typed(ctx), other.id)
    assert store.summary().clerk_name == "Lò Thị Lan"  # type: ignore[union-attr]


def test_an_unreadable_draft_can_only_be_discarded(ctx: AppContext, store: DraftStore,
                                                   clerk: ClerkInfo) -> None:
    with ctx.db.write() as s:
        s.add(IntakeDraftRow(install_id=store.install_id, clerk_id=clerk.id, step=1,
                             payload={"draft_id": "bad", "procedure": 17},
                             updated_at=ctx.clock.now()))
    summary = store.summary()
    assert summary is not None and not summary.readable
    assert "chỉ có thể bỏ" in summary.problem
    with pytest.raises(DraftUnreadable):
        store.resume()
    assert store.discard("bad")
    with pytest.raises(NoDraft):
        store.resume()


# --- resuming against today's catalog ----------------------------------------------------


def test_resume_restores_everything_when_nothing_changed(ctx: AppContext, store: DraftStore,
                                                         clerk: ClerkInfo) -> None:
    saved = typed(ctx)
    saved.draft.components[0].files = [stored_file(ctx, b"%PDF-1.4 to khai")]
    saved.draft.submitter = PersonInfo(full_name="Lò Văn Páo", phone="0912")
    saved.submitter_birth_text = "03/04"
    saved.draft.delivery = Delivery.POST
    saved.draft.delivery_address = "Bản Nà Lẹng"
    store.save(saved, clerk.id)
    restored = store.resume()
    assert restored.notes == ()
    assert restored.procedure is not None and restored.procedure.code == "9.000005"
    assert restored.saved == saved
    assert restored.workspace is None


def test_a_procedure_gone_from_the_catalog_keeps_the_applicant(ctx: AppContext,
                                                               store: DraftStore,
                                                               clerk: ClerkInfo) -> None:
    saved = typed(ctx, step=3)
    store.save(saved, clerk.id)
    with ctx.db.write() as s:
        s.delete(s.get(Procedure, "9.000005"))
    restored = store.resume()
    assert restored.procedure is None
    assert restored.saved.step == 0  # the clerk picks a procedure again
    assert restored.saved.draft.owner == OWNER
    assert restored.saved.draft.note == "Công dân hẹn bổ sung"
    assert restored.saved.draft.components == []
    assert restored.notes[0].startswith(
        "Thủ tục “Cấp Giấy xác nhận thử nghiệm năm ngày” (9.000005) không còn trong danh mục")
    assert restored.notes[1:] == (
        "Không khôi phục được thành phần “Tờ khai theo mẫu” (đã đánh dấu đã nộp).",
        "Không khôi phục được thành phần “Giấy tờ chứng minh nơi cư trú” (ghi chú “Bản "
        "photo mờ”).")
    summary = store.summary()
    assert summary is not None and summary.procedure_name == saved.procedure_name


def changed_catalog(components: list[dict]) -> dict:  # type: ignore[type-arg]
    proc = dict(TEST_CATALOG["procedures"][0])  # type: ignore[index]
    proc["components"] = components
    return {"catalog_version": "test-2", "procedures": [proc]}


def test_changed_components_restore_what_still_fits(ctx: AppContext, store: DraftStore,
                                                    clerk: ClerkInfo) -> None:
    saved = typed(ctx)
    saved.draft.components[0].originals = 3
    saved.draft.components[2].files = [stored_file(ctx, b"%PDF uy quyen")]
    store.save(saved, clerk.id)
    CatalogService(ctx).import_data(changed_catalog([
        {"code": "CT", "name": "Giấy tờ chứng minh nơi cư trú", "photocopies": 2},  # renumbered
        {"code": "TK", "name": "Tờ khai (mẫu mới)", "originals": 1},  # reworded
        {"code": "AN", "name": "Ảnh 4x6", "originals": 2},  # new
    ]))
    restored = store.resume()
    got = {c.name: c for c in restored.saved.draft.components}
    assert list(got) == ["Giấy tờ chứng minh nơi cư trú", "Tờ khai (mẫu mới)", "Ảnh 4x6"]
    assert got["Tờ khai (mẫu mới)"].provided and got["Tờ khai (mẫu mới)"].originals == 3
    assert got["Giấy tờ chứng minh nơi cư trú"].problem == "Bản photo mờ"
    assert got["Giấy tờ chứng minh nơi cư trú"].code == "CT"
    assert not got["Ảnh 4x6"].provided and got["Ảnh 4x6"].originals == 2
    assert restored.notes == (
        "Thủ tục nay có thêm thành phần “Ảnh 4x6”: hãy kiểm tra.",
        "Thành phần “Văn bản ủy quyền (nếu nộp thay)” (1 tệp số hóa) không còn trong thủ tục "
        "này nên không khôi phục được.",
    )


def test_a_file_gone_from_the_blob_store_is_named(ctx: AppContext, store: DraftStore,
                                                  clerk: ClerkInfo) -> None:
    saved = typed(ctx)
    kept, lost = stored_file(ctx, b"%PDF kept"), stored_file(ctx, b"%PDF lost")
    saved.draft.components[0].files = [kept, replace(lost, file_name="mat.pdf")]
    ctx.blobs.path_for(lost.sha256).unlink()
    store.save(saved, clerk.id)
    restored = store.resume()
    assert restored.saved.draft.components[0].files == [kept]
    assert restored.notes == ("Tệp số hóa “mat.pdf” của thành phần “Tờ khai theo mẫu” không "
                              "còn trong kho tệp: hãy số hóa lại.",)


def test_studio_pages_follow_their_components_when_the_catalog_changed(
        ctx: AppContext, store: DraftStore, clerk: ClerkInfo) -> None:
    ws = Workspace.create(ctx.paths.scan_work, [("0", "Tờ khai theo mẫu"),
                                                ("1", "Giấy tờ chứng minh nơi cư trú"),
                                                ("2", "Văn bản ủy quyền (nếu nộp thay)")],
                          "Hồ sơ")
    ws.add("0", page(ws.root, "tk"))
    ws.add("1", page(ws.root, "gt"))
    ws.add("2", page(ws.root, "uq"))
    store.save(replace(typed(ctx), studio_workspace=ws.root.name), clerk.id)
    CatalogService(ctx).import_data(changed_catalog([
        {"code": "GT", "name": "Giấy tờ chứng minh nơi cư trú", "photocopies": 1},
        {"code": "TK", "name": "Tờ khai theo mẫu", "originals": 1},
    ]))
    restored = store.resume()
    assert restored.workspace is not None
    ws = Workspace.open(ws.root)  # as saved on disk
    assert [(s.key, s.label, [p.image_path.stem for p in s.pages]) for s in ws.slots] == [
        (UNASSIGNED, "Chưa xếp vào thành phần", ["uq"]),
        ("0", "Giấy tờ chứng minh nơi cư trú", ["gt"]),
        ("1", "Tờ khai theo mẫu", ["tk"]),
    ]
    assert ("1 trang đã quét của thành phần “Văn bản ủy quyền (nếu nộp thay)” được chuyển "
            "vào mục “Chưa xếp vào thành phần”.") in restored.notes
    assert ws.title == f"Hồ sơ Cấp Giấy xác nhận thử nghiệm năm ngày — {OWNER.full_name}"


def test_a_missing_studio_folder_is_forgotten(ctx: AppContext, store: DraftStore,
                                              clerk: ClerkInfo, tmp_path: Path) -> None:
    store.save(replace(typed(ctx), studio_workspace="ws-0123456789ab"), clerk.id)
    restored = store.resume()
    assert restored.workspace is None and restored.saved.studio_workspace == ""
    # A path smuggled into the document is never opened.
    store.save(replace(typed(ctx), studio_workspace="../../etc"), clerk.id)
    assert store.resume().workspace is None


@pytest.mark.parametrize("saved_names, fresh_names, expected", [
    ([("A", "Tờ khai")], [("A", "Tờ khai")], [0]),
    ([("A", "Tờ khai"), ("B", "Ảnh")], [("B", "Ảnh"), ("A", "Tờ khai")], [1, 0]),
    ([("A", "Tờ khai")], [("Z", "TỜ KHAI")], [0]),  # renumbered; name folded
    ([("A", "Tờ khai")], [("A", "Tờ khai mới")], [0]),  # reworded
    ([("A", "Tờ khai"), ("B", "Tờ khai")], [("B", "Tờ khai")], [1]),  # exact pair first
    ([("A", "Tờ khai")], [("B", "Ảnh")], [None]),
])
def test_components_are_matched_by_code_and_name(
        ctx: AppContext, store: DraftStore, saved_names: list[tuple[str, str]],
        fresh_names: list[tuple[str, str]], expected: list[int | None]) -> None:
    proc = CatalogService(ctx).get("9.000005")
    proc = replace(proc, components=tuple(ComponentInfo(c, n, 1, 0, 0, True)
                                          for c, n in fresh_names))
    saved = SavedIntake(IntakeDraft("9.000005", components=[
        ComponentEntry(c, n, provided=True, problem=str(i))
        for i, (c, n) in enumerate(saved_names)]), 2, "d")
    fitted, origin, _ = fit_to_catalog(saved, proc)
    assert origin == expected
    assert [c.problem for c in fitted.draft.components] == [
        str(i) if i is not None else "" for i in expected]
