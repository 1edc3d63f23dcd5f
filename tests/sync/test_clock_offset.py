"""This PC's clock against the gateway's (the Date header of its answers): measured on
every contact with the real loopback gateway, kept per PC, read by the intake (a warning
before Receive, not a block) and by the doctor while the gateway is away."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from desktop_app.accounts import ClerkInfo
from desktop_app.clock import VN_TZ, FixedClock
from desktop_app.context import AppContext
from desktop_app.intake.service import IntakeService
from desktop_app.station import StationService
from desktop_app.sync.clock_offset import duration_vi, last_offset
from desktop_app.sync.service import SyncService
from provincial_gateway.server import GatewayServer
from tests.conftest import TEST_STATION
from tests.test_intake import complete_draft, intake  # noqa: F401


def real_now() -> datetime:
    return datetime.now(VN_TZ).replace(tzinfo=None, microsecond=0)


def test_every_contact_measures_the_clock_and_the_intake_warns(
        ctx: AppContext, clock: FixedClock, gateway: GatewayServer, station_token: str,
        intake: IntakeService, clerk: ClerkInfo) -> None:  # noqa: F811
    StationService(ctx).save(replace(TEST_STATION, gateway_url=gateway.url))
    service = SyncService(ctx)
    service.set_token(station_token)
    clock.set(real_now() + timedelta(days=3, minutes=7))  # a PC three days ahead
    assert last_offset(ctx) is None and intake.clock_warning() == ""  # never measured

    report = service.engine().run_once()
    assert report.online
    known = last_offset(ctx)
    assert known is not None and abs(known.offset_s - (3 * 86400 + 7 * 60)) < 5
    assert known.measured_at.date() == clock.now().date()
    warning = intake.clock_warning()
    assert warning.startswith("Đồng hồ máy này nhanh 3 ngày 7 phút so với giờ của hệ thống")
    assert "gọi kỹ thuật viên" in warning
    # A warning, not a block: the dossier is received (and the log says with what clock).
    outcome = intake.receive(complete_draft(intake), clerk)
    assert outcome.code

    # The clock corrected: the next answer of the gateway (a new client) says so.
    clock.set(real_now() - timedelta(minutes=4))  # within 5 minutes: no warning
    client = service.client()
    try:
        client.health()
    finally:
        client.close()
    known = last_offset(ctx)
    assert known is not None and -250 < known.offset_s < -230
    assert intake.clock_warning() == ""
    clock.set(real_now() - timedelta(minutes=20))
    client = service.client()
    try:
        client.changes(since=0, limit=1)  # any request: the health probe is not special
    finally:
        client.close()
    assert "chậm 20 phút" in intake.clock_warning()


def test_durations_read_as_people_say_them() -> None:
    assert duration_vi(42) == "42 giây"
    assert duration_vi(-20 * 60) == "20 phút"
    assert duration_vi(3 * 86400 + 2 * 3600 + 5 * 60 + 20) == "3 ngày 2 giờ 5 phút"
    assert duration_vi(19 * 60 + 58) == "20 phút"
    assert duration_vi(86400) == "1 ngày"
