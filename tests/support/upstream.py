"""A small threaded HTTP server for the fault proxy's tests and bench: ``/bytes/N`` answers
N reproducible bytes, ``/together/N`` answers once every client of ``together`` asked,
``POST /echo`` returns the body; every POST answer carries the body's SHA-256."""

from __future__ import annotations

import hashlib
import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def payload(n: int) -> bytes:
    return random.Random(n).randbytes(n)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Upstream(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 would drop SYNs under load
    accepted = 0  # TCP connections, to prove the captive portal never reaches us
    together: threading.Barrier | None = None  # /together/N answers once all have asked

    def process_request(self, request: Any, client_address: Any) -> None:
        self.accepted += 1
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets from the proxy are the point of these tests


class UpstreamHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a session reuses its connection

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; with Nagle the second waits for a delayed
        # ACK (40 ms), which would blur the latency measurements.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/together/"):
            together = self.server.together  # type: ignore[attr-defined]
            together.wait()
            self._reply(payload(int(self.path.rsplit("/", 1)[1])))
        elif self.path.startswith("/bytes/"):
            self._reply(payload(int(self.path.rsplit("/", 1)[1])))
        else:
            self._reply(b"ok")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        echo = body if self.path == "/echo" else b"ok"
        self._reply(echo, {"X-SHA256": sha(body)})

    def _reply(self, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve_upstream() -> Iterator[Upstream]:
    server = Upstream(("127.0.0.1", 0), UpstreamHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
