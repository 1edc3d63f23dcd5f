"""Each injected fault as a real HTTP client sees it, and the ways to set them."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from provincial_gateway import admin_cli
from provincial_gateway.db import Dossier
from provincial_gateway.faults import FaultPlan, FaultRule
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import auth_headers, sample_document


def put(gateway: GatewayServer, token: str, doc: dict[str, object]) -> requests.Response:
    return requests.put(gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"]), json=doc,
                        headers=auth_headers(token), timeout=5)


def dossiers(gateway: GatewayServer) -> int:
    with gateway.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Dossier)))


def test_drop_after_commits_but_the_client_sees_a_connection_error(
        gateway: GatewayServer, station_token: str) -> None:
    gateway.faults.add("drop_after", method="PUT", path="/dossiers/", times=1)
    doc = sample_document()
    with pytest.raises(requests.ConnectionError):
        put(gateway, station_token, doc)
    assert dossiers(gateway) == 1  # it did take effect
    retry = put(gateway, station_token, doc)
    assert retry.status_code == 200 and retry.json()["result"] == "unchanged"


def test_drop_before_processes_nothing(gateway: GatewayServer, station_token: str) -> None:
    gateway.faults.add("drop_before", path="/dossiers/", times=1)
    doc = sample_document()
    with pytest.raises(requests.ConnectionError):
        put(gateway, station_token, doc)
    assert dossiers(gateway) == 0
    assert put(gateway, station_token, doc).json()["result"] == "created"


def test_truncated_answer_breaks_the_json(gateway: GatewayServer, station_token: str) -> None:
    gateway.faults.add("truncate", path="/changes", times=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(gateway.url + wire.CHANGES, headers=auth_headers(station_token), timeout=5)
    # Streaming shows what happened on the wire: full Content-Length, half a body, EOF.
    gateway.faults.add("truncate", path="/changes", times=1)
    resp = requests.get(gateway.url + wire.CHANGES, headers=auth_headers(station_token),
                        timeout=5, stream=True)
    declared = int(resp.headers["Content-Length"])
    got = b""
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for part in resp.iter_content(16):
            got += part
    assert 0 < len(got) < declared


def test_captive_portal_answers_html_and_processes_nothing(
        gateway: GatewayServer, station_token: str) -> None:
    gateway.faults.add("captive_portal", times=1)
    doc = sample_document()
    resp = put(gateway, station_token, doc)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "Wi-Fi" in resp.text
    assert dossiers(gateway) == 0


def test_status_5xx_has_retry_after(gateway: GatewayServer, station_token: str) -> None:
    gateway.faults.add("status_5xx", path="/dossiers/", times=1, retry_after=7)
    doc = sample_document()
    resp = put(gateway, station_token, doc)
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "7"
    assert dossiers(gateway) == 0
    assert put(gateway, station_token, doc).status_code == 200


def test_delay_then_normal_answer(gateway: GatewayServer) -> None:
    delayed = gateway.faults.add("delay", path="/health", times=1, delay_s=0.4)
    resp = requests.get(gateway.url + wire.HEALTH, timeout=30)
    assert resp.status_code == 200 and "api_version" in resp.json()
    assert delayed.fired == 1  # that normal answer was the delayed one
    # The delay is real: a client that waits less for the answer gives up first.
    gateway.faults.add("delay", path="/health", times=1, delay_s=1.0)
    with pytest.raises(requests.ReadTimeout):
        requests.get(gateway.url + wire.HEALTH, timeout=(30, 0.3))


def test_rate_is_reproducible_with_a_seed() -> None:
    def fired(seed: int) -> list[bool]:
        plan = FaultPlan([FaultRule("status_5xx", rate=0.3)], seed=seed)
        return [plan.pick("GET", "/api/v1/changes") is not None for _ in range(50)]

    assert fired(4) == fired(4)
    assert 5 <= sum(fired(4)) <= 25
    rule = FaultRule("drop_before", path="/files/", method="PATCH", times=2)
    plan = FaultPlan([rule])
    assert plan.pick("GET", "/api/v1/files/x") is None
    assert [plan.pick("PATCH", "/api/v1/files/x") is rule for _ in range(3)] == [
        True, True, False]
    with pytest.raises(ValueError):
        FaultRule("meteor")  # type: ignore[arg-type]


def test_faults_over_http_and_cli_need_the_admin_token(
        gateway: GatewayServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = gateway.url + "/admin/faults"
    assert requests.post(url, json={"rules": []}, timeout=5).status_code == 401
    resp = requests.post(url, json={"rules": [{"kind": "status_5xx", "path": "/health"}]},
                         headers=auth_headers(gateway.admin_token), timeout=5)
    assert resp.status_code == 200 and resp.json()["rules"][0]["kind"] == "status_5xx"
    assert requests.get(gateway.url + wire.HEALTH, timeout=5).status_code == 503
    # /admin is never faulted, so a trainer can always clear the plan.
    assert requests.delete(url, headers=auth_headers(gateway.admin_token),
                           timeout=5).status_code == 200
    assert requests.get(gateway.url + wire.HEALTH, timeout=5).status_code == 200

    client = ["--url", gateway.url, "--admin-token", gateway.admin_token]
    assert admin_cli.main(["faults", "set", *client, "--kind", "captive_portal",
                           "--path", "/health", "--times", "1"]) == 0
    assert "captive_portal" in capsys.readouterr().out
    assert requests.get(gateway.url + wire.HEALTH, timeout=5).headers[
        "Content-Type"].startswith("text/html")
    assert admin_cli.main(["faults", "show", *client]) == 0
    assert "đã xảy ra 1" in capsys.readouterr().out
    assert admin_cli.main(["faults", "clear", *client]) == 0
    assert gateway.faults.rules == []
    assert admin_cli.main(["faults", "clear", "--url", gateway.url,
                           "--admin-token", "wrong"]) == 1
    assert "401" in capsys.readouterr().err
