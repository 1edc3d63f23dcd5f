"""A paper result digitized at the return counter: its metadata checked, the PDF made by
the studio's pipeline, stored encrypted, recorded as the dossier's result (origin counter)
and queued upward like a component. Real database (SQLite, or PostgreSQL under
MOTCUA_TEST_DB=postgresql)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.intake.counter_results import (
    RESULT_SLOT,
    CounterResultError,
    ResultMeta,
    result_backend,
)
from desktop_app.intake.result_documents import ResultDocuments, documents_of
from desktop_app.intake.service import IntakeService
from desktop_app.scanning.model import ProcessedPage
from desktop_app.scanning.studio import QuietControl
from desktop_app.scanning.workspace import Workspace
from desktop_app.sync.national import file_hashes
from local_db.models import AuditEntry, OutboxEntry, ResultDocumentRow

from .scanning.synthetic import save_jpeg, text_page
from .test_intake import complete_draft, intake  # noqa: F401  (fixture)

META = ResultMeta("Giấy chứng nhận đăng ký hộ kinh doanh", "45/GCN-UBND",
                  date(2023, 10, 20), "Lò Văn Minh")


def digitize(ctx: AppContext, clerk: ClerkInfo, dossier_id: int, code: str, tmp_path: Path,
             meta: ResultMeta = META, pages: int = 2) -> list[int]:
    """Two synthetic scanned pages through the studio backend, stored as the result."""
    backend = result_backend(ctx, clerk, dossier_id, code, meta)
    ws = Workspace.create(backend.work_root(), [(RESULT_SLOT, meta.name)], f"Hồ sơ {code}")
    paths = [save_jpeg(text_page("A4", 200), tmp_path / f"ket-qua-{n}.jpg")
             for n in range(pages)]
    control = QuietControl()
    backend.import_files(paths, backend.profile("a4-auto"), ws.root, control)
    for p in control.items:
        if isinstance(p, ProcessedPage):
            ws.add(RESULT_SLOT, p)
    backend.finish(ws, RESULT_SLOT, QuietControl())
    return backend.recorded


@pytest.mark.parametrize(("meta", "expected"), [
    (ResultMeta("Giấy phép", "  ", date(2023, 10, 1), "Lò Văn Minh"), "nhập số văn bản"),
    (ResultMeta("Giấy phép", "12/GP", date(2023, 10, 28), "Lò Văn Minh"),
     "ngày ký không được sau ngày hôm nay"),
    (ResultMeta("Giấy phép", "12/GP", None, "Lò Văn Minh"), "nhập ngày ký"),
    (ResultMeta("Giấy phép", "12/GP", date(1923, 10, 1), "Lò Văn Minh"),
     "ngày ký không hợp lệ"),
    (ResultMeta("", "12/GP", date(2023, 10, 1), ""), "nhập tên giấy tờ kết quả"),
    (ResultMeta("Giấy phép", "1" * 61, date(2023, 10, 1), "A"), "không quá 60 ký tự"),
])
def test_metadata_is_checked_before_anything_is_scanned(
        ctx: AppContext, clerk: ClerkInfo, intake: IntakeService,  # noqa: F811
        meta: ResultMeta, expected: str) -> None:
    out = intake.receive(complete_draft(intake), clerk)
    with pytest.raises(CounterResultError, match=expected) as err:
        result_backend(ctx, clerk, out.dossier_id, out.code, meta)
    assert err.value.message_vi.startswith("Thông tin giấy tờ kết quả chưa đúng:")
    with ctx.db.read() as s:
        assert s.scalars(select(ResultDocumentRow)).all() == []


def test_the_same_day_and_several_problems_at_once(ctx: AppContext) -> None:
    today = ctx.clock.now().date()
    ok = ResultMeta(" Giấy  phép ", "12/GP", today, "Lò Văn Minh").checked(today)
    assert ok.name == "Giấy phép"  # spaces folded
    with pytest.raises(CounterResultError) as err:
        ResultMeta("", "", None, "").checked(today)
    assert err.value.message_vi.count(";") == 3


def test_digitized_result_is_recorded_encrypted_and_queued(
        ctx: AppContext, clerk: ClerkInfo, intake: IntakeService,  # noqa: F811
        tmp_path: Path) -> None:
    out = intake.receive(complete_draft(intake), clerk)
    [doc_id] = digitize(ctx, clerk, out.dossier_id, out.code, tmp_path)
    with ctx.db.read() as s:
        row = s.get(ResultDocumentRow, doc_id)
        assert row is not None
        assert (row.origin, row.state, row.clerk_id, row.name, row.number, row.signer,
                row.signed_on) == ("counter", "fetched", clerk.id, META.name, META.number,
                                   META.signer, META.signed_on)
        sha = row.blob_sha256
        assert sha and sha == row.announced_sha256
        outbox = [(e.entity_type, e.entity_id, e.operation, e.payload)
                  for e in s.scalars(select(OutboxEntry).order_by(OutboxEntry.id))]
        actions = s.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_id == out.dossier_uuid)).all()
    # Encrypted at rest; decrypts to a 2-page PDF carrying the dossier code.
    pdf = ResultDocuments(ctx).content(doc_id)
    assert pdf.startswith(b"%PDF") and pdf[:4096] not in ctx.blobs.path_for(sha).read_bytes()
    from io import BytesIO
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 2 and out.code in str(reader.metadata)
    # Queued like a component: the file, then the dossier's next revision listing it.
    uploads = [o for o in outbox if o[0] == "file" and o[1] == sha]
    assert len(uploads) == 1 and uploads[0][3]["result"] is True
    [(_, _, op, document)] = [o for o in outbox if o[0] == "dossier" and o[2] != "received"]
    assert op == "result_digitized" and document["PhienBan"] == 2
    [listed] = document["DanhSachGiayToKetQua"]
    assert listed == {
        "GiayToId": listed["GiayToId"], "TenGiayTo": META.name, "MaThanhPhanHoSo": "",
        "MaGiayToKetQua": "45/GCN-UBND", "NguoiKy": "Lò Văn Minh", "NgayKy": "20231020000000",
        "TepSha256": sha, "KichThuoc": len(pdf), "LoaiTep": "application/pdf",
        "DuongDanTepTinKetQua": f"/api/v1/blobs/{sha}", "NguonKetQua": "counter"}
    assert sha in file_hashes(document)
    assert "result_digitized" in actions
    # The F7 panel lists it like a province result.
    with ctx.db.read() as s:
        [view] = documents_of(s, out.dossier_id)
    assert (view.state, view.origin, view.state_vi) == ("fetched", "counter",
                                                         "Số hóa tại quầy")


def test_a_dossier_without_a_counter_result_keeps_its_document(
        ctx: AppContext, clerk: ClerkInfo, intake: IntakeService) -> None:  # noqa: F811
    intake.receive(complete_draft(intake), clerk)
    with ctx.db.read() as s:
        [document] = [e.payload for e in s.scalars(select(OutboxEntry).where(
            OutboxEntry.entity_type == "dossier"))]
    assert "DanhSachGiayToKetQua" not in document


def test_a_dossier_not_received_takes_no_result(ctx: AppContext, clerk: ClerkInfo,
                                                tmp_path: Path) -> None:
    with pytest.raises(CounterResultError, match="đã tiếp nhận"):
        digitize(ctx, clerk, 999, "", tmp_path, pages=1)
