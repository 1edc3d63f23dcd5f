"""POST /dossiers/batch (contract 1.1) over loopback HTTP: each document follows the
single PUT's rules and gets its own result; the caps; a gateway run as contract 1.0."""

from __future__ import annotations

import json
from typing import Any

import requests
from sqlalchemy import func, select

from provincial_gateway.db import Dossier, DossierRevision
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, add_station, auth_headers, sample_document


def doc(n: int, revision: int = 1, **fields: Any) -> dict[str, Any]:
    return sample_document(client_id=f"00000000-0000-4000-8000-{n:012d}",
                           ma_ho_so=f"{AGENCY}-231027-1{n:03d}", revision=revision, **fields)


def batch(gw: GatewayServer, token: str, docs: list[Any]) -> requests.Response:
    return requests.post(gw.url + wire.DOSSIER_BATCH, json={"dossiers": docs},
                         headers=auth_headers(token), timeout=30)


def put(gw: GatewayServer, token: str, document: dict[str, Any]) -> requests.Response:
    return requests.put(gw.url + wire.DOSSIER.format(client_id=document["ClientId"]),
                        json=document, headers=auth_headers(token), timeout=10)


def stored(gw: GatewayServer) -> dict[str, int]:
    with gw.sessions() as s:
        return {d.client_id: d.revision for d in s.scalars(select(Dossier))}


def test_each_document_gets_the_single_puts_answer(gateway: GatewayServer,
                                                   station_token: str) -> None:
    other = add_station(gateway, digit=2, name="Quầy 2")
    theirs = sample_document(client_id="00000000-0000-4000-8000-000000000099",
                             ma_ho_so=f"{AGENCY}-231027-2001")
    assert put(gateway, other, theirs).status_code == 200
    assert put(gateway, station_token, doc(2)).status_code == 200  # sent before: same again
    assert put(gateway, station_token, doc(3, revision=5)).status_code == 200  # newer there
    assert put(gateway, station_token, doc(6)).status_code == 200
    docs: list[Any] = [
        doc(1),  # new
        doc(2),  # identical resend
        doc(3, revision=4),  # older than the stored revision
        {**theirs, "MaHoSo": f"{AGENCY}-231027-1004"},  # another station's dossier
        doc(5, NgayTiepNhan="20231327093200"),  # month 13
        doc(6, GhiChu="nội dung khác, cùng phiên bản"),  # conflict
        doc(7, shas=["ab" * 32]),  # a file the gateway lacks
        doc(8, revision=2),  # new at revision 2
        "không phải hồ sơ",
    ]
    resp = batch(gateway, station_token, docs)
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert [r["ClientId"] for r in results] == [
        d["ClientId"] if isinstance(d, dict) else "" for d in docs]
    assert [r["status"] for r in results] == [200, 200, 200, 403, 422, 409, 422, 200, 422]
    assert [r["ack"]["result"] for r in results if r["status"] == 200] == [
        "created", "unchanged", "stale", "created"]
    assert results[2]["ack"]["PhienBan"] == 5  # the stored, newer revision
    errors = [r["error"]["code"] for r in results if r["status"] != 200]
    assert errors == [wire.E_NOT_OWNER, wire.E_INVALID, wire.E_CONFLICT, wire.E_MISSING_BLOBS,
                      wire.E_INVALID]
    assert results[6]["error"]["missing"] == ["ab" * 32]
    # The single PUT of each refused document answers the same status and code.
    for d, r in zip(docs[3:7], results[3:7], strict=True):
        single = put(gateway, station_token, d)
        assert (single.status_code, single.json()["code"]) == (r["status"],
                                                               r["error"]["code"])
    assert stored(gateway) == {theirs["ClientId"]: 1, doc(2)["ClientId"]: 1,
                               doc(3)["ClientId"]: 5, doc(6)["ClientId"]: 1,
                               doc(1)["ClientId"]: 1, doc(8)["ClientId"]: 2}


def test_a_resent_batch_stores_nothing_twice(gateway: GatewayServer,
                                             station_token: str) -> None:
    docs = [doc(n) for n in range(1, 31)]
    first = batch(gateway, station_token, docs).json()["results"]
    again = batch(gateway, station_token, docs).json()["results"]
    assert {r["ack"]["result"] for r in first} == {"created"}
    assert {r["ack"]["result"] for r in again} == {"unchanged"}
    # The same revision by PUT is the same body, however the JSON was written.
    assert put(gateway, station_token, docs[0]).json()["result"] == "unchanged"
    with gateway.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Dossier)) == 30
        assert s.scalar(select(func.count()).select_from(DossierRevision)) == 30


def test_documents_of_one_batch_see_each_other_in_order(gateway: GatewayServer,
                                                        station_token: str) -> None:
    twin = {**doc(2), "MaHoSo": doc(1)["MaHoSo"]}  # the code the first one just took
    results = batch(gateway, station_token,
                    [doc(1), twin, doc(1, revision=2), doc(1)]).json()["results"]
    assert [(r["status"], (r.get("ack") or {}).get("result")) for r in results] == [
        (200, "created"), (409, None), (200, "updated"), (200, "stale")]
    assert "TaiLieuNop" not in results[0]["ack"] and "error" not in results[0]
    assert stored(gateway) == {doc(1)["ClientId"]: 2}


def test_caps_on_items_and_bytes(gateway: GatewayServer, station_token: str) -> None:
    health = wire.Health.model_validate(requests.get(gateway.url + wire.HEALTH,
                                                     timeout=10).json())
    assert (health.api_version, health.api_minor) == (1, wire.API_MINOR)
    assert health.dossier_batch_max_items == wire.DOSSIER_BATCH_MAX_ITEMS
    assert health.dossier_batch_max_bytes == wire.DOSSIER_BATCH_MAX_BYTES
    too_many = batch(gateway, station_token,
                     [doc(n) for n in range(wire.DOSSIER_BATCH_MAX_ITEMS + 1)])
    assert too_many.status_code == 422 and too_many.json()["code"] == wire.E_INVALID
    assert batch(gateway, station_token, []).status_code == 422
    big = json.dumps({"dossiers": [doc(1, GhiChu="x" * 1000)] * 5000}).encode()
    assert len(big) > wire.DOSSIER_BATCH_MAX_BYTES
    resp = requests.post(gateway.url + wire.DOSSIER_BATCH, data=big, timeout=30, headers={
        **auth_headers(station_token), "Content-Type": "application/json"})
    assert resp.status_code == 413 and resp.json()["code"] == wire.E_TOO_LARGE
    assert requests.post(gateway.url + wire.DOSSIER_BATCH, json={"dossiers": [doc(1)]},
                         timeout=10).status_code == 401
    assert stored(gateway) == {}


def test_gateway_of_contract_1_0_has_no_batches(
        gateway_factory: Any) -> None:
    old = gateway_factory(contract_minor=0)
    token = add_station(old)
    health = requests.get(old.url + wire.HEALTH, timeout=10).json()
    assert health["api_minor"] == 0 and health["dossier_batch_max_items"] == 0
    resp = batch(old, token, [doc(1)])
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    assert stored(old) == {}
    assert put(old, token, doc(1)).json()["result"] == "created"
