"""Shared fixtures: a fresh data directory on real SQLite, and a real PostgreSQL server
started on loopback for the duration of the test session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext, open_context
from desktop_app.station import StationInfo, StationService

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The DOMAIN.md example: received Friday 27/10/2023 at 09:32.
RECEIVED_AT = datetime(2023, 10, 27, 9, 32)

TEST_STATION = StationInfo(
    agency_code="000.00.12.H12",
    agency_name="UBND XÃ NÀ PHẶC",
    parent_name="UBND TỈNH THÁI NGUYÊN",
    place_name="Nà Phặc",
    station_digit=1,
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(RECEIVED_AT)


@pytest.fixture
def ctx(tmp_path: Path, clock: FixedClock) -> Iterator[AppContext]:
    context = open_context(tmp_path / "data", db_url=f"sqlite:///{tmp_path / 'data' / 'm.db'}",
                           clock=clock)
    yield context
    context.close()


@pytest.fixture
def station(ctx: AppContext) -> StationInfo:
    return StationService(ctx).save(TEST_STATION)


@pytest.fixture
def clerk(ctx: AppContext) -> ClerkInfo:
    return AccountService(ctx).create_clerk("huong", "Triệu Thị Hương", "mat-khau-1", Role.CLERK)


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    roots = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return roots[0] if roots else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on 127.0.0.1; yields a SQLAlchemy base URL.

    initdb refuses to run as root, so as root the cluster runs as the `postgres` user."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    base = Path(tempfile.mkdtemp(prefix="motcua-pg-"))
    data = base / "data"
    port = _free_port()
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    run = lambda *cmd: subprocess.run(  # noqa: E731
        [*prefix, *cmd], check=True, capture_output=True, text=True, cwd=base)
    run(str(bindir / "initdb"), "-D", str(data), "-U", "motcua", "--auth=trust",
        "-E", "UTF8", "--locale=C.UTF-8")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} "
        "-c fsync=off", "start")
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"postgresql+psycopg://motcua@127.0.0.1:{port}"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh database on the session's server for one test."""
    import psycopg

    name = "t" + next(tempfile._get_candidate_names()).lower().replace("_", "")  # type: ignore[attr-defined]
    host_port = pg_server.rsplit("@", 1)[1]
    host, port = host_port.split(":")
    with psycopg.connect(host=host, port=int(port), user="motcua", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg_server}/{name}"


@pytest.fixture
def pg_ctx(tmp_path: Path, clock: FixedClock, pg_url: str) -> Iterator[AppContext]:
    context = open_context(tmp_path / "pgdata", db_url=pg_url, clock=clock)
    yield context
    context.close()
