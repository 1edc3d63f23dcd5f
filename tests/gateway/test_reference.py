"""Health, authentication, reference data with ETags, and what the gateway logs."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
import requests

from desktop_app.passwords import verify_password
from provincial_gateway import admin_ops, refdata
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, add_station, auth_headers, sample_document


def test_health_needs_no_token_and_gives_vietnam_time(gateway: GatewayServer) -> None:
    resp = requests.get(gateway.url + wire.HEALTH, timeout=5)
    assert resp.status_code == 200
    body = wire.Health.model_validate(resp.json())
    assert body.api_version == wire.API_VERSION
    assert datetime.fromisoformat(body.server_time).utcoffset().total_seconds() == 7 * 3600


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-real-token-123456"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_unknown_or_missing_token_is_401_auth(gateway: GatewayServer,
                                               headers: dict[str, str]) -> None:
    resp = requests.get(gateway.url + wire.CHANGES, headers=headers, timeout=5)
    assert resp.status_code == 401
    assert resp.headers["content-type"] == "application/json"
    assert wire.ErrorBody.model_validate(resp.json()).code == wire.E_AUTH


def test_revoked_token_stops_working(gateway: GatewayServer) -> None:
    token = add_station(gateway)
    url = gateway.url + wire.CHANGES
    assert requests.get(url, headers=auth_headers(token), timeout=5).status_code == 200
    admin_ops.revoke_station(gateway.state, AGENCY, 1)
    resp = requests.get(url, headers=auth_headers(token), timeout=5)
    assert resp.status_code == 401 and resp.json()["code"] == wire.E_AUTH


def test_reissued_token_replaces_the_old_one(gateway: GatewayServer) -> None:
    old = add_station(gateway)
    new = add_station(gateway)
    url = gateway.url + wire.CHANGES
    assert requests.get(url, headers=auth_headers(old), timeout=5).status_code == 401
    assert requests.get(url, headers=auth_headers(new), timeout=5).status_code == 200


def test_catalog_is_the_sample_with_a_strong_etag(gateway: GatewayServer,
                                                  station_token: str) -> None:
    h = auth_headers(station_token)
    resp = requests.get(gateway.url + wire.CATALOG, headers=h, timeout=5)
    assert resp.status_code == 200
    catalog = wire.Catalog.model_validate(resp.json())
    assert catalog.catalog_version == "2026.11-sample"
    assert any(p["code"] == "1.001193" for p in catalog.procedures)
    etag = resp.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = requests.get(gateway.url + wire.CATALOG, timeout=5,
                         headers={**h, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    other = requests.get(gateway.url + wire.CATALOG, timeout=5,
                         headers={**h, "If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_calendar_etag_changes_with_an_override(gateway: GatewayServer,
                                                station_token: str) -> None:
    h = auth_headers(station_token)
    first = requests.get(gateway.url + wire.CALENDAR, headers=h, timeout=5)
    assert wire.CalendarBody.model_validate(first.json()).overrides == []
    refdata.set_calendar_day(gateway.state, "2026-12-31", "off", "Nghỉ bù Tết Dương lịch")
    cached = requests.get(gateway.url + wire.CALENDAR, timeout=5,
                          headers={**h, "If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 200
    body = wire.CalendarBody.model_validate(cached.json())
    assert [(o.day, o.kind) for o in body.overrides] == [("2026-12-31", "off")]
    assert body.version != first.json()["version"]
    unchanged = requests.get(gateway.url + wire.CALENDAR, timeout=5,
                             headers={**h, "If-None-Match": cached.headers["ETag"]})
    assert unchanged.status_code == 304


def test_clerks_are_per_agency(gateway: GatewayServer, station_token: str) -> None:
    refdata.upsert_clerk(gateway.state, AGENCY, "huong", "Triệu Thị Hương", "clerk",
                         admin_ops.hash_password("mat-khau-1"))
    refdata.upsert_clerk(gateway.state, "000.00.13.H12", "lan", "Lò Thị Lan", "clerk",
                         admin_ops.hash_password("khac-123"))
    resp = requests.get(gateway.url + wire.CLERKS, headers=auth_headers(station_token), timeout=5)
    body = wire.ClerksBody.model_validate(resp.json())
    assert [c.username for c in body.clerks] == ["huong"]
    assert verify_password("mat-khau-1", body.clerks[0].password_hash)
    assert requests.get(gateway.url + wire.CLERKS, timeout=5, headers={
        **auth_headers(station_token), "If-None-Match": resp.headers["ETag"]}).status_code == 304


def test_logs_name_the_error_but_never_tokens_or_personal_data(
        gateway: GatewayServer, station_token: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    requests.get(gateway.url + wire.CHANGES, timeout=5,
                 headers=auth_headers("leaked-token-value-xyz"))
    doc = sample_document(MaDonVi="000.00.99.H99")
    requests.put(gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"]), json=doc,
                 headers=auth_headers(station_token), timeout=5)
    bad = sample_document(PhienBan="hai")
    requests.put(gateway.url + wire.DOSSIER.format(client_id=bad["ClientId"]), json=bad,
                 headers=auth_headers(station_token), timeout=5)
    text = caplog.text
    assert "-> 401 auth" in text and "-> 403 agency_mismatch" in text
    assert "-> 422 invalid" in text and "PhienBan" in text
    for secret in ("leaked-token-value-xyz", station_token, "Nguyễn Văn An", "001099012345"):
        assert secret not in text
