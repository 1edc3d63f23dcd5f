"""The FastAPI application: routers, error handlers, tus headers, fault injection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provincial_gateway import (
    bundles,
    refdata,
    routes_admin,
    routes_blobs,
    routes_citizens,
    routes_dossiers,
    routes_escrow,
    routes_reference,
    routes_stations,
    routes_updates,
    tus,
)
from provincial_gateway.config import GatewayConfig
from provincial_gateway.db import is_sqlite
from provincial_gateway.errors import WireError, install_handlers, log_refusal
from provincial_gateway.faults import FaultMiddleware, FaultPlan
from provincial_gateway.request_guard import BodyTooLarge, RequestGuard
from provincial_gateway.state import GatewayState, open_state
from sync_contract import wire

TITLE = "Một Cửa Offline — provincial gateway"
API_DOC_VERSION = f"{wire.API_VERSION}.{wire.API_MINOR}"  # the contract version, 1.2


class TusHeaderMiddleware:
    """Every answer under /files/ carries Tus-Resumable, errors included (tus 1.0 core)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(wire.FILES):
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != b"tus-resumable"]
                message = {**message, "headers": [
                    *headers, (b"tus-resumable", wire.TUS_VERSION.encode())]}
            await send(message)

        await self.app(scope, receive, with_header)


def create_app(config: GatewayConfig | None = None, *, state: GatewayState | None = None,
               faults: FaultPlan | None = None) -> FastAPI:
    """Build the app on `state` (kept open by the caller) or on a state opened from
    `config` (closed when the app shuts down)."""
    owned = state is None
    if state is None:
        if config is None:
            raise ValueError("create_app needs a config or a state")
        state = open_state(config)
        refdata.load_catalog(state)
    tus.startup_sweep(state)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not is_sqlite(state.engine):
            # Request threads no more than pooled connections (db.make_engine): a thread
            # beyond them would open and close a PostgreSQL backend of its own each time.
            anyio.to_thread.current_default_thread_limiter().total_tokens = \
                state.config.db_pool_size
        yield
        if owned:
            state.close()

    docs = state.config.docs_enabled  # the schema itself is built either way (openapi_export)
    app = FastAPI(title=TITLE, version=API_DOC_VERSION, description=wire.__doc__ or "",
                  lifespan=lifespan, openapi_url="/openapi.json" if docs else None,
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None)
    app.state.gateway = state
    app.state.faults = faults or FaultPlan()
    install_handlers(app)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        err = WireError(413, wire.E_TOO_LARGE, str(exc.detail))
        log_refusal(request, err)
        return err.response()

    routers = [module.router for module in (routes_reference, routes_stations, routes_blobs,
                                            tus, routes_dossiers, bundles, routes_admin,
                                            routes_escrow, routes_updates, routes_citizens)]
    for router in routers:
        app.include_router(router)
    app.state.routers = routers  # request_guard lists a path's methods in a 405's Allow
    app.add_middleware(RequestGuard)  # before routing: token, then body caps
    app.add_middleware(TusHeaderMiddleware)
    app.add_middleware(FaultMiddleware)  # outermost of ours: it sees the final answer
    return app
