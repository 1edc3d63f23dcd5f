"""Training mode: a session on its own folder, its simulated province on loopback, the
trainer's schedule moving dossiers through the real gateway, the watermark on what is
printed, the fictional citizens' cards — and nothing of it reaching the station."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from desktop_app.accounts import AccountService, ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext, open_existing_context
from desktop_app.documents.watermark import TRAINING_MARK
from desktop_app.domain.citizen_qr import parse_citizen_qr
from desktop_app.intake.drafts import IntakeDraft, PersonInfo
from desktop_app.intake.service import IntakeOutcome, IntakeService
from desktop_app.scanning.barcodes import decode_qr
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.service import SyncService
from desktop_app.training import paths as tpaths
from desktop_app.training.citizens import CITIZENS, render_citizen_sheet
from desktop_app.training.schedule import (
    Plan,
    Schedule,
    ScheduleError,
    Step,
    default_schedule,
    parse_schedule,
)
from desktop_app.training.seed import ACCOUNTS, TRAINING_STATION
from desktop_app.training.session import (
    TrainingRefused,
    TrainingSession,
    configure_station,
    open_training,
    reset_training,
)
from local_db.models import Dossier, OutboxEntry

REAL_GATEWAY = "https://motcua.thainguyen.gov.vn"
REAL_TOKEN = "real-station-token-0123456789abcdef"


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    # What isolate_environment does for a training process, undone after the test.
    monkeypatch.setenv("MOTCUA_NO_KEYRING", "1")
    monkeypatch.delenv("MOTCUA_STATION_TOKEN", raising=False)


@pytest.fixture
def session(tmp_path: Path, no_keyring: None) -> Iterator[TrainingSession]:
    s = open_training(tmp_path / "training", tmp_path / "data", ticker=False)
    yield s
    s.close()


def _trainee(ctx: AppContext) -> ClerkInfo:
    first = ACCOUNTS[0]
    return AccountService(ctx).authenticate(first.username, first.password)


def _receive(ctx: AppContext, clerk: ClerkInfo, citizen: int) -> IntakeOutcome:
    catalog = CatalogService(ctx)
    draft = IntakeDraft.for_procedure(catalog.get("1.004873"))
    draft.owner = PersonInfo.from_card(CITIZENS[citizen].card, phone="0900000009")
    for c in draft.components:
        c.provided = c.required
    return IntakeService(ctx).receive(draft, clerk)


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _status(ctx: AppContext, code: str) -> int:
    with ctx.db.read() as s:
        return int(s.scalar(select(Dossier.status).where(Dossier.code == code)))


def test_a_training_session_never_reaches_the_station(
        tmp_path: Path, ctx: AppContext, station: StationInfo, clerk: ClerkInfo,
        db_url: str, no_keyring: None) -> None:
    """A class receives dossiers, syncs them to the simulated province, gets their
    statuses back; the station's database, queue, files and settings stay as they were,
    and the training station cannot be pointed at the real province."""
    stations = StationService(ctx)
    stations.save(StationInfo(**{**station.__dict__, "gateway_url": REAL_GATEWAY}))
    SyncService(ctx).set_token(REAL_TOKEN)
    data_dir = ctx.paths.root
    ctx.close()
    before = _files(data_dir)

    s = open_training(tmp_path / "training", data_dir, ticker=False)
    try:
        trainee = _trainee(s.ctx)
        codes = [_receive(s.ctx, trainee, i).code for i in range(3)]
        assert all(c and c.startswith(TRAINING_STATION.agency_code) for c in codes)
        report = SyncService(s.ctx).engine().run_once()
        assert report.errors == [] and report.dossiers_sent == 5  # + the 2 seeded late
        t0 = datetime.now()
        s.tick(t0)
        assert s.tick(t0 + timedelta(minutes=60)) >= 3
        assert SyncService(s.ctx).engine().run_once().changes_pulled >= 3

        training_station = StationService(s.ctx).require()
        assert training_station.gateway_url == s.province.url
        assert s.province.url.startswith("http://127.0.0.1:")
        token = SyncService(s.ctx).tokens().get()
        assert token and token != REAL_TOKEN
        assert s.ctx.db.sqlite_path is not None
        assert data_dir.resolve() not in s.ctx.db.sqlite_path.resolve().parents
        with pytest.raises(TrainingRefused):
            configure_station(s.ctx, REAL_GATEWAY, REAL_TOKEN)
        assert StationService(s.ctx).require().gateway_url == s.province.url
        assert SyncService(s.ctx).tokens().get() == token
    finally:
        s.close()

    assert _files(data_dir) == before
    real = open_existing_context(data_dir, db_url)
    assert real is not None
    try:
        with real.db.read() as db:
            assert db.scalar(select(func.count()).select_from(Dossier)) == 0
            assert db.scalar(select(func.count()).select_from(OutboxEntry)) == 0
        after = StationService(real).require()
        assert (after.agency_code, after.gateway_url) == (station.agency_code, REAL_GATEWAY)
        assert SyncService(real).tokens().get() == REAL_TOKEN
    finally:
        real.close()


def test_the_schedule_moves_dossiers_through_the_gateway(session: TrainingSession) -> None:
    """Received dossiers take the plans in turn; each step is applied by the real gateway
    on loopback at its minute and pulled by the station; a restart repeats nothing."""
    ctx = session.ctx
    trainee = _trainee(ctx)
    codes = [_receive(ctx, trainee, i).code or "" for i in (0, 1, 7)]
    sync = SyncService(ctx).engine()
    sync.run_once()
    t0 = datetime(2026, 12, 7, 9, 0)
    session.tick(t0)  # the province notes them (and the seeded late ones)
    assert session.tick(t0 + timedelta(minutes=2, seconds=1)) >= 1
    sync.run_once()
    assert _status(ctx, codes[0]) == 4  # "result" plan: processing at 2 minutes
    assert _status(ctx, codes[1]) == 2  # "supplement" plan: nothing before 5 minutes
    session.tick(t0 + timedelta(minutes=10))
    sync.run_once()
    assert [_status(ctx, c) for c in codes] == [9, 5, 8]
    # The same state file read again by a new scheduler: nothing is applied twice.
    assert session.scheduler.tick(t0 + timedelta(minutes=20)) == []
    progress = {key: (done, total) for key, _, done, total in session.scheduler.progress()}
    assert progress[codes[0]] == (2, 2) and progress[codes[1]] == (1, 1)


def test_training_documents_carry_the_watermark(session: TrainingSession, ctx: AppContext,
                                                station: StationInfo,
                                                clerk: ClerkInfo) -> None:
    training = _receive(session.ctx, _trainee(session.ctx), 0)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(training.slip_pdf)).pages)
    assert TRAINING_MARK in text
    assert training.slip_pdf == session.ctx.blobs.read_bytes(training.slip_sha256)
    real = _receive(ctx, clerk, 0)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(real.slip_pdf)).pages)
    assert "TẬP HUẤN" not in text


@pytest.mark.nodb
def test_the_citizens_sheet_scans_as_id_cards() -> None:
    pdf = render_citizen_sheet()
    assert TRAINING_MARK in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    image = pdfium.PdfDocument(pdf)[0].render(scale=200 / 72, grayscale=True).to_pil()
    decoded = {d.text for d in decode_qr(image)}
    assert decoded == {c.payload for c in CITIZENS}
    for citizen in CITIZENS:
        card = parse_citizen_qr(citizen.payload)
        assert card == citizen.card and card.id_number.startswith("000")
        assert card.consistency_warnings() == []


def test_reset_wipes_and_seeds_again(session: TrainingSession) -> None:
    code = _receive(session.ctx, _trainee(session.ctx), 0).code
    session.paths.checklist.write_text('{"intake_scan": true}', encoding="utf-8")
    fresh = reset_training(session, ticker=False)
    try:
        with fresh.ctx.db.read() as s:
            codes = list(s.scalars(select(Dossier.code)))
        assert code not in codes and len(codes) == 2  # the two seeded late dossiers
        assert not fresh.paths.checklist.exists()
        assert _trainee(fresh.ctx).username == ACCOUNTS[0].username
    finally:
        session.ctx = fresh.ctx  # the fixture closes what is open now
        session.province = fresh.province


@pytest.mark.nodb
def test_the_training_folder_stays_apart(tmp_path: Path) -> None:
    station = tmp_path / "MotCuaOffline"
    station.mkdir()
    assert tpaths.training_root(station) == tmp_path / "MotCuaOffline-TapHuan"
    for inside in (station, station / "training", tmp_path):
        with pytest.raises(TrainingRefused):
            tpaths.check_apart(inside, station)
    other = tmp_path / "someone-elses"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(TrainingRefused):
        tpaths.check_apart(other, station)
    with pytest.raises(TrainingRefused):
        tpaths.wipe(tpaths.TrainingPaths(other))
    assert (other / "keep.txt").exists()


@pytest.mark.nodb
def test_schedule_files_are_checked() -> None:
    default = default_schedule()
    assert parse_schedule(default.to_json()) == default
    with pytest.raises(ScheduleError):
        parse_schedule('{"plans": [{"name": "x", "steps": [{"after_minutes": 1, '
                       '"status": 10}]}]}')
    with pytest.raises(ScheduleError):
        parse_schedule('{"plans": [{"steps": [{"after_minutes": 5, "status": 4}, '
                       '{"after_minutes": 1, "status": 9}]}]}')
    one = Schedule("t", (Plan("p", (Step(0, 9),)),))
    assert parse_schedule(one.to_json()).plans[0].steps[0].status == 9
