"""Errors as `wire.ErrorBody` answers, and the one log line per failed request."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from provincial_gateway.object_store import ObjectStoreError
from sync_contract import wire

log = logging.getLogger("provincial_gateway")

E_NOT_FOUND = "not_found"
E_INTERNAL = "internal"
E_UNAVAILABLE = "unavailable"
E_LOCKED = "locked"
# Documents the 422 of every route as an ErrorBody (FastAPI would show its own model).
INVALID: dict[int | str, dict[str, object]] = {
    422: {"model": wire.ErrorBody, "description": "invalid: the request does not validate"}}


class WireError(Exception):
    """A request the gateway refuses, with the wire error code and a Vietnamese message.

    The message must never contain personal data: it is logged."""

    def __init__(self, status: int, code: str, message: str, *,
                 missing: Iterable[str] = (), headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.missing = list(missing)
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        body = wire.ErrorBody(code=self.code, message=self.message, missing=self.missing)
        return JSONResponse(body.model_dump(), status_code=self.status, headers=self.headers)


def _who(request: Request) -> str:
    station = getattr(request.state, "station", None)
    return f" station={station.label}" if station is not None else ""


def log_refusal(request: Request, err: WireError) -> None:
    extra = f" missing={len(err.missing)}" if err.missing else ""
    log.warning("%s %s -> %d %s: %s%s%s", request.method, request.url.path, err.status,
                err.code, err.message, extra, _who(request))


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(WireError)
    async def _wire(request: Request, exc: WireError) -> JSONResponse:
        log_refusal(request, exc)
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only field locations and pydantic's error kinds: input values may be personal.
        where = "; ".join(
            ".".join(str(p) for p in e.get("loc", ()) if p != "body") + f" ({e.get('type')})"
            for e in exc.errors()[:5]
        )
        err = WireError(422, wire.E_INVALID, f"Dữ liệu gửi lên không hợp lệ: {where}")
        log_refusal(request, err)
        return err.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: E_NOT_FOUND, 401: wire.E_AUTH}.get(exc.status_code, wire.E_INVALID)
        message = {404: "Không có địa chỉ này trên cổng tỉnh.",
                   405: "Phương thức không được hỗ trợ ở địa chỉ này."}.get(
            exc.status_code, str(exc.detail))
        err = WireError(exc.status_code, code, message, headers=getattr(exc, "headers", None))
        log_refusal(request, err)
        return err.response()

    @app.exception_handler(ObjectStoreError)
    async def _store(request: Request, exc: ObjectStoreError) -> JSONResponse:
        # The object store is down or slow (already logged): a station retries a 503.
        err = WireError(503, E_UNAVAILABLE, "Kho tệp của cổng tỉnh tạm thời không truy cập "
                        "được; hãy thử lại sau.", headers={"Retry-After": "30"})
        log_refusal(request, err)
        return err.response()

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s -> 500 %s%s", request.method, request.url.path,
                  type(exc).__name__, _who(request), exc_info=exc)
        return WireError(500, E_INTERNAL, "Lỗi nội bộ của cổng tỉnh; hãy thử lại sau.").response()
