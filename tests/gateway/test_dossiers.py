"""Dossier upsert rules, blobs, events and the change feed, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from provincial_gateway.db import Change, Dossier, DossierRevision, Progress
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import (
    AGENCY,
    add_station,
    auth_headers,
    sample_document,
    upload_blob,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def gw(request: pytest.FixtureRequest,
       gateway_factory: Callable[..., GatewayServer]) -> GatewayServer:
    if request.param == "postgresql":
        return gateway_factory(db_url=request.getfixturevalue("pg_url"))
    return gateway_factory()


@pytest.fixture
def token(gw: GatewayServer) -> str:
    return add_station(gw)


def put(gw: GatewayServer, token: str, doc: dict[str, Any],
        client_id: str | None = None) -> requests.Response:
    url = gw.url + wire.DOSSIER.format(client_id=client_id or doc["ClientId"])
    return requests.put(url, json=doc, headers=auth_headers(token), timeout=10)


def count(gw: GatewayServer, model: Any) -> int:
    with gw.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_agency_mismatch_is_403(gw: GatewayServer, token: str) -> None:
    resp = put(gw, token, sample_document(agency="000.00.13.H12"))
    assert resp.status_code == 403
    assert resp.json()["code"] == wire.E_AGENCY
    assert count(gw, Dossier) == 0


def test_missing_blobs_then_upload_then_created(gw: GatewayServer, token: str) -> None:
    files = [b"%PDF-1.7 giay khai sinh" * 100, b"%PDF-1.7 CCCD" * 3000]
    shas = [hashlib.sha256(f).hexdigest() for f in files]
    doc = sample_document(shas=shas)
    resp = put(gw, token, doc)
    assert resp.status_code == 422
    err = wire.ErrorBody.model_validate(resp.json())
    assert err.code == wire.E_MISSING_BLOBS and err.missing == shas

    missing = requests.post(gw.url + wire.BLOBS_MISSING, json={"sha256": shas},
                            headers=auth_headers(token), timeout=5)
    assert missing.json() == {"missing": shas}
    upload_blob(gw, token, files[0])
    upload_blob(gw, token, files[1], chunk_size=10_000)
    missing = requests.post(gw.url + wire.BLOBS_MISSING, json={"sha256": shas},
                            headers=auth_headers(token), timeout=5)
    assert missing.json() == {"missing": []}

    resp = put(gw, token, doc)
    assert resp.status_code == 200
    ack = wire.DossierAck.model_validate(resp.json())
    assert (ack.result, ack.PhienBan, ack.TrangThaiHoSo) == ("created", 1, 2)
    urls = [item["DuongDanTaiTepTin"] for item in ack.TaiLieuNop]
    assert urls == [f"{gw.url}/api/v1/blobs/{sha}" for sha in shas]
    got = requests.get(urls[1], headers=auth_headers(token), timeout=5)
    assert got.status_code == 200 and got.content == files[1]
    assert requests.get(urls[1], timeout=5).status_code == 401


def test_blobs_are_private_to_the_uploading_agency(gw: GatewayServer, token: str) -> None:
    sha = upload_blob(gw, token, b"ho so dat dai" * 50)
    other = add_station(gw, agency="000.00.13.H12")
    url = gw.url + wire.BLOB.format(sha256=sha)
    assert requests.get(url, headers=auth_headers(other), timeout=5).status_code == 404
    resp = requests.post(gw.url + wire.BLOBS_MISSING, json={"sha256": [sha]},
                         headers=auth_headers(other), timeout=5)
    assert resp.json()["missing"] == [sha]
    upload_blob(gw, other, b"ho so dat dai" * 50)  # proving possession grants access
    assert requests.get(url, headers=auth_headers(other), timeout=5).status_code == 200


def test_missing_blobs_request_validates_hashes(gw: GatewayServer, token: str) -> None:
    resp = requests.post(gw.url + wire.BLOBS_MISSING, json={"sha256": ["abc", "z" * 64]},
                         headers=auth_headers(token), timeout=5)
    assert resp.status_code == 422 and resp.json()["code"] == wire.E_INVALID
    bad = requests.get(gw.url + wire.BLOB.format(sha256="nothex"), headers=auth_headers(token),
                       timeout=5)
    assert bad.status_code == 422


def test_revision_semantics(gw: GatewayServer, token: str) -> None:
    doc = sample_document(revision=2)
    assert put(gw, token, doc).json()["result"] == "created"
    assert put(gw, token, doc).json()["result"] == "unchanged"
    # Key order does not matter: bodies are compared as canonical JSON.
    assert put(gw, token, dict(reversed(list(doc.items())))).json()["result"] == "unchanged"

    changed = {**doc, "SoDienThoai": "0912345678"}
    resp = put(gw, token, changed)
    assert resp.status_code == 409 and resp.json()["code"] == wire.E_CONFLICT

    newer = {**changed, "PhienBan": 3}
    resp = put(gw, token, newer)
    assert resp.status_code == 200
    assert (resp.json()["result"], resp.json()["PhienBan"]) == ("updated", 3)

    older = {**doc, "PhienBan": 1, "GhiChu": "bản cũ"}
    resp = put(gw, token, older)
    assert resp.status_code == 200
    ack = wire.DossierAck.model_validate(resp.json())
    assert (ack.result, ack.PhienBan) == ("stale", 3)

    with gw.sessions() as s:
        d = s.scalar(select(Dossier))
        assert d is not None and d.revision == 3 and "0912345678" in d.body
        revisions = s.scalars(select(DossierRevision.revision).order_by(
            DossierRevision.revision)).all()
    assert revisions == [2, 3]


def test_body_and_path_must_agree(gw: GatewayServer, token: str) -> None:
    doc = sample_document()
    resp = put(gw, token, doc, client_id=str(uuid.uuid4()))
    assert resp.status_code == 422 and resp.json()["code"] == wire.E_INVALID
    no_revision = {k: v for k, v in doc.items() if k != "PhienBan"}
    assert put(gw, token, no_revision).status_code == 422
    assert put(gw, token, {**doc, "PhienBan": "1"}).status_code == 422
    bad_sha = sample_document(shas=["12345"])
    assert put(gw, token, bad_sha).status_code == 422


def test_dossier_code_is_unique_per_gateway(gw: GatewayServer, token: str) -> None:
    first = sample_document(ma_ho_so=f"{AGENCY}-231027-1001")
    assert put(gw, token, first).json()["result"] == "created"
    clash = sample_document(ma_ho_so=f"{AGENCY}-231027-1001")
    resp = put(gw, token, clash)
    assert resp.status_code == 409 and resp.json()["code"] == wire.E_CONFLICT
    renamed = {**first, "PhienBan": 2, "MaHoSo": f"{AGENCY}-231027-1002"}
    assert put(gw, token, renamed).status_code == 409
    # Refusals carry no code; several of them may coexist.
    for _ in range(2):
        refusal = sample_document(ma_ho_so="", TrangThaiHoSo=3)
        resp = put(gw, token, refusal)
        assert resp.status_code == 200 and resp.json()["TrangThaiHoSo"] == 3


def test_concurrent_identical_puts_create_exactly_one(gw: GatewayServer, token: str) -> None:
    doc = sample_document()
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        try:
            barrier.wait()
            resp = put(gw, token, doc)
            assert resp.status_code == 200, resp.text
            results.append(resp.json()["result"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == ["created"] + ["unchanged"] * 7
    assert count(gw, Dossier) == 1
    assert count(gw, DossierRevision) == 1
    assert count(gw, Change) == 1


def post_event(gw: GatewayServer, token: str, event: dict[str, Any]) -> requests.Response:
    return requests.post(gw.url + wire.EVENTS, json=event, headers=auth_headers(token), timeout=5)


def test_events_are_idempotent_and_need_the_dossier(gw: GatewayServer, token: str) -> None:
    doc = sample_document()
    event = {"EventId": str(uuid.uuid4()), "ClientId": doc["ClientId"],
             "MaHoSo": doc["MaHoSo"], "Loai": "returned", "ThoiDiem": "20231103093200",
             "NguoiXuLy": "Triệu Thị Hương", "NoiDung": "Trả kết quả", "TrangThaiHoSo": 10}
    resp = post_event(gw, token, event)
    assert resp.status_code == 404 and resp.json()["code"] == wire.E_UNKNOWN_DOSSIER

    put(gw, token, doc)
    assert post_event(gw, token, event).json() == {"EventId": event["EventId"],
                                                   "result": "created"}
    assert post_event(gw, token, event).json()["result"] == "unchanged"
    resp = post_event(gw, token, {**event, "NoiDung": "khác"})
    assert resp.status_code == 409 and resp.json()["code"] == wire.E_CONFLICT
    assert post_event(gw, token, {**event, "EventId": "x", "ThoiDiem": "3/11"}).status_code == 422

    with gw.sessions() as s:
        d = s.scalar(select(Dossier))
        assert d is not None and d.status == 10
        assert s.scalar(select(func.count()).select_from(Progress)) == 2
    # The station's own change is not echoed back into its change feed.
    feed = requests.get(gw.url + wire.CHANGES, headers=auth_headers(token), timeout=5).json()
    assert [c["TrangThaiHoSo"] for c in feed["changes"]] == [2]


def test_change_feed_pages_by_cursor_per_agency(gw: GatewayServer, token: str) -> None:
    docs = [sample_document() for _ in range(3)]
    for doc in docs:
        put(gw, token, doc)
    gw.set_status(docs[0]["MaHoSo"], 4, note="Chuyển phòng chuyên môn", actor="Lò Văn Minh")
    gw.set_status(docs[0]["MaHoSo"], 9, note="Đã có kết quả")
    gw.set_status(docs[1]["ClientId"], 5, new_appointment="20231110170000")

    other = add_station(gw, agency="000.00.13.H12")
    empty = requests.get(gw.url + wire.CHANGES, headers=auth_headers(other), timeout=5).json()
    assert empty == {"changes": [], "cursor": 0, "more": False}

    seen: list[wire.Change] = []
    cursor = 0
    pages = 0
    while True:
        resp = requests.get(gw.url + wire.CHANGES, params={"since": cursor, "limit": 2},
                            headers=auth_headers(token), timeout=5)
        body = wire.ChangesBody.model_validate(resp.json())
        seen += body.changes
        cursor = body.cursor
        pages += 1
        if not body.more:
            break
    assert pages == 3
    assert [c.seq for c in seen] == sorted(c.seq for c in seen)
    assert len(seen) == 6 and cursor == seen[-1].seq
    ready = seen[4]
    assert (ready.ClientId, ready.TrangThaiHoSo) == (docs[0]["ClientId"], 9)
    assert ready.NgayCoKetQua == ready.ThoiDiem
    assert seen[3].NguoiXuLy == "Lò Văn Minh"
    assert (seen[5].TrangThaiHoSo, seen[5].NgayHenTraMoi) == (5, "20231110170000")
    again = requests.get(gw.url + wire.CHANGES, params={"since": cursor},
                         headers=auth_headers(token), timeout=5).json()
    assert again == {"changes": [], "cursor": cursor, "more": False}
    # The status of a dossier in the ack reflects the processing side.
    ack = put(gw, token, docs[0]).json()
    assert (ack["result"], ack["TrangThaiHoSo"]) == ("unchanged", 9)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"since": -1},
                                    {"since": "abc"}])
def test_change_feed_rejects_bad_paging(gw: GatewayServer, token: str,
                                        params: dict[str, Any]) -> None:
    resp = requests.get(gw.url + wire.CHANGES, params=params, headers=auth_headers(token),
                        timeout=5)
    assert resp.status_code == 422 and resp.json()["code"] == wire.E_INVALID
