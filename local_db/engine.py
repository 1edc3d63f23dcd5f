"""Engine and session setup for SQLite (embedded default) and PostgreSQL (LAN server)."""

from __future__ import annotations

import hashlib
import ipaddress
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

_IMMEDIATE = "motcua_immediate"

# SQLSTATEs of a PostgreSQL server that is going away or not accepting connections yet
# (class 08 is every "connection exception").
_SERVER_GONE = {"57P01", "57P02", "57P03"}

# Builds the exception raised when the database server cannot be reached: (host:port,
# the driver's error) -> exception. The words belong to the caller, not to this package.
Unreachable = Callable[[str, OperationalError], Exception]

# Why the database refused to store anything: its disk is full, or it is read-only.
FULL = "full"
READ_ONLY = "read_only"
# Builds the exception raised then: (FULL or READ_ONLY, host:port of the server or "" for
# SQLite, the driver's error) -> exception. The words belong to the caller, as for ``Unreachable``.
NotWritable = Callable[[str, str, DBAPIError], Exception]

_SQLITE_FULL, _SQLITE_READONLY = 13, 8  # primary result codes (the low byte)
# PostgreSQL: disk_full, and a read-only transaction (a standby, default_transaction_read_only).
_PG_NOT_WRITABLE = {"53100": FULL, "25006": READ_ONLY}


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


def write_fault(exc: DBAPIError) -> str | None:
    """FULL or READ_ONLY when the database refused a write for lack of room or of write
    permission (SQLITE_FULL / SQLITE_READONLY and their extended codes, PostgreSQL 53100 /
    25006), else None: a lock timeout, a constraint or a lost server is something else."""
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        primary = code & 0xFF
        if primary == _SQLITE_FULL:
            return FULL
        if primary == _SQLITE_READONLY:
            return READ_ONLY
        return None
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state is not None:
        return _PG_NOT_WRITABLE.get(str(state))
    text_ = str(orig or "")
    if "database or disk is full" in text_:
        return FULL
    if "readonly database" in text_:
        return READ_ONLY
    return None


# PostgreSQL limits for every connection of the app, so one counter PC that freezes, loses
# its cable or dies mid-transaction cannot hold the others for more than a few seconds.
LOCK_TIMEOUT_MS = 3_000  # waiting for a row another counter holds
STATEMENT_TIMEOUT_MS = 30_000  # one statement; bulk jobs raise it with SET LOCAL
IDLE_IN_TRANSACTION_TIMEOUT_MS = 15_000  # a transaction left open by a frozen process
# A transaction that takes a row every counter shares (the agency's book number) is
# only a few statements long: if its process freezes in it, the server ends it sooner.
SHARED_ROW_IDLE_TIMEOUT_MS = 2_000
CONNECT_TIMEOUT_S = 5
# libpq TCP keepalives: a peer gone without a word (cable pulled, power cut) is noticed
# after idle + interval × count seconds, and the server ends its session and locks.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
              "keepalives_count": 3}


def is_local_host(host: str | None) -> bool:
    """This PC itself: no host (the default socket), a socket directory, or loopback."""
    if not host or host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def postgresql_connect_args(host: str | None = None) -> dict[str, object]:
    """libpq parameters for a station's connection to the commune's PostgreSQL server.

    Citizen data crosses the LAN: to any host but this PC itself the connection must be
    TLS (sslmode=require; verify-full when MOTCUA_PG_SSLROOTCERT names the commune
    server's CA certificate). A server on this PC (a Unix socket, loopback) needs none."""
    options = (f"-c lock_timeout={LOCK_TIMEOUT_MS} -c statement_timeout={STATEMENT_TIMEOUT_MS}"
               f" -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS}")
    # TCP_USER_TIMEOUT (ms) also bounds unacknowledged sends, where keepalives do not apply.
    args: dict[str, object] = {"connect_timeout": CONNECT_TIMEOUT_S, "options": options,
                                "tcp_user_timeout": 15_000, **KEEPALIVES}
    if not is_local_host(host):
        root_cert = os.environ.get("MOTCUA_PG_SSLROOTCERT", "")
        if root_cert:
            args.update(sslmode="verify-full", sslrootcert=root_cert)
        else:
            args["sslmode"] = "require"
    return args


