"""A citizen's documents on file at the province (contract 1.3): same agency only, the
newest per kind, 422 for a malformed ID number, an audit row per look-up with no ID
number in it. Loopback HTTP against the real gateway; the database follows
MOTCUA_TEST_DB."""

from __future__ import annotations

from typing import Any

import requests
from sqlalchemy import select

from provincial_gateway.db import CitizenLookup
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import (
    AGENCY,
    add_station,
    auth_headers,
    sample_document,
    upload_blob,
)

OWNER = "001099012345"
OTHER = "001099054321"
H34 = "000.00.34.H34"


def _doc(sha: str, name: str, code: str, received: str, owner: str = OWNER,
         agency: str = AGENCY, **extra: Any) -> dict[str, Any]:
    return sample_document(ma_ho_so=code, agency=agency, SoGiayToChuHoSo=owner,
                           NgayTiepNhan=received, TaiLieuNop=[
                               {"MaThanhPhanHoSo": "GT", "TenThanhPhan": name,
                                "TenTepDinhKem": "tep.pdf", "TepDinhKemSha256": sha,
                                "DuocSoHoa": 1}], **extra)


def _put(gateway: GatewayServer, token: str, doc: dict[str, Any]) -> None:
    resp = requests.put(gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"]),
                        json=doc, headers=auth_headers(token), timeout=10)
    assert resp.status_code in (200, 201), resp.text


def _ask(gateway: GatewayServer, token: str, id_number: str) -> requests.Response:
    return requests.get(gateway.url + wire.CITIZEN_DOCUMENTS.format(id_number=id_number),
                        headers=auth_headers(token), timeout=10)


def test_same_agency_newest_per_kind_and_audited(gateway: GatewayServer,
                                                 station_token: str) -> None:
    old = upload_blob(gateway, station_token, b"%PDF-1.4 old residence proof")
    new = upload_blob(gateway, station_token, b"%PDF-1.4 new residence proof")
    power = upload_blob(gateway, station_token, b"%PDF-1.4 power of attorney")
    form = upload_blob(gateway, station_token, b"%PDF-1.4 request form")
    other = upload_blob(gateway, station_token, b"%PDF-1.4 someone else's")
    _put(gateway, station_token, _doc(old, "Giấy tờ chứng minh nơi cư trú",
                                      f"{AGENCY}-231020-1001", "20231020090000"))
    _put(gateway, station_token, _doc(new, "Giấy tờ chứng minh  nơi cư trú",
                                      f"{AGENCY}-231025-1002", "20231025090000"))
    _put(gateway, station_token, _doc(power, "Văn bản ủy quyền",
                                      f"{AGENCY}-231021-1003", "20231021090000"))
    _put(gateway, station_token, _doc(form, "Tờ khai đăng ký khai sinh",
                                      f"{AGENCY}-231022-1004", "20231022090000"))
    _put(gateway, station_token, _doc(other, "Văn bản ủy quyền", f"{AGENCY}-231026-1005",
                                      "20231026090000", owner=OTHER))
    # Another agency's dossier of the same citizen, newer: never answered to this agency.
    h34 = add_station(gateway, H34)
    foreign = upload_blob(gateway, h34, b"%PDF-1.4 another agency's copy")
    _put(gateway, h34, _doc(foreign, "Giấy tờ chứng minh nơi cư trú", f"{H34}-231028-1001",
                            "20231028090000", agency=H34))

    resp = _ask(gateway, station_token, OWNER)
    assert resp.status_code == 200, resp.text
    docs = wire.CitizenDocuments.model_validate(resp.json()).documents
    by_kind = {d.kind: d for d in docs}
    assert set(by_kind) == {"giay to chung minh noi cu tru", "van ban uy quyen"}
    assert len(docs) == 2
    residence = by_kind["giay to chung minh noi cu tru"]
    assert (residence.sha256, residence.ma_ho_so, residence.received_at) == (
        new, f"{AGENCY}-231025-1002", "20231025090000")
    assert residence.size == len(b"%PDF-1.4 new residence proof")
    assert residence.media_type == "application/pdf"
    assert by_kind["van ban uy quyen"].sha256 == power  # not the other citizen's
    # The download path works for this station.
    got = requests.get(gateway.url + residence.download_path,
                       headers=auth_headers(station_token), timeout=10)
    assert got.status_code == 200 and got.content == b"%PDF-1.4 new residence proof"

    # The other agency sees only its own copy; the other citizen only theirs.
    h34_docs = wire.CitizenDocuments.model_validate(_ask(gateway, h34, OWNER).json())
    assert [d.sha256 for d in h34_docs.documents] == [foreign]
    theirs = wire.CitizenDocuments.model_validate(_ask(gateway, station_token, OTHER).json())
    assert [d.sha256 for d in theirs.documents] == [other]

    with gateway.sessions() as s:
        rows = s.scalars(select(CitizenLookup).order_by(CitizenLookup.id)).all()
    assert [(r.agency_code, r.found) for r in rows] == [(AGENCY, 2), (H34, 1), (AGENCY, 1)]
    assert rows[0].dossier_codes == f"{AGENCY}-231021-1003,{AGENCY}-231025-1002"
    assert all(OWNER not in r.dossier_codes and OTHER not in r.dossier_codes for r in rows)


def test_bad_id_number_422_and_feature_announced(gateway: GatewayServer,
                                                 station_token: str) -> None:
    for bad in ("12345", "0010990123456", "00109901234x"):
        resp = _ask(gateway, station_token, bad)
        assert resp.status_code == 422, bad
        assert resp.json()["code"] == wire.E_INVALID
    assert _ask(gateway, "not-a-token", OWNER).status_code == 401
    with gateway.sessions() as s:
        assert s.scalars(select(CitizenLookup)).all() == []
    health = requests.get(gateway.url + wire.HEALTH, timeout=10).json()
    assert wire.FEATURE_CITIZEN_DOCUMENTS in health["features"]
    assert health["api_minor"] >= wire.CITIZEN_DOCUMENTS_MINOR
