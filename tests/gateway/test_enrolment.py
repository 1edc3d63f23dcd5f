"""GET /station (whose token is this) and POST /enrol (a one-time code for a token)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests

from provincial_gateway import admin_cli, admin_ops
from provincial_gateway.db import utcnow
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, auth_headers


def enrol(gateway: GatewayServer, code: str, digit: int = 2,
          agency: str = AGENCY) -> requests.Response:
    return requests.post(gateway.url + wire.ENROL, timeout=10, json={
        "agency_code": agency, "station_digit": digit, "enrolment_code": code})


def test_whoami_names_the_station_of_the_token(gateway: GatewayServer,
                                               station_token: str) -> None:
    resp = requests.get(gateway.url + wire.STATION, headers=auth_headers(station_token),
                        timeout=10)
    assert resp.status_code == 200
    assert wire.StationIdentity.model_validate(resp.json()) == wire.StationIdentity(
        agency_code=AGENCY, station_digit=1, name="Quầy 1")
    assert requests.get(gateway.url + wire.STATION, timeout=10).status_code == 401
    bad = requests.get(gateway.url + wire.STATION, headers=auth_headers("x" * 40), timeout=10)
    assert bad.status_code == 401 and bad.json()["code"] == wire.E_AUTH


def test_a_code_gives_a_working_token_once(gateway: GatewayServer) -> None:
    code, expires = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 2, "Quầy 2")
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}", code)
    assert timedelta(days=6, hours=23) < expires - utcnow() <= timedelta(days=7)
    # Typed by hand: lower case, spaces instead of dashes.
    resp = enrol(gateway, code.lower().replace("-", " "))
    assert resp.status_code == 201
    body = wire.EnrolResponse.model_validate(resp.json())
    assert (body.agency_code, body.station_digit, body.name) == (AGENCY, 2, "Quầy 2")
    who = requests.get(gateway.url + wire.STATION, headers=auth_headers(body.token), timeout=10)
    assert who.json()["station_digit"] == 2
    # Only the hash is stored.
    with gateway.sessions() as s:
        from provincial_gateway.db import Enrolment
        stored = s.query(Enrolment).one()
        assert code not in stored.code_sha256 and stored.used_at is not None
    again = enrol(gateway, code)
    assert again.status_code == 403 and again.json()["code"] == wire.E_ENROL
    # The first token still works: a replayed code does not rotate it.
    assert requests.get(gateway.url + wire.STATION, headers=auth_headers(body.token),
                        timeout=10).status_code == 200


def test_wrong_digit_agency_expired_and_replaced_codes_are_refused(
        gateway: GatewayServer) -> None:
    old, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 2)
    assert enrol(gateway, old, digit=3).status_code == 403
    assert enrol(gateway, old, agency="000.00.12.H13").status_code == 403
    new, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 2)
    assert enrol(gateway, old).status_code == 403  # replaced by the newer code
    expired, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 4,
                                                now=utcnow() - timedelta(days=7, seconds=1))
    assert enrol(gateway, expired, digit=4).status_code == 403
    assert enrol(gateway, new).status_code == 201
    assert [r.station_digit for r in admin_ops.list_stations(gateway.state)] == [2]


def test_five_wrong_guesses_lock_the_code(gateway: GatewayServer) -> None:
    code, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 2)
    for _ in range(admin_ops.ENROLMENT_MAX_FAILURES):
        assert enrol(gateway, "AAAAA-BBBBB-CCCCC").status_code == 403
    assert enrol(gateway, code).status_code == 403
    assert admin_ops.list_stations(gateway.state) == []


def test_malformed_enrolment_requests(gateway: GatewayServer) -> None:
    url = gateway.url + wire.ENROL
    assert requests.post(url, json={"agency_code": AGENCY, "station_digit": 0,
                                    "enrolment_code": "X"}, timeout=10).status_code == 422
    assert requests.post(url, data=b"not json", timeout=10,
                         headers={"Content-Type": "application/json"}).status_code == 422


def test_cli_issues_a_code(gateway: GatewayServer, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["enrolment-code", "--data", str(gateway.config.data_dir), "--agency", AGENCY,
            "--digit", "3", "--name", "Quầy 3", "--days", "2"]
    if gateway.config.db_url:
        argv += ["--db", gateway.config.db_url]
    assert admin_cli.main(argv) == 0
    out = capsys.readouterr().out
    code = re.search(r"^([2-9A-Z]{5}-[2-9A-Z]{5}-[2-9A-Z]{5})$", out, re.M)
    assert code is not None and "dùng được đến" in out
    assert enrol(gateway, code.group(1), digit=3).status_code == 201
    assert admin_cli.main([*argv[:-2], "--days", "120"]) == 1
    assert "từ 1 đến 90 ngày" in capsys.readouterr().err
