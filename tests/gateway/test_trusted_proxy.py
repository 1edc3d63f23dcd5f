"""`serve --trusted-proxy`: X-Forwarded-For / X-Forwarded-Proto believed only from the
reverse proxies named, so enrolment guess limits count each caller, not the proxy."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from provincial_gateway import admin_cli, admin_ops, enrolment_limits, trusted_proxies
from provincial_gateway.config import GatewayConfig
from provincial_gateway.db import EnrolmentFailure
from provincial_gateway.server import GatewayProcess
from provincial_gateway.state import open_state
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, tus_headers, tus_metadata

WRONG = "AAAAA-BBBBB-CCCCC"
GUESSER = "203.0.113.7"
TECHNICIAN = "198.51.100.9"


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh PostgreSQL database under MOTCUA_TEST_DB=postgresql, else None (SQLite)."""
    from tests.conftest import ON_POSTGRESQL

    if not ON_POSTGRESQL:
        yield None
        return
    name = request.getfixturevalue("pg_databases").take()
    yield f"{request.getfixturevalue('pg_server')}/{name}"
    request.getfixturevalue("pg_databases").drop(name)


def issue_code(data_dir: Path, db_url: str | None, digit: int) -> str:
    state = open_state(GatewayConfig(data_dir=data_dir, db_url=db_url))
    try:
        return admin_ops.issue_enrolment_code(state, AGENCY, digit)[0]
    finally:
        state.close()


def failure_sources(data_dir: Path, db_url: str | None) -> list[str]:
    state = open_state(GatewayConfig(data_dir=data_dir, db_url=db_url))
    try:
        with state.sessions() as s:
            return list(s.scalars(select(EnrolmentFailure.source)))
    finally:
        state.close()


def enrol(gw: GatewayProcess, code: str, forwarded_for: str, digit: int = 2) -> requests.Response:
    return requests.post(gw.url + wire.ENROL, timeout=10,
                         headers={"X-Forwarded-For": forwarded_for},
                         json={"agency_code": AGENCY, "station_digit": digit,
                               "enrolment_code": code})


def upload_location(gw: GatewayProcess, token: str) -> str:
    """The tus Location of a new upload, created with X-Forwarded-Proto: https."""
    resp = requests.post(gw.url + wire.FILES, timeout=10, headers={
        **tus_headers(token), "X-Forwarded-Proto": "https", "Upload-Length": "1",
        "Upload-Metadata": tus_metadata(hashlib.sha256(b"x").hexdigest())})
    assert resp.status_code == 201, resp.text
    return resp.headers["Location"]


def test_forwarded_headers_are_ignored_by_default(tmp_path: Path, db_url: str | None) -> None:
    data_dir = tmp_path / "gw"
    code = issue_code(data_dir, db_url, 2)
    with GatewayProcess(data_dir, db_url=db_url) as gw:
        # Each guess claims another address; all of them are 127.0.0.1, the TCP peer.
        for i in range(enrolment_limits.MAX_PER_STATION):
            assert enrol(gw, WRONG, f"203.0.113.{i + 1}").status_code == 403
        assert enrol(gw, code, TECHNICIAN).status_code == 403
        assert set(failure_sources(data_dir, db_url)) == {"127.0.0.1"}
        # Another station's code still works from here, and its links ignore
        # X-Forwarded-Proto: the connection was plain http.
        resp = enrol(gw, issue_code(data_dir, db_url, 3), GUESSER, digit=3)
        assert resp.status_code == 201, resp.text
        token = wire.EnrolResponse.model_validate(resp.json()).token
        assert upload_location(gw, token).startswith(f"http://127.0.0.1:{gw.port}/")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_trusted_proxy_forwards_each_callers_address(tmp_path: Path, db_url: str | None,
                                                       workers: str) -> None:
    data_dir = tmp_path / "gw"
    code = issue_code(data_dir, db_url, 2)
    extra = ("--trusted-proxy", "10.0.0.0/24,127.0.0.1", "--workers", workers)
    with GatewayProcess(data_dir, db_url=db_url, extra_args=extra) as gw:
        for _ in range(enrolment_limits.MAX_PER_STATION):
            assert enrol(gw, WRONG, GUESSER).status_code == 403
        # The guesser's own X-Forwarded-For, to which nginx appends the real peer, does
        # not make it somebody else: the right-most untrusted address is the caller.
        assert enrol(gw, code, f"{TECHNICIAN}, {GUESSER}").status_code == 403
        assert enrol(gw, code, GUESSER).status_code == 403
        assert set(failure_sources(data_dir, db_url)) == {GUESSER}
        # The technician, forwarded by two trusted proxies, still enrols with the code.
        resp = enrol(gw, code, f"{TECHNICIAN}, 10.0.0.7")
        assert resp.status_code == 201, resp.text
        token = wire.EnrolResponse.model_validate(resp.json()).token
        # No --public-url: the scheme of tus links comes from X-Forwarded-Proto.
        assert upload_location(gw, token).startswith(f"https://127.0.0.1:{gw.port}/")
        gw.stop()
    log = gw.log_path.read_text(encoding="utf-8", errors="replace")
    assert "10.0.0.0/24, 127.0.0.1" in log  # announced at start
    assert f'{GUESSER}:0 - "POST {wire.ENROL}' in log  # the access log names the caller


def test_without_trust_the_scheme_is_the_connections(tmp_path: Path,
                                                     db_url: str | None) -> None:
    data_dir = tmp_path / "gw"
    code = issue_code(data_dir, db_url, 2)
    # A proxy is trusted, but not this caller's address: its headers are ignored too.
    with GatewayProcess(data_dir, db_url=db_url,
                        extra_args=("--trusted-proxy", "10.0.0.5")) as gw:
        resp = enrol(gw, code, GUESSER)
        assert resp.status_code == 201
        token = wire.EnrolResponse.model_validate(resp.json()).token
        assert upload_location(gw, token).startswith(f"http://127.0.0.1:{gw.port}/")


@pytest.mark.parametrize(("value", "says"), [
    ("nginx.local", "không phải địa chỉ IP"),
    ("*", "không phải địa chỉ IP"),
    ("10.0.0.1/24", "có phải ý là 10.0.0.0/24"),
    ("10.0.0.0/33", "không phải dải mạng CIDR"),
])
def test_a_bad_trusted_proxy_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        value: str, says: str) -> None:
    argv = ["serve", "--data", str(tmp_path / "gw"), "--trusted-proxy", f"10.0.0.5,{value}"]
    assert admin_cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("Lỗi: ") and says in err
    assert not (tmp_path / "gw").exists()  # refused before anything was created


def test_the_environment_names_proxies_when_the_flag_does_not(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(trusted_proxies.ENV_TRUSTED_PROXIES, "10.0.0.5, gateway-proxy")
    assert admin_cli.main(["serve", "--data", str(tmp_path / "gw")]) == 1
    assert "“gateway-proxy” không phải địa chỉ IP" in capsys.readouterr().err
    assert trusted_proxies.parse(["10.0.0.5, 10.0.1.0/24,", "0:0::1"]) == [
        "10.0.0.5", "10.0.1.0/24", "::1"]
    assert trusted_proxies.parse(None) == []
