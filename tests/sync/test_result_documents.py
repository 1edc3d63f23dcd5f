"""Result documents: the province attaches them when marking a dossier processed, the
station pulls their list with the change feed and fetches the files after the upload
queue, hash-checked, into its encrypted blob store. Real gateway over loopback, real
database (SQLite, or PostgreSQL under MOTCUA_TEST_DB=postgresql)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.sync.result_fetch import ResultFetcher, fetch_results_after_queue
from desktop_app.sync.service import SyncService
from local_db.models import AuditEntry, Dossier, ResultDocumentRow
from provincial_gateway import admin_cli
from provincial_gateway.admin_ops import ResultUpload
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, add_station, auth_headers, sample_document

from .test_sync_engine import engine, receive, synced_station  # noqa: F401

RESULT = b"%PDF-1.7\n" + hashlib.sha256(b"giay khai sinh").digest() * 20_000  # ~640 kB


def _code(ctx: AppContext, uuid: str) -> str:
    with ctx.db.read() as s:
        code = s.scalar(select(Dossier.code).where(Dossier.uuid == uuid))
    assert code
    return code


def _rows(ctx: AppContext) -> list[ResultDocumentRow]:
    with ctx.db.read() as s:
        rows = list(s.scalars(select(ResultDocumentRow).order_by(ResultDocumentRow.id)))
        for r in rows:
            s.expunge(r)
        return rows


def _processed_with_result(ctx: AppContext, clerk: ClerkInfo, service: SyncService,
                           gateway: GatewayServer, tmp_path: Path) -> tuple[str, str]:
    """A dossier received and synced, then marked processed with one result file by the
    admin command; returns (dossier uuid, the file's sha256)."""
    uuid = receive(ctx, clerk)
    engine(service).run_once()
    path = tmp_path / "giay-khai-sinh.pdf"
    path.write_bytes(RESULT)
    assert admin_cli.main(["set-status", "--data", str(gateway.config.data_dir),
                           _code(ctx, uuid), "9", "--result", str(path),
                           "--name", "Giấy khai sinh", "--number", "123/GKS",
                           "--signer", "Lò Văn Minh", "--date", "2023-11-02"]) == 0
    return uuid, hashlib.sha256(RESULT).hexdigest()


def test_result_is_listed_then_fetched_after_the_queue_encrypted(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,  # noqa: F811
        gateway: GatewayServer, tmp_path: Path) -> None:
    uuid, sha = _processed_with_result(ctx, clerk, synced_station, gateway, tmp_path)
    # A new dossier waits in the queue: the pull lists the result, the fetch waits.
    receive(ctx, clerk)
    client = synced_station.client()
    synced_station.engine(client).puller.pull_changes()
    [row] = _rows(ctx)
    assert (row.name, row.number, row.signer, str(row.signed_on)) == (
        "Giấy khai sinh", "123/GKS", "Lò Văn Minh", "2023-11-02")
    assert (row.state, row.announced_sha256, row.size, row.blob_sha256) == (
        "waiting", sha, len(RESULT), None)
    summary = fetch_results_after_queue(ctx, client)
    assert summary is not None and summary.paused and summary.fetched == 0
    assert _rows(ctx)[0].state == "waiting"

    # The run sends the queued dossier first, then fetches the file.
    report = engine(synced_station).run_once()
    assert report.dossiers_sent == 1
    [row] = _rows(ctx)
    assert (row.state, row.blob_sha256) == ("fetched", sha)
    assert ctx.blobs.read_bytes(sha) == RESULT  # decrypts to the province's bytes
    on_disk = ctx.blobs.path_for(sha).read_bytes()
    assert RESULT[:4096] not in on_disk  # encrypted at rest like every blob
    assert not list(ctx.blobs.scratch.glob("result-*.part"))
    with ctx.db.read() as s:
        assert s.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_id == uuid, AuditEntry.action.like("result%"))).all() == [
            "results_listed", "result_fetched"]


