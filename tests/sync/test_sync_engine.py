"""The station's sync against the real provincial gateway over loopback HTTP (no mocks),
through a TCP fault proxy where the link has to misbehave."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService, DigitizedFile
from desktop_app.domain.errors import DomainError
from desktop_app.intake.service import IntakeService
from desktop_app.scanning.model import ColourMode, OutputPart
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.client import GatewayClient
from desktop_app.sync.engine import SyncEngine
from desktop_app.sync.service import SyncService
from local_db import outbox
from local_db.models import AuditEntry, Dossier, OutboxEntry
from provincial_gateway.server import GatewayServer, free_port
from tests.support.fault_proxy import FaultProxy, LinkProfile
from tests.support.gateway_fixtures import add_station

from ..test_intake import TEST_CATALOG, complete_draft


@pytest.fixture
def synced_station(ctx: AppContext, station: StationInfo, gateway: GatewayServer,
                   station_token: str) -> SyncService:
    StationService(ctx).save(replace(station, gateway_url=gateway.url))
    service = SyncService(ctx)
    service.set_token(station_token)
    CatalogService(ctx).import_data(TEST_CATALOG)
    return service


def stored_file(ctx: AppContext, tmp_path: Path, size: int = 300_000, seed: int = 1
                ) -> DigitizedFile:
    data = hashlib.sha256(str(seed).encode()).digest() * (size // 32)
    path = tmp_path / f"thanh-phan-{seed}.pdf"
    path.write_bytes(b"%PDF-1.7\n" + data)
    part = OutputPart(path, 1, path.stat().st_size, 1, 1, 300, (ColourMode.GREY,),
                      hashlib.sha256(path.read_bytes()).hexdigest())
    return DigitizationService(ctx).store([part])[0]


def receive(ctx: AppContext, clerk: ClerkInfo, files: list[DigitizedFile] = ()) -> str:
    intake = IntakeService(ctx)
    draft = complete_draft(intake)
    draft.components[0].files = list(files)
    return intake.receive(draft, clerk).dossier_uuid


def gateway_dossiers(gw: GatewayServer) -> list[dict]:
    from provincial_gateway.db import Dossier as GatewayDossier

    with gw.sessions() as s:
        return [{"client_id": r.client_id, "code": r.ma_ho_so, "revision": r.revision}
                for r in s.scalars(select(GatewayDossier).order_by(GatewayDossier.id))]


def gateway_blob(gw: GatewayServer, sha: str) -> bytes:
    return gw.state.blobs.path(sha).read_bytes()


def engine(service: SyncService, url: str | None = None, chunk: int = 64 * 1024,
           token: str | None = None) -> SyncEngine:
    client = service.client()
    if url is not None or token is not None:
        client = GatewayClient(url or client.base_url, token or service.tokens().get())
    return service.engine(client, chunk_size=chunk)


@dataclass(frozen=True)
class Item:
    state: str
    attempts: int
    last_error: str
    response: dict


def open_items(ctx: AppContext) -> list[Item]:
    with ctx.db.read() as s:
        return [Item(e.state, e.attempts, e.last_error, dict(e.response))
                for e in outbox.entries(s)]


def test_dossier_and_its_file_arrive_exactly_once(ctx: AppContext, clerk: ClerkInfo,
                                                  synced_station: SyncService,
                                                  gateway: GatewayServer,
                                                  tmp_path: Path) -> None:
    f = stored_file(ctx, tmp_path)
    uuid = receive(ctx, clerk, [f])
    report = engine(synced_station).run_once()
    assert report.online and not report.errors
    assert (report.files_uploaded, report.dossiers_sent) == (1, 1)
    assert open_items(ctx) == []
    [row] = gateway_dossiers(gateway)
    assert row["client_id"] == uuid
    assert hashlib.sha256(gateway_blob(gateway, f.sha256)).hexdigest() == f.sha256
    with ctx.db.read() as s:
        actions = [a.action for a in s.scalars(select(AuditEntry)
                                               .where(AuditEntry.entity_id == uuid))]
    assert "dossier_synced" in actions

    # Sending the same revision again (e.g. the ack was lost) is acknowledged, not doubled.
    with ctx.db.write() as s:
        sent = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "dossier")).one()
        outbox.retry_now(s, ctx.clock.now())
        s.add(OutboxEntry(entity_type="dossier", entity_id=uuid, operation="received",
                          payload=dict(sent.payload), state="pending", attempts=0,
                          created_at=ctx.clock.now(), next_attempt_at=ctx.clock.now()))
    again = engine(synced_station).run_once()
    assert again.dossiers_sent == 1 and again.files_uploaded == 0
    assert len(gateway_dossiers(gateway)) == 1
    with ctx.db.read() as s:
        last = s.scalars(select(OutboxEntry).order_by(OutboxEntry.id.desc())).first()
        assert last is not None and last.response["result"] == "unchanged"


def test_lost_acknowledgement_then_retry_never_duplicates(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,
        gateway: GatewayServer, tmp_path: Path) -> None:
    uuid = receive(ctx, clerk, [stored_file(ctx, tmp_path)])
    gateway.faults.add("drop_after", path="/dossiers/", times=1)
    first = engine(synced_station).run_once()
    assert first.dossiers_sent == 0 and first.errors  # committed there, answer lost here
    assert len(gateway_dossiers(gateway)) == 1
    synced_station.retry()
    second = engine(synced_station).run_once()
    assert second.dossiers_sent == 1 and open_items(ctx) == []
    assert [d["client_id"] for d in gateway_dossiers(gateway)] == [uuid]


@pytest.mark.parametrize("kind", ["status_5xx", "truncate", "captive_portal"])
def test_only_the_expected_answer_counts(kind: str, ctx: AppContext, clerk: ClerkInfo,
                                         synced_station: SyncService,
                                         gateway: GatewayServer) -> None:
    receive(ctx, clerk)
    gateway.faults.add(kind, path="/dossiers/", times=1)
    first = engine(synced_station).run_once(pull=False)
    assert first.dossiers_sent == 0
    [item] = open_items(ctx)
    assert item.state == "pending" and item.last_error
    synced_station.retry()
    assert engine(synced_station).run_once(pull=False).dossiers_sent == 1
    assert len(gateway_dossiers(gateway)) == 1


def test_captive_portal_on_the_link_is_not_an_answer(ctx: AppContext, clerk: ClerkInfo,
                                                     synced_station: SyncService,
                                                     gateway: GatewayServer) -> None:
    receive(ctx, clerk)
    host, port = gateway.url.removeprefix("http://").split(":")
    with FaultProxy(host, int(port)) as proxy:
        proxy.set_profile(LinkProfile(captive_portal=True))
        report = engine(synced_station, url=proxy.url_for()).run_once()
        assert not report.online and "Wi-Fi" in report.errors[0]
        assert len(open_items(ctx)) == 1 and gateway_dossiers(gateway) == []


def test_upload_resumes_after_a_cut_resending_at_most_one_chunk(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,
        gateway: GatewayServer, tmp_path: Path) -> None:
    f = stored_file(ctx, tmp_path, size=600_000)
    receive(ctx, clerk, [f])
    chunk = 64 * 1024
    host, port = gateway.url.removeprefix("http://").split(":")
    with FaultProxy(host, int(port)) as proxy:
        proxy.set_profile(LinkProfile(cut_after_bytes_up=250_000))
        first = engine(synced_station, url=proxy.url_for(), chunk=chunk).run_once()
        assert first.files_uploaded == 0 and proxy.cuts >= 1
        with ctx.db.read() as s:
            item = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "file")).one()
            assert item.upload_url  # kept durably for the resume
        proxy.set_profile(LinkProfile())
        synced_station.retry()
        second = engine(synced_station, url=proxy.url_for(), chunk=chunk).run_once()
    assert second.files_uploaded == 1 and second.dossiers_sent == 1
    with ctx.db.read() as s:
        item = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "file")).one()
        resumed_from = item.response["resumed_from"]
    assert resumed_from > 0
    assert first.bytes_sent == 0  # the cut upload reported nothing as sent…
    # …and the resume re-sent at most one chunk beyond what the gateway already held.
    assert second.bytes_sent <= f.size - resumed_from + chunk
    assert hashlib.sha256(gateway_blob(gateway, f.sha256)).hexdigest() == f.sha256


def test_conflict_is_kept_for_a_supervisor_and_does_not_block_others(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,
        gateway: GatewayServer) -> None:
    uuid = receive(ctx, clerk)
    engine(synced_station).run_once()
    with ctx.db.write() as s:
        sent = s.scalars(select(OutboxEntry)).one()
        changed = {**sent.payload, "GhiChu": "sửa khác nội dung cùng phiên bản"}
        s.add(OutboxEntry(entity_type="dossier", entity_id=uuid, operation="received",
                          payload=changed, state="pending", attempts=0,
                          created_at=ctx.clock.now(), next_attempt_at=ctx.clock.now()))
    other = receive(ctx, clerk)
    report = engine(synced_station).run_once()
    assert report.refused == 1 and report.dossiers_sent == 1
    [item] = open_items(ctx)
    assert item.state == "refused" and "lãnh đạo" in item.last_error
    assert item.response["status"] == 409
    assert {d["client_id"] for d in gateway_dossiers(gateway)} == {uuid, other}
    with ctx.db.read() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "sync_refused")).one()


def test_revoked_token_stops_the_run(ctx: AppContext, clerk: ClerkInfo,
                                     synced_station: SyncService,
                                     gateway: GatewayServer) -> None:
    receive(ctx, clerk)
    report = engine(synced_station, token="not-a-token").run_once()
    assert report.auth_failed and "mã xác thực" in report.errors[0]
    [item] = open_items(ctx)
    assert item.state == "pending" and item.attempts == 0


def test_missing_file_on_the_gateway_is_sent_again(ctx: AppContext, clerk: ClerkInfo,
                                                   synced_station: SyncService,
                                                   gateway: GatewayServer,
                                                   tmp_path: Path) -> None:
    """A file entry marked sent but absent on the gateway (e.g. the gateway was restored
    from an older backup): the gateway asks for it, the station queues it again."""
    f = stored_file(ctx, tmp_path)
    receive(ctx, clerk, [f])
    with ctx.db.write() as s:
        item = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_type == "file")).one()
        outbox.mark_sent(s, item.id, ctx.clock.now())
    first = engine(synced_station).run_once()
    assert first.dossiers_sent == 0
    synced_station.retry()
    second = engine(synced_station).run_once()
    assert (second.files_uploaded, second.dossiers_sent) == (1, 1)
    assert open_items(ctx) == []


def test_status_catalog_calendar_and_clerks_are_pulled(ctx: AppContext, clerk: ClerkInfo,
                                                       synced_station: SyncService,
                                                       gateway: GatewayServer) -> None:
    uuid = receive(ctx, clerk)
    first = engine(synced_station).run_once()
    assert first.catalog_updated  # the gateway's catalog replaces the test one
    with ctx.db.read() as s:
        code = s.scalars(select(Dossier.code)).one()
    gateway.set_status(code, 4, note="Chuyển phòng Tư pháp xử lý")
    gateway.set_status(code, 9, note="Đã có kết quả")
    second = engine(synced_station).run_once()
    assert second.changes_pulled == 2 and not second.catalog_updated  # ETag: 304
    with ctx.db.read() as s:
        d = s.scalars(select(Dossier).where(Dossier.uuid == uuid)).one()
        assert d.status == 9 and d.remote_note == "Đã có kết quả"
        assert outbox.get_state(s, "changes_cursor") != "0"
        pulled = s.scalars(select(AuditEntry).where(AuditEntry.action == "status_pulled")
                           ).all()
        assert [a.detail["to"] for a in pulled] == [4, 9]
    assert engine(synced_station).run_once().changes_pulled == 0


def test_usb_bundle_carries_pending_dossiers_to_the_gateway(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,
        gateway: GatewayServer, station: StationInfo, tmp_path: Path) -> None:
    from desktop_app.sync import bundle_keys
    from desktop_app.sync.usb_bundle import export_bundle

    f = stored_file(ctx, tmp_path)
    uuid = receive(ctx, clerk, [f])
    usb = tmp_path / "usb"
    usb.mkdir()
    # Before the first contact with a gateway that knows signed bundles: no recipient.
    with pytest.raises(DomainError, match="chưa nhận khóa công khai của tỉnh"):
        export_bundle(ctx, synced_station, usb)
    client = synced_station.client()
    assert bundle_keys.ensure_registered(ctx, client.register_bundle_key)
    assert not bundle_keys.ensure_registered(ctx, client.register_bundle_key)  # once
    summary = export_bundle(ctx, synced_station, usb)
    assert (summary.dossiers, summary.files) == (1, 1)
    path = Path(summary.path)
    data = path.read_bytes()
    assert "Tuyết".encode() not in data and f.sha256.encode() not in data  # encrypted
    assert [p.name for p in usb.iterdir()] == [path.name]  # no temporary file left

    tampered = usb / "tampered.mcb"
    tampered.write_bytes(data[:-10] + bytes(b ^ 0xFF for b in data[-10:]))
    with pytest.raises(Exception, match=r"Gói dữ liệu USB không hợp lệ"):
        client.post_bundle(tampered)
    # The token is re-issued meanwhile: the bundle does not depend on it.
    synced_station.set_token(gateway.add_station(station.agency_code, station.station_digit,
                                                 "Quầy 1"))
    client = synced_station.client()
    receipt = client.post_bundle(path)
    assert (receipt.dossiers, receipt.created, receipt.files) == (1, 1, 1)
    assert client.post_bundle(path).unchanged == 1  # importing twice changes nothing
    assert [d["client_id"] for d in gateway_dossiers(gateway)] == [uuid]
    # The queue still drains normally afterwards: the gateway already has everything.
    report = engine(synced_station).run_once()
    assert report.files_already_there == 1 and report.dossiers_sent == 1
    assert open_items(ctx) == [] and len(gateway_dossiers(gateway)) == 1


def test_a_queue_larger_than_a_bundle_is_split_into_complete_parts(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,
        gateway: GatewayServer, tmp_path: Path) -> None:
    """Each part holds whole dossiers with their files (a stick formatted FAT32 takes no
    file over 4 GiB), so the parts can be imported one by one, in any order."""
    from desktop_app.sync import bundle_keys
    from desktop_app.sync.usb_bundle import export_bundle

    uuids = [receive(ctx, clerk, [stored_file(ctx, tmp_path, seed=2 * i + 1),
                                  stored_file(ctx, tmp_path, seed=2 * i + 2)])
             for i in range(3)]
    client = synced_station.client()
    assert bundle_keys.ensure_registered(ctx, client.register_bundle_key)
    usb = tmp_path / "usb"
    usb.mkdir()
    # Room for one dossier's two 300 kB files and its document, not for two dossiers.
    summary = export_bundle(ctx, synced_station, usb, part_bytes=700_000)
    assert (summary.dossiers, summary.files, len(summary.paths)) == (3, 6, 3)
    assert sorted(p.name for p in usb.iterdir()) == sorted(Path(p).name for p in summary.paths)
    assert [Path(p).stem[-4:] for p in summary.paths] == ["1of3", "2of3", "3of3"]
    assert summary.bytes == sum(Path(p).stat().st_size for p in summary.paths)
    for path in reversed(summary.paths):
        receipt = client.post_bundle(Path(path))
        assert (receipt.dossiers, receipt.created, receipt.files, receipt.conflicts) == (
            1, 1, 2, [])
    assert sorted(d["client_id"] for d in gateway_dossiers(gateway)) == sorted(uuids)


def test_bundle_parts_keep_a_dossier_with_its_files_and_events() -> None:
    from desktop_app.sync.usb_bundle import plan_parts

    docs = [{"ClientId": "a", "TaiLieuNop": []}, {"ClientId": "b"}]
    sizes = {"1" * 64: 400, "2" * 64: 400, "3" * 64: 100}
    events = [{"EventId": "e1", "ClientId": "b"}, {"EventId": "e2", "ClientId": "z"}]
    import desktop_app.sync.usb_bundle as usb_bundle

    hashes = {"a": ["1" * 64], "b": ["2" * 64, "1" * 64]}
    original = usb_bundle.file_hashes
    usb_bundle.file_hashes = lambda doc: hashes[doc["ClientId"]]  # type: ignore[assignment]
    try:
        parts = plan_parts(docs, events, sizes, part_bytes=800)
    finally:
        usb_bundle.file_hashes = original
    assert [[d["ClientId"] for d in p.docs] for p in parts] == [["a"], ["b"], []]
    assert parts[1].hashes == {"1" * 64, "2" * 64}  # the shared file travels with both
    assert [e["EventId"] for e in parts[1].events] == ["e1"]
    # The file and the event of no pending dossier fill the last part.
    assert parts[2].hashes == {"3" * 64} and [e["EventId"] for e in parts[2].events] == ["e2"]
    # a: file 1 and its document; b alone is over the size (it never shares a part
    # then, and the gateway judges it); the last: file 3 and event e2.
    assert [p.bytes for p in parts] == [400 + 37, 800 + 19 + 36, 100 + 36]


def test_first_sync_registers_the_bundle_key(ctx: AppContext, station: StationInfo,
                                             synced_station: SyncService) -> None:
    from desktop_app.sync import bundle_keys

    assert bundle_keys.recipient(ctx) == ""
    engine(synced_station).run_once()
    assert bundle_keys.recipient(ctx).startswith("age1")
    assert bundle_keys.is_registered(ctx, StationService(ctx).require())
    key_file = ctx.paths.root / "secrets" / (
        f"{station.agency_code}-{station.station_digit}.bundle-signing.key")
    if key_file.exists():  # no OS keyring in the test environment
        assert key_file.stat().st_mode & 0o077 == 0


def test_sync_once_command_exit_codes(ctx: AppContext, clerk: ClerkInfo,
                                      synced_station: SyncService, gateway: GatewayServer,
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from desktop_app.cli import main

    receive(ctx, clerk)
    data_dir = str(ctx.paths.root)
    monkeypatch.setenv("MOTCUA_DB_URL", str(ctx.db.engine.url))
    assert main(["sync", "--once", "--json", "--data-dir", data_dir]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["dossiers_sent"] == 1 and out["pending"] == 0
    receive(ctx, clerk)
    stations = StationService(ctx)
    stations.save(replace(stations.require(), gateway_url=f"http://127.0.0.1:{free_port()}"))
    assert main(["sync", "--once", "--json", "--data-dir", data_dir]) == 1
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert not out["online"] and out["pending"] == 1
    stations.save(replace(stations.require(), gateway_url=gateway.url))
    monkeypatch.setenv("MOTCUA_STATION_TOKEN", "sai")
    assert main(["sync", "--once", "--data-dir", data_dir]) == 3
    assert "mã xác thực" in capsys.readouterr().out
    monkeypatch.delenv("MOTCUA_STATION_TOKEN")
    assert main(["sync", "--once", "--data-dir", data_dir]) == 0


def test_events_wait_for_their_dossier_and_are_idempotent(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,
        gateway: GatewayServer) -> None:
    uuid = receive(ctx, clerk)
    with ctx.db.read() as s:
        code = s.scalars(select(Dossier.code)).one()
    event = {"EventId": "ev-1", "ClientId": uuid, "MaHoSo": code, "Loai": "returned",
             "ThoiDiem": "20231103100000", "NguoiXuLy": "Triệu Thị Hương",
             "NoiDung": "Trả kết quả tại quầy", "TrangThaiHoSo": 10}
    now = ctx.clock.now()
    with ctx.db.write() as s:
        for _ in range(2):  # the same event queued twice (e.g. a retry after a crash)
            s.add(OutboxEntry(entity_type="event", entity_id="ev-1", operation="returned",
                              payload=event, state="pending", attempts=0, created_at=now,
                              next_attempt_at=now))
    report = engine(synced_station).run_once(pull=False)
    # The dossier went first in the same run, then both copies of the event.
    assert (report.dossiers_sent, report.events_sent) == (1, 2)
    assert open_items(ctx) == []
    from provincial_gateway.db import Event

    with gateway.sessions() as s:
        assert len(s.scalars(select(Event)).all()) == 1


def test_station_over_tls_trusts_the_provincial_ca_not_an_unknown_one(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,
        gateway_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The station trusts the OS store plus the provisioned CA: a private CA in neither is
    refused, the same certificate is accepted once its CA is provisioned."""
    from tests.gateway.test_tls import make_pki

    ca, cert, key = make_pki(tmp_path)
    gw = gateway_factory(ssl_certfile=cert, ssl_keyfile=key)
    token = add_station(gw)
    receive(ctx, clerk)
    stations = StationService(ctx)
    stations.save(replace(stations.require(), gateway_url=gw.url, ca_bundle=""))
    synced_station.set_token(token)
    refused = synced_station.engine().run_once()
    assert not refused.online and "chứng chỉ" in refused.errors[0]  # not in the OS store
    stations.save(replace(stations.require(), ca_bundle=str(ca)))
    report = synced_station.engine().run_once()
    assert report.online and report.dossiers_sent == 1


def test_catalog_refresh_keeps_procedures_that_dossiers_use(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService) -> None:
    """The gateway's catalog carries codes the station already used for dossiers."""
    from desktop_app.catalog import sample_catalog_path
    from desktop_app.intake.drafts import IntakeDraft

    CatalogService(ctx).import_file(sample_catalog_path())
    intake = IntakeService(ctx)
    draft = IntakeDraft.for_procedure(intake.catalog.get("1.001193"))
    draft.owner = complete_draft(intake).owner
    for c in draft.components:
        c.provided = c.required
    intake.receive(draft, clerk)
    report = engine(synced_station).run_once()
    assert report.catalog_updated and not report.errors
    assert intake.catalog.get("1.001193").components  # replaced, not lost
