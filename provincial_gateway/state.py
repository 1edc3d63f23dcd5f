"""Everything a running gateway holds: settings, database, blob store, admin token."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from provincial_gateway import bundle_keys
from provincial_gateway.blobstore import BlobStore
from provincial_gateway.config import GatewayConfig
from provincial_gateway.db import create_schema, make_engine, make_sessions
from provincial_gateway.object_store import open_blob_store

if TYPE_CHECKING:
    from provincial_gateway.faults import FaultPlan

log = logging.getLogger("provincial_gateway")


@dataclass
class GatewayState:
    config: GatewayConfig
    engine: Engine
    sessions: sessionmaker
    blobs: BlobStore
    admin_token: str
    last_expiry_sweep: datetime | None = None  # tus.expire_uploads (this replica's)

    def close(self) -> None:
        self.engine.dispose()
        self.blobs.close()


def open_state(config: GatewayConfig) -> GatewayState:
    """Open (and create) the database and the stores (`refdata.load_catalog` then
    imports the catalog the server is configured with)."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    blobs = open_blob_store(config)  # first: a missing bucket stops before any change
    config.remember_blob_store()
    engine = make_engine(config.database_url, pool_size=config.db_pool_size)
    create_schema(engine)
    config.remember_database()
    state = GatewayState(config=config, engine=engine, sessions=make_sessions(engine),
                         blobs=blobs, admin_token=config.resolve_admin_token())
    bundle_keys.prepare(state)
    return state


def gateway_state(request: Request) -> GatewayState:
    return request.app.state.gateway


def fault_plan(request: Request) -> FaultPlan:
    return request.app.state.faults


def public_base(request: Request) -> str:
    """Base URL for links the gateway hands out (tus Location, DuongDanTaiTepTin)."""
    configured = gateway_state(request).config.public_url
    return (configured or str(request.base_url)).rstrip("/")
