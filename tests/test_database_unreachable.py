"""The commune's PostgreSQL server goes away in the middle of the day (restarted, switched
off, the LAN cut): a receive says so in Vietnamese, naming the server, and leaves nothing
half-written; once the link is back the same draft is received with the first number."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from desktop_app.accounts import AccountService, Role
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import DatabaseUnreachable
from desktop_app.intake.service import IntakeService
from desktop_app.startup import open_station
from desktop_app.station import StationService
from local_db.models import DailyCounter, Dossier, OutboxEntry
from tests.support.fault_proxy import FaultProxy, LinkProfile

from .conftest import TEST_STATION
from .test_intake import TEST_CATALOG, complete_draft


def test_receive_while_the_server_is_unreachable(tmp_path: Path, pg_url: str) -> None:
    url = make_url(pg_url)
    with FaultProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        ctx = open_station(tmp_path / "data", db_url=proxied.render_as_string(False),
                           clock=FixedClock(datetime(2023, 10, 27, 9, 32)))
        try:
            StationService(ctx).save(replace(TEST_STATION, station_digit=1))
            CatalogService(ctx).import_data(TEST_CATALOG)
            clerk = AccountService(ctx).create_clerk("huong", "Triệu Thị Hương",
                                                     "mat-khau-1", Role.CLERK)
            intake = IntakeService(ctx)
            draft = complete_draft(intake)

            proxy.set_profile(LinkProfile(offline=True))
            with pytest.raises(DatabaseUnreachable) as err:
                intake.receive(draft, clerk)
            assert err.value.message_vi.startswith(
                f"Không kết nối được máy chủ dữ liệu của xã (127.0.0.1:{proxy.port}).")
            assert "Tiếp nhận lại" in err.value.message_vi
            assert err.value.detail.startswith(
                f"database server 127.0.0.1:{proxy.port} unreachable: OperationalError")
            assert str(url.password or "@@") not in err.value.detail

            proxy.set_profile(LinkProfile())
            with ctx.db.read() as s:
                assert s.scalar(select(func.count()).select_from(Dossier)) == 0
                assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 0
                assert s.scalar(select(func.count()).select_from(DailyCounter)) == 0
            out = intake.receive(draft, clerk)  # the clerk presses Receive again
            assert str(out.code).endswith("-1001")
        finally:
            ctx.close()


def test_a_refused_connection_names_the_server(tmp_path: Path, pg_url: str) -> None:
    url = make_url(pg_url)
    with FaultProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        ctx = open_station(tmp_path / "data", db_url=proxied,
                           clock=FixedClock(datetime(2023, 10, 27, 9, 32)))
    # The proxy is gone: its port is closed, as when the server PC is switched off.
    try:
        with pytest.raises(DatabaseUnreachable, match=f"127.0.0.1:{proxy.port}"):
            CatalogService(ctx).count()
    finally:
        ctx.close()
