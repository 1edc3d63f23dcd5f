"""The gateway's side of the fleet: station heartbeats checked against the token and the
text rules, `motcua gateway fleet` flags and exit codes, the admin page's fleet view."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import select

from provincial_gateway import admin_cli, fleet, station_heartbeats
from provincial_gateway.auth import lookup_station
from provincial_gateway.db import StationHeartbeat, utcnow
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, add_station, auth_headers

OTHER_AGENCY = "000.00.12.H13"


def beat(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"app_version": "1.4.2", "schema_revision": "0019_login_lockout",
                            "queue_size": 0, "free_disk_bytes": 50 * 10**9,
                            "doctor_status": "ok", "clock_offset_s": 1.5,
                            "platform": "Windows-10-10.0.19045-SP0; Python 3.11.9",
                            "install_id": "0b6a2f5e-3c1d-4e8f-9a7b-2c4d6e8f0a1b"}
    body.update(fields)
    return body


def post(gateway: GatewayServer, token: str, body: Any, **kw: Any) -> requests.Response:
    return requests.post(gateway.url + wire.STATION_HEARTBEAT, json=body,
                         headers=auth_headers(token), timeout=10, **kw)


def stored(gateway: GatewayServer) -> dict[tuple[str, int], StationHeartbeat]:
    from provincial_gateway.db import Station

    with gateway.sessions() as s:
        rows = s.execute(select(Station, StationHeartbeat).join(
            StationHeartbeat, StationHeartbeat.station_id == Station.id)).all()
    return {(st.agency_code, st.station_digit): hb for st, hb in rows}


def test_health_advertises_heartbeats_and_the_route_keeps_the_latest(
        gateway: GatewayServer, station_token: str) -> None:
    health = requests.get(gateway.url + wire.HEALTH, timeout=10).json()
    assert wire.FEATURE_HEARTBEAT in health["features"]
    resp = post(gateway, station_token, beat(agency_code=AGENCY, station_digit=1,
                                             some_later_field="ignored"))
    assert resp.status_code == 200, resp.text
    ack = wire.HeartbeatAck.model_validate(resp.json())
    assert ack.station == f"{AGENCY}/1" and ack.received_at.endswith("+07:00")
    assert post(gateway, station_token, beat(queue_size=7)).status_code == 200
    [(key, row)] = stored(gateway).items()
    assert key == (AGENCY, 1) and row.queue_size == 7 and row.beats == 2


def test_a_station_reports_only_for_itself(gateway: GatewayServer, station_token: str
                                           ) -> None:
    add_station(gateway, digit=2, name="Quầy 2")
    add_station(gateway, agency=OTHER_AGENCY, digit=1, name="Quầy khác")
    for claim in ({"agency_code": AGENCY, "station_digit": 2},
                  {"agency_code": OTHER_AGENCY, "station_digit": 1},
                  {"agency_code": OTHER_AGENCY}, {"station_digit": 2}):
        resp = post(gateway, station_token, beat(**claim))
        assert resp.status_code == 403 and resp.json()["code"] == wire.E_NOT_OWNER, claim
    assert stored(gateway) == {}  # stored under neither station
    # Without a token, or with a wrong one: 401 before the body is read.
    resp = requests.post(gateway.url + wire.STATION_HEARTBEAT, json=beat(), timeout=10)
    assert resp.status_code == 401
    assert post(gateway, "not-a-token-at-all", beat()).status_code == 401
    assert stored(gateway) == {}


@pytest.mark.parametrize("fields", [
    {"platform": "Windows\x1b[2J"},  # a control character (a terminal escape)
    {"platform": "Windows \u202eexe.cod"},  # a direction override
    {"platform": "x" * 201},
    {"app_version": "1.4.2<script>"},
    {"doctor_failing": ["database", "Ổ ĐĨA"]},
    {"doctor_status": "bad"},
    {"queue_size": -1},
    {"install_id": "not an id"},
    {"station_digit": 0},
])
def test_text_rules_and_limits(gateway: GatewayServer, station_token: str,
                               fields: dict[str, Any]) -> None:
    resp = post(gateway, station_token, beat(**fields))
    assert resp.status_code == 422 and resp.json()["code"] == wire.E_INVALID
    assert stored(gateway) == {}


def test_an_oversized_heartbeat_is_refused_before_it_is_read(
        gateway: GatewayServer, station_token: str) -> None:
    resp = post(gateway, station_token, beat(padding="x" * 9000))
    assert resp.status_code == 413 and resp.json()["code"] == wire.E_TOO_LARGE


def test_a_gateway_without_the_feature_answers_404(gateway_factory: Any) -> None:
    old: GatewayServer = gateway_factory(accept_heartbeats=False)
    token = add_station(old)
    features = requests.get(old.url + wire.HEALTH, timeout=10).json()["features"]
    assert features == [wire.FEATURE_CITIZEN_DOCUMENTS]
    resp = post(old, token, beat())
    assert resp.status_code == 404
    assert stored(old) == {}


# --- the fleet: flags, the command, the admin page ---------------------------------------


def seed_fleet(gateway: GatewayServer) -> None:
    """Six counters in known states; times relative to now."""
    now = utcnow()
    specs = [
        (1, "Quầy 1 — tốt", beat(app_version="1.5.0"), now - timedelta(hours=1)),
        (2, "Quầy 2 — cũ", beat(app_version="1.4.2"), now - timedelta(hours=2)),
        (3, "Quầy 3 — im lặng", beat(app_version="1.5.0"), now - timedelta(days=5)),
        (4, "Quầy 4 — doctor", beat(app_version="1.5.0", doctor_status="fail",
                                    doctor_failing=["database_writable", "clock"]),
         now - timedelta(minutes=5)),
        (5, "Quầy 5 — đĩa", beat(app_version="1.5.0", free_disk_bytes=1_500_000_000,
                                 queue_size=12, oldest_unsynced_s=3 * 86400),
         now - timedelta(minutes=1)),
    ]
    for digit, name, body, seen in specs:
        token = add_station(gateway, digit=digit, name=name)
        station = lookup_station(gateway.state, token)
        assert station is not None
        station_heartbeats.record(gateway.state, station,
                                  wire.StationHeartbeat.model_validate(body), now=seen)
    add_station(gateway, digit=6, name="Quầy 6 — chưa từng báo")


def run_fleet(gateway: GatewayServer, capsys: pytest.CaptureFixture[str],
              *extra: str) -> tuple[int, str]:
    args = ["fleet", "--data", str(gateway.config.data_dir), *extra]
    if gateway.config.db_url:
        args += ["--db", gateway.config.db_url]
    code = admin_cli.main(args, prog="motcua gateway")
    return code, capsys.readouterr().out


def flags_of(out: str) -> dict[int, list[str]]:
    data = json.loads(out)
    return {r["station_digit"]: r["flags"] for r in data["rows"]}


def test_fleet_json_flags_behind_silent_doctor_and_disk(
        gateway: GatewayServer, capsys: pytest.CaptureFixture[str]) -> None:
    seed_fleet(gateway)
    code, out = run_fleet(gateway, capsys, "--json")
    assert code == admin_cli.EXIT_FLAGGED == 3
    assert flags_of(out) == {1: [], 2: ["behind"], 3: ["silent"], 4: ["doctor"],
                             5: ["disk"], 6: ["silent"]}
    data = json.loads(out)
    assert data["newest_version"] == "1.5.0" and data["flagged"] == 5
    row5 = next(r for r in data["rows"] if r["station_digit"] == 5)
    assert (row5["queue_size"], row5["oldest_unsynced_s"]) == (12, 3 * 86400)
    assert row5["last_seen"].endswith("+07:00") and row5["name"] == "Quầy 5 — đĩa"
    row4 = next(r for r in data["rows"] if r["station_digit"] == 4)
    assert row4["doctor_failing"] == ["database_writable", "clock"]

    # Thresholds move the flags: a required version above the fleet's, a longer silence,
    # a smaller disk.
    code, out = run_fleet(gateway, capsys, "--json", "--min-version", "1.6",
                          "--silent-days", "7", "--min-free-gb", "1")
    assert flags_of(out) == {1: ["behind"], 2: ["behind"], 3: ["behind"],
                             4: ["behind", "doctor"], 5: ["behind"], 6: ["silent"]}
    assert json.loads(out)["wanted_version"] == "1.6"


def test_fleet_exit_code_is_zero_when_nothing_needs_a_look(
        gateway: GatewayServer, capsys: pytest.CaptureFixture[str]) -> None:
    token = add_station(gateway, digit=1, name="Quầy 1")
    assert post(gateway, token, beat()).status_code == 200
    code, out = run_fleet(gateway, capsys)
    assert code == 0
    assert "1 quầy, không quầy nào cần xem." in out
    assert "Phiên bản" in out and "Lần cuối" in out


def test_fleet_table_in_vietnamese_through_motcua(
        gateway: GatewayServer, capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_app.cli import main

    seed_fleet(gateway)
    add_station(gateway, digit=7, name="Quầy\x1b[31m đỏ")  # an escape sequence in a name
    args = ["gateway", "fleet", "--data", str(gateway.config.data_dir)]
    if gateway.config.db_url:
        args += ["--db", gateway.config.db_url]
    assert main(args) == 3
    out = capsys.readouterr().out
    assert "6 quầy cần xem" in out
    for words in ("phiên bản cũ", "im lặng", "kiểm tra máy lỗi", "sắp hết đĩa",
                  "chưa từng báo", "lỗi: database_writable, clock", "1.5 GB", "nhanh 2 giây"):
        assert words in out, words
    assert "\x1b" not in out  # the name's escape cannot reach the terminal


def test_fleet_refuses_a_bad_min_version(gateway: GatewayServer,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    args = ["fleet", "--data", str(gateway.config.data_dir), "--min-version", "mới nhất"]
    if gateway.config.db_url:
        args += ["--db", gateway.config.db_url]
    assert admin_cli.main(args) == 1
    assert "không phải số phiên bản" in capsys.readouterr().err


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_admin_fleet_page_shows_the_rows_and_escapes_a_hostile_name(
        gateway: GatewayServer) -> None:
    seed_fleet(gateway)
    token = add_station(gateway, digit=8, name=HOSTILE)
    assert post(gateway, token, beat(app_version="1.5.0")).status_code == 200
    admin = {"Authorization": f"Bearer {gateway.admin_token}"}
    assert "Mã quản trị" in requests.get(gateway.url + "/admin/fleet", timeout=10).text

    page = requests.get(gateway.url + "/admin/fleet", headers=admin, timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert HOSTILE not in text and "<script>alert" not in text and "<img" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    for name in ("Quầy 1 — tốt", "Quầy 2 — cũ", "Quầy 6 — chưa từng báo"):
        assert name in text
    assert text.count('<tr class="flagged">') == 5 and text.count('<tr class="ok">') == 2
    assert "phiên bản cũ" in text and "sắp hết đĩa" in text

    # The thresholds in the query move the flags, and the home page links here.
    lax = requests.get(gateway.url + "/admin/fleet", headers=admin, timeout=10,
                       params={"silent_days": "30", "min_free_gb": "0.5"}).text
    assert lax.count('<tr class="flagged">') == 3  # behind, doctor, never reported
    assert 'href="/admin/fleet"' in requests.get(gateway.url + "/admin", headers=admin,
                                                 timeout=10).text

    data = requests.get(gateway.url + "/admin/fleet.json", headers=admin, timeout=10).json()
    assert {r["station_digit"]: r["flags"] for r in data["rows"]}[8] == []
    assert requests.get(gateway.url + "/admin/fleet.json", timeout=10).status_code == 401


@pytest.mark.nodb
def test_versions_compare_as_pep_440() -> None:
    ordered = ["0.0.0+source", "1.4.9", "1.5.0.dev1", "1.5.0a1", "1.5.0rc1", "1.5",
               "1.5.0.post1", "1.10"]
    assert sorted(reversed(ordered), key=fleet.version_key) == ordered
    assert fleet.version_key("1.5") == fleet.version_key("1.5.0")
    assert fleet.version_key("mới") is None


@pytest.mark.nodb
def test_unknown_versions_are_never_behind() -> None:
    now = utcnow()
    rows = [fleet.FleetRow(AGENCY, 1, "a", app_version="1.5.0", last_seen=now),
            fleet.FleetRow(AGENCY, 2, "b", app_version="bản thử", last_seen=now)]
    result = fleet.judge(rows, fleet.FleetPolicy(), now)
    assert [r.flags for r in result.rows] == [[], []]
