"""Each sync run tells the real loopback gateway how the station is (its heartbeat), the
gateway keeps the latest per station, and a gateway without the feature never breaks a
sync."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_app import __version__
from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.doctor_verdict import load_verdict, save_verdict
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.fleet_report import build_heartbeat, report_to_fleet
from desktop_app.sync.service import SyncService
from desktop_app.sync.worker import SyncWorker, WorkerState
from local_db.migrate import head_revision
from provincial_gateway.db import StationHeartbeat
from provincial_gateway.server import GatewayServer
from sync_contract import wire

from ..test_intake import TEST_CATALOG
from .test_sync_engine import receive


def configure(ctx: AppContext, station: StationInfo, gateway: GatewayServer,
              token: str) -> SyncService:
    StationService(ctx).save(replace(station, gateway_url=gateway.url))
    service = SyncService(ctx)
    service.set_token(token)
    CatalogService(ctx).import_data(TEST_CATALOG)
    return service


def beats(gateway: GatewayServer) -> list[StationHeartbeat]:
    with gateway.sessions() as s:
        return list(s.scalars(select(StationHeartbeat)))


def test_each_sync_sends_a_heartbeat_and_the_gateway_keeps_the_latest(
        ctx: AppContext, station: StationInfo, clerk: ClerkInfo, gateway: GatewayServer,
        station_token: str) -> None:
    service = configure(ctx, station, gateway, station_token)
    save_verdict(ctx.paths.root, "fail", ["database_writable", "clock"], ["printers"],
                 "2023-10-27 09:00:00")
    report = service.engine().run_once()
    assert report.online and not report.errors

    [beat] = beats(gateway)
    assert beat.beats == 1
    assert beat.app_version == __version__
    assert beat.schema_revision == head_revision()
    assert (beat.queue_size, beat.queue_refused, beat.oldest_unsynced_s) == (0, 0, None)
    assert beat.free_disk_bytes is not None and beat.free_disk_bytes > 0
    assert (beat.doctor_status, beat.doctor_failing, beat.doctor_warnings) == (
        "fail", "database_writable,clock", "printers")
    assert beat.install_id == ctx.paths.install_id() and len(beat.install_id) == 36
    assert beat.platform and "Python" in beat.platform
    # The test clock stands in 2023: the PC is years behind the gateway, and says so.
    assert beat.clock_offset_s is not None and beat.clock_offset_s < -86400
    first_seen = beat.last_seen

    # A dossier the gateway will not take now (503): the next heartbeat counts it.
    receive(ctx, clerk)
    gateway.faults.add("status_5xx", path="/dossiers/")
    save_verdict(ctx.paths.root, "ok", [], [], "2023-10-27 09:30:00")
    report = service.engine().run_once()
    assert report.online and report.retry_later >= 1

    [beat] = beats(gateway)  # still one row: the latest only
    assert beat.beats == 2 and beat.last_seen >= first_seen
    assert beat.queue_size >= 1 and beat.oldest_unsynced_s is not None
    assert (beat.doctor_status, beat.doctor_failing) == ("ok", "")


def test_sync_once_command_sends_it(ctx: AppContext, station: StationInfo,
                                    gateway: GatewayServer, station_token: str,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_app.cli import main

    configure(ctx, station, gateway, station_token)
    monkeypatch.setenv("MOTCUA_DB_URL", str(ctx.db.engine.url))
    assert main(["sync", "--once", "--json", "--data-dir", str(ctx.paths.root)]) == 0
    capsys.readouterr()
    [beat] = beats(gateway)
    assert beat.app_version == __version__ and beat.doctor_status == ""  # doctor never ran


def test_the_background_worker_sends_it(ctx: AppContext, station: StationInfo,
                                        gateway: GatewayServer, station_token: str) -> None:
    """The GUI's background sync (`SyncWorker`) goes through the same engine."""
    service = configure(ctx, station, gateway, station_token)
    states: list[WorkerState] = []
    worker = SyncWorker(service, interval_s=60.0, poll_s=0.2, listener=states.append)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while not beats(gateway) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    [beat] = beats(gateway)
    assert beat.beats >= 1 and beat.install_id == ctx.paths.install_id()


