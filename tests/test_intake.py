"""Receive / supplement / refuse against a real SQLite database (and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext, open_context
from desktop_app.domain.dossier_status import DossierStatus
from desktop_app.dossiers import DossierQueries, StoredSlip
from desktop_app.intake.drafts import DraftError, IntakeDraft, PersonInfo
from desktop_app.intake.service import CounterBusy, IntakeKind, IntakeService
from desktop_app.reports import ReportService
from desktop_app.startup import open_station
from desktop_app.station import StationInfo, StationService
from local_db.models import AuditEntry, Dossier, OutboxEntry
from sync_contract import wire

from .conftest import TEST_STATION

TEST_CATALOG = {
    "catalog_version": "test-1",
    "procedures": [
        {
            "code": "9.000005",
            "name": "Cấp Giấy xác nhận thử nghiệm năm ngày",
            "field_code": "HT",
            "field_name": "Hộ tịch",
            "time_limit": {"amount": 5, "unit": "working_days", "text": "05 ngày làm việc"},
            "fees": [{"code": "LP", "name": "Lệ phí", "amount": 2000, "kind": "lệ phí"}],
            "components": [
                {"code": "TK", "name": "Tờ khai theo mẫu", "originals": 1, "required": True},
                {"code": "GT", "name": "Giấy tờ chứng minh nơi cư trú", "photocopies": 1,
                 "required": True},
                {"code": "UQ", "name": "Văn bản ủy quyền (nếu nộp thay)", "originals": 1,
                 "required": False},
            ],
        },
        {
            "code": "9.000000",
            "name": "Chứng thực thử nghiệm trong ngày",
            "time_limit": {"amount": 0, "unit": "same_day", "text": "Trong ngày"},
            "components": [{"code": "BC", "name": "Bản chính giấy tờ", "originals": 1}],
        },
    ],
}

OWNER = PersonInfo(
    full_name="Nguyễn Thị Ánh Tuyết",
    id_number="019190001234",
    address="Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên",
    phone="0912 345 678",
)


@pytest.fixture
def intake(ctx: AppContext, station: StationInfo) -> IntakeService:
    CatalogService(ctx).import_data(TEST_CATALOG)
    return IntakeService(ctx)


def complete_draft(intake: IntakeService, code: str = "9.000005",
                   owner: PersonInfo = OWNER) -> IntakeDraft:
    draft = IntakeDraft.for_procedure(intake.catalog.get(code))
    draft.owner = owner
    for c in draft.components:
        c.provided = c.required
    return draft


def test_receive_stores_everything_in_one_transaction(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo
) -> None:
    out = intake.receive(complete_draft(intake), clerk)

    assert out.kind is IntakeKind.RECEIVED
    assert out.code == "000.00.12.H12-231027-1001"
    # DOMAIN.md: 5 working days from Friday 27/10/2023 09:32 is Friday 03/11/2023 09:32.
    assert out.appointment_at == datetime(2023, 11, 3, 9, 32)
    assert out.slip_pdf.startswith(b"%PDF")
    assert ctx.blobs.read_bytes(out.slip_sha256) == out.slip_pdf
    with ctx.db.read() as s:
        d = s.scalars(select(Dossier)).one()
        assert d.status == DossierStatus.RECEIVED
        assert d.owner.phone == "0912345678"
        assert d.fee_total == 2000
        assert d.sequence_number == 1
        assert d.slip_blob == out.slip_sha256
        assert [c.provided for c in d.components] == [True, True, False]
        outbox = s.scalars(select(OutboxEntry)).one()
        assert outbox.entity_id == d.uuid and outbox.state == "pending"
        assert outbox.payload["MaHoSo"] == out.code
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == d.uuid)).one()
        assert audit.action == "dossier_received" and audit.clerk_id == clerk.id


def test_codes_follow_the_daily_counter_and_restart_each_day(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo, clock: FixedClock
) -> None:
    codes = [intake.receive(complete_draft(intake), clerk).code for _ in range(3)]
    assert codes == [f"000.00.12.H12-231027-100{i}" for i in (1, 2, 3)]
    clock.set(datetime(2023, 10, 30, 7, 5))
    assert intake.receive(complete_draft(intake), clerk).code == "000.00.12.H12-231030-1001"


def test_refusal_consumes_no_dossier_code(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo
) -> None:
    refused = intake.refuse(complete_draft(intake), clerk, "Không thuộc thẩm quyền cấp xã")
    assert refused.code is None
    assert refused.slip_number == "TC-231027-1001"
    assert refused.status is DossierStatus.NOT_ACCEPTED
    received = intake.receive(complete_draft(intake), clerk)
    assert received.code == "000.00.12.H12-231027-1001"
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 2


def test_supplement_request_lists_missing_components(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo
) -> None:
    draft = complete_draft(intake)
    draft.components[1].provided = False
    with pytest.raises(DraftError) as err:
        intake.receive(draft, clerk)
    assert "Giấy tờ chứng minh nơi cư trú" in err.value.message_vi
    out = intake.request_supplement(draft, clerk, "Thiếu giấy tờ cư trú")
    assert out.kind is IntakeKind.SUPPLEMENT_REQUESTED
    assert out.code is None and out.slip_number == "BS-231027-1001"
    assert out.status is DossierStatus.SUPPLEMENT_REQUESTED


def test_every_queued_dossier_is_a_document_the_contract_accepts(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo
) -> None:
    """The gateway validates PUT bodies with `wire.DossierDocument`: the station's
    documents (received, refused, supplement requested) must pass the same model."""
    intake.receive(complete_draft(intake), clerk)
    intake.refuse(complete_draft(intake), clerk, "Không thuộc thẩm quyền cấp xã")
    draft = complete_draft(intake)
    draft.components[1].provided = False
    intake.request_supplement(draft, clerk, "Thiếu giấy tờ cư trú")
    with ctx.db.read() as s:
        documents = [e.payload for e in s.scalars(select(OutboxEntry))]
    assert sorted(d["TrangThaiHoSo"] for d in documents) == [2, 3, 5]
    for document in documents:
        parsed = wire.DossierDocument.model_validate(document)
        assert parsed.ClientId == document["ClientId"] and parsed.PhienBan >= 1


def test_invalid_applicant_is_refused_with_every_problem(
    intake: IntakeService, clerk: ClerkInfo
) -> None:
    draft = complete_draft(intake, owner=PersonInfo(full_name="", id_number="12345",
                                                    phone="abc"))
    with pytest.raises(DraftError) as err:
        intake.receive(draft, clerk)
    assert len(err.value.problems) == 3
    assert "Chưa nhập họ và tên chủ hồ sơ." in err.value.problems


def test_failure_while_printing_keeps_the_dossier_and_draws_its_slip_later(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The numbers and facts commit before the slip is drawn (no shared row stays locked
    while a PDF renders): a failure while drawing leaves the dossier recorded, tells the
    clerk not to receive again, and the same slip is drawn from the stored facts later."""
    import desktop_app.intake.service as service

    good = service._render

    def broken_render(*args: object, **kwargs: object) -> bytes:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(service, "_render", broken_render)
    with pytest.raises(service.SlipNotStored) as err:
        intake.receive(complete_draft(intake), clerk)
    assert "000.00.12.H12-231027-1001" in err.value.message_vi
    with ctx.db.read() as s:
        d = s.scalars(select(Dossier)).one()
        assert d.code == "000.00.12.H12-231027-1001" and d.slip_blob is None
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 1
    monkeypatch.setattr(service, "_render", good)
    assert intake.store_missing_slips(min_age_s=60) == 0  # may still be in flight
    assert intake.store_missing_slips(min_age_s=0) == 1
    with ctx.db.read() as s:
        d = s.scalars(select(Dossier)).one()
        assert d.slip_blob is not None
        sha, dossier_id = d.slip_blob, d.id
    # Idempotent: asking again returns the stored slip, drawn once.
    assert intake.ensure_slip(dossier_id) == (ctx.blobs.read_bytes(sha), sha)
    assert intake.store_missing_slips(min_age_s=0) == 0
    assert intake.receive(complete_draft(intake), clerk).code == "000.00.12.H12-231027-1002"


