"""Engine and session setup for SQLite (embedded default) and PostgreSQL (LAN server)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

_IMMEDIATE = "motcua_immediate"

# SQLSTATEs of a PostgreSQL server that is going away or not accepting connections yet
# (class 08 is every "connection exception").
_SERVER_GONE = {"57P01", "57P02", "57P03"}

# Builds the exception raised when the database server cannot be reached: (host:port,
# the driver's error) -> exception. The words belong to the caller, not to this package.
Unreachable = Callable[[str, OperationalError], Exception]


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` from a readable name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def is_connectivity_error(exc: OperationalError) -> bool:
    """The server could not be reached or dropped the connection (not a lock timeout, a
    deadlock or a bad statement, which are OperationalErrors too)."""
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state is None:
        # psycopg raises its OperationalError without a SQLSTATE when it never got an
        # answer: connection refused, host unreachable, the socket closed mid-query.
        return type(orig).__module__.split(".")[0] in {"psycopg", "psycopg2"}
    return state.startswith("08") or state in _SERVER_GONE


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def redacted_url(url: str) -> str:
    """A database URL fit for a log, a report or the screen: the password is hidden."""
    if not url:
        return ""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: show nothing of it
        return "***"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so writes can use BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a power cut after COMMIT never loses a dossier whose receipt was printed.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # A write transaction takes the write lock up front: two clerks on one database
        # then queue on busy_timeout instead of failing with SQLITE_BUSY mid-transaction.
        if conn.get_execution_options().get(_IMMEDIATE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class Database:
    """Owns the engine; hands out read sessions and write transactions."""

    def __init__(self, url: str, *, echo: bool = False,
                 unreachable: Unreachable | None = None) -> None:
        self.url = make_url(url)
        self.unreachable = unreachable
        kwargs: dict[str, object] = {"echo": echo}
        if self.url.get_backend_name() == "postgresql":
            kwargs["pool_pre_ping"] = True
        self.engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database)

    @property
    def server(self) -> str:
        """host:port of a database server ("" for SQLite); never the user or password."""
        if self.is_sqlite:
            return ""
        return f"{self.url.host or 'localhost'}:{self.url.port or 5432}"

    def _translated(self, exc: OperationalError) -> Exception | None:
        if self.unreachable is None or self.is_sqlite or not is_connectivity_error(exc):
            return None
        return self.unreachable(self.server, exc)

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with self._sessions() as session:
                yield session
                session.rollback()
        except OperationalError as exc:
            if (mapped := self._translated(exc)) is None:
                raise
            raise mapped from exc

    @contextmanager
    def write(self, lock: str | None = None) -> Iterator[Session]:
        """One atomic write transaction: commits on success, rolls back on any error.

        ``lock`` names a PostgreSQL advisory lock taken first and held until the end, so
        counters sharing one server doing the same replace (a catalog pull, a digit
        claim) run one after the other and the second sees what the first committed.
        SQLite needs none: BEGIN IMMEDIATE already serialises every write."""
        try:
            with self._sessions() as session:
                session.connection(execution_options={_IMMEDIATE: True})
                try:
                    if lock is not None and not self.is_sqlite:
                        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                        {"key": lock_key(lock)})
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except OperationalError as exc:
            if (mapped := self._translated(exc)) is None:
                raise
            raise mapped from exc

    def dispose(self) -> None:
        self.engine.dispose()