def is_lock_timeout(exc: BaseException) -> bool:
    """The database gave up waiting for a lock another counter holds (or a serialization
    conflict): the action can simply be tried again."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in ("55P03", "40001", "40P01", "57014"):  # lock_not_available, serialization,
        return True  # deadlock, query_canceled (statement_timeout)
    # SQLite: busy_timeout ran out.
    return "database is locked" in str(orig or "")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# --- SQLCipher: the station's SQLite file encrypted at rest ------------------------------

SQLITE_HEADER = b"SQLite format 3\x00"  # the first bytes of every plaintext SQLite file


class WrongDatabaseKey(RuntimeError):
    """The SQLite file cannot be read with the key given: a wrong key, an encrypted file
    opened without one, or a file that is not a database at all."""


def is_plaintext_sqlite(path: Path) -> bool:
    """True for an existing SQLite file written without encryption (an encrypted file
    starts with its random salt, never with this header)."""
    try:
        with path.open("rb") as f:
            return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except FileNotFoundError:
        return False


def key_pragma(key: bytes) -> str:
    """``PRAGMA key`` with a raw 256-bit key: SQLCipher uses it as the cipher key as is,
    so opening a connection runs no PBKDF2 (the key is already random)."""
    if len(key) != 32:
        raise ValueError("an SQLCipher raw key is 32 bytes")
    return f"PRAGMA key = \"x'{key.hex()}'\""


def apply_key(dbapi_connection, key: bytes) -> None:  # type: ignore[no-untyped-def]
    """Key a new connection (its first statement) and check the key opens the file."""
    cur = dbapi_connection.cursor()
    try:
        cur.execute(key_pragma(key))
        # A wrong key is reported by the exception below; SQLCipher's own stderr lines
        # about failed page checks would only alarm whoever reads the console.
        cur.execute("PRAGMA cipher_log_level = NONE")
        try:
            cur.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except Exception as exc:  # sqlcipher3's DatabaseError: "file is not a database"
            raise WrongDatabaseKey(f"the database key does not open this file ({exc})") from exc
    finally:
        cur.close()


def sqlcipher_module():  # type: ignore[no-untyped-def]
    from sqlcipher3 import dbapi2

    return dbapi2


def connect_sqlite(path: Path | str, key: bytes | None, *, read_only: bool = False,
                   timeout: float = 30.0):  # type: ignore[no-untyped-def]
    """A DB-API connection to a station SQLite file outside SQLAlchemy (the backup API,
    the doctor, the crash harness): SQLCipher keyed with ``key``, or plain sqlite3."""
    if key is None:
        import sqlite3

        module = sqlite3
    else:
        module = sqlcipher_module()
    target, uri = (f"file:{path}?mode=ro", True) if read_only else (str(path), False)
    conn = module.connect(target, uri=uri, timeout=timeout)
    if key is not None:
        try:
            apply_key(conn, key)
        except BaseException:
            conn.close()
            raise
    return conn


def redacted_url(url: str) -> str:
    """A database URL fit for a log, a report or the screen: the password is hidden."""
    if not url:
        return ""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: show nothing of it
        return "***"


def _configure_sqlite(engine: Engine, key: bytes | None) -> None:
    # insert=True: before SQLAlchemy's own first-connect queries, since on an encrypted
    # file nothing at all can be read until the key is set.
    @event.listens_for(engine, "connect", insert=True)
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        if key is not None:
            apply_key(dbapi_connection, key)
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
                 unreachable: Unreachable | None = None,
                 not_writable: NotWritable | None = None,
                 sqlite_key: bytes | None = None) -> None:
        """``sqlite_key``: the raw 256-bit SQLCipher key of an encrypted SQLite file
        (None: a plaintext file). Ignored for PostgreSQL."""
        self.url = make_url(url)
        self.unreachable = unreachable
        self.not_writable = not_writable
        kwargs: dict[str, object] = {"echo": echo}
        if self.url.get_backend_name() == "postgresql":
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = postgresql_connect_args(self.url.host)
        elif self.url.get_backend_name() == "sqlite" and sqlite_key is not None:
            # The pysqlite dialect over SQLCipher's DB-API module (not the pysqlcipher
            # dialect, which wants the key as the URL's password: URLs get logged).
            kwargs["module"] = sqlcipher_module()
        self.sqlite_key = sqlite_key if self.url.get_backend_name() == "sqlite" else None
        self.engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, self.sqlite_key)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The audit chain this process appends to: the PC's install id (set by the
        # context that knows the data directory), so counters sharing a server each
        # keep their own chain.
        self.audit_chain = "local"

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite or not self.url.database or self.url.database == ":memory:":
            return None
        database = self.url.database
        if self.url.query.get("uri") in ("true", "1") and database.startswith("file:"):
            # sqlite:///file:/path/db.sqlite3?mode=ro&uri=true: a read-only copy
            database = database.removeprefix("file:").split("?")[0]
        return Path(database)

    @property
    def server(self) -> str:
        """host:port of a database server ("" for SQLite); never the user or password."""
        if self.is_sqlite:
            return ""
        return f"{self.url.host or 'localhost'}:{self.url.port or 5432}"

    def _translated(self, exc: DBAPIError) -> Exception | None:
        """The caller's exception for a database that cannot store anything or cannot be
        reached; None for every other error (raised as it is)."""
        if self.not_writable is not None and (kind := write_fault(exc)) is not None:
            return self.not_writable(kind, self.server, exc)
        if (self.unreachable is None or self.is_sqlite or not isinstance(exc, OperationalError)
                or not is_connectivity_error(exc)):
            return None
        return self.unreachable(self.server, exc)

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with self._sessions(info={"audit_chain": self.audit_chain}) as session:
                yield session
                session.rollback()
        except DBAPIError as exc:
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
            with self._sessions(info={"audit_chain": self.audit_chain}) as session:
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
        except DBAPIError as exc:
            if (mapped := self._translated(exc)) is None:
                raise
            raise mapped from exc

    @property
    def is_postgresql(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    def holds_shared_rows(self, session: Session) -> None:
        """In ``session``'s write transaction, before it locks a row all counters need:
        a process frozen inside it (SIGSTOP, a hung driver) loses its session and locks
        after SHARED_ROW_IDLE_TIMEOUT_MS instead of the general idle limit."""
        if self.is_postgresql:
            session.execute(text("SET LOCAL idle_in_transaction_session_timeout = "
                                 f"{SHARED_ROW_IDLE_TIMEOUT_MS}"))

    def relax_timeouts(self, conn: Connection, statement_s: int = 0) -> None:
        """For a long job (a migration, a bulk import) in ``conn``'s transaction only:
        no statement limit (or ``statement_s``), and a longer wait for locks."""
        if self.is_postgresql:
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(statement_s) * 1000}")
            conn.exec_driver_sql("SET LOCAL lock_timeout = 60000")

    def dispose(self) -> None:
        self.engine.dispose()
