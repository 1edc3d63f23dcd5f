"""`serve --workers N`: several uvicorn worker processes on one listening socket.

uvicorn starts each worker as a fresh (spawned) interpreter that builds the app from a
factory named by an import string, so the settings travel in an environment variable:
the JSON of the GatewayConfig fields. The environment, unlike the command line, is not
shown by `ps`, so an admin token given on the command line may travel in it.

The parent does the one-time work first (schema, remembered database URL, admin-token
and bundle-identity files, catalog import), so N workers starting together do not race
to create the same tables and files; each worker then only opens what exists."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from provincial_gateway.config import GatewayConfig

ENV_WORKER_CONFIG = "MOTCUA_GATEWAY_WORKER_CONFIG"
FACTORY = "provincial_gateway.workers:create_app_from_environment"
MAX_WORKERS = 64
MAX_DB_POOL = 100
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("provincial_gateway")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper()), format=LOG_FORMAT)


def connections_per_worker(pool_size: int) -> int:
    """The most PostgreSQL connections one process opens (db.make_engine)."""
    from provincial_gateway.db import POOL_MARGIN

    return pool_size + POOL_MARGIN


def config_to_json(config: GatewayConfig, log_level: str) -> str:
    """The config for the workers. The catalog was imported by the parent, so workers get
    none (they would otherwise import the same file N times at once)."""
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        fields[field.name] = str(value) if isinstance(value, Path) else value
    fields["catalog_file"] = None
    return json.dumps({"config": fields, "log_level": log_level})


def config_from_json(text: str) -> tuple[GatewayConfig, str]:
    doc = json.loads(text)
    known = {f.name: f for f in dataclasses.fields(GatewayConfig)}
    values: dict[str, Any] = {}
    for name, value in doc["config"].items():
        field = known.get(name)
        if field is None:
            continue
        # Paths travelled as strings (annotations are strings here: "Path | None").
        if isinstance(value, str) and "Path" in str(field.type):
            value = Path(value)
        values[name] = value
    return GatewayConfig(**values), str(doc.get("log_level", "info"))


def prepare(config: GatewayConfig) -> None:
    """Everything that creates something, once, in the parent before workers start."""
    from provincial_gateway import refdata
    from provincial_gateway.state import open_state

    state = open_state(config)
    try:
        refdata.load_catalog(state)
    finally:
        state.close()


def create_app_from_environment() -> FastAPI:
    """The app factory each worker process runs (uvicorn `factory=True`)."""
    from provincial_gateway.app import create_app

    text = os.environ.get(ENV_WORKER_CONFIG)
    if not text:
        raise RuntimeError(f"{ENV_WORKER_CONFIG} is not set; start workers with "
                           "`serve --workers N`")
    config, log_level = config_from_json(text)
    configure_logging(log_level)
    app = create_app(config)
    log.info("worker process %d ready", os.getpid())
    return app