def test_download_resumes_with_range_after_a_cut(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,  # noqa: F811
        gateway: GatewayServer, tmp_path: Path) -> None:
    _uuid, sha = _processed_with_result(ctx, clerk, synced_station, gateway, tmp_path)
    client = synced_station.client()
    synced_station.engine(client).puller.pull_changes()
    seen: list[int] = []
    stop_after_two = ResultFetcher(ctx, client, chunk=100_000,
                                   cancelled=lambda: len(seen) >= 2,
                                   progress=lambda _t, done, _n: seen.append(done))
    assert stop_after_two.run().paused
    part = stop_after_two.part(sha)
    assert part.size() == 200_000 and _rows(ctx)[0].state == "waiting"
    # What waits on disk between the two runs is sealed: no run of the result's bytes.
    on_disk = part.path.read_bytes()
    assert RESULT[:64] not in on_disk and RESULT[150_000:150_064] not in on_disk
    # A power cut in the middle of an append: the torn record is cut off, 100 000 bytes
    # are fetched again from there.
    with part.path.open("ab") as f:
        f.write(on_disk[:5000])
    assert stop_after_two.part(sha).size() == 200_000
    rest: list[int] = []
    ResultFetcher(ctx, client, chunk=100_000,
                  progress=lambda _t, done, _n: rest.append(done)).run()
    assert rest[0] == 300_000  # went on from byte 200 000, not from the start
    assert _rows(ctx)[0].state == "fetched" and ctx.blobs.read_bytes(sha) == RESULT


def test_tampered_result_is_refused_and_nothing_linked(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,  # noqa: F811
        gateway: GatewayServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    uuid, sha = _processed_with_result(ctx, clerk, synced_station, gateway, tmp_path)
    stored = gateway.state.blobs.path(sha)
    stored.write_bytes(RESULT[:-5] + b"XXXXX")  # same size, other bytes
    with caplog.at_level(logging.WARNING, logger="desktop_app.sync.result_fetch"):
        engine(synced_station).run_once()
    [row] = _rows(ctx)
    assert (row.state, row.blob_sha256) == ("refused", None)
    assert "không khớp mã kiểm tra" in row.refused_reason
    assert "Giấy khai sinh" in row.refused_reason
    assert "does not match the announced" in caplog.text
    assert ctx.blobs.path_for(sha).exists() is False
    assert not list(ctx.blobs.scratch.glob("result-*.part"))
    with ctx.db.read() as s:
        assert s.scalar(select(AuditEntry.action).where(
            AuditEntry.entity_id == uuid, AuditEntry.action == "result_refused"))
    engine(synced_station).run_once()  # refused once: not fetched again
    assert _rows(ctx)[0].state == "refused"


def test_result_for_another_stations_dossier_is_ignored_and_not_downloadable(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,  # noqa: F811
        gateway: GatewayServer, station_token: str, tmp_path: Path) -> None:
    other = add_station(gateway, AGENCY, 2, "Quầy 2")
    doc = sample_document(ma_ho_so=f"{AGENCY}-231027-2001")  # station 2's dossier
    assert requests.put(gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"]),
                        json=doc, headers=auth_headers(other), timeout=5).ok
    path = tmp_path / "ket-qua.pdf"
    path.write_bytes(RESULT)
    change = gateway.set_status(doc["MaHoSo"], 9, results=[ResultUpload(path, "Giấy khai sinh")])
    [listed] = change.DanhSachGiayToKetQua
    sha = listed.TepSha256
    assert (sha, listed.KichThuoc, listed.DuongDanTepTinKetQua) == (
        hashlib.sha256(RESULT).hexdigest(), len(RESULT), f"/api/v1/blobs/{sha}")

    # Station 1 sees the change in its agency's feed, but has no such dossier.
    report = engine(synced_station).run_once()
    assert report.changes_pulled == 0 and _rows(ctx) == []
    assert not ctx.blobs.path_for(sha).exists()

    # Only the owning station may download the file, the agency's others may not.
    url = gateway.url + wire.BLOB.format(sha256=sha)
    mine = requests.get(url, headers=auth_headers(other), timeout=5)
    assert mine.status_code == 200 and mine.content == RESULT
    theirs = requests.get(url, headers=auth_headers(station_token), timeout=5)
    assert theirs.status_code == 404 and RESULT[:100] not in theirs.content


def test_results_only_with_status_9(gateway: GatewayServer, station_token: str,
                                    tmp_path: Path) -> None:
    doc = sample_document()
    assert requests.put(gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"]),
                        json=doc, headers=auth_headers(station_token), timeout=5).ok
    path = tmp_path / "ket-qua.pdf"
    path.write_bytes(RESULT)
    from provincial_gateway.admin_ops import StatusError

    with pytest.raises(StatusError, match="trạng thái 9"):
        gateway.set_status(doc["MaHoSo"], 4, results=[ResultUpload(path)])
    with pytest.raises(StatusError, match="Không đọc được"):
        gateway.set_status(doc["MaHoSo"], 9, results=[ResultUpload(tmp_path / "khong-co.pdf")])
    feed = requests.get(gateway.url + wire.CHANGES, headers=auth_headers(station_token),
                        timeout=5).json()["changes"]
    assert [c.get("DanhSachGiayToKetQua", []) for c in feed] == [[]]
