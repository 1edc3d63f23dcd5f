"""Database: typed models, engine set-up (SQLite WAL/FULL or PostgreSQL) and create_all.

The gateway has no Alembic history: it is a reference server whose schema is created
with `create_all`; a real province runs its own system behind the same wire contract."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from sync_contract.release_manifest import PRODUCT as RELEASE_PRODUCT


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Station(Base):
    """A counter PC allowed to sync. Only the token's SHA-256 is stored."""

    __tablename__ = "stations"
    __table_args__ = (UniqueConstraint("agency_code", "station_digit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    station_digit: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # Unused and kept empty: the version-1 USB bundle key derived from the token (bundles
    # are now signed with keys in StationSigningKey). The column stays for old databases.
    bundle_key: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class StationSigningKey(Base):
    """An Ed25519 public key a station signs its USB bundles with. Keys are only added,
    so bundles signed before a reinstall (a new key) still import."""

    __tablename__ = "station_signing_keys"
    __table_args__ = (UniqueConstraint("station_id", "public_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    public_key: Mapped[str] = mapped_column(String(64))  # hex
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Enrolment(Base):
    """A one-time enrolment code for one agency and station digit, so a technician can
    provision a PC without carrying the long-lived token. Only the code's SHA-256 is kept;
    a code works once, until it expires, and is locked after a few wrong tries."""

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    station_digit: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")
    code_sha256: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class EnrolmentFailure(Base):
    """One wrong enrolment attempt, kept for an hour (provincial_gateway.enrolment_limits):
    who tried (the source address) and for which station. A table of its own because
    create_all never adds columns to the existing enrolments table."""

    __tablename__ = "enrolment_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    station_digit: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)


class Blob(Base):
    """A verified file in the content-addressed store."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(120), default="application/octet-stream")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class BlobAccess(Base):
    """Which agency may reference and download a blob: the one(s) that uploaded it."""

    __tablename__ = "blob_access"

    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40), primary_key=True)


class Upload(Base):
    """A tus upload. `offset` only moves after the bytes are fsynced."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(120), default="application/octet-stream")
    metadata_raw: Mapped[str] = mapped_column(Text, default="")
    # open | done | failed | deleted | expired
    state: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class UploadSegment(Base):
    """The bytes one PATCH stored, as object `name` of the blob store: an upload's bytes
    are its segments in offset order, and `uploads.offset` is where the last one ends.
    Recorded in the same transaction that moves the offset, so no segment counts that
    the offset does not cover."""

    __tablename__ = "upload_segments"

    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.id"), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    length: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(40))


class UploadLease(Base):
    """Which request of which replica is writing an upload (`upload_leases`)."""

    __tablename__ = "upload_leases"

    upload_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    held_until: Mapped[datetime] = mapped_column(DateTime)


class Dossier(Base):
    """The latest accepted revision of a station's dossier document."""

    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    # NULL for a refusal, which consumes no dossier code; unique otherwise.
    ma_ho_so: Mapped[str | None] = mapped_column(String(60), unique=True)
    revision: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # canonical JSON of the accepted revision
    status: Mapped[int] = mapped_column(Integer)
    procedure_code: Mapped[str] = mapped_column(String(60), default="")
    procedure_name: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[str] = mapped_column(String(14), default="")  # yyyyMMddHHmmss
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class DossierRevision(Base):
    """Every accepted revision's body, kept for audit."""

    __tablename__ = "dossier_revisions"
    __table_args__ = (UniqueConstraint("dossier_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    revision: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DossierFlag(Base):
    """Something the gateway noticed about a stored revision and shows the province (a
    receipt time ahead of its clock, ...). The station's facts stay as sent."""

    __tablename__ = "dossier_flags"
    __table_args__ = (UniqueConstraint("dossier_id", "revision", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))  # wire.W_* word
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Event(Base):
    """A station lifecycle event, idempotent by its EventId."""

    __tablename__ = "events"

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Progress(Base):
    """Progress records (CapNhatTienDoHoSoMC vocabulary) from both sides."""

    __tablename__ = "progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    status: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(14))  # yyyyMMddHHmmss
    actor: Mapped[str] = mapped_column(String(50), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10))  # station|event|gateway
    event_id: Mapped[str | None] = mapped_column(String(100))


class Change(Base):
    """The change feed a station pulls, per agency, ordered by seq."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_agency_seq", "agency_code", "seq"),
                      {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    ma_ho_so: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(14))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(50), default="")
    result_ready_at: Mapped[str] = mapped_column(String(14), default="")
    new_appointment: Mapped[str] = mapped_column(String(14), default="")


class ResultDocument(Base):
    """A result document the processing side attached when marking a dossier processed
    (DanhSachGiayToKetQua). Its file is in the blob store without a BlobAccess row: only
    the station that owns the dossier may download it (routes_blobs)."""

    __tablename__ = "result_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    change_seq: Mapped[int] = mapped_column(Integer, index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(120), default="application/pdf")
    name: Mapped[str] = mapped_column(String(300))
    number: Mapped[str] = mapped_column(String(100), default="")
    component_code: Mapped[str] = mapped_column(String(60), default="")
    signer: Mapped[str] = mapped_column(String(200), default="")
    signed_on: Mapped[str] = mapped_column(String(14), default="")  # yyyyMMddHHmmss
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CalendarDay(Base):
    __tablename__ = "calendar_overrides"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    kind: Mapped[str] = mapped_column(String(4))  # off|work
    note: Mapped[str] = mapped_column(Text, default="")


class Clerk(Base):
    __tablename__ = "clerks"
    __table_args__ = (UniqueConstraint("agency_code", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    username: Mapped[str] = mapped_column(String(60))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ReferenceDoc(Base):
    """Province-wide documents served as is (the procedure catalog)."""

    __tablename__ = "reference_docs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class AuditHead(Base):
    """A station's audit-chain head as it reported it (``X-Audit-Head``), one row per new
    head: the province's copy of where each counter's tamper-evident log stood, and the
    verdict on it (``provincial_gateway.audit_heads``)."""

    __tablename__ = "audit_heads"
    __table_args__ = (Index("ix_audit_heads_station_chain", "station_id", "chain", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    chain: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    anchor_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    anchor_hash: Mapped[str] = mapped_column(String(64), default="")
    verdict: Mapped[str] = mapped_column(String(12))  # accepted|rewound|forked|rewritten
    reason: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class KeyEscrow(Base):
    """A station's data key wrapped under its recovery code (which the province never
    sees), so a technician can recover a replaced PC's encrypted data. Each upload is a
    new row: a PC provisioned afresh never replaces the copy an old database still needs."""

    __tablename__ = "key_escrows"
    __table_args__ = (Index("ix_key_escrows_station", "agency_code", "station_digit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    station_digit: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[str] = mapped_column(Text)  # the station's JSON envelope, opaque here
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class StationHeartbeat(Base):
    """The latest heartbeat of each station (`wire.StationHeartbeat`), replaced by every
    new one: what `motcua gateway fleet` and the admin page's fleet view show. Times are
    the gateway's (UTC); the station's own clock only shows in ``clock_offset_s``."""

    __tablename__ = "station_heartbeats"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    beats: Mapped[int] = mapped_column(Integer, default=0)  # heartbeats received in all
    app_version: Mapped[str] = mapped_column(String(40))
    schema_revision: Mapped[str] = mapped_column(String(64), default="")
    queue_size: Mapped[int] = mapped_column(Integer, default=0)
    queue_refused: Mapped[int] = mapped_column(Integer, default=0)
    oldest_unsynced_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    free_disk_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    doctor_status: Mapped[str] = mapped_column(String(8), default="")
    doctor_failing: Mapped[str] = mapped_column(Text, default="")  # check ids, comma-joined
    doctor_warnings: Mapped[str] = mapped_column(Text, default="")
    doctor_at: Mapped[str] = mapped_column(String(32), default="")
    clock_offset_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    platform: Mapped[str] = mapped_column(String(200), default="")
    install_id: Mapped[str] = mapped_column(String(36), default="")
    update_state: Mapped[str] = mapped_column(String(12), default="")
    update_version: Mapped[str] = mapped_column(String(40), default="")
    update_refused_version: Mapped[str] = mapped_column(String(40), default="")
    update_refused_reason: Mapped[str] = mapped_column(String(16), default="")


class CitizenLookup(Base):
    """A station asked which documents a citizen has on file (contract 1.3): the
    gateway's audit of the look-up. Never the ID number: who asked, when, what was
    answered (count and source dossier codes)."""

    __tablename__ = "citizen_lookups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    found: Mapped[int] = mapped_column(Integer)
    dossier_codes: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Release(Base):
    """One published installer. A version is published once per platform."""

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("platform", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product: Mapped[str] = mapped_column(String(40), default=RELEASE_PRODUCT)
    version: Mapped[str] = mapped_column(String(40))
    platform: Mapped[str] = mapped_column(String(20), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(Text)  # base64
    filename: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


# Connections past the pool, closed again when returned: only for a request that holds
# two sessions at once while every pooled connection is busy.
POOL_MARGIN = 5


def make_engine(url: str, pool_size: int = 20) -> Engine:
    if not url.startswith("sqlite"):
        # Every pooled connection is kept: with overflow connections (closed on return)
        # as the working set, a loaded gateway opened a PostgreSQL backend per request or
        # two (4,191–5,519 for 3,000 dossiers in bench_gateway_load). The request threads
        # are capped at `pool_size` instead (app.create_app), so they never outnumber it.
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size,
                             max_overflow=POOL_MARGIN)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so the driver must not.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
        # then writes fails at once with SQLITE_BUSY when another writer got in between,
        # instead of waiting, which would turn concurrent PUTs into errors.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessions(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def create_schema(engine: Engine) -> None:
    Base.metadata.create_all(engine)
