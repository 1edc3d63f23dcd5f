"""Several counters of one commune on one PostgreSQL database: their own digits keep codes
unique, and the shared outbox is sent once, whichever station's worker takes each item."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop_app.accounts import AccountService, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext, open_context
from desktop_app.domain.errors import DomainError
from desktop_app.intake.service import IntakeService
from desktop_app.station import StationService
from desktop_app.sync.service import SyncService
from local_db import outbox
from local_db.models import OutboxEntry
from provincial_gateway.server import GatewayServer
from tests.support.gateway_fixtures import add_station

from ..conftest import TEST_STATION
from ..test_intake import TEST_CATALOG, complete_draft
from .test_sync_engine import gateway_dossiers


def _counter(tmp_path: Path, name: str, pg_url: str, digit: int,
             gateway: GatewayServer) -> AppContext:
    ctx = open_context(tmp_path / name, db_url=pg_url,
                       clock=FixedClock(datetime(2023, 10, 27, 9, 32)))
    StationService(ctx).save(replace(TEST_STATION, station_digit=digit,
                                     gateway_url=gateway.url))
    SyncService(ctx).set_token(add_station(gateway, digit=digit))
    return ctx


def test_two_counters_on_one_database(tmp_path: Path, pg_url: str,
                                      gateway: GatewayServer) -> None:
    one = _counter(tmp_path, "pc1", pg_url, 1, gateway)
    two = _counter(tmp_path, "pc2", pg_url, 2, gateway)
    try:
        with pytest.raises(DomainError, match="quầy 1 đã được máy"):
            StationService(two).save(replace(StationService(two).require(), station_digit=1))
        assert StationService(one).require().station_digit == 1
        assert StationService(two).require().station_digit == 2
        CatalogService(one).import_data(TEST_CATALOG)
        clerk = AccountService(one).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                                 Role.CLERK)
        codes: list[str] = []
        errors: list[BaseException] = []

        def receive(ctx: AppContext) -> None:
            try:
                intake = IntakeService(ctx)
                for _ in range(6):
                    codes.append(str(intake.receive(complete_draft(intake), clerk).code))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=receive, args=(c,)) for c in (one, two)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(codes) == [f"000.00.12.H12-231027-{d}00{n}" for d in (1, 2)
                                 for n in range(1, 7)]

        # Both workers drain the shared queue at the same time: each item goes once.
        reports = []

        def drain(ctx: AppContext) -> None:
            try:
                reports.append(SyncService(ctx).engine().run_once(pull=False))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=drain, args=(c,)) for c in (one, two)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        SyncService(one).retry()
        SyncService(one).engine().run_once(pull=False)  # whatever a lease held back
        assert sum(r.dossiers_sent for r in reports) <= 12
        assert sorted(d["code"] for d in gateway_dossiers(gateway)) == sorted(codes)
        with one.db.read() as s:
            assert s.scalar(select(func.count()).select_from(OutboxEntry)
                            .where(OutboxEntry.state != outbox.SENT)) == 0
    finally:
        one.close()
        two.close()
