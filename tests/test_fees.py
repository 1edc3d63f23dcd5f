"""Fees: per-case, per-copy and per-page schedules, what is assessed at receipt, and
money recorded as collected at intake or at the return counter — printed as "đã thu"
only when recorded, append-only, synced to the province."""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogError, CatalogService, sample_catalog_path
from desktop_app.context import AppContext
from desktop_app.documents.letters import ResultDocument
from desktop_app.domain.fees import (
    FeeBasis,
    FeeCount,
    FeeRule,
    PaymentEntry,
    PaymentMethod,
    assess,
)
from desktop_app.dossiers import DossierQueries
from desktop_app.fees import FeeError, FeeService
from desktop_app.intake.draft_payload import from_payload, to_payload
from desktop_app.intake.drafts import DraftError, IntakeDraft, SavedIntake
from desktop_app.intake.returns import Receiver, ReturnService
from desktop_app.intake.service import IntakeService
from desktop_app.startup import open_station
from desktop_app.station import StationInfo, StationService
from local_db.models import AuditEntry, Dossier, DossierFee, FeePayment, OutboxEntry
from tests.support.shared_file import second_pc

from .test_intake import OWNER, TEST_CATALOG
from .test_slips import text_of
from .test_upgrades import build_old_database

CERTIFY = FeeRule("PHI-CTBS", "Phí chứng thực bản sao từ bản chính", 2000, "phí",
                  FeeBasis.PAGE, later_from_page=3, later_amount=1000, cap_per_copy=200_000)

FEES_CATALOG: dict[str, Any] = copy.deepcopy(TEST_CATALOG)
FEES_CATALOG["procedures"].append({
    "code": "9.000815",
    "name": "Chứng thực bản sao thử nghiệm",
    "time_limit": {"amount": 0, "unit": "same_day", "text": "Trong ngày"},
    "fees": [{"code": "PHI-CTBS", "name": "Phí chứng thực bản sao từ bản chính",
              "amount": 2000, "basis": "page", "later_from_page": 3, "later_amount": 1000,
              "cap_per_copy": 200000, "kind": "phí"},
             {"code": "PHI-TL", "name": "Phí cấp bản sao trích lục", "amount": 8000,
              "basis": "copy", "kind": "phí"}],
    "components": [{"code": "BC", "name": "Bản chính giấy tờ", "originals": 1}],
})


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def intake(ctx: AppContext, station: StationInfo) -> IntakeService:
    CatalogService(ctx).import_data(FEES_CATALOG)
    return IntakeService(ctx)


def _draft(intake: IntakeService, code: str = "9.000815", **counts: list[FeeCount]
           ) -> IntakeDraft:
    draft = IntakeDraft.for_procedure(intake.catalog.get(code))
    draft.owner = OWNER
    for c in draft.components:
        c.provided = c.required
    draft.fee_counts = {k.replace("_", "-"): v for k, v in counts.items()}
    return draft


# --- the schedule -------------------------------------------------------------------------


@pytest.mark.parametrize(("pages", "copies", "amount"), [
    (1, 1, 2000), (2, 1, 4000), (3, 1, 5000), (5, 2, 14000),
    (198, 1, 200_000), (300, 1, 200_000), (300, 3, 600_000), (0, 5, 0),
])
def test_certified_copies_are_charged_per_page_with_the_lower_rate_and_the_cap(
        pages: int, copies: int, amount: int) -> None:
    assert assess(CERTIFY, [FeeCount(copies, pages)]).amount == amount


def test_several_documents_add_up_and_a_case_fee_ignores_counts() -> None:
    two = assess(CERTIFY, [FeeCount(2, 5), FeeCount(1, 1)])
    assert two.amount == 14000 + 2000
    assert two.quantity_text == "2 bản × 5 trang; 1 bản × 1 trang"
    per_copy = FeeRule("TL", "Trích lục", 8000, basis=FeeBasis.COPY)
    assert assess(per_copy, [FeeCount(3, 9)]).amount == 24000
    assert assess(per_copy, [FeeCount(3, 9)]).quantity_text == "3 bản"
    case = FeeRule("LP", "Lệ phí", 10000)
    assert assess(case, [FeeCount(5, 5)]).amount == 10000 and not case.counted
    assert CERTIFY.rate_text() == ("2.000 đồng/trang; từ trang thứ 3 trở đi 1.000 "
                                   "đồng/trang; tối đa 200.000 đồng/bản")


