"""Files every counter reaches: with several counters on one PostgreSQL server the blob
bytes live in the shared database too, so a file received on one PC is sent by another's
sync, its slip reprinted and its scan shown there; on SQLite the disk stays the only
store. The identifier columns take the longest values the code writes."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.blob_crypto import MAGIC
from desktop_app.catalog import CatalogService
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService
from desktop_app.dossiers import DossierQueries
from desktop_app.shared_blobs import SharedBlobCorrupt, SharedBlobStore
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.engine import MISSING_BLOB_TRIES, SyncEngine
from desktop_app.sync.service import SyncService
from local_db import outbox
from local_db.models import (
    AuditEntry,
    Dossier,
    OutboxEntry,
    SharedBlob,
    SharedBlobChunk,
)
from provincial_gateway.server import GatewayServer

from ..test_intake import TEST_CATALOG
from .test_shared_database import _counter
from .test_sync_engine import gateway_blob, gateway_dossiers, receive, stored_file

# What a lease holder looks like with the longest host name DNS allows (253 characters).
LONGEST_HOLDER = f"{'0' * 40}-9@{'q' * 253}#4194304"


@dataclass(frozen=True)
class FileItem:
    id: int
    state: str
    leased_by: str
    last_error: str
    response: dict


def _file_items(ctx: AppContext) -> list[FileItem]:
    with ctx.db.read() as s:
        return [FileItem(e.id, e.state, e.leased_by, e.last_error, dict(e.response))
                for e in s.scalars(select(OutboxEntry)
                                   .where(OutboxEntry.entity_type == "file")
                                   .order_by(OutboxEntry.id))]


@pytest.fixture
def counters(tmp_path: Path, pg_url: str, gateway: GatewayServer
             ) -> tuple[AppContext, AppContext, ClerkInfo]:
    one = _counter(tmp_path, "pc1", pg_url, 1, gateway)
    two = _counter(tmp_path, "pc2", pg_url, 2, gateway)
    CatalogService(one).import_data(TEST_CATALOG)
    clerk = AccountService(one).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1",
                                             Role.CLERK)
    yield one, two, clerk
    one.close()
    two.close()


def test_a_file_received_on_one_counter_is_sent_reprinted_and_shown_by_another(
        counters: tuple[AppContext, AppContext, ClerkInfo], gateway: GatewayServer,
        tmp_path: Path) -> None:
    one, two, clerk = counters
    scan = stored_file(one, tmp_path, size=2_500_000)  # three 1 MiB chunks
    uuid = receive(one, clerk, [scan])
    with one.db.read() as s:
        dossier_id = s.scalars(select(Dossier.id).where(Dossier.uuid == uuid)).one()
        assert s.get(SharedBlob, scan.sha256).chunks == 3
    assert not two.blobs.path_for(scan.sha256).exists()  # only on PC1's disk so far

    # PC2's sync uploads the file received on PC1; the dossier itself is PC1's to send
    # (the gateway takes it only under the token of the counter its code names).
    report = SyncService(two).engine().run_once(pull=False)
    assert not report.errors
    assert (report.files_uploaded, report.dossiers_sent, report.refused) == (1, 0, 0)
    assert SyncService(one).engine().run_once(pull=False).dossiers_sent == 1
    assert [d["client_id"] for d in gateway_dossiers(gateway)] == [uuid]
    assert hashlib.sha256(gateway_blob(gateway, scan.sha256)).hexdigest() == scan.sha256

    # PC2 reprints PC1's slip and shows PC1's scan; what it fetched is now cached on disk.
    slip_on_one = DossierQueries(one).stored_slip(dossier_id)
    slip_on_two = DossierQueries(two).stored_slip(dossier_id)
    assert slip_on_two.pdf == slip_on_one.pdf and slip_on_two.pdf.startswith(b"%PDF")
    shown = DigitizationService(two).export(scan, tmp_path / "xem.pdf").read_bytes()
    assert hashlib.sha256(shown).hexdigest() == scan.sha256
    assert two.blobs.path_for(scan.sha256).read_bytes().startswith(MAGIC)  # cached encrypted
    # A damaged cached copy is replaced by the checked original, not shown.
    two.blobs.path_for(scan.sha256).write_bytes(b"%PDF-1.7\nhong")
    assert hashlib.sha256(two.blobs.read_bytes(scan.sha256)).hexdigest() == scan.sha256
    assert not list(two.blobs.root.rglob(".tmp-*"))


def test_a_file_from_before_the_shared_store_waits_for_its_counter_not_refused(
        counters: tuple[AppContext, AppContext, ClerkInfo], gateway: GatewayServer,
        tmp_path: Path) -> None:
    one, two, clerk = counters
    scan = stored_file(one, tmp_path)
    uuid = receive(one, clerk, [scan])
    with one.db.write() as s:  # as if received before this version: on PC1's disk only
        s.execute(delete(SharedBlob))
        s.execute(delete(SharedBlobChunk))

    report = SyncService(two).engine().run_once(pull=False)
    assert report.refused == 0 and report.files_uploaded == 0
    [item] = _file_items(two)
    assert item.state == outbox.PENDING and item.leased_by == ""
    assert "chưa có trong kho chung" in item.last_error

    # PC1's next sync sends it (and shares it); nothing was refused on the way.
    SyncService(one).retry()
    report = SyncService(one).engine().run_once(pull=False)
    assert (report.files_uploaded, report.dossiers_sent, report.refused) == (1, 1, 0)
    assert [d["client_id"] for d in gateway_dossiers(gateway)] == [uuid]
    assert one.blobs.shared is not None and one.blobs.shared.has(scan.sha256)
    # That run also shared the rest of PC1's disk: PC2 reprints the slip received there.
    with two.db.read() as s:
        dossier_id = s.scalars(select(Dossier.id).where(Dossier.uuid == uuid)).one()
    assert DossierQueries(two).stored_slip(dossier_id).pdf.startswith(b"%PDF")
    assert one.blobs.shared_mark.is_file()


def test_a_file_lost_everywhere_is_parked_with_a_message_after_some_tries(
        counters: tuple[AppContext, AppContext, ClerkInfo], tmp_path: Path) -> None:
    one, two, clerk = counters
    scan = stored_file(one, tmp_path)
    receive(one, clerk, [scan])
    one.blobs.path_for(scan.sha256).unlink()
    one.blobs.remove_shared([scan.sha256])

    engine = SyncService(two).engine()
    for _ in range(MISSING_BLOB_TRIES):
        SyncService(two).retry()
        engine.run_once(pull=False)
    # (The dossier then went and the gateway asked for the file again: a new item.)
    item = _file_items(two)[0]
    assert item.state == outbox.REFUSED and item.leased_by == ""
    assert item.last_error == ("Tệp của hồ sơ không còn trên máy này và không có trong kho "
                               "chung trên máy chủ; hãy báo kỹ thuật viên.")
    assert item.response["code"] == "blob_missing"
    with two.db.read() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "sync_refused")).one()
        assert audit.entity_id == scan.sha256


@pytest.mark.parametrize("damage", ["flipped", "missing"])
def test_a_damaged_chunk_is_an_error_never_wrong_bytes(ctx: AppContext, tmp_path: Path,
                                                       damage: str) -> None:
    store = SharedBlobStore(ctx.db, chunk_size=64 * 1024)
    data = hashlib.sha256(b"A0").digest() * 10_000  # 320 000 bytes: five chunks
    sha = hashlib.sha256(data).hexdigest()
    store.put(sha, io.BytesIO(data))
    target = tmp_path / "cache" / sha
    assert store.fetch_to(sha, target) and target.read_bytes() == data
    target.unlink()
    with ctx.db.write() as s:
        where = (SharedBlobChunk.sha256 == sha, SharedBlobChunk.seq == 2)
        if damage == "flipped":
            s.execute(update(SharedBlobChunk).where(*where).values(data=b"\0" * 64 * 1024))
        else:
            s.execute(delete(SharedBlobChunk).where(*where))
    with pytest.raises(SharedBlobCorrupt) as caught:
        store.fetch_to(sha, target)
    assert "bị hỏng" in caught.value.message_vi
    assert not target.exists() and not list(target.parent.iterdir())


def test_a_reader_never_sees_a_half_written_blob(ctx: AppContext) -> None:
    store = SharedBlobStore(ctx.db, chunk_size=1024)
    data = bytes(range(256)) * 40
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(SharedBlobCorrupt):  # the source changed mid-copy
        store.put(sha, io.BytesIO(data[:-1] + b"x"))
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(SharedBlobChunk)) > 0
    assert not store.has(sha)
    store.put(sha, io.BytesIO(data))  # a later write completes it
    assert store.has(sha)


def test_sqlite_keeps_files_on_disk_only(ctx: AppContext, station: StationInfo,
                                         clerk: ClerkInfo, tmp_path: Path) -> None:
    if not ctx.db.is_sqlite:
        pytest.skip("the single-counter SQLite mode")
    CatalogService(ctx).import_data(TEST_CATALOG)
    scan = stored_file(ctx, tmp_path)
    receive(ctx, clerk, [scan])
    assert ctx.blobs.shared is None
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(SharedBlobChunk)) == 0
    assert ctx.blobs.read_bytes(scan.sha256)[:8] == b"%PDF-1.7"


def test_longest_identifiers_fit_their_columns(ctx: AppContext, station: StationInfo,
                                               clerk: ClerkInfo, gateway: GatewayServer,
                                               station_token: str, tmp_path: Path) -> None:
    """Through the real paths: a lease held by a station with the longest host name, and
    the refusal of a file (its 64-digit SHA-256 in the audit log). PostgreSQL checks
    lengths (SQLite does not), so the PostgreSQL run of the suite guards these."""
    StationService(ctx).save(replace(station, gateway_url=gateway.url))
    service = SyncService(ctx)
    service.set_token(station_token)
    CatalogService(ctx).import_data(TEST_CATALOG)
    scan = stored_file(ctx, tmp_path)
    receive(ctx, clerk, [scan])
    ctx.blobs.path_for(scan.sha256).unlink()
    ctx.blobs.remove_shared([scan.sha256])
    with ctx.db.write() as s:  # its last try
        s.execute(update(OutboxEntry).where(OutboxEntry.entity_type == "file")
                  .values(attempts=MISSING_BLOB_TRIES - 1))
    # PostgreSQL checks lengths; SQLite (one counter) parks the item at once anyway.

    engine = SyncEngine(ctx, service.client(), LONGEST_HOLDER)
    [item] = _file_items(ctx)
    assert engine._claim(item.id)
    assert _file_items(ctx)[0].leased_by == LONGEST_HOLDER
    with ctx.db.write() as s:  # the lease ran out; the same holder takes it again
        s.execute(update(OutboxEntry).where(OutboxEntry.id == item.id)
                  .values(lease_until=None))
    report = engine.run_once(pull=False)
    assert report.refused == 1
    with ctx.db.read() as s:
        [audited] = s.scalars(select(AuditEntry.entity_id)
                              .where(AuditEntry.action == "sync_refused"))
    assert audited == scan.sha256 and len(audited) == 64
