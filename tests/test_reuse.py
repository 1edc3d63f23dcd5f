"""Reuse of a citizen's digitized documents at intake (real database; PostgreSQL too)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService, DigitizedFile
from desktop_app.intake import draft_payload
from desktop_app.intake.drafts import PersonInfo
from desktop_app.intake.reuse import ReuseService, StaleReuse, document_kind, matches
from desktop_app.intake.service import IntakeService
from local_db.models import AuditEntry, ComponentFile, ComponentReuse, Dossier, OutboxEntry

from .test_digitization_store import _pdf
from .test_intake import OWNER, complete_draft, intake  # noqa: F401  (fixture)

OTHER = replace(OWNER, full_name="Lò Văn Pấng", id_number="019190009999")
GT = 1  # "Giấy tờ chứng minh nơi cư trú": reusable; row 0 is the form (never reused)


def _received_with_scan(tmp_path: Path, ctx: AppContext, intake: IntakeService,  # noqa: F811
                        clerk: ClerkInfo, owner: PersonInfo, shade: int) -> str:
    draft = complete_draft(intake, owner=owner)
    for row, name in ((0, "tk"), (GT, "gt")):
        draft.components[row].files = DigitizationService(ctx).store(
            [_pdf(tmp_path, f"{name}-{shade}.pdf", shade + row)])
    out = intake.receive(draft, clerk)
    assert out.code
    return out.code


def _later(clock: FixedClock, days: int) -> None:
    clock.set(clock.now() + timedelta(days=days))


def test_kind_is_the_folded_name_and_request_forms_are_never_reused() -> None:
    assert document_kind("Giấy tờ chứng minh  nơi cư trú") == "giay to chung minh noi cu tru"
    assert document_kind("Tờ khai theo mẫu") == ""
    assert document_kind("Đơn đề nghị trợ giúp") == ""


def test_earlier_dossier_is_offered_for_the_same_id_only_and_the_look_up_is_audited(
    tmp_path: Path, ctx: AppContext, clock: FixedClock, intake: IntakeService,  # noqa: F811
    clerk: ClerkInfo,
) -> None:
    code = _received_with_scan(tmp_path, ctx, intake, clerk, OWNER, 120)
    _received_with_scan(tmp_path, ctx, intake, clerk, OTHER, 60)
    _later(clock, 3)
    reuse = ReuseService(ctx)
    found = reuse.on_file(OWNER.id_number, clerk, "9.000005")
    assert [(o.kind, o.dossier_code) for o in found] == [
        ("giay to chung minh noi cu tru", code)]  # the form is not offered
    names = [c.name for c in complete_draft(intake).components]
    assert set(matches(names, found)) == {GT}
    assert found[0].label_vi.startswith(f"Đã có bản số hóa từ hồ sơ {code} ngày ")
    # Another citizen's number finds only that citizen's copy; no number finds nothing.
    other = reuse.on_file(OTHER.id_number, clerk, "9.000005")
    assert [o.dossier_code for o in other] != [code]
    assert {f.sha256 for f in other[0].files}.isdisjoint({f.sha256 for f in found[0].files})
    assert reuse.on_file("", clerk, "9.000005") == []
    with ctx.db.read() as s:
        audit = [(a.entity_type, a.clerk_id, a.detail) for a in s.scalars(select(AuditEntry)
                 .where(AuditEntry.action == "citizen_documents_looked_up")
                 .order_by(AuditEntry.id))]
    assert [a[2]["dossiers"] for a in audit] == [[code], [other[0].dossier_code]]
    assert audit[0][:2] == ("intake", clerk.id)
    assert audit[0][2]["procedure"] == "9.000005"
    assert OWNER.id_number not in str(audit[0][2])


def test_reuse_links_the_same_blob_and_the_sync_document_says_so(
    tmp_path: Path, ctx: AppContext, clock: FixedClock, intake: IntakeService,  # noqa: F811
    clerk: ClerkInfo,
) -> None:
    code = _received_with_scan(tmp_path, ctx, intake, clerk, OWNER, 120)
    _later(clock, 2)
    found = ReuseService(ctx).on_file(OWNER.id_number, clerk, "9.000005")
    draft = complete_draft(intake)
    draft.components[GT].files = list(found[0].files)
    out = intake.receive(draft, clerk)
    with ctx.db.read() as s:
        new = s.scalars(select(ComponentFile).join(ComponentFile.component)
                        .where(ComponentFile.component.has(dossier_id=out.dossier_id))).one()
        first = s.scalars(select(ComponentFile).where(
            ComponentFile.blob_sha256 == new.blob_sha256, ComponentFile.id != new.id)).one()
        assert new.digitization_state == 2
        assert s.get(ComponentReuse, new.id).source_file_id == first.id  # type: ignore[union-attr]
        doc = s.scalars(select(OutboxEntry.payload).where(
            OutboxEntry.entity_type == "dossier", OutboxEntry.entity_id == out.dossier_uuid)
        ).one()
        received = s.scalars(select(AuditEntry.detail).where(
            AuditEntry.action == "dossier_received", AuditEntry.entity_id == out.dossier_uuid)
        ).one()
        new_id, first_id, sha = new.id, first.id, new.blob_sha256
    item = next(t for t in doc["TaiLieuNop"] if t["TepDinhKemSha256"])
    assert (item["MaThanhPhanHoSo"], item["DuocSoHoa"], item["DuocTaiSuDung"],
            item["MaKetQuaThayThe"]) == ("GT", 2, True, code)
    assert received["reused"] == [{"position": GT, "source": code, "file": sha}]
    assert new_id != first_id
    # A reuse of the reuse still names the original copy.
    _later(clock, 2)
    again = ReuseService(ctx).on_file(OWNER.id_number, clerk, "9.000005")
    assert again[0].dossier_code == out.code
    assert (again[0].files[0].reused_from, again[0].files[0].source_code) == (first_id, code)


def test_a_newer_copy_supersedes_and_a_stale_reuse_is_refused(
    tmp_path: Path, ctx: AppContext, clock: FixedClock, intake: IntakeService,  # noqa: F811
    clerk: ClerkInfo,
) -> None:
    _received_with_scan(tmp_path, ctx, intake, clerk, OWNER, 120)
    _later(clock, 1)
    stale = ReuseService(ctx).on_file(OWNER.id_number, clerk, "9.000005")[0]
    newer = _received_with_scan(tmp_path, ctx, intake, clerk, OWNER, 200)
    _later(clock, 1)
    offered = ReuseService(ctx).on_file(OWNER.id_number, clerk, "9.000005")
    assert [o.dossier_code for o in offered] == [newer]
    # The clerk took the offer before the newer copy was received (another counter).
    draft = complete_draft(intake)
    draft.components[GT].files = list(stale.files)
    with ctx.db.read() as s:
        before = s.query(Dossier).count(), s.query(ComponentReuse).count()
    with pytest.raises(StaleReuse) as err:
        intake.receive(draft, clerk)
    assert "không còn là bản hiện hành" in err.value.message_vi
    # The same copy on a dossier of another citizen is refused too.
    draft = complete_draft(intake, owner=OTHER)
    draft.components[GT].files = list(offered[0].files)
    with pytest.raises(StaleReuse):
        intake.receive(draft, clerk)
    with ctx.db.read() as s:
        assert (s.query(Dossier).count(), s.query(ComponentReuse).count()) == before


def test_a_refused_dossier_offers_nothing(
    tmp_path: Path, ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
) -> None:
    draft = complete_draft(intake)
    draft.components[GT].files = DigitizationService(ctx).store([_pdf(tmp_path, "r.pdf", 90)])
    intake.refuse(draft, clerk, "Giấy tờ không hợp lệ")
    assert ReuseService(ctx).on_file(OWNER.id_number, clerk, "9.000005") == []


def test_a_reused_file_survives_the_saved_draft() -> None:
    f = DigitizedFile("a" * 64, "gt.pdf", 1, 1, 2, 10, 200, ("grey",), "", 7, "X-1")
    assert draft_payload._read_file(draft_payload._file(f)) == f
    plain = replace(f, reused_from=None, source_code="")
    assert "reused_from" not in draft_payload._file(plain)
