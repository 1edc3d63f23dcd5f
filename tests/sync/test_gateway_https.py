"""The gateway address: https, plain http only to this machine. The same rule on every
path (the command line, station settings, a provisioning plan, the link probe) and in
the HTTP client itself, before the token leaves the PC."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import update

from desktop_app.context import AppContext, open_context
from desktop_app.setup.doctor_checks import Answer, LinkLook, gateway_checks
from desktop_app.setup.doctor_report import FAIL
from desktop_app.setup.plan_file import check_plan
from desktop_app.station import StationService
from desktop_app.sync.client import GatewayClient, InsecureLink
from desktop_app.sync.gateway_url import InsecureGateway, check_gateway_url, url_problem
from desktop_app.sync.link import check_link
from desktop_app.sync.service import SyncService
from local_db.models import StationSettings
from provincial_gateway.server import GatewayServer
from tests.conftest import TEST_STATION

TOKEN = "st-" + "Qw7Er9Ty" * 5


@pytest.mark.parametrize("url", [
    "https://motcua.thainguyen.gov.vn", "https://10.0.0.5:8443/api", "http://127.0.0.1:8080",
    "http://127.9.9.9", "http://localhost:8000", "HTTP://LOCALHOST", "http://[::1]:8080",
])
def test_https_or_loopback_is_accepted(url: str) -> None:
    assert url_problem(url) == ""
    assert check_gateway_url(url + "/") == url


@pytest.mark.parametrize("url", [
    "http://10.0.0.5:8080", "http://motcua.thainguyen.gov.vn", "http://127.0.0.1.nip.io",
    "http://localhost.evil.example", "http://[::ffff:10.0.0.5]", "ftp://motcua.gov.vn",
    "motcua.gov.vn",
])
def test_plain_http_to_another_machine_is_refused(url: str) -> None:
    with pytest.raises(InsecureGateway) as caught:
        check_gateway_url(url)
    assert "không dùng được" in caught.value.message_vi
    assert "https" in caught.value.message_vi
    assert "https required" in caught.value.detail or "no scheme" in caught.value.detail


def test_station_settings_and_the_provisioning_plan_apply_the_same_rule(
        ctx: AppContext) -> None:
    stations = StationService(ctx)
    stations.save(TEST_STATION)
    with pytest.raises(InsecureGateway, match="phải dùng https://"):
        stations.save(replace(TEST_STATION, gateway_url="http://10.0.0.5:8080"))
    assert stations.require().gateway_url == ""
    assert stations.save(replace(TEST_STATION, gateway_url="http://[::1]:9/")).gateway_url \
        == "http://[::1]:9"
    raw = {"agency_code": TEST_STATION.agency_code, "agency_name": "UBND XÃ A",
           "place_name": "A", "station_digit": 1}
    for url, ok in (("http://10.0.0.5:8080", False), ("http://[::1]:9", True),
                    ("https://motcua.tinh.gov.vn", True)):
        problems = [p.message_vi for p in _plan_problems({**raw, "gateway_url": url})]
        assert (not any("https://" in p for p in problems)) is ok, (url, problems)


def _plan_problems(raw: dict[str, object]) -> list:  # type: ignore[type-arg]
    from desktop_app.setup.plan import ProvisioningInvalid

    try:
        check_plan(raw, Path("plan.json"))
    except ProvisioningInvalid as exc:
        return list(exc.problems)
    return []


class _Listener:
    """A TCP socket on every address of this PC that counts the connections it gets."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("0.0.0.0", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_the_client_sends_nothing_to_a_plain_http_gateway_on_the_network() -> None:
    """This PC under its network name (not a loopback name): the client refuses before
    connecting, so the token never leaves in clear text."""
    listener = _Listener()
    try:
        url = f"http://{socket.gethostname()}:{listener.port}"
        client = GatewayClient(url, TOKEN)
        with pytest.raises(InsecureLink) as caught:
            client.health()
        client.close()
        assert caught.value.retry is False
        assert "phải dùng https://" in caught.value.message_vi
        assert caught.value.detail.startswith("GET /")
        assert TOKEN not in caught.value.detail
        link = check_link(url, TOKEN)  # what the doctor, provisioning and the wizard read
        assert not link.reachable and "phải dùng https://" in link.error_vi
        assert link.token_accepted is None
        assert listener.accepted == 0
    finally:
        listener.close()


def test_a_stored_plain_http_address_stops_sync_before_sending(
        ctx: AppContext, gateway: GatewayServer, station_token: str) -> None:
    """An address stored before the rule (or by an older version sharing the database)."""
    StationService(ctx).save(replace(TEST_STATION, gateway_url=gateway.url))
    service = SyncService(ctx)
    service.set_token(station_token)
    assert service.configured()  # http://127.0.0.1: the loopback gateway is fine
    with ctx.db.write() as s:
        s.execute(update(StationSettings).values(gateway_url="http://10.0.0.5:8080"))
    assert not service.configured()
    with pytest.raises(InsecureGateway):
        service.client()
    # The doctor fails it (its link probe sent nothing either).
    station = StationService(ctx).require()
    look = LinkLook("file", check_link(station.gateway_url, station_token))
    check = next(c for c in gateway_checks(station, Answer(True, look)) if c.id == "gateway")
    assert check.status == FAIL and "phải dùng https://" in check.message_vi


def _sync_command(*args: str) -> int:
    from desktop_app.cli import build_parser

    parsed = build_parser().parse_args(["sync", *args])
    return int(parsed.func(parsed))


def test_set_gateway_refuses_plain_http_to_another_machine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("MOTCUA_DB_URL", raising=False)
    data = tmp_path / "data"
    ctx = open_context(data)
    StationService(ctx).save(TEST_STATION)
    ctx.close()
    assert _sync_command("--set-gateway", "http://10.0.0.5:8080", "--data-dir", str(data)) == 2
    assert "phải dùng https://" in capsys.readouterr().err
    assert "gateway url refused (http://10.0.0.5)" in caplog.text  # the technician's line
    assert _sync_command("--set-gateway", "http://127.0.0.1:8080", "--data-dir",
                         str(data)) == 0
    ctx = open_context(data)
    try:
        assert StationService(ctx).require().gateway_url == "http://127.0.0.1:8080"
    finally:
        ctx.close()
