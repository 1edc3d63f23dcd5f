"""The station's HTTPS trust: the operating system's store together with the provincial
CA bundle; an unknown CA and a wrong host name are refused whatever the caller asks."""

from __future__ import annotations

import json
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from desktop_app.sync.client import GatewayClient, LinkDown
from desktop_app.sync.link import check_link
from tests.gateway.test_tls import make_pki

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="OpenSSL's SSL_CERT_FILE is the system store only on Linux; 127.0.0.2 is local")


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass



@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Starts an HTTPS server with (cert, key) on ``host``; returns its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(cert: Path, key: Path, host: str = "127.0.0.1") -> str:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server = ThreadingHTTPServer((host, 0), _Ok)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"https://{host}:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _trusted(url: str, ca_bundle: str = "") -> bool:
    client = GatewayClient(url, "", ca_bundle)
    try:
        return client.request("GET", "/health").status_code == 200
    except LinkDown as exc:
        assert "chứng chỉ" in exc.message_vi and "TLS" in exc.detail
        return False
    finally:
        client.close()


def test_the_provisioned_ca_is_trusted_and_an_unknown_ca_refused(
        tmp_path: Path, serve: Callable[..., str]) -> None:
    ca, cert, key = make_pki(tmp_path)
    url = serve(cert, key)
    assert not _trusted(url)  # a private CA in neither the OS store nor a bundle
    assert _trusted(url, str(ca))
    # verify=False from a caller cannot switch verification off on the station's session.
    client = GatewayClient(url, "")
    with pytest.raises(requests.exceptions.SSLError):
        client.session.get(url + "/health", verify=False, timeout=5)
    client.close()


@linux_only
def test_a_ca_of_the_system_store_is_trusted_with_and_without_a_bundle(
        tmp_path: Path, serve: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> None:
    """On Linux the OS store is what OpenSSL reads (SSL_CERT_FILE points it at a file
    here, as a CA installed with update-ca-certificates would be); on Windows and macOS
    truststore asks the platform's own store instead."""
    (tmp_path / "os").mkdir()
    (tmp_path / "province").mkdir()
    os_ca, os_cert, os_key = make_pki(tmp_path / "os", "CA chính phủ (kiểm thử)")
    prov_ca, prov_cert, prov_key = make_pki(tmp_path / "province")
    os_url, prov_url = serve(os_cert, os_key), serve(prov_cert, prov_key)
    assert not _trusted(os_url)
    monkeypatch.setenv("SSL_CERT_FILE", str(os_ca))
    assert _trusted(os_url)  # no PEM file provisioned
    # Both together in one client: the bundle adds to the OS store, it does not replace it.
    client = GatewayClient(os_url, "", str(prov_ca))
    try:
        assert client.request("GET", "/health").status_code == 200
        client.base_url = prov_url
        assert client.request("GET", "/health").status_code == 200
    finally:
        client.close()


@linux_only
def test_a_certificate_for_another_host_is_refused(
        tmp_path: Path, serve: Callable[..., str]) -> None:
    ca, cert, key = make_pki(tmp_path)  # for 127.0.0.1 and localhost only
    assert not _trusted(serve(cert, key, host="127.0.0.2"), str(ca))


def test_an_unreadable_bundle_fails_each_request_not_the_station(tmp_path: Path) -> None:
    bad = tmp_path / "tỉnh-ca.pem"
    bad.write_text("không phải PEM", encoding="utf-8")
    for bundle in (bad, tmp_path / "missing.pem"):
        client = GatewayClient("https://127.0.0.1:9", "", str(bundle))
        with pytest.raises(LinkDown) as caught:
            client.health()
        assert "chứng chỉ (CA)" in caught.value.message_vi
        link = check_link("https://127.0.0.1:9", "", str(bundle))
        assert not link.reachable and link.tls_error
    # A training gateway on this machine over http:// needs no CA: it is not blocked.
    client = GatewayClient("http://127.0.0.1:9", "", str(bad))
    with pytest.raises(LinkDown) as caught:
        client.health()
    assert "chứng chỉ" not in caught.value.message_vi and "TLS" not in caught.value.detail
