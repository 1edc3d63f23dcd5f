"""What a fresh (or reset) training station starts with: a fictional commune, the
sample catalog, three accounts whose passwords are printed in the checklist, and two
dossiers received weeks ago and now late, so the F8 apology can be practised at once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.intake.drafts import IntakeDraft, PersonInfo
from desktop_app.intake.service import IntakeService
from desktop_app.signers import SignedKind, SignerBlock, SignerService
from desktop_app.station import StationInfo, StationService
from desktop_app.training.citizens import CITIZENS

# QCVN 102 shape, in a space no agency uses (000.00.99, letter T for tập huấn): dossier
# codes read "000.00.99.T01-…", plainly not a commune's. Its own keyring/file slot name
# (agency-digit) is then never a real station's.
TRAINING_STATION = StationInfo(
    agency_code="000.00.99.T01",
    agency_name="UBND XÃ TẬP HUẤN (GIẢ LẬP)",
    parent_name="UBND TỈNH THỰC HÀNH",
    place_name="Tập Huấn",
    station_digit=1,
    receipt_page_size="A4",
    book_number="TH",
)


@dataclass(frozen=True)
class TrainingAccount:
    username: str
    full_name: str
    password: str
    role: Role


ACCOUNTS = (
    TrainingAccount("hocvien", "Học viên tập huấn", "taphuan1", Role.CLERK),
    TrainingAccount("lanhdao", "Lãnh đạo (tập huấn)", "taphuan2", Role.SUPERVISOR),
    TrainingAccount("kythuat", "Kỹ thuật viên (tập huấn)", "taphuan3", Role.TECHNICIAN),
)

# Short working-day limits: received three weeks ago, they are late whatever the day.
LATE_PROCEDURES = ("1.004873", "1.004845")
LATE_OWNERS = (2, 4)  # indexes into CITIZENS: Lê Văn Mẫu, Hoàng Văn Luyện


def _weekday_morning(day: datetime) -> datetime:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day.date(), time(9, 0))


def seed(ctx: AppContext) -> list[str]:
    """Fill an empty training station; returns the codes of the late dossiers."""
    stations = StationService(ctx)
    stations.save(TRAINING_STATION)
    signers = SignerService(ctx, TRAINING_STATION.agency_code)
    signers.save(SignedKind.APOLOGY, SignerBlock("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH",
                                                 "PHÓ CHỦ TỊCH", "Người Ký Giả Lập"), "training")
    signers.save(SignedKind.STOP_NOTICE, SignerBlock("TM. ỦY BAN NHÂN DÂN", "", "CHỦ TỊCH",
                                                     "Người Ký Giả Lập"), "training")
    accounts = AccountService(ctx)
    clerk: ClerkInfo | None = None
    for a in ACCOUNTS:
        made = accounts.create_clerk(a.username, a.full_name, a.password, a.role)
        clerk = clerk or made
    assert clerk is not None
    catalog = CatalogService(ctx)
    catalog.ensure_sample_catalog()
    codes: list[str] = []
    received = _weekday_morning(ctx.clock.now() - timedelta(days=21))
    for i, (proc_code, owner) in enumerate(zip(LATE_PROCEDURES, LATE_OWNERS, strict=True)):
        if not catalog.exists(proc_code):
            continue
        proc = catalog.get(proc_code)
        draft = IntakeDraft.for_procedure(proc)
        draft.owner = PersonInfo.from_card(CITIZENS[owner].card, phone=f"090000000{i + 1}")
        for c in draft.components:
            c.provided = c.required
        # Received then: the same service, with a clock standing three weeks back.
        past = replace(ctx, clock=FixedClock(received + timedelta(minutes=17 * i)))
        outcome = IntakeService(past).receive(draft, clerk)
        if outcome.code:
            codes.append(outcome.code)
    return codes