def test_the_slip_drawn_after_commit_is_the_one_the_stored_facts_give(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo
) -> None:
    out = intake.receive(complete_draft(intake), clerk)
    with ctx.db.write() as s:
        s.get(Dossier, out.dossier_id).slip_blob = None  # as after a crash between steps
    pdf, sha = intake.ensure_slip(out.dossier_id)
    assert (pdf, sha) == (out.slip_pdf, out.slip_sha256)


def test_a_book_row_held_too_long_by_another_counter_is_a_message_and_nothing_stored(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo
) -> None:
    if not ctx.db.is_postgresql:
        pytest.skip("the lock timeout is PostgreSQL's (SQLite queues writers)")
    intake.receive(complete_draft(intake), clerk)
    with ctx.db.engine.connect() as other:  # another counter, stuck with the row locked
        other.execute(text("UPDATE daily_counters SET last_value = last_value "
                           "WHERE series = 'book'"))
        with pytest.raises(CounterBusy) as err:
            intake.receive(complete_draft(intake), clerk)
        other.rollback()
    assert "bấm Tiếp nhận lại" in err.value.message_vi
    again = intake.receive(complete_draft(intake), clerk)  # pressed again: no gap
    assert again.code == "000.00.12.H12-231027-1002"
    with ctx.db.read() as s:
        assert sorted(s.scalars(select(Dossier.sequence_number))) == [1, 2]


