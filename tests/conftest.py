"""Shared fixtures: a fresh data directory on a real database, and a real PostgreSQL server
started on loopback for the duration of the test session.

The whole suite runs on either backend. By default the station database is SQLite (for
``ctx``, a copy of one file migrated to head once per session); with
``MOTCUA_TEST_DB=postgresql`` every test gets a fresh PostgreSQL database instead (created
from a migrated template), exported as ``MOTCUA_DB_URL`` so that the CLI, subprocesses and
``open_station()`` without an explicit URL all use it, and the reference gateway runs on
PostgreSQL too (so does the crash test's station and gateway). Tests about the SQLite file
itself (backup before upgrade, FTS5) are marked ``@pytest.mark.sqlite`` or pass an
explicit SQLite URL, and so test SQLite in both runs. Those, and the tests marked
``@pytest.mark.migrations``, get a SQLite database that every migration really builds."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.startup import open_station
from desktop_app.station import StationInfo, StationService
from local_db.engine import Database, sqlite_url
from local_db.migrate import upgrade

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TEST_DB = os.environ.get("MOTCUA_TEST_DB", "sqlite").strip().lower() or "sqlite"
if TEST_DB not in ("sqlite", "postgresql"):
    raise SystemExit(f"MOTCUA_TEST_DB must be sqlite or postgresql, not {TEST_DB!r}")
ON_POSTGRESQL = TEST_DB == "postgresql"


def pytest_report_header(config: pytest.Config) -> str:
    return f"station database: {TEST_DB} (MOTCUA_TEST_DB)"


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
def db_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The station database of this test: SQLite in the data directory, or (under
    MOTCUA_TEST_DB=postgresql) the fresh PostgreSQL database exported as MOTCUA_DB_URL."""
    if ON_POSTGRESQL and request.node.get_closest_marker("sqlite") is None:
        return str(request.getfixturevalue("_default_database"))
    return f"sqlite:///{tmp_path / 'data' / 'm.db'}"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A station database file migrated to head once. Running every migration takes a
    noticeable part of a second; a copy of this file, which `upgrade()` finds at head and
    leaves alone, takes a millisecond."""
    path = tmp_path_factory.mktemp("template") / "station.sqlite3"
    db = Database(sqlite_url(path))
    try:
        upgrade(db)
    finally:
        db.dispose()
    # The last connection to close checkpointed the WAL into the file and removed it: the
    # file alone is the whole database, and stays in WAL mode (kept in its header).
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture
def migrated_sqlite(request: pytest.FixtureRequest) -> Callable[[Path], None]:
    """``migrated_sqlite(path)`` puts a new station database at head at ``path`` (a copy
    of the session's template) for ``open_station`` to open. Tests about migrations and
    the SQLite file itself (marked ``migrations`` or ``sqlite``) get nothing there, so
    ``open_station`` runs every migration."""
    fresh = any(request.node.get_closest_marker(m) for m in ("migrations", "sqlite"))

    def put(path: Path) -> None:
        if fresh:
            return
        assert not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)

    return put


@pytest.fixture
def ctx(tmp_path: Path, clock: FixedClock, db_url: str,
        migrated_sqlite: Callable[[Path], None]) -> Iterator[AppContext]:
    if db_url.startswith("sqlite:///"):
        migrated_sqlite(Path(db_url.removeprefix("sqlite:///")))
    # The sample catalog is seeded here, per test, stamped by this test's clock.
    context = open_station(tmp_path / "data", db_url=db_url, clock=clock)
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
        if ON_POSTGRESQL:
            pytest.exit("MOTCUA_TEST_DB=postgresql but no PostgreSQL server binaries "
                        "(apt install postgresql)", returncode=3)
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


def _create_pg_database(server: str, template: str | None = None) -> str:
    import psycopg

    name = "t" + next(tempfile._get_candidate_names()).lower().replace("_", "")  # type: ignore[attr-defined]
    host_port = server.rsplit("@", 1)[1]
    host, port = host_port.split(":")
    suffix = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(host=host, port=int(port), user="motcua", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    return name


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the session's server for one test."""
    return f"{pg_server}/{_create_pg_database(pg_server)}"


@pytest.fixture(scope="session")
def _pg_template(pg_server: str) -> str:
    """A database migrated to head once, copied for each test (CREATE DATABASE … TEMPLATE
    is a file copy; running every migration per test would dominate the run)."""
    name = _create_pg_database(pg_server)
    db = Database(f"{pg_server}/{name}")
    try:
        upgrade(db)
    finally:
        db.dispose()
    return name


@pytest.fixture
def pg_migrated_url(pg_server: str, _pg_template: str) -> str:
    """A fresh database at the current schema head."""
    return f"{pg_server}/{_create_pg_database(pg_server, template=_pg_template)}"


@pytest.fixture(autouse=ON_POSTGRESQL)
def _default_database(request: pytest.FixtureRequest,
                      monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Under MOTCUA_TEST_DB=postgresql: this test's station database, for everything that
    resolves the default database URL (the CLI, child processes, the GUI)."""
    if not ON_POSTGRESQL:
        return None
    url = str(request.getfixturevalue("pg_migrated_url"))
    monkeypatch.setenv("MOTCUA_DB_URL", url)
    return url


@pytest.fixture
def pg_ctx(tmp_path: Path, clock: FixedClock, pg_url: str) -> Iterator[AppContext]:
    context = open_station(tmp_path / "pgdata", db_url=pg_url, clock=clock)
    yield context
    context.close()