def test_a_gateway_without_heartbeats_never_hears_one_and_the_sync_goes_on(
        ctx: AppContext, station: StationInfo, clerk: ClerkInfo,
        gateway_factory: object) -> None:
    old: GatewayServer = gateway_factory(accept_heartbeats=False)  # type: ignore[operator]
    token = old.add_station(station.agency_code, station.station_digit, "Quầy 1")
    service = configure(ctx, station, old, token)
    receive(ctx, clerk)
    report = service.engine().run_once()
    assert report.online and not report.errors and report.dossiers_sent == 1
    assert beats(old) == []
    assert service.status().pending == 0

    # Even when told the feature is there (a proxy in front of an older gateway), the 404
    # is quiet: False, no exception.
    client = service.client()
    try:
        health = client.health()
        assert wire.FEATURE_HEARTBEAT not in health.features
        told = health.model_copy(update={"features": [wire.FEATURE_HEARTBEAT]})
        assert report_to_fleet(ctx, client, told) is False
    finally:
        client.close()
    assert beats(old) == []


def test_a_failing_heartbeat_does_not_fail_the_sync(
        ctx: AppContext, station: StationInfo, clerk: ClerkInfo, gateway: GatewayServer,
        station_token: str) -> None:
    service = configure(ctx, station, gateway, station_token)
    receive(ctx, clerk)
    for kind in ("status_5xx", "drop_before", "captive_portal"):
        gateway.faults.add(kind, path="/station/heartbeat$", times=1)
        report = service.engine().run_once()
        assert report.online and not report.errors and not report.auth_failed, kind
        # Only the gateway's acknowledgement counts as taken (a portal's 200 page does not).
        gateway.faults.add(kind, path="/station/heartbeat$", times=1)
        client = service.client()
        try:
            assert report_to_fleet(ctx, client, client.health()) is False, kind
        finally:
            client.close()
    assert service.status().pending == 0  # the dossier went on the first run
    assert beats(gateway) == []  # no heartbeat got through
    client = service.client()
    try:
        assert report_to_fleet(ctx, client, client.health()) is True
    finally:
        client.close()
    assert len(beats(gateway)) == 1


def test_the_heartbeat_names_no_one(ctx: AppContext, station: StationInfo,
                                    clerk: ClerkInfo, gateway: GatewayServer,
                                    station_token: str) -> None:
    """Counts, sizes, versions and ids only: nothing of the citizen, the clerk or the
    machine's name."""
    import socket

    configure(ctx, station, gateway, station_token)
    receive(ctx, clerk)
    body = build_heartbeat(ctx)
    wire.StationHeartbeat.model_validate(body)  # what the gateway accepts
    text = json.dumps(body, ensure_ascii=False)
    for secret in (clerk.username, clerk.full_name, "Nguyễn", socket.gethostname(),
                   str(ctx.paths.root)):
        assert secret not in text, secret
    assert body["queue_size"] >= 1 and body["station_digit"] == station.station_digit


def test_the_doctor_leaves_its_verdict_for_the_sync(ctx: AppContext, station: StationInfo,
                                                    tmp_path: Path) -> None:
    from desktop_app.setup.doctor import run_doctor

    assert load_verdict(ctx.paths.root) is None
    report = run_doctor(ctx.paths.root, str(ctx.db.url), probe_deadline_s=0.5,
                        device_deadline_s=0.5)
    verdict = load_verdict(ctx.paths.root)
    assert verdict is not None and verdict.status == report.status
    assert set(verdict.failing) == {c.id for c in report.checks if c.status == "fail"}
    assert set(verdict.warnings) == {c.id for c in report.checks if c.status == "warn"}
    # The doctor creates no data directory for it.
    run_doctor(tmp_path / "none", probe_deadline_s=0.5, device_deadline_s=0.5)
    assert not (tmp_path / "none").exists()
