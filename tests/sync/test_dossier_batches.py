"""The station sends queued dossiers in batches (contract 1.1) against the real gateway
over loopback, on the station database of the run (SQLite, or PostgreSQL under
MOTCUA_TEST_DB=postgresql): per-item results onto the outbox, the fallback to one PUT per
dossier against a gateway of contract 1.0, cuts mid-batch, and leases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.client import GatewayClient, encode_dossier
from desktop_app.sync.engine import SyncEngine
from desktop_app.sync.service import SyncService
from local_db import outbox
from local_db.models import AuditEntry, OutboxEntry
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.fault_proxy import FaultProxy, LinkProfile
from tests.support.gateway_fixtures import add_station

from ..test_intake import TEST_CATALOG
from .test_sync_engine import gateway_dossiers, receive

AGENCY = "000.00.12.H12"


def configure(ctx: AppContext, station: StationInfo, gw: GatewayServer, token: str
              ) -> SyncService:
    StationService(ctx).save(replace(station, gateway_url=gw.url))
    service = SyncService(ctx)
    service.set_token(token)
    CatalogService(ctx).import_data(TEST_CATALOG)
    return service


@pytest.fixture
def synced(ctx: AppContext, station: StationInfo, gateway: GatewayServer,
           station_token: str) -> SyncService:
    return configure(ctx, station, gateway, station_token)


def recording(client: GatewayClient) -> list[str]:
    """Every request the client sends, as "METHOD path" (the real requests still go)."""
    sent: list[str] = []
    send = client.session.send

    def hooked(request: Any, **kwargs: Any) -> Any:
        sent.append(f"{request.method} {request.path_url.split('?')[0]}")
        return send(request, **kwargs)

    client.session.send = hooked  # type: ignore[method-assign]
    return sent


def engine_at(service: SyncService, url: str | None = None, **kwargs: Any
              ) -> tuple[SyncEngine, list[str]]:
    client = service.client()
    if url is not None:
        client = GatewayClient(url, service.tokens().get())
    return service.engine(client, **kwargs), recording(client)


def entries(ctx: AppContext) -> dict[str, OutboxEntry]:
    with ctx.db.read() as s:
        rows = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "dossier")
                         .order_by(OutboxEntry.id)).all()
        s.expunge_all()
    return {e.entity_id: e for e in rows}


def payload(ctx: AppContext, uuid: str) -> dict[str, Any]:
    return dict(entries(ctx)[uuid].payload)


def set_payload(ctx: AppContext, uuid: str, doc: dict[str, Any]) -> None:
    with ctx.db.write() as s:
        entry = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_id == uuid)).one()
        entry.payload = doc


def batch_posts(sent: list[str]) -> int:
    return sent.count(f"POST {wire.DOSSIER_BATCH}")


def dossier_puts(sent: list[str]) -> int:
    return sum(1 for r in sent if r.startswith("PUT ") and "/dossiers/" in r)


def test_mixed_batch_maps_each_result_onto_its_entry(
        ctx: AppContext, clerk: ClerkInfo, synced: SyncService, gateway: GatewayServer
) -> None:
    direct = GatewayClient(gateway.url, synced.tokens().get())
    new = receive(ctx, clerk)
    unchanged = receive(ctx, clerk)
    direct.put_dossier(payload(ctx, unchanged))  # reached the province earlier
    stale = receive(ctx, clerk)
    direct.put_dossier({**payload(ctx, stale), "PhienBan": 2})  # a newer revision is there
    theirs = receive(ctx, clerk)  # its UUID is another counter's dossier at the province
    other = GatewayClient(gateway.url, add_station(gateway, digit=2, name="Quầy 2"))
    other.put_dossier({**payload(ctx, theirs), "MaHoSo": f"{AGENCY}-231027-2001"})
    invalid = receive(ctx, clerk)
    set_payload(ctx, invalid, {**payload(ctx, invalid), "NgayTiepNhan": "20231327093200"})
    conflict = receive(ctx, clerk)
    direct.put_dossier({**payload(ctx, conflict), "GhiChu": "bản khác cùng phiên bản"})

    engine, sent = engine_at(synced)
    report = engine.run_once(pull=False)

    assert batch_posts(sent) == 1 and dossier_puts(sent) == 0
    assert (report.dossiers_sent, report.refused, report.retry_later) == (3, 3, 0)
    rows = entries(ctx)
    assert {u: (rows[u].state, rows[u].response.get("result")) for u in (new, unchanged, stale)
            } == {new: ("sent", "created"), unchanged: ("sent", "unchanged"),
                  stale: ("sent", "stale")}
    assert rows[stale].response["revision"] == 2
    refused = {u: (rows[u].state, rows[u].response["status"], rows[u].response["code"])
               for u in (theirs, invalid, conflict)}
    assert refused == {theirs: ("refused", 403, wire.E_NOT_OWNER),
                       invalid: ("refused", 422, wire.E_INVALID),
                       conflict: ("refused", 409, wire.E_CONFLICT)}
    assert "quầy khác" in rows[theirs].last_error and "lãnh đạo" in rows[conflict].last_error
    with ctx.db.read() as s:
        audit = {(a.action, a.entity_id) for a in s.scalars(select(AuditEntry))}
    assert {("dossier_synced", u) for u in (new, unchanged, stale)} <= audit
    assert {("sync_refused", u) for u in (theirs, invalid, conflict)} <= audit
    # Nothing is left to send: the refused wait for a supervisor, not for the next run.
    again, sent = engine_at(synced)
    assert again.run_once(pull=False).dossiers_sent == 0 and sent.count(
        f"POST {wire.DOSSIER_BATCH}") == 0


def test_batches_are_sized_by_count(ctx: AppContext, clerk: ClerkInfo, synced: SyncService,
                                    gateway: GatewayServer) -> None:
    uuids = [receive(ctx, clerk) for _ in range(7)]
    engine, sent = engine_at(synced, batch_items=3)
    report = engine.run_once(pull=False)
    assert report.dossiers_sent == 7 and batch_posts(sent) == 3
    assert sorted(d["client_id"] for d in gateway_dossiers(gateway)) == sorted(uuids)
    assert {e.state for e in entries(ctx).values()} == {"sent"}


def test_a_station_that_does_not_batch_works_against_a_1_1_gateway(
        ctx: AppContext, clerk: ClerkInfo, synced: SyncService,
        gateway: GatewayServer) -> None:
    uuids = [receive(ctx, clerk) for _ in range(3)]
    engine, sent = engine_at(synced, batch_items=0)  # as a station older than 1.1
    assert engine.run_once(pull=False).dossiers_sent == 3
    assert batch_posts(sent) == 0 and dossier_puts(sent) == 3
    assert sorted(d["client_id"] for d in gateway_dossiers(gateway)) == sorted(uuids)


def test_gateway_of_contract_1_0_gets_one_put_per_dossier(
        ctx: AppContext, clerk: ClerkInfo, station: StationInfo,
        gateway_factory: Callable[..., GatewayServer]) -> None:
    old = gateway_factory(contract_minor=0)
    service = configure(ctx, station, old, add_station(old))
    uuids = [receive(ctx, clerk) for _ in range(3)]
    engine, sent = engine_at(service)
    report = engine.run_once(pull=False)
    assert report.dossiers_sent == 3 and not report.errors
    assert batch_posts(sent) == 0 and dossier_puts(sent) == 3
    assert sorted(d["client_id"] for d in gateway_dossiers(old)) == sorted(uuids)
    assert {e.response["result"] for e in entries(ctx).values()} == {"created"}


def test_a_batch_the_gateway_refuses_as_a_whole_goes_one_put_each(
        ctx: AppContext, clerk: ClerkInfo, synced: SyncService,
        gateway: GatewayServer) -> None:
    uuids = [receive(ctx, clerk) for _ in range(3)]
    engine, sent = engine_at(synced)
    announced = engine.client.health

    def health(*args: Any, **kwargs: Any) -> wire.Health:
        # The province lowers its cap between /health and the batch: 413 for the batch.
        answer = announced(*args, **kwargs)
        gateway.state.config.max_batch_items = 1
        return answer

    engine.client.health = health  # type: ignore[method-assign]
    report = engine.run_once(pull=False)
    assert report.dossiers_sent == 3 and report.refused == 0
    assert batch_posts(sent) == 1 and dossier_puts(sent) == 3
    assert sorted(d["client_id"] for d in gateway_dossiers(gateway)) == sorted(uuids)


def test_a_cut_mid_batch_resends_that_batch_only_and_stores_each_once(
        ctx: AppContext, clerk: ClerkInfo, synced: SyncService,
        gateway: GatewayServer) -> None:
    uuids = [receive(ctx, clerk) for _ in range(12)]
    sizes = [len(encode_dossier(payload(ctx, u))) for u in uuids]
    first_batch, second_batch = sum(sizes[:4]), sum(sizes[4:8])
    host, port = gateway.url.removeprefix("http://").split(":")
    with FaultProxy(host, int(port)) as proxy:
        # Request headers are well under 2 KB each: the cut falls inside the second batch.
        proxy.set_profile(LinkProfile(
            cut_after_bytes_up=first_batch + second_batch // 2 + 2_000))
        engine, _ = engine_at(synced, proxy.url_for(), batch_items=4)
        first = engine.run_once(pull=False)
        assert proxy.cuts >= 1 and first.errors
        assert first.dossiers_sent == 4  # the first batch, answered before the cut
        rows = entries(ctx)
        # The cut batch is free again at once, without an attempt counted against it.
        assert [rows[u].state for u in uuids[4:]] == ["pending"] * 8
        assert {rows[u].attempts for u in uuids[4:]} == {0}
        assert {rows[u].leased_by for u in uuids[4:]} == {""}
        proxy.set_profile(LinkProfile())
        proxy.reset_counters()
        synced.retry()
        engine, sent = engine_at(synced, proxy.url_for(), batch_items=4)
        second = engine.run_once(pull=False)
        resent_up = proxy.counters().bytes_up
    assert second.dossiers_sent == 8 and batch_posts(sent) == 2
    assert resent_up < sum(sizes[4:]) + 4_000  # the cut batch and the one after, once each
    stored = [d["client_id"] for d in gateway_dossiers(gateway)]
    assert sorted(stored) == sorted(uuids)  # each dossier once
    assert {e.response["result"] for e in entries(ctx).values()} == {"created"}


def test_an_answer_lost_after_the_batch_was_stored_is_acknowledged_on_resend(
        ctx: AppContext, clerk: ClerkInfo, synced: SyncService,
        gateway: GatewayServer) -> None:
    uuids = [receive(ctx, clerk) for _ in range(5)]
    gateway.faults.add("drop_after", path=wire.DOSSIER_BATCH, times=1)
    engine, _ = engine_at(synced)
    assert engine.run_once(pull=False).dossiers_sent == 0
    assert len(gateway_dossiers(gateway)) == 5  # committed there, answer lost here
    synced.retry()
    engine, sent = engine_at(synced)
    assert engine.run_once(pull=False).dossiers_sent == 5 and batch_posts(sent) == 1
    assert {e.response["result"] for e in entries(ctx).values()} == {"unchanged"}
    assert sorted(d["client_id"] for d in gateway_dossiers(gateway)) == sorted(uuids)


def test_only_claimed_items_go_into_a_batch(ctx: AppContext, clerk: ClerkInfo,
                                            synced: SyncService, gateway: GatewayServer,
                                            clock: FixedClock) -> None:
    uuids = [receive(ctx, clerk) for _ in range(5)]
    held = uuids[1:3]
    rows = entries(ctx)
    with ctx.db.write() as s:  # another counter on the same database is sending these
        for u in held:
            assert outbox.claim(s, rows[u].id, "quay-2@other-pc#4242-1", clock.now(), 15.0)
    engine, sent = engine_at(synced)
    assert engine.run_once(pull=False).dossiers_sent == 3 and batch_posts(sent) == 1
    rows = entries(ctx)
    assert [rows[u].state for u in held] == ["pending", "pending"]
    assert {rows[u].leased_by for u in held} == {"quay-2@other-pc#4242-1"}
    assert {d["client_id"] for d in gateway_dossiers(gateway)} == set(uuids) - set(held)
    clock.set(clock.now() + timedelta(seconds=16))  # that counter died: its leases ran out
    engine, _ = engine_at(synced)
    assert engine.run_once(pull=False).dossiers_sent == 2
    assert sorted(d["client_id"] for d in gateway_dossiers(gateway)) == sorted(uuids)
