"""The update channel end to end: the real gateway over loopback publishes an installer,
the station fetches it after its queue drained, resumably and verified (no HTTP mocks)."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.client import GatewayClient
from desktop_app.sync.service import SyncService
from desktop_app.sync.update_fetch import Outcome, UpdateFetcher
from desktop_app.sync.update_settings import remember_update_settings
from desktop_app.sync.update_store import REFUSED, UpdateStore, update_status
from local_db.models import AuditEntry
from provincial_gateway import releases
from provincial_gateway.server import GatewayServer
from sync_contract import release_manifest as rm
from tests.support.fault_proxy import FaultProxy, LinkProfile

from ..test_intake import TEST_CATALOG
from .test_sync_engine import gateway_dossiers, receive

CHUNK = 16 * 1024
RUNNING = "1.0.0"
PLATFORM = "linux-deb"


@pytest.fixture
def release_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def provisioned(ctx: AppContext, station: StationInfo, gateway: GatewayServer,
                station_token: str, release_key: Ed25519PrivateKey) -> SyncService:
    StationService(ctx).save(replace(station, gateway_url=gateway.url))
    service = SyncService(ctx)
    service.set_token(station_token)
    CatalogService(ctx).import_data(TEST_CATALOG)
    remember_update_settings(ctx, rm.public_key_text(release_key), None)
    return service


def installer_bytes(size: int = 150_000, seed: int = 7) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest()
    return (block * (size // 32 + 1))[:size]


def publish(gateway: GatewayServer, tmp_path: Path, version: str, key: Ed25519PrivateKey,
            data: bytes | None = None, platform: str = PLATFORM) -> releases.Published:
    data = data if data is not None else installer_bytes()
    path = tmp_path / f"setup-{version}-{platform}.bin"
    path.write_bytes(data)
    signature = rm.sign(key, version, platform, hashlib.sha256(data).hexdigest(), len(data))
    return releases.publish(gateway.state, path, version, signature=signature,
                            platform=platform)


def fetcher(ctx: AppContext, service: SyncService, client: GatewayClient | None = None,
            **options: object) -> UpdateFetcher:
    kw: dict[str, object] = {"running_version": RUNNING, "platform": PLATFORM,
                             "chunk": CHUNK, "share": 1.0, "max_rate_kbps": 0}
    kw.update(options)
    return UpdateFetcher(ctx, client or service.client(), **kw)  # type: ignore[arg-type]


def files_in(ctx: AppContext) -> list[str]:
    folder = UpdateStore(ctx.paths.root).dir
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def audits(ctx: AppContext, action: str) -> list[tuple[str, dict]]:
    """(entity id, detail) of the audit entries for ``action``."""
    with ctx.db.read() as s:
        return [(a.entity_id, dict(a.detail)) for a in
                s.scalars(select(AuditEntry).where(AuditEntry.action == action))]


def test_published_update_is_fetched_after_the_queue_drains_and_verified(
        ctx: AppContext, clerk: ClerkInfo, provisioned: SyncService, gateway: GatewayServer,
        release_key: Ed25519PrivateKey, tmp_path: Path) -> None:
    data = installer_bytes()
    publish(gateway, tmp_path, "2.0.0", release_key, data)
    receive(ctx, clerk)  # a dossier waits in the queue

    waiting = fetcher(ctx, provisioned).run()
    assert waiting.outcome == Outcome.QUEUE_BUSY and waiting.fetched == 0
    assert files_in(ctx) == []  # not a byte while a dossier waits

    # The sync cycle: the dossier goes first, then (same run) the update's slice.
    report = provisioned.engine().run_once()
    assert report.dossiers_sent == 1 and len(gateway_dossiers(gateway)) == 1
    # The engine's fetch runs for this PC's platform and version; here, drive it as
    # a PC running 1.0.0 on Debian.
    done = fetcher(ctx, provisioned).run()
    assert done.outcome == Outcome.READY and done.version == "2.0.0"
    status = update_status(ctx.paths.root)
    assert status.state == "ready" and status.version == "2.0.0"
    assert Path(status.path).read_bytes() == data
    assert "2.0.0 đã tải và kiểm tra chữ ký" in status.message_vi
    assert [a[0] for a in audits(ctx, "update_verified")] == ["2.0.0"]
    assert files_in(ctx) == ["motcua-offline_2.0.0_amd64.deb", "state.json"]
    # Asked again: nothing is downloaded twice.
    again = fetcher(ctx, provisioned).run()
    assert again.outcome == Outcome.READY and again.fetched == 0


def test_sync_cycle_runs_the_fetch_after_pushing(ctx: AppContext, clerk: ClerkInfo,
                                                 provisioned: SyncService,
                                                 gateway: GatewayServer,
                                                 release_key: Ed25519PrivateKey,
                                                 tmp_path: Path) -> None:
    from desktop_app import __version__
    from desktop_app.sync.update_store import this_platform

    publish(gateway, tmp_path, "999.0.0", release_key, platform=this_platform())
    receive(ctx, clerk)
    report = provisioned.engine().run_once()
    assert report.dossiers_sent == 1
    status = update_status(ctx.paths.root)
    assert status.state == "ready" and status.version == "999.0.0", __version__


def test_cut_mid_download_resumes_from_the_part_file(ctx: AppContext,
                                                     provisioned: SyncService,
                                                     gateway: GatewayServer,
                                                     release_key: Ed25519PrivateKey,
                                                     tmp_path: Path) -> None:
    data = installer_bytes(200_000)
    publish(gateway, tmp_path, "2.1.0", release_key, data)
    token = provisioned.tokens().get()
    host, port = gateway.url.removeprefix("http://").split(":")
    with FaultProxy(host, int(port)) as proxy:
        proxy.set_profile(LinkProfile(cut_after_bytes_down=90_000))
        client = GatewayClient(proxy.url_for(), token)
        first = fetcher(ctx, provisioned, client).run()
        wire_first = proxy.counters().bytes_down
        assert first.outcome == Outcome.LINK_DOWN and proxy.cuts >= 1
        kept = first.fetched
        assert 0 < kept < len(data) and kept % CHUNK == 0
        part = UpdateStore(ctx.paths.root).part("2.1.0", PLATFORM)
        assert part.stat().st_size == kept
        # What crossed the link but was not kept: at most the chunk in flight (plus the
        # answers' headers).
        assert wire_first - kept <= CHUNK + 4096

        proxy.set_profile(LinkProfile())
        # A new fetcher, as after a restart of the app: it starts from the .part.
        second = fetcher(ctx, provisioned, GatewayClient(proxy.url_for(), token)).run()
    assert second.outcome == Outcome.READY
    assert second.resumed_from == kept
    assert second.fetched == len(data) - kept  # nothing kept was fetched again
    assert Path(update_status(ctx.paths.root).path).read_bytes() == data


def test_bad_signature_is_refused_deleted_and_reported(
        ctx: AppContext, provisioned: SyncService, gateway: GatewayServer,
        release_key: Ed25519PrivateKey, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    good = installer_bytes(40_000, seed=1)
    publish(gateway, tmp_path, "2.0.0", release_key, good)
    assert fetcher(ctx, provisioned).run().outcome == Outcome.READY
    other_key = Ed25519PrivateKey.generate()  # not the province's release key
    publish(gateway, tmp_path, "3.0.0", other_key)
    with caplog.at_level(logging.WARNING, logger="desktop_app.sync.update_fetch"):
        result = fetcher(ctx, provisioned).run()
    assert result.outcome == Outcome.REFUSED and result.fetched == 0
    # Nothing of 3.0.0 is kept; the verified 2.0.0 stays ready.
    assert files_in(ctx) == ["motcua-offline_2.0.0_amd64.deb", "state.json"]
    status = update_status(ctx.paths.root)
    assert (status.state, status.version) == ("ready", "2.0.0")
    assert (status.refused_version, status.refused_reason) == ("3.0.0", "signature")
    assert "bị từ chối" in status.refusal_vi and "chữ ký không hợp lệ" in status.refusal_vi
    assert status.to_dict()["refused_version"] == "3.0.0"
    assert any("3.0.0" in r.getMessage() and "signature does not verify" in r.getMessage()
               for r in caplog.records)
    [(_, detail)] = audits(ctx, "update_refused")
    assert detail["reason"] == "signature"
    # The same release is not fetched or reported again.
    assert fetcher(ctx, provisioned).run().outcome == Outcome.REFUSED
    assert len(audits(ctx, "update_refused")) == 1
    # The next sync's heartbeat tells the province, whose fleet view flags the counter.
    from provincial_gateway.fleet import UPDATE_REFUSED, fleet

    provisioned.engine().run_once()
    [row] = fleet(gateway.state).rows
    assert UPDATE_REFUSED in row.flags
    assert (row.update_state, row.update_version) == ("ready", "2.0.0")
    assert (row.update_refused_version, row.update_refused_reason) == ("3.0.0", "signature")
    # The province publishes a correctly signed 3.0.1: verified, it replaces 2.0.0 and
    # the refusal is over.
    newer_data = installer_bytes(30_000, seed=9)
    publish(gateway, tmp_path, "3.0.1", release_key, newer_data)
    assert fetcher(ctx, provisioned).run().outcome == Outcome.READY
    assert files_in(ctx) == ["motcua-offline_3.0.1_amd64.deb", "state.json"]
    status = update_status(ctx.paths.root)
    assert (status.version, status.refused_version) == ("3.0.1", "")


def test_tampered_installer_on_the_gateway_is_refused(ctx: AppContext,
                                                      provisioned: SyncService,
                                                      gateway: GatewayServer,
                                                      release_key: Ed25519PrivateKey,
                                                      tmp_path: Path) -> None:
    data = installer_bytes()
    published = publish(gateway, tmp_path, "4.0.0", release_key, data)
    stored = gateway.state.blobs.path(published.sha256)
    tampered = bytearray(stored.read_bytes())
    tampered[70_000] ^= 0xFF  # same size, one byte changed
    stored.write_bytes(bytes(tampered))
    result = fetcher(ctx, provisioned).run()
    assert result.outcome == Outcome.REFUSED and result.detail == "hash"
    assert result.fetched == len(data)  # downloaded whole, then refused…
    assert files_in(ctx) == ["state.json"]  # …and deleted
    status = update_status(ctx.paths.root)
    assert (status.state, status.refused_reason) == (REFUSED, "hash")
    assert "SHA-256" in status.message_vi
    assert audits(ctx, "update_refused")[0][1]["reason"] == "hash"


@pytest.mark.parametrize("version", ["1.0.0", "0.9.5"])
def test_older_or_equal_version_is_ignored(ctx: AppContext, provisioned: SyncService,
                                           gateway: GatewayServer,
                                           release_key: Ed25519PrivateKey, tmp_path: Path,
                                           version: str) -> None:
    publish(gateway, tmp_path, version, release_key)
    result = fetcher(ctx, provisioned).run()
    assert result.outcome == Outcome.UP_TO_DATE and files_in(ctx) == []


def test_another_platforms_installer_is_not_fetched(ctx: AppContext,
                                                    provisioned: SyncService,
                                                    gateway: GatewayServer,
                                                    release_key: Ed25519PrivateKey,
                                                    tmp_path: Path) -> None:
    publish(gateway, tmp_path, "5.0.0", release_key, platform="windows")
    assert fetcher(ctx, provisioned).run().outcome == Outcome.UP_TO_DATE
    assert files_in(ctx) == []
    # The Windows PC gets it, under its own name.
    result = fetcher(ctx, provisioned, platform="windows").run()
    assert result.outcome == Outcome.READY
    assert "motcua-offline-5.0.0-setup.exe" in files_in(ctx)


def test_no_release_key_means_no_update_requests(ctx: AppContext, station: StationInfo,
                                                 gateway: GatewayServer,
                                                 station_token: str,
                                                 release_key: Ed25519PrivateKey,
                                                 tmp_path: Path) -> None:
    StationService(ctx).save(replace(station, gateway_url=gateway.url))
    service = SyncService(ctx)
    service.set_token(station_token)
    publish(gateway, tmp_path, "6.0.0", release_key)
    assert fetcher(ctx, service).run().outcome == Outcome.NOT_CONFIGURED


def test_download_pauses_when_a_dossier_is_queued(ctx: AppContext, clerk: ClerkInfo,
                                                  provisioned: SyncService,
                                                  gateway: GatewayServer,
                                                  release_key: Ed25519PrivateKey,
                                                  tmp_path: Path) -> None:
    data = installer_bytes(200_000)
    publish(gateway, tmp_path, "7.0.0", release_key, data)
    chunks: list[int] = []

    def progress(_what: str, done: int, _total: int) -> None:
        chunks.append(done)
        if len(chunks) == 2:
            receive(ctx, clerk)  # a citizen arrives: the link is the dossier's now

    first = fetcher(ctx, provisioned, progress=progress).run()
    assert first.outcome == Outcome.PAUSED
    assert first.fetched == 2 * CHUNK
    assert update_status(ctx.paths.root).state == "downloading"
    assert update_status(ctx.paths.root).downloaded == 2 * CHUNK
    # The next sync cycle sends the dossier first, then the download carries on.
    assert provisioned.engine().run_once(pull=False).dossiers_sent == 1
    second = fetcher(ctx, provisioned).run()
    assert second.outcome == Outcome.READY and second.resumed_from == 2 * CHUNK
    assert Path(update_status(ctx.paths.root).path).read_bytes() == data


def test_part_of_another_release_is_not_resumed(ctx: AppContext, provisioned: SyncService,
                                                gateway: GatewayServer,
                                                release_key: Ed25519PrivateKey,
                                                tmp_path: Path) -> None:
    data = installer_bytes(60_000, seed=3)
    publish(gateway, tmp_path, "8.0.0", release_key, data)
    store = UpdateStore(ctx.paths.root)
    store.dir.mkdir(parents=True)
    part = store.part("8.0.0", PLATFORM)
    part.write_bytes(b"z" * CHUNK)  # same name, other bytes: its note names another hash
    store.part_info(part).write_text(json.dumps({"version": "8.0.0", "platform": PLATFORM,
                                                 "sha256": "0" * 64, "size": 60_000,
                                                 "offset": CHUNK}))
    result = fetcher(ctx, provisioned).run()
    assert result.outcome == Outcome.READY and result.resumed_from == 0
    assert Path(update_status(ctx.paths.root).path).read_bytes() == data


def test_install_helpers() -> None:
    from datetime import datetime

    from desktop_app.update_install import end_of_day, linux_command, windows_launcher

    assert not end_of_day(datetime(2023, 10, 27, 16, 59))  # Friday afternoon
    assert end_of_day(datetime(2023, 10, 27, 17, 0))
    assert end_of_day(datetime(2023, 10, 28, 10, 0))  # Saturday
    assert end_of_day(datetime(2023, 10, 30, 6, 30))  # before the counter opens
    args = windows_launcher(Path("C:/ProgramData/MotCuaOffline/updates/x-setup.exe"),
                            Path("C:/Program Files/MotCuaOffline/motcua-gui.exe"))
    assert args[:3] == ["cmd.exe", "/d", "/c"]
    assert args[3].startswith("timeout /t 3 /nobreak >nul & start \"\" /wait ")
    assert args[3].index("/S") < args[3].index("motcua-gui.exe")
    assert linux_command(Path("/var/lib/motcua data/a.deb")) == \
        "sudo apt install '/var/lib/motcua data/a.deb'"