def test_the_catalog_keeps_the_basis_and_refuses_one_it_does_not_know(
        ctx: AppContext) -> None:
    catalog = CatalogService(ctx)
    catalog.import_data(FEES_CATALOG)
    rules = catalog.get("9.000815").fees
    assert rules[0] == CERTIFY and rules[1].basis is FeeBasis.COPY
    bad = copy.deepcopy(FEES_CATALOG)
    bad["procedures"][-1]["fees"][0]["basis"] = "per_kg"
    with pytest.raises(CatalogError, match="phí, lệ phí"):
        catalog.import_data(bad)
    # The shipped sample charges certified copies per page and extracts per copy.
    catalog.import_data(json.loads(sample_catalog_path().read_text(encoding="utf-8")))
    assert catalog.get("2.000815").fees[0].rate_text() == CERTIFY.rate_text()
    assert catalog.get("2.000635").fees[0].basis is FeeBasis.COPY


# --- at intake ----------------------------------------------------------------------------


def test_receive_assesses_what_the_citizen_asked_for_and_prints_it(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:
    with pytest.raises(DraftError) as missing:
        intake.receive(_draft(intake), clerk)
    assert any("Chưa nhập số bản, số trang để tính “Phí chứng thực" in p
               for p in missing.value.problems)
    assert any("Chưa nhập số bản để tính “Phí cấp bản sao trích lục" in p
               for p in missing.value.problems)
    out = intake.receive(_draft(intake, PHI_CTBS=[FeeCount(2, 5)],
                                PHI_TL=[FeeCount(3, 1)]), clerk)
    with ctx.db.read() as s:
        d = s.get(Dossier, out.dossier_id)
        assert d is not None and d.fee_total == 14000 + 24000
        assert [(f.fee_code, f.basis, f.quantity_text, f.amount) for f in d.fees] == [
            ("PHI-CTBS", "page", "2 bản × 5 trang", 14000), ("PHI-TL", "copy", "3 bản", 24000)]
        assert d.payments == []
        doc = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "dossier")
                        ).one().payload
    text = _flat(text_of(out.slip_pdf))
    assert ("7. Phí, lệ phí phải nộp: Phí chứng thực bản sao từ bản chính (2 bản × 5 trang) "
            "14.000 đồng; Phí cấp bản sao trích lục (3 bản) 24.000 đồng. Tổng cộng: 38.000 "
            "đồng") in text
    assert "đã thu" not in text
    assert [(f["MaPhiLePhi"], f["Gia"], f["LoaiPhiLePhi"]) for f in doc["DanhSachLePhi"]] == [
        ("PHI-CTBS", 14000, 1), ("PHI-TL", 24000, 1)]
    assert doc["DanhSachThuPhi"] == []


def test_money_collected_with_receive_is_recorded_and_printed_as_collected(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:
    draft = _draft(intake, PHI_CTBS=[FeeCount(1, 3)], PHI_TL=[FeeCount(1, 1)])
    draft.payment = PaymentEntry(13000, " 0012345 ", PaymentMethod.CASH)
    out = intake.receive(draft, clerk)
    with ctx.db.read() as s:
        [p] = s.scalars(select(FeePayment)).all()
        assert (p.amount, p.receipt_number, p.method, p.stage, p.payer_name,
                p.collected_by, p.collected_at) == (
            13000, "0012345", "cash", "intake", OWNER.full_name, clerk.full_name,
            ctx.clock.now())
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "dossier_received")
                          ).one()
        assert audit.detail["payment"]["receipt_number"] == "0012345"
        assert OWNER.full_name not in str(audit.detail)  # names stay in the dossier
        doc = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "dossier")
                        ).one().payload
    assert "đã thu 13.000 đồng (biên lai số 0012345)" in _flat(text_of(out.slip_pdf))
    assert [(x["SoTien"], x["SoBienLai"], x["HinhThucThu"]) for x in doc["DanhSachThuPhi"]
            ] == [(13000, "0012345", "cash")]


