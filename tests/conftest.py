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
``@pytest.mark.migrations``, get a SQLite database that every migration really builds.
Tests marked ``@pytest.mark.nodb`` never open a station database and get none; the
PostgreSQL run leaves them out (the SQLite run has run them)."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

# The cheapest argon2id for the accounts tests create (desktop_app.passwords); set before
# the project is imported and inherited by the subprocesses tests start. One test in
# tests/test_passwords.py lifts it to hash and verify at the real cost.
os.environ["MOTCUA_TEST_CHEAP_PASSWORD_HASH"] = "1"

import pytest

from desktop_app.accounts import AccountService, ClerkInfo, Role
from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.data_key import PURPOSE_DATABASE, DataKeyStore, subkey
from desktop_app.logging_setup import remove_handlers
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under MOTCUA_TEST_DB=postgresql, tests marked ``nodb`` (no station database, no
    PostgreSQL server: pure rules, images, packaging) are left out: the SQLite run already
    ran them on the same machine, and running them again tells nothing about PostgreSQL.
    So are the GUI tests (``gui``) except those marked ``server`` (the database server
    going away under the window): the widgets call the same services, which the
    PostgreSQL run covers without them, and they are a third of its time."""
    if not ON_POSTGRESQL:
        return

    def kept_on_postgresql(item: pytest.Item) -> bool:
        if item.get_closest_marker("nodb") is not None:
            return False
        return (item.get_closest_marker("gui") is None
                or item.get_closest_marker("server") is not None)

    kept = [item for item in items if kept_on_postgresql(item)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


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
        url = request.getfixturevalue("_default_database")
        if url is None:
            pytest.fail("a test marked nodb asks for the station database")
        return str(url)
    return f"sqlite:///{tmp_path / 'data' / 'm.db'}"


@pytest.fixture(autouse=True)
def _logging_handlers_end_with_the_test() -> Iterator[None]:
    """A test that runs a command installs the app's log handlers, one of them on this
    test's captured stderr: taken away after it, so no later line goes to a closed
    stream."""
    yield
    remove_handlers()


# The data key of the template's copies (any fixed 32 bytes: these are test files).
TEMPLATE_DATA_KEY = bytes(range(32))
TEMPLATE_SQLITE_KEY = subkey(TEMPLATE_DATA_KEY, PURPOSE_DATABASE)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A station database file migrated to head once. Running every migration takes a
    noticeable part of a second; a copy of this file, which `upgrade()` finds at head and
    leaves alone, takes a millisecond."""
    path = tmp_path_factory.mktemp("template") / "station.sqlite3"
    db = Database(sqlite_url(path), sqlite_key=TEMPLATE_SQLITE_KEY)
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
        # Encrypted like a station's file: its data directory holds the key.
        DataKeyStore(path.parent).store(TEMPLATE_DATA_KEY)

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


def _pg_admin(server: str) -> Any:
    """An autocommit connection to the server's maintenance database."""
    import psycopg

    host, port = server.rsplit("@", 1)[1].split(":")
    return psycopg.connect(host=host, port=int(port), user="motcua", dbname="postgres",
                           autocommit=True)


def _create_pg_database(server: str, template: str | None = None) -> str:
    name = "t" + next(tempfile._get_candidate_names()).lower().replace("_", "")  # type: ignore[attr-defined]
    suffix = f' TEMPLATE "{template}"' if template else ""
    with _pg_admin(server) as conn:
        # PostgreSQL 15 copies a template through the WAL by default (~140 ms here for the
        # migrated one); copying its files is ~40 ms.
        if conn.info.server_version >= 150000:
            suffix += " STRATEGY FILE_COPY"
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    return name


