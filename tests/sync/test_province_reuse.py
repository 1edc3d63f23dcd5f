"""The province's copies of a citizen's documents at the station: asked over loopback
from the real gateway, offered only for kinds with no local copy and only for the ID
number asked, downloaded into the blob store when reused; a stopped gateway gives
nothing, quietly. The database follows MOTCUA_TEST_DB."""

from __future__ import annotations

import hashlib
from typing import Any

import requests
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.intake.province_reuse import bring_local, province_on_file
from desktop_app.intake.service import IntakeService
from desktop_app.sync.service import SyncService
from local_db.models import AuditEntry, ComponentFile, ComponentReuse, OutboxEntry
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, add_station, auth_headers, upload_blob

from ..test_intake import OWNER, complete_draft
from ..test_reuse import GT
from .test_sync_engine import synced_station  # noqa: F401  (fixture)

PDF = b"%PDF-1.4 residence proof held by the province " * 50
CODE = f"{AGENCY}-261020-2001"


def _province_copy(gateway: GatewayServer, name: str) -> str:
    token = add_station(gateway, AGENCY, digit=2)  # another counter of the same agency
    sha = upload_blob(gateway, token, PDF)
    doc: dict[str, Any] = {
        "ClientId": "6f1c1f7e-8d2a-4d7e-9a51-0c3f0d1e2a01", "MaDonVi": AGENCY,
        "MaHoSo": CODE, "PhienBan": 1, "MaTTHC": "9.000005", "TenTTHC": "Thủ tục",
        "KenhThucHien": 1, "ChuHoSo": OWNER.full_name, "SoGiayToChuHoSo": OWNER.id_number,
        "NgayTiepNhan": "20261020090000", "NgayHenTra": "20261025170000",
        "TrangThaiHoSo": 2, "TaiLieuNop": [
            {"MaThanhPhanHoSo": "GT", "TenThanhPhan": name, "TenTepDinhKem": "gt.pdf",
             "TepDinhKemSha256": sha, "DuocSoHoa": 1}]}
    resp = requests.put(gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"]),
                        json=doc, headers=auth_headers(token), timeout=10)
    assert resp.status_code in (200, 201), resp.text
    return sha


def test_province_entry_offered_reused_and_synced(
        ctx: AppContext, clerk: ClerkInfo, gateway: GatewayServer,
        synced_station: SyncService) -> None:  # noqa: F811
    intake = IntakeService(ctx)
    draft = complete_draft(intake)
    name = draft.components[GT].name
    sha = _province_copy(gateway, name)
    client = synced_station.client()
    [entry] = province_on_file(ctx, client, OWNER.id_number, clerk, "9.000005")
    assert (entry.where, entry.dossier_code, entry.files[0].sha256) == ("province", CODE, sha)
    assert "trên hệ thống tỉnh" in entry.label_vi
    # Never for another ID number, and not for a kind the station already holds.
    assert province_on_file(ctx, client, "001099099999", clerk, "9.000005") == []
    assert province_on_file(ctx, client, OWNER.id_number, clerk, "9.000005",
                            local_kinds=[entry.kind]) == []

    bring_local(ctx, client, entry)
    assert hashlib.sha256(ctx.blobs.read_bytes(sha)).hexdigest() == sha
    draft.components[GT].files = list(entry.files)
    out = intake.receive(draft, clerk)
    with ctx.db.read() as s:
        new = s.scalars(select(ComponentFile).where(ComponentFile.blob_sha256 == sha)).one()
        reuse = s.get(ComponentReuse, new.id)
        assert reuse is not None
        assert (new.digitization_state, reuse.source_file_id, reuse.source_code,
                reuse.source_kind) == (2, None, CODE, "province")
        doc = s.scalars(select(OutboxEntry.payload).where(
            OutboxEntry.entity_type == "dossier", OutboxEntry.entity_id == out.dossier_uuid)
        ).one()
        looked = s.scalars(select(AuditEntry.detail).where(
            AuditEntry.action == "citizen_documents_looked_up")).all()
    item = next(t for t in doc["TaiLieuNop"] if t["TepDinhKemSha256"])
    assert (item["DuocSoHoa"], item["DuocTaiSuDung"], item["MaKetQuaThayThe"]) == (
        2, True, CODE)
    assert [d["where"] for d in looked] == ["province"] * 3
    assert all(OWNER.id_number not in str(d) for d in looked)
    client.close()


def test_stopped_gateway_gives_nothing_quietly(
        ctx: AppContext, clerk: ClerkInfo, gateway: GatewayServer,
        synced_station: SyncService) -> None:  # noqa: F811
    _province_copy(gateway, "Giấy tờ chứng minh nơi cư trú")
    client = synced_station.client()
    gateway.stop()
    assert province_on_file(ctx, client, OWNER.id_number, clerk, "9.000005") == []
    with ctx.db.read() as s:
        assert s.scalars(select(AuditEntry).where(
            AuditEntry.action == "citizen_documents_looked_up")).all() == []
    client.close()