def test_a_payment_that_differs_needs_its_reason_and_a_receipt_number(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:
    draft = _draft(intake, "9.000005")
    draft.payment = PaymentEntry(1000, "")
    with pytest.raises(DraftError) as refused:
        intake.receive(draft, clerk)
    [problem] = refused.value.problems
    assert "số biên lai" in problem and "lý do thu 1.000 đồng khác số phải nộp 2.000" in problem
    with ctx.db.read() as s:
        assert s.scalar(select(sa.func.count()).select_from(Dossier)) == 0
    draft.payment = PaymentEntry(0, "", reason="Người thuộc hộ nghèo: miễn lệ phí")
    out = intake.receive(draft, clerk)
    text = _flat(text_of(out.slip_pdf))
    assert ("7. Phí, lệ phí phải nộp: Lệ phí 2.000 đồng; miễn thu — Người thuộc hộ nghèo: "
            "miễn lệ phí") in text
    assert FeeService(ctx).statement(out.dossier_id).outstanding == 0


def test_the_draft_keeps_counts_and_payment_across_a_restart(intake: IntakeService) -> None:
    draft = _draft(intake, PHI_CTBS=[FeeCount(2, 5), FeeCount(1, 1)])
    draft.payment = PaymentEntry(16000, "BL-7", PaymentMethod.TRANSFER, "Lò Văn Ún", "")
    saved, problems = from_payload(to_payload(SavedIntake(draft, 3, "d1")), 3)
    assert problems == []
    assert saved.draft.fee_counts == {"PHI-CTBS": [FeeCount(2, 5), FeeCount(1, 1)]}
    assert saved.draft.payment == draft.payment


# --- at the return counter ----------------------------------------------------------------


def _ready(ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,
           payment: PaymentEntry | None = None) -> int:
    draft = _draft(intake, "9.000005")
    draft.payment = payment
    out = intake.receive(draft, clerk)
    with ctx.db.write() as s:
        s.get(Dossier, out.dossier_id).status = 9  # type: ignore[union-attr]
    return out.dossier_id


def test_nothing_recorded_means_phai_nop_and_the_copies_are_as_counted(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:
    dossier_id = _ready(ctx, intake, clerk)
    done = ReturnService(ctx).record_return(
        dossier_id, Receiver(OWNER.full_name), clerk,
        results=[ResultDocument("Giấy xác nhận", 2, "Số 15/XN"), "Bản sao trích lục"])
    text = _flat(text_of(done.pdf))
    assert "Phí, lệ phí phải nộp theo quy định: Lệ phí 2.000 đồng" in text
    assert "đã thu" not in text
    assert "Giấy xác nhận (Số 15/XN) 02" in text and "Bản sao trích lục ……" in text
    with ctx.db.read() as s:
        detail = s.scalars(select(AuditEntry).where(AuditEntry.action == "dossier_returned")
                           ).one().detail
    assert detail["results"] == [
        {"name": "Giấy xác nhận", "copies": 2, "reference": "Số 15/XN"},
        {"name": "Bản sao trích lục", "copies": None, "reference": ""}]


def test_fee_collected_at_the_return_counter_prints_as_collected(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:
    dossier_id = _ready(ctx, intake, clerk)
    with pytest.raises(FeeError, match="số biên lai"):
        ReturnService(ctx).record_return(dossier_id, Receiver("Lò Văn Ún", "019190009999",
                                                              False), clerk,
                                         payment=PaymentEntry(2000))
    with ctx.db.read() as s:  # the refusal recorded nothing: not even the return
        d = s.get(Dossier, dossier_id)
        assert d is not None and d.status == 9 and d.payments == []
    done = ReturnService(ctx).record_return(
        dossier_id, Receiver("Lò Văn Ún", "019190009999", False), clerk,
        payment=PaymentEntry(2000, "0012399", PaymentMethod.CARD))
    text = _flat(text_of(done.pdf))
    assert "Phí, lệ phí đã thu: Lệ phí 2.000 đồng (biên lai số 0012399)" in text
    statement = FeeService(ctx).statement(dossier_id)
    assert (statement.paid, statement.outstanding) == (2000, 0)
    assert statement.payments[0].payer_name == "Lò Văn Ún"
    assert statement.payments[0].stage == "return"


def test_a_mistaken_payment_is_reversed_by_a_new_entry_never_changed(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:
    dossier_id = _ready(ctx, intake, clerk, PaymentEntry(2000, "0012345"))
    fees = FeeService(ctx)
    with pytest.raises(FeeError, match="đã thu đủ"):
        fees.collect(dossier_id, PaymentEntry(2000, "0012346"), clerk)
    first = fees.statement(dossier_id).payments[0]
    with pytest.raises(FeeError, match="lý do"):
        fees.reverse(dossier_id, first.id, " ", clerk)
    after = fees.reverse(dossier_id, first.id, "Ghi nhầm số biên lai", clerk)
    assert (after.paid, after.outstanding, len(after.payments)) == (0, 2000, 2)
    assert after.payments[0].reversed and after.payments[1].amount == -2000
    with pytest.raises(FeeError, match="không còn hiệu lực"):
        fees.reverse(dossier_id, first.id, "lần nữa", clerk)
    again = fees.collect(dossier_id, PaymentEntry(2000, "0012346"), clerk)
    assert (again.paid, again.receipt_numbers) == (2000, ("0012346",))
    # The look-up's detail says the same, from the same records.
    assert DossierQueries(ctx).detail(dossier_id).fee_summary == (
        "Phải nộp 2.000 đồng; đã thu 2.000 đồng (biên lai số 0012346).")
    with ctx.db.read() as s:
        events = [e.operation for e in s.scalars(
            select(OutboxEntry).where(OutboxEntry.entity_type == "event")
            .order_by(OutboxEntry.id))]
        assert events == ["fee_reversed", "fee_collected"]
        assert s.get(Dossier, dossier_id).revision == 3  # type: ignore[union-attr]


@pytest.mark.parametrize("table", ["fee_payments", "dossier_fees"])
def test_recorded_fees_and_payments_cannot_be_changed_or_deleted(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo, table: str) -> None:
    _ready(ctx, intake, clerk, PaymentEntry(2000, "0012345"))
    for statement in (f"UPDATE {table} SET amount = 1", f"DELETE FROM {table}"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), ctx.db.write() as s:
            s.execute(sa.text(statement))
    with ctx.db.read() as s:
        model = FeePayment if table == "fee_payments" else DossierFee
        assert s.scalars(select(model)).one().amount == 2000


# --- upgrade ------------------------------------------------------------------------------


@pytest.mark.migrations
def test_upgrade_itemises_the_old_total_and_invents_no_payment(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'motcua.sqlite3'}"
    db = build_old_database(url, "0015")
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE dossiers SET fee_total = 15000"))
    db.dispose()
    ctx = open_station(data, db_url=url, sample_catalog=False)
    try:
        with ctx.db.read() as s:
            d = s.scalars(select(Dossier)).one()
            assert [(f.name, f.amount) for f in d.fees] == [("Phí, lệ phí", 15000)]
            assert d.payments == []
            dossier_id = d.id
        assert FeeService(ctx).statement(dossier_id).outstanding == 15000
    finally:
        ctx.close()


def test_when_a_payment_is_recorded_it_is_the_clock_time(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo) -> None:
    dossier_id = _ready(ctx, intake, clerk)
    ctx.clock.set(datetime(2023, 10, 30, 14, 5))  # type: ignore[attr-defined]
    FeeService(ctx).collect(dossier_id, PaymentEntry(2000, "7"), clerk)
    assert FeeService(ctx).statement(dossier_id).payments[0].collected_at == datetime(
        2023, 10, 30, 14, 5)


def test_two_counters_collecting_the_same_fee_at_once_record_it_once(
        ctx: AppContext, intake: IntakeService, clerk: ClerkInfo, station: StationInfo,
        tmp_path: Path) -> None:
    """Two PCs on one database (a shared PostgreSQL server, or one SQLite file): the
    dossier is locked while a payment is recorded, so the second sees the first."""
    dossier_id = _ready(ctx, intake, clerk)
    if ctx.db.url.get_backend_name() == "postgresql":
        # Widen the window between reading what was paid and recording the payment: the
        # other counter reads in it (SQLite's write transaction takes the lock up front).
        with ctx.db.write() as s:
            s.execute(sa.text(
                "CREATE FUNCTION slow_payment() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN PERFORM pg_sleep(0.5); RETURN NEW; END $$"))
            s.execute(sa.text("CREATE TRIGGER slow_payment BEFORE INSERT ON fee_payments "
                              "FOR EACH ROW EXECUTE FUNCTION slow_payment()"))
    other = open_station(second_pc(ctx, tmp_path / "second-pc"),
                         db_url=ctx.db.url.render_as_string(hide_password=False),
                         sample_catalog=False, clock=ctx.clock)
    StationService(other).save(dataclasses.replace(station, station_digit=2))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def collect(c: AppContext, receipt: str) -> None:
        barrier.wait()
        try:
            FeeService(c).collect(dossier_id, PaymentEntry(2000, receipt), clerk)
            outcomes.append("ok")
        except FeeError as exc:
            outcomes.append(exc.message_vi)

    try:
        threads = [threading.Thread(target=collect, args=(c, r))
                   for c, r in ((ctx, "A-1"), (other, "B-1"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        other.close()
    assert outcomes.count("ok") == 1 and any("đã thu đủ" in o for o in outcomes), outcomes
    statement = FeeService(ctx).statement(dossier_id)
    assert (statement.paid, len(statement.payments)) == (2000, 1)
