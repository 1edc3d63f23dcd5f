"""Raw tus requests for the gateway tests, including a PATCH cut in the middle."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from sync_contract import wire
from tests.support.gateway_fixtures import tus_headers, tus_metadata


def create(base_url: str, token: str, data: bytes, sha256: str | None = None) -> str:
    resp = requests.post(base_url + wire.FILES, timeout=5, headers={
        **tus_headers(token), "Upload-Length": str(len(data)),
        "Upload-Metadata": tus_metadata(sha256 or hashlib.sha256(data).hexdigest())})
    assert resp.status_code == 201, resp.text
    assert resp.headers["Tus-Resumable"] == wire.TUS_VERSION
    return resp.headers["Location"]


def patch(location: str, token: str, offset: int, chunk: bytes,
          checksum: str | None = None) -> requests.Response:
    headers = {**tus_headers(token), "Upload-Offset": str(offset),
               "Content-Type": "application/offset+octet-stream"}
    if checksum:
        headers["Upload-Checksum"] = checksum
    return requests.patch(location, data=chunk, headers=headers, timeout=10)


def head_offset(location: str, token: str) -> int:
    resp = requests.head(location, headers=tus_headers(token), timeout=5)
    assert resp.status_code == 200, resp.status_code
    return int(resp.headers["Upload-Offset"])


def start_partial_patch(location: str, token: str, offset: int, chunk: bytes,
                        send: int, checksum: str | None = None) -> socket.socket:
    """Send a PATCH announcing `len(chunk)` bytes but only the first `send` of them; the
    caller then closes the socket (a cut link) or kills the server."""
    url = urlsplit(location)
    sock = socket.create_connection((url.hostname, url.port), timeout=5)
    lines = [f"PATCH {url.path} HTTP/1.1", f"Host: {url.netloc}",
             f"Content-Length: {len(chunk)}", f"Upload-Offset: {offset}",
             "Content-Type: application/offset+octet-stream",
             *(f"{k}: {v}" for k, v in tus_headers(token).items()),
             *([f"Upload-Checksum: {checksum}"] if checksum else []), "", ""]
    sock.sendall("\r\n".join(lines).encode() + chunk[:send])
    return sock


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)
