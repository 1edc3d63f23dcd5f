"""Checks every request passes before a route sees it, in this order:

1. tus `X-HTTP-Method-Override`: a POST to an upload URL carrying PATCH, HEAD or DELETE
   is routed as that method (tus 1.0 core: for clients behind proxies that only pass
   GET and POST).
2. A request with a body to a station route must show a valid station token first.
   FastAPI reads and parses a JSON body before it runs the bearer dependency, so without
   this anybody could make the gateway buffer a body; now a caller without a token gets
   401 before a single body byte is read.
3. Byte caps per route (`body_limit`: a dossier batch `max_batch_bytes`, 4 MiB; an
   upload chunk `max_file_bytes`; a bundle its sealed size; any other JSON
   `max_json_bytes`, 2 MiB), against Content-Length before the route runs and
   counted while the body streams (a chunked body declares no length): 413 ErrorBody.
4. A JSON body with a lone UTF-16 surrogate escape (`"\\ud800"`) gets 422: Python decodes
   it into a string that cannot be encoded as UTF-8, which failed later as a 500.

A 405 lists every method the path has in `Allow` (Starlette lists only the first route's,
and the upload URL has one route per method)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provincial_gateway.auth import bearer_token, lookup_station, unauthorized
from provincial_gateway.config import GatewayConfig
from provincial_gateway.errors import WireError, log_refusal
from sync_contract import bundle_codec as codec
from sync_contract import wire

log = logging.getLogger("provincial_gateway")

ENROL_MAX_BYTES = 4 * 1024  # three short fields
HEARTBEAT_MAX_BYTES = 8 * 1024  # a station's heartbeat: a few counts and short strings
OTHER_MAX_BYTES = 64 * 1024  # the admin page's forms and anything outside the API
PUBLIC_WITH_BODY = frozenset({wire.ENROL})  # routes that take a body without a token
METHOD_OVERRIDES = frozenset({"PATCH", "HEAD", "DELETE"})
UPLOAD_URL = re.compile("^" + re.escape(wire.FILES) + "[^/]+$")
# `\uD800`–`\uDFFF` escapes; only a body containing one is parsed a second time.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_DIGITS = re.compile(r"^[0-9]{1,19}$")


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its cap; FastAPI lets a Starlette
    HTTPException through its body parsing, and errors.py answers it as `too_large`."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Dữ liệu gửi lên vượt giới hạn {limit} byte của cổng tỉnh.")


def body_limit(config: GatewayConfig, method: str, path: str) -> int:
    """The most bytes a request body may have on this route."""
    if path == wire.ENROL:
        return ENROL_MAX_BYTES
    if path == wire.STATION_HEARTBEAT:
        return HEARTBEAT_MAX_BYTES
    if not path.startswith(wire.PREFIX + "/"):
        return OTHER_MAX_BYTES
    if method == "PATCH" and UPLOAD_URL.match(path):
        return config.max_file_bytes  # tus.patch_upload also holds a chunk to Upload-Length
    if path == wire.BUNDLES:
        return codec.sealed_size_limit(config.max_bundle_bytes)
    if method == "POST" and path == wire.DOSSIER_BATCH:
        return config.max_batch_bytes
    return config.max_json_bytes


def declared_length(headers: Headers) -> int | None:
    """Content-Length as a number; None when absent. h11 already refuses a malformed one,
    so anything else here counts as larger than any cap."""
    raw = headers.get("content-length")
    if raw is None:
        return None
    raw = raw.strip()
    return int(raw) if _DIGITS.match(raw) else 1 << 63


def has_body(headers: Headers) -> bool:
    return "transfer-encoding" in headers or (declared_length(headers) or 0) > 0


def lone_surrogate(body: bytes) -> bool:
    """True if the JSON text decodes to a string that UTF-8 cannot encode."""
    if not SURROGATE_ESCAPE.search(body):
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return False  # not JSON at all: the route answers that
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def allowed_methods(scope: Scope) -> list[str]:
    """Every method of every route whose path matches (`app.state.routers`, the routers
    the app includes without a prefix)."""
    methods: set[str] = set()
    for router in scope["app"].state.routers:
        for route in router.routes:
            if isinstance(route, Route) and route.path_regex.match(scope["path"]):
                methods |= set(route.methods or ())
    return sorted(methods)


class RequestGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        override = headers.get("x-http-method-override", "").strip().upper()
        if scope["method"] == "POST" and override in METHOD_OVERRIDES and UPLOAD_URL.match(path):
            scope = {**scope, "method": override}
        method: str = scope["method"]
        state = scope["app"].state.gateway
        if (has_body(headers) and path.startswith(wire.PREFIX + "/")
                and path not in PUBLIC_WITH_BODY):
            station = await run_in_threadpool(lookup_station, state,
                                              bearer_token(headers.get("authorization")))
            if station is None:
                await self._refuse(scope, receive, send, unauthorized())
                return
            scope.setdefault("state", {})["station"] = station
        limit = body_limit(state.config, method, path)
        length = declared_length(headers)
        if length is not None and length > limit:
            await self._refuse(scope, receive, send, _too_large(limit))
            return
        receive = _counting(receive, limit)
        if method in ("POST", "PUT") and path.startswith(wire.PREFIX + "/") \
                and path != wire.BUNDLES and has_body(headers):  # small bodies parsed whole
            try:
                body = await _read_all(receive)
            except BodyTooLarge:
                await self._refuse(scope, receive, send, _too_large(limit))
                return
            if lone_surrogate(body):
                await self._refuse(scope, receive, send, WireError(
                    422, wire.E_INVALID, "Dữ liệu gửi lên không hợp lệ: chuỗi có ký tự "
                    "UTF-16 thay thế (surrogate) đứng lẻ."))
                return
            receive = _replay(body, receive)
        await self._run(scope, receive, send, limit)

    async def _run(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if message["status"] == 405:
                    allow = ", ".join(allowed_methods(scope)).encode()
                    message = {**message, "headers": [
                        *(h for h in message.get("headers", []) if h[0].lower() != b"allow"),
                        (b"allow", allow)]}
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except BodyTooLarge:
            if started:  # the route answered already; the rest of the body is dropped
                log.warning("%s %s: body past %d bytes after the answer began",
                            scope["method"], scope["path"], limit)
                return
            await self._refuse(scope, receive, send, _too_large(limit))

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, err: WireError) -> None:
        log_refusal(Request(scope), err)
        await err.response()(scope, receive, send)


def _too_large(limit: int) -> WireError:
    return WireError(413, wire.E_TOO_LARGE,
                     f"Dữ liệu gửi lên vượt giới hạn {limit} byte của cổng tỉnh.")


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


async def _read_all(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # disconnected: the route sees an empty body and the client is gone
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    pending: list[dict[str, Any]] = [{"type": "http.request", "body": body,
                                      "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