def _receive_many(url: str, data_dir: Path, clerk: ClerkInfo, n: int, codes: list[str],
                  errors: list[BaseException]) -> None:
    ctx = open_context(data_dir, db_url=url, clock=FixedClock(datetime(2023, 10, 27, 9, 32)))
    try:
        intake = IntakeService(ctx)
        for _ in range(n):
            codes.append(str(intake.receive(complete_draft(intake), clerk).code))
    except BaseException as exc:  # reported to the main thread
        errors.append(exc)
    finally:
        ctx.close()


def _two_clerks_at_once(ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,
                        tmp_path: Path) -> list[str]:
    url = str(ctx.db.url.render_as_string(hide_password=False))
    codes: list[str] = []
    errors: list[BaseException] = []
    threads = [
        # One station (one data directory, so one PC), two processes' worth of clerks.
        threading.Thread(target=_receive_many,
                         args=(url, ctx.paths.root, clerk, 15, codes, errors))
        for i in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return codes


def test_two_clerks_on_one_station_never_share_or_skip_a_code(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo, tmp_path: Path
) -> None:
    codes = _two_clerks_at_once(ctx, intake, clerk, tmp_path)
    assert sorted(codes) == [f"000.00.12.H12-231027-1{i:03d}" for i in range(1, 31)]


def test_two_clerks_on_postgresql(pg_ctx: AppContext, clerk_pg: ClerkInfo,
                                  tmp_path: Path) -> None:
    StationService(pg_ctx).save(TEST_STATION)
    CatalogService(pg_ctx).import_data(TEST_CATALOG)
    intake = IntakeService(pg_ctx)
    codes = _two_clerks_at_once(pg_ctx, intake, clerk_pg, tmp_path)
    assert sorted(codes) == [f"000.00.12.H12-231027-1{i:03d}" for i in range(1, 31)]
    found = DossierQueries(pg_ctx).search("nguyen thi anh")
    assert len(found) == 30


@pytest.fixture
def clerk_pg(pg_ctx: AppContext) -> ClerkInfo:
    from desktop_app.accounts import AccountService, Role

    return AccountService(pg_ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                               Role.CLERK)


@pytest.mark.parametrize(
    "query",
    ["nguyen thi anh tuyet", "Nguyễn Thị Ánh", "NGUYEN tuyet", "019190001234", "0912345",
     "000.00.12.H12-231027-1001", "231027-1001"],
)
def test_search_finds_the_dossier(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo, query: str
) -> None:
    out = intake.receive(complete_draft(intake), clerk)
    other = PersonInfo(full_name="Hoàng Văn Tuấn", id_number="019088004321", phone="0987000111")
    intake.receive(complete_draft(intake, owner=other), clerk)
    found = DossierQueries(ctx).search(query)
    assert [r.code for r in found] == [out.code]


def test_detail_shows_history_and_the_printed_slip(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo, clock: FixedClock
) -> None:
    out = intake.receive(complete_draft(intake), clerk)
    queries = DossierQueries(ctx)
    detail = queries.detail(out.dossier_id)
    assert detail.row.reference == out.code
    assert detail.row.sync_label == "Chưa đồng bộ"
    assert detail.clerk_name == "Triệu Thị Hương"
    assert detail.history[0].what.startswith("Tiếp nhận hồ sơ")
    assert queries.stored_slip(out.dossier_id) == StoredSlip(out.code or "", out.slip_pdf)


def test_home_counts(ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,
                     clock: FixedClock) -> None:
    intake.receive(complete_draft(intake), clerk)
    intake.receive(complete_draft(intake, "9.000000"), clerk)
    intake.refuse(complete_draft(intake), clerk, "Không thuộc thẩm quyền")
    counts = DossierQueries(ctx).home_counts()
    assert (counts.received_today, counts.refused_today, counts.supplement_today) == (2, 1, 0)
    assert counts.unsynced == 3
    # The same-day procedure received before 15:00 is due today at 17:00.
    assert counts.due_today == 1
    # What was received today stays received today when the province moves it on, and
    # the home page says what the dashboard says.
    draft = complete_draft(intake)
    draft.components[1].provided = False
    intake.request_supplement(draft, clerk, "Thiếu giấy tờ cư trú")
    with ctx.db.write() as s:
        s.execute(update(Dossier).where(Dossier.code.is_not(None)).values(
            status=int(DossierStatus.RESULT_READY)))
    counts = DossierQueries(ctx).home_counts()
    assert (counts.received_today, counts.refused_today, counts.supplement_today) == (2, 1, 1)
    day = clock.now().date()
    figures = ReportService(ctx).dashboard(day, day)
    assert figures.received == counts.received_today
    assert ReportService(ctx).refused(day, day) == counts.refused_today


def test_audit_log_is_append_only(ctx: AppContext, intake: IntakeService,
                                  clerk: ClerkInfo) -> None:
    intake.receive(complete_draft(intake), clerk)
    with pytest.raises(Exception, match=r"append-only|audit"), ctx.db.write() as s:
        s.execute(text("UPDATE audit_log SET action = 'x'"))
    with pytest.raises(Exception, match=r"append-only|audit"), ctx.db.write() as s:
        s.execute(text("DELETE FROM audit_log"))
    if not ctx.db.is_sqlite:
        with pytest.raises(Exception, match=r"append-only"), ctx.db.write() as s:
            s.execute(text("TRUNCATE audit_log"))


def test_reopening_keeps_data_and_does_not_migrate_again(
    tmp_path: Path, ctx: AppContext, intake: IntakeService, clerk: ClerkInfo
) -> None:
    intake.receive(complete_draft(intake), clerk)
    url = str(ctx.db.url)
    ctx.close()
    again = open_station(tmp_path / "data", db_url=url, clock=FixedClock(datetime.now()))
    try:
        assert not again.migration.upgraded
        assert DossierQueries(again).search("tuyet")[0].code == "000.00.12.H12-231027-1001"
    finally:
        again.close()


def test_appointment_preview_matches_what_is_stored(
    intake: IntakeService, clerk: ClerkInfo, clock: FixedClock
) -> None:
    proc = intake.catalog.get("9.000005")
    preview = intake.appointment_for(proc, clock.current)
    assert intake.receive(complete_draft(intake), clerk).appointment_at == preview
    assert preview - clock.current >= timedelta(days=5)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("231027-100", 2), ("1002 231027", 1), ("0", 2), ("ng", 1), ("h", 2), ("h12-231027-1002", 1),
     ("h12-1001", 0), ("tuyet-nguyen", 0)],
)
def test_search_short_prefixes_and_phrases(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo, query: str, expected: int
) -> None:
    intake.receive(complete_draft(intake), clerk)
    other = PersonInfo(full_name="Hoàng Văn Tuấn", id_number="019088004321", phone="0987000111")
    intake.receive(complete_draft(intake, owner=other), clerk)
    assert len(DossierQueries(ctx).search(query)) == expected


@pytest.mark.sqlite
def test_upgrade_from_first_schema_rebuilds_the_search_index(
    tmp_path: Path, ctx: AppContext, intake: IntakeService, clerk: ClerkInfo
) -> None:
    from alembic import command

    from local_db.migrate import _config, current_revision

    out = intake.receive(complete_draft(intake), clerk)
    cfg = _config()
    with ctx.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert current_revision(ctx.db) == "0001"
    url = str(ctx.db.url)
    ctx.close()
    again = open_station(tmp_path / "data", db_url=url, clock=FixedClock(datetime.now()))
    try:
        assert again.migration.upgraded and again.migration.from_revision == "0001"
        assert again.migration.backup is not None and again.migration.backup.stat().st_size > 0
        assert [r.code for r in DossierQueries(again).search("tuyet 09")] == [out.code]
        with again.db.read() as s:
            sql = s.execute(text("SELECT sql FROM sqlite_master WHERE name = 'dossier_fts'"))
            assert "prefix='1 2 3 4'" in sql.scalar_one()
    finally:
        again.close()
