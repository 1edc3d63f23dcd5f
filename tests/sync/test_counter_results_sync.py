"""A paper result digitized at the counter goes to the province like a component: its file
by tus, then the dossier's revision listing it in DanhSachGiayToKetQua, which the gateway
checks (the file must be held) and stores. Real gateway over loopback, real database
(SQLite, or PostgreSQL under MOTCUA_TEST_DB=postgresql)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.sync.service import SyncService
from local_db.models import Dossier, ResultDocumentRow
from provincial_gateway.server import GatewayServer
from tests.support.gateway_fixtures import AGENCY, auth_headers, sample_document

from ..test_counter_results import META, digitize
from .test_sync_engine import engine, receive, synced_station  # noqa: F401


def _dossier_id(ctx: AppContext, uuid: str) -> tuple[int, str]:
    with ctx.db.read() as s:
        d = s.scalar(select(Dossier).where(Dossier.uuid == uuid))
        assert d is not None and d.code
        return d.id, d.code


def test_counter_result_reaches_the_gateway_with_its_file(
        ctx: AppContext, clerk: ClerkInfo, synced_station: SyncService,  # noqa: F811
        gateway: GatewayServer, tmp_path: Path) -> None:
    from provincial_gateway.db import BlobAccess
    from provincial_gateway.db import Dossier as GatewayDossier

    uuid = receive(ctx, clerk)
    engine(synced_station).run_once()
    dossier_id, code = _dossier_id(ctx, uuid)
    [doc_id] = digitize(ctx, clerk, dossier_id, code, tmp_path, pages=1)
    with ctx.db.read() as s:
        row = s.get(ResultDocumentRow, doc_id)
        assert row is not None
        sha = row.blob_sha256
    report = engine(synced_station).run_once()
    assert report.dossiers_sent == 1
    with gateway.sessions() as s:
        stored = s.scalar(select(GatewayDossier).where(GatewayDossier.client_id == uuid))
        assert stored is not None and stored.revision == 2
        body = json.loads(stored.body)
        held = s.scalars(select(BlobAccess.sha256).where(
            BlobAccess.agency_code == AGENCY)).all()
    [listed] = body["DanhSachGiayToKetQua"]
    assert (listed["TepSha256"], listed["MaGiayToKetQua"], listed["NguoiKy"],
            listed["NgayKy"], listed["NguonKetQua"]) == (
        sha, META.number, META.signer, "20231020000000", "counter")
    assert sha in held
    # The gateway serves the uploaded bytes back to this station, identical.
    got = requests.get(f"{gateway.url}{listed['DuongDanTepTinKetQua']}",
                       headers=synced_station.client().session.headers, timeout=10)
    assert got.status_code == 200 and got.content == ctx.blobs.read_bytes(sha or "")


def test_gateway_refuses_a_listed_result_whose_file_it_lacks(
        gateway: GatewayServer, station_token: str) -> None:
    doc = sample_document()
    doc["DanhSachGiayToKetQua"] = [{"GiayToId": "quay-1", "TenGiayTo": "Giấy phép",
                                    "MaGiayToKetQua": "12/GP", "NgayKy": "20231020000000",
                                    "TepSha256": "ab" * 32, "KichThuoc": 10}]
    put = requests.put(f"{gateway.url}/api/v1/dossiers/{doc['ClientId']}", json=doc,
                       headers=auth_headers(station_token), timeout=10)
    assert put.status_code == 422 and put.json()["missing"] == ["ab" * 32]


@pytest.mark.parametrize("item", [
    {"GiayToId": "quay-1", "TenGiayTo": "Giấy phép", "TepSha256": "xyz"},
    {"GiayToId": "quay-1", "TenGiayTo": "Giấy phép", "TepSha256": "ab" * 32,
     "NgayKy": "20-10-2023"},
    {"GiayToId": "", "TenGiayTo": "Giấy phép", "TepSha256": "ab" * 32},
])
def test_gateway_validates_the_listed_results(gateway: GatewayServer, station_token: str,
                                              item: dict) -> None:
    doc = sample_document()
    doc["DanhSachGiayToKetQua"] = [item]
    put = requests.put(f"{gateway.url}/api/v1/dossiers/{doc['ClientId']}", json=doc,
                       headers=auth_headers(station_token), timeout=10)
    assert put.status_code == 422