def _drop_pg_database(server: str, name: str) -> None:
    import psycopg

    try:
        with _pg_admin(server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error as exc:  # left for the server's end: the test's outcome stands
        warnings.warn(f"test database {name} not dropped: {exc}", stacklevel=1)


class PgDatabases:
    """Fresh databases for the tests, made a few ahead on a background thread, and dropped
    there once a test is over.

    Nearly every test of the PostgreSQL run gets its own database (and a gateway test a
    second one): creating one takes the server 0.1-0.4 s here, which the server can spend
    while the test before runs. Dropping them as they are done spares the end of the run
    over a minute of flushing and deleting gigabytes of copies when the server stops."""

    AHEAD = 2  # per template

    def __init__(self, server: str) -> None:
        self.server = server
        self._ready: dict[str | None, queue.Queue[str | BaseException]] = {}
        self._jobs: queue.Queue[tuple[str, str | None] | None] = queue.Queue()
        self._done: list[str] = []
        self._thread = threading.Thread(target=self._work, name="test-databases", daemon=True)
        self._thread.start()

    def take(self, template: str | None = None) -> str:
        """The name of a new database copied from ``template`` (None: an empty one)."""
        self._drop_done()
        if template not in self._ready:
            self._ready[template] = queue.Queue()
            for _ in range(self.AHEAD):
                self._jobs.put(("create", template))
        self._jobs.put(("create", template))  # the one after
        made = self._ready[template].get(timeout=600)
        if isinstance(made, BaseException):
            raise made
        return made

    def drop(self, name: str) -> None:
        """Dropped once the next test asks for a database (every fixture of this one is
        torn down by then: nothing still uses it) or at the end."""
        self._done.append(name)

    def _drop_done(self) -> None:
        for name in self._done:
            self._jobs.put(("drop", name))
        self._done.clear()

    def close(self) -> None:
        self._drop_done()
        self._jobs.put(None)
        self._thread.join(600)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            action, arg = job
            if action == "drop":
                assert arg is not None
                _drop_pg_database(self.server, arg)
                continue
            try:
                self._ready[arg].put(_create_pg_database(self.server, arg))
            except BaseException as exc:
                self._ready[arg].put(exc)


@pytest.fixture(scope="session")
def pg_databases(pg_server: str) -> Iterator[PgDatabases]:
    databases = PgDatabases(pg_server)
    yield databases
    databases.close()


@pytest.fixture
def pg_url(pg_server: str, pg_databases: PgDatabases) -> Iterator[str]:
    """A fresh, empty database on the session's server for one test."""
    name = pg_databases.take()
    yield f"{pg_server}/{name}"
    pg_databases.drop(name)


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
def pg_migrated_url(pg_server: str, _pg_template: str,
                    pg_databases: PgDatabases) -> Iterator[str]:
    """A fresh database at the current schema head."""
    name = pg_databases.take(_pg_template)
    yield f"{pg_server}/{name}"
    pg_databases.drop(name)


@pytest.fixture(autouse=ON_POSTGRESQL)
def _default_database(request: pytest.FixtureRequest,
                      monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Under MOTCUA_TEST_DB=postgresql: this test's station database, for everything that
    resolves the default database URL (the CLI, child processes, the GUI).

    A test marked ``nodb`` never opens one (pure rules, images, the fault proxy): none is
    made for it, and the URL exported names a database that does not exist, so a test
    marked so by mistake fails instead of quietly running on SQLite."""
    if not ON_POSTGRESQL:
        return None
    if request.node.get_closest_marker("nodb"):
        server = request.getfixturevalue("pg_server")
        monkeypatch.setenv("MOTCUA_DB_URL", f"{server}/nodb_test_has_no_database")
        return None
    url = str(request.getfixturevalue("pg_migrated_url"))
    monkeypatch.setenv("MOTCUA_DB_URL", url)
    return url


@pytest.fixture
def pg_ctx(tmp_path: Path, clock: FixedClock, pg_url: str) -> Iterator[AppContext]:
    context = open_station(tmp_path / "pgdata", db_url=pg_url, clock=clock)
    yield context
    context.close()
