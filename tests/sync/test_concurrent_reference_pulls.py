"""Counters of one commune on one PostgreSQL server at the same moment: their first sync
pulls the same catalog, calendar and clerks, and two new PCs may claim the same digit.
Nothing crashes, the reference data is there once, exactly one PC gets the digit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from desktop_app.accounts import AccountService, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext, open_context
from desktop_app.domain.errors import DomainError
from desktop_app.intake.service import IntakeService
from desktop_app.station import StationService
from desktop_app.sync.client import GatewayClient
from desktop_app.sync.pull import Puller
from desktop_app.sync.service import SyncService
from local_db.models import (
    AppointmentChange,
    CalendarOverrideRow,
    Clerk,
    Dossier,
    Procedure,
    ProcedureComponent,
    ProcedureFee,
    Station,
    SyncState,
)
from provincial_gateway.refdata import get_catalog, set_calendar_day, upsert_clerk
from provincial_gateway.server import GatewayServer
from tests.support.gateway_fixtures import AGENCY, add_station

from ..conftest import TEST_STATION
from ..test_intake import TEST_CATALOG, complete_draft

CLOCK = datetime(2023, 10, 27, 9, 32)


class MeetingClient(GatewayClient):
    """The real client; after each answer it waits for the other station's, so both
    hold the whole body before either writes it (the widest race there is)."""

    def __init__(self, base: GatewayClient, barrier: threading.Barrier) -> None:
        self.__dict__.update(base.__dict__)
        self.barrier = barrier
        self.met: set[str] = set()

    def _meet(self, what: str) -> None:
        if what not in self.met:  # the first call of each kind only
            self.met.add(what)
            self.barrier.wait(timeout=30)

    def fetch(self, *args: Any, **kwargs: Any) -> Any:
        fetched = super().fetch(*args, **kwargs)
        self._meet(f"fetch {args[0]}")
        return fetched

    def changes(self, since: int, limit: int = 200) -> Any:
        body = super().changes(since, limit)
        self._meet("changes")
        return body


def _counter(tmp_path: Path, name: str, pg_url: str, digit: int,
             gateway: GatewayServer) -> AppContext:
    ctx = open_context(tmp_path / name, db_url=pg_url, clock=FixedClock(CLOCK))
    StationService(ctx).save(replace(TEST_STATION, station_digit=digit,
                                     gateway_url=gateway.url))
    SyncService(ctx).set_token(add_station(gateway, digit=digit))
    return ctx


def _together(contexts: list[AppContext], work: Callable[[AppContext], object]
              ) -> tuple[list[object], list[BaseException]]:
    results: list[object] = []
    errors: list[BaseException] = []

    def run(ctx: AppContext) -> None:
        try:
            results.append(work(ctx))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in contexts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_first_sync_of_two_counters_pulls_reference_data_once(
        tmp_path: Path, pg_url: str, gateway: GatewayServer) -> None:
    set_calendar_day(gateway.state, "2023-11-20", "off", "Nghỉ bù Ngày Nhà giáo")
    upsert_clerk(gateway.state, AGENCY, "lan", "Nguyễn Thị Lan", "clerk", "x" * 60)
    counters = [_counter(tmp_path, f"pc{d}", pg_url, d, gateway) for d in (1, 2)]
    barrier = threading.Barrier(2)
    try:
        def first_sync(ctx: AppContext) -> tuple[bool, bool, int]:
            puller = Puller(ctx, MeetingClient(SyncService(ctx).client(), barrier))
            return (puller.pull_catalog(), puller.pull_calendar(), puller.pull_clerks())

        results, errors = _together(counters, first_sync)
        assert errors == []
        # Both fetched the whole body; the second applies it after the first, finding
        # the clerk already there.
        assert sorted(results) == [(True, True, 0), (True, True, 1)]

        catalog = get_catalog(gateway.state)
        assert catalog is not None
        procedures = catalog["procedures"]
        with counters[0].db.read() as s:
            assert s.scalar(select(func.count()).select_from(Procedure)) == len(procedures)
            assert s.scalar(select(func.count()).select_from(ProcedureComponent)) == sum(
                len(p["components"]) for p in procedures)
            assert s.scalar(select(func.count()).select_from(ProcedureFee)) == sum(
                len(p.get("fees", [])) for p in procedures)
            assert [(o.day.isoformat(), o.kind) for o in s.scalars(
                select(CalendarOverrideRow))] == [("2023-11-20", "off")]
            assert s.scalars(select(Clerk.username)).all() == ["lan"]
            keys = set(s.scalars(select(SyncState.key)))
            assert {"catalog_etag", "calendar_etag", "clerks_etag"} <= keys
    finally:
        for c in counters:
            c.close()


def test_two_counters_apply_the_change_feed_once(tmp_path: Path, pg_url: str,
                                                gateway: GatewayServer) -> None:
    """The province extends a dossier's appointment; both counters read the same page of
    the agency's feed at once: the extension is recorded once, not twice."""
    counters = [_counter(tmp_path, f"pc{d}", pg_url, d, gateway) for d in (1, 2)]
    one = counters[0]
    try:
        CatalogService(one).import_data(TEST_CATALOG)
        clerk = AccountService(one).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                                 Role.CLERK)
        intake = IntakeService(one)
        code = str(intake.receive(complete_draft(intake), clerk).code)
        assert SyncService(one).engine().run_once(pull=False).dossiers_sent == 1
        gateway.set_status(code, 5, note="Gia hạn", new_appointment="20231110170000")
        barrier = threading.Barrier(2)

        def pull(ctx: AppContext) -> int:
            return Puller(ctx, MeetingClient(SyncService(ctx).client(), barrier)
                          ).pull_changes()

        results, errors = _together(counters, pull)
        assert errors == []
        assert sorted(results) == [0, 1]
        with one.db.read() as s:
            assert s.scalar(select(func.count()).select_from(AppointmentChange)) == 1
            dossier = s.scalars(select(Dossier)).one()
            assert dossier.current_appointment_at == datetime(2023, 11, 10, 17, 0)
    finally:
        for c in counters:
            c.close()


@pytest.mark.parametrize("digit", [3, 4, 5])
def test_two_new_pcs_claiming_one_digit_at_once(tmp_path: Path, pg_url: str,
                                                digit: int) -> None:
    pcs = [open_context(tmp_path / f"new{i}", db_url=pg_url, clock=FixedClock(CLOCK))
           for i in (1, 2)]
    barrier = threading.Barrier(2)
    try:
        def claim(ctx: AppContext) -> int:
            barrier.wait(timeout=30)
            return StationService(ctx).save(
                replace(TEST_STATION, station_digit=digit)).station_digit

        results, errors = _together(pcs, claim)
        assert results == [digit]
        assert len(errors) == 1 and isinstance(errors[0], DomainError)
        assert f"Số hiệu quầy {digit}" in errors[0].message_vi
        with pcs[0].db.read() as s:
            assert s.scalars(select(Station.station_digit)).all() == [digit]
    finally:
        for c in pcs:
            c.close()
