"""Request-level limits of the gateway: the token before the body, byte caps, tus method
override and refusals, blobs as attachments, API pages off, enrolment guess limits."""

from __future__ import annotations

import hashlib
import http.client
import json
import uuid
from datetime import timedelta

import pytest
import requests

from provincial_gateway import admin_cli, admin_ops, enrolment_limits
from provincial_gateway.config import ENV_DOCS, GatewayConfig
from provincial_gateway.db import Enrolment, utcnow
from provincial_gateway.server import GatewayServer
from sync_contract import bundle_codec as codec
from sync_contract import wire
from tests.support.gateway_fixtures import (
    AGENCY,
    auth_headers,
    sample_document,
    tus_headers,
    tus_metadata,
    upload_blob,
)

BIG = 200 * 1024 * 1024


def raw_request(gateway: GatewayServer, method: str, path: str, headers: dict[str, str],
                body: bytes | None = None, chunks: list[bytes] | None = None,
                source: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection from `source` (any 127.x address is loopback on
    Linux): headers exactly as given, then `body`, the `chunks` chunked, or nothing."""
    conn = http.client.HTTPConnection(gateway.host, gateway.port, timeout=10,
                                      source_address=(source, 0))
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        if body:
            conn.send(body)
        for chunk in chunks or ():
            conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        if chunks is not None:
            conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def dossier_path() -> str:
    return wire.DOSSIER.format(client_id=uuid.uuid4())


def test_no_token_is_refused_before_a_single_body_byte(gateway: GatewayServer) -> None:
    # 200 MB announced and never sent: the answer comes without waiting for the body.
    for path in (dossier_path(), wire.BUNDLES, wire.BLOBS_MISSING, wire.EVENTS):
        status, headers, body = raw_request(gateway, "PUT" if "dossiers" in path else "POST",
                                            path, {"Content-Length": str(BIG),
                                                   "Content-Type": "application/json"})
        assert status == 401, path
        assert json.loads(body)["code"] == wire.E_AUTH and headers["www-authenticate"]
    # A chunked body declares no length; refused all the same, before it is read.
    status, _, _ = raw_request(gateway, "PUT", dossier_path(), {
        "Transfer-Encoding": "chunked", "Content-Type": "application/json",
        "Authorization": "Bearer not-a-token"}, chunks=[])
    assert status == 401
    status, headers, _ = raw_request(gateway, "PATCH", wire.FILES + "0" * 32, {
        "Content-Length": str(BIG), "Tus-Resumable": "1.0.0",
        "Content-Type": "application/offset+octet-stream"})
    assert status == 401 and headers["tus-resumable"] == "1.0.0"


def test_byte_caps_per_route(gateway: GatewayServer, station_token: str) -> None:
    gateway.config.max_json_bytes = 4096
    gateway.config.max_bundle_bytes = 8192
    auth = {**auth_headers(station_token), "Content-Type": "application/json"}
    # A bundle body: its members' cap plus the sealing's overhead (manifest, age).
    sealed = codec.sealed_size_limit(8192)
    # Declared too large: 413 before reading.
    for method, path, size in (("PUT", dossier_path(), 4097), ("POST", wire.EVENTS, 4097),
                               ("POST", wire.BUNDLES, sealed + 1)):
        status, _, body = raw_request(gateway, method, path,
                                      {**auth, "Content-Length": str(size)})
        assert status == 413 and json.loads(body)["code"] == wire.E_TOO_LARGE, path
    status, _, _ = raw_request(gateway, "POST", wire.ENROL,
                               {"Content-Type": "application/json", "Content-Length": "5000"})
    assert status == 413
    # Chunked: counted while it streams.
    doc = json.dumps(sample_document(TenTTHC="x" * 5000)).encode()
    status, _, body = raw_request(gateway, "PUT", dossier_path(),
                                  {**auth, "Transfer-Encoding": "chunked"},
                                  chunks=[doc[i:i + 1000] for i in range(0, len(doc), 1000)])
    assert status == 413 and json.loads(body)["code"] == wire.E_TOO_LARGE
    status, _, body = raw_request(gateway, "POST", wire.BUNDLES,
                                  {**auth_headers(station_token),
                                   "Content-Type": "application/octet-stream",
                                   "Transfer-Encoding": "chunked"},
                                  chunks=[b"\0" * (1 << 20)] * (sealed // (1 << 20) + 1))
    assert status == 413 and json.loads(body)["code"] == wire.E_TOO_LARGE
    # Under the cap the route answers as before.
    small = requests.post(gateway.url + wire.BLOBS_MISSING, json={"sha256": ["a" * 64]},
                          headers=auth_headers(station_token), timeout=10)
    assert small.status_code == 200 and small.json() == {"missing": ["a" * 64]}


def test_a_lone_surrogate_is_invalid_not_a_crash(gateway: GatewayServer,
                                                 station_token: str) -> None:
    auth = {**auth_headers(station_token), "Content-Type": "application/json"}
    bad = requests.post(gateway.url + wire.BLOBS_MISSING, data=b'{"sha256": ["\\ud800"]}',
                        headers=auth, timeout=10)
    assert bad.status_code == 422 and bad.json()["code"] == wire.E_INVALID
    doc = json.dumps(sample_document()).replace("Nguy", "\\udfffNguy").encode()
    assert requests.put(gateway.url + dossier_path(), data=doc, headers=auth,
                        timeout=10).status_code == 422
    enrol = requests.post(gateway.url + wire.ENROL, timeout=10, headers={
        "Content-Type": "application/json"}, data=json.dumps({
            "agency_code": AGENCY, "station_digit": 1,
            "enrolment_code": "A"}).replace('"A"', '"\\ud83d"').encode())
    assert enrol.status_code == 422
    # A proper pair (an emoji) is a character like any other.
    pair = requests.post(gateway.url + wire.BLOBS_MISSING, headers=auth, timeout=10,
                         data=b'{"sha256": ["\\ud83d\\ude00"]}')
    assert pair.status_code == 422 and "SHA-256" in pair.json()["message"]


def test_tus_method_override_and_allow(gateway: GatewayServer, station_token: str) -> None:
    data = b"0123456789" * 10
    sha = hashlib.sha256(data).hexdigest()
    tus = tus_headers(station_token)
    created = requests.post(gateway.url + wire.FILES, timeout=10, headers={
        **tus, "Upload-Length": str(len(data)), "Upload-Metadata": tus_metadata(sha)})
    location = created.headers["Location"]
    first = requests.post(location, data=data[:40], timeout=10, headers={
        **tus, "X-HTTP-Method-Override": "PATCH", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "40"
    head = requests.post(location, headers={**tus, "X-HTTP-Method-Override": "HEAD"},
                         timeout=10)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "40"
    deleted = requests.post(location, headers={**tus, "X-HTTP-Method-Override": "delete"},
                            timeout=10)
    assert deleted.status_code == 204
    assert requests.head(location, headers=tus, timeout=10).status_code == 404
    plain = requests.post(location, headers=tus, timeout=10)
    assert plain.status_code == 405 and plain.headers["Allow"] == "DELETE, HEAD, PATCH"
    assert plain.json()["code"] == wire.E_INVALID
    other = requests.post(location, headers={**tus, "X-HTTP-Method-Override": "PUT"},
                          timeout=10)
    assert other.status_code == 405
    files = requests.get(gateway.url + wire.FILES, headers=tus, timeout=10)
    assert files.status_code == 405 and files.headers["Allow"] == "OPTIONS, POST"


def test_tus_refuses_what_it_does_not_implement(gateway: GatewayServer,
                                                station_token: str) -> None:
    tus = tus_headers(station_token)
    meta = tus_metadata("a" * 64)
    concat = requests.post(gateway.url + wire.FILES, timeout=10, headers={
        **tus, "Upload-Concat": "partial", "Upload-Length": "10", "Upload-Metadata": meta})
    assert concat.status_code == 400 and "Upload-Concat" in concat.json()["message"]
    with_body = requests.post(gateway.url + wire.FILES, data=b"0123456789", timeout=10,
                              headers={**tus, "Upload-Length": "10", "Upload-Metadata": meta,
                                       "Content-Type": "application/offset+octet-stream"})
    assert with_body.status_code == 400
    options = requests.options(gateway.url + wire.FILES, timeout=10)
    assert "concatenation" not in options.headers["Tus-Extension"]
    assert "creation-with-upload" not in options.headers["Tus-Extension"]
    for bad in ("²", "¹0", "9" * 400, str(2**63), "-1", "0x10"):
        resp = requests.post(gateway.url + wire.FILES, timeout=10, headers={
            **tus, "Upload-Length": bad, "Upload-Metadata": meta})
        assert resp.status_code == 400 and resp.json()["code"] == wire.E_INVALID, bad


def test_blobs_are_served_as_attachments(gateway: GatewayServer, station_token: str) -> None:
    page = b"<html><script>alert(document.cookie)</script></html>"
    sha = upload_blob(gateway, station_token, page, media_type="text/html")
    resp = requests.get(gateway.url + wire.BLOB.format(sha256=sha),
                        headers=auth_headers(station_token), timeout=10)
    assert resp.status_code == 200 and resp.content == page
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{sha}"'


def test_api_pages_are_off_unless_asked_for(gateway: GatewayServer, gateway_factory,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert requests.get(gateway.url + path, timeout=10).status_code == 404, path
    with_docs = gateway_factory(serve_docs=True)
    for path in ("/docs", "/redoc"):
        assert requests.get(with_docs.url + path, timeout=10).status_code == 200, path
    spec = requests.get(with_docs.url + "/openapi.json", timeout=10).json()
    assert wire.FILES in spec["paths"]
    monkeypatch.setenv(ENV_DOCS, "1")
    assert GatewayConfig(data_dir=gateway.config.data_dir).docs_enabled
    assert not GatewayConfig(data_dir=gateway.config.data_dir, serve_docs=False).docs_enabled
    args = admin_cli.build_parser().parse_args(["serve", "--docs"])
    assert args.docs is True


def enrol_from(gateway: GatewayServer, source: str, code: str,
               digit: int = 2) -> int:
    body = json.dumps({"agency_code": AGENCY, "station_digit": digit,
                       "enrolment_code": code}).encode()
    status, _, _ = raw_request(gateway, "POST", wire.ENROL, {
        "Content-Type": "application/json", "Content-Length": str(len(body))}, body=body,
        source=source)
    return status


def test_guesses_do_not_lock_the_technicians_code(gateway: GatewayServer) -> None:
    code, _ = admin_ops.issue_enrolment_code(gateway.state, AGENCY, 2, "Quầy 2")
    guesser, technician = "127.0.0.1", "127.0.0.2"
    for _ in range(enrolment_limits.MAX_PER_STATION):
        assert enrol_from(gateway, guesser, "AAAAA-BBBBB-CCCCC") == 403
    # The guessing address is stopped, even with the right code ...
    assert enrol_from(gateway, guesser, code) == 403
    # ... the technician's is not.
    assert enrol_from(gateway, technician, code) == 201
    assert [r.station_digit for r in admin_ops.list_stations(gateway.state)] == [2]
    with gateway.sessions() as s:
        assert s.query(Enrolment).one().failed_attempts == enrolment_limits.MAX_PER_STATION


def test_enrolment_limits_per_address_and_their_window(gateway: GatewayServer) -> None:
    state = gateway.state
    start = utcnow()
    codes = {d: admin_ops.issue_enrolment_code(state, AGENCY, d)[0] for d in (3, 4)}

    def redeem(digit: int, code: str, source: str, at: timedelta) -> bool:
        try:
            admin_ops.redeem_enrolment_code(state, AGENCY, digit, code, now=start + at,
                                            source=source)
        except admin_ops.EnrolmentRefused:
            return False
        return True

    # Walking through stations that have no code: counts against the address alone.
    for i in range(enrolment_limits.MAX_PER_SOURCE):
        assert not redeem(5 + i % 4, "WRONG", "203.0.113.7", timedelta(seconds=i))
    assert not redeem(3, codes[3], "203.0.113.7", timedelta(minutes=1))  # address stopped
    assert redeem(3, codes[3], "198.51.100.2", timedelta(minutes=1))  # code still good
    # The address may try again once its failures are an hour old.
    assert redeem(4, codes[4], "203.0.113.7", enrolment_limits.WINDOW + timedelta(minutes=1))


def test_tokens_never_begin_with_a_dash_and_keep_their_length() -> None:
    # `motcua sync --set-token TOKEN`: argparse reads a leading "-" as an option.
    from provincial_gateway.tokens import new_token

    tokens = [new_token() for _ in range(3000)]  # 1 in 64 began with "-" before
    assert not [t for t in tokens if t.startswith("-")]
    assert {len(t) for t in tokens} == {43} and len(set(tokens)) == len(tokens)
