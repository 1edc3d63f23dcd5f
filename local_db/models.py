"""SQLAlchemy 2 typed models of the local store.

Times are naive datetimes in Asia/Ho_Chi_Minh local time (the counter's wall clock),
which is what every printed form and the national sync vocabulary use.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.orm.base import NO_VALUE

# Deterministic constraint names so Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class StationSettings(Base):
    """One row: who this counter PC is (provisioning data)."""

    __tablename__ = "station_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    agency_name: Mapped[str] = mapped_column(String(200))
    parent_name: Mapped[str] = mapped_column(String(200), default="")
    place_name: Mapped[str] = mapped_column(String(100))
    station_digit: Mapped[int] = mapped_column(Integer)
    receipt_page_size: Mapped[str] = mapped_column(String(4), default="A4")
    book_number: Mapped[str] = mapped_column(String(20), default="01")
    tracking_url: Mapped[str] = mapped_column(String(300), default="")
    upload_limit_mb: Mapped[int] = mapped_column(Integer, default=10)
    gateway_url: Mapped[str] = mapped_column(String(300), default="")
    ca_bundle: Mapped[str] = mapped_column(Text, default="")  # PEM path; empty: system CAs
    unsynced_warn_days: Mapped[int] = mapped_column(Integer, default=3)
    # Folders that large-format scanner software writes into (absolute paths).
    hot_folders: Mapped[list[Any]] = mapped_column(default=list)
    # Days a finished dossier's files stay on the PC after the province acknowledged them.
    retention_days: Mapped[int] = mapped_column(Integer, default=365, server_default="365")
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Station(Base):
    """One counter PC using this database. In a commune with several counters every PC
    points at one PostgreSQL server; each keeps its own station digit, so dossier codes
    stay unique, its own hot folders, receipt printer and copy of the provincial CA.
    Agency-wide settings stay in StationSettings."""

    __tablename__ = "stations"

    install_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    station_digit: Mapped[int] = mapped_column(Integer, unique=True)
    hostname: Mapped[str] = mapped_column(String(200), default="")
    hot_folders: Mapped[list[Any]] = mapped_column(default=list)
    printer: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # This PC's copy of the provincial CA (a path in its own data directory).
    ca_bundle: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Characters this PC's handheld scanner sends before/after each code (often none).
    scanner_prefix: Mapped[str] = mapped_column(String(16), default="", server_default="")
    scanner_suffix: Mapped[str] = mapped_column(String(16), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)


class IntakeDraftRow(Base):
    """The dossier a counter PC is receiving, as the wizard holds it, saved at every step
    (a closed window, a crash or a power cut loses nothing typed). One per PC; removed
    when the dossier is received, refused or abandoned."""

    __tablename__ = "intake_drafts"

    install_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("clerks.id"), nullable=True)
    step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    payload: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Clerk(Base):
    __tablename__ = "clerks"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A one-time password (provisioning): the next login must set a new one.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    # Pulled from the province's clerk list: its password is changed there, not here.
    from_province: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Printed on Mẫu 02/03 as the official to contact; "" = a blank to fill by hand.
    phone: Mapped[str] = mapped_column(String(20), default="", server_default="")
    email: Mapped[str] = mapped_column(String(120), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Wrong passwords in a row (reset by a login or an unlock); from the 5th a wait until
    # login_blocked_until, at the 10th locked_at until a supervisor or technician unlocks.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    login_blocked_until: Mapped[datetime | None] = mapped_column(DateTime)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Procedure(Base):
    __tablename__ = "procedures"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_folded: Mapped[str] = mapped_column(Text)
    field_code: Mapped[str] = mapped_column(String(20), default="")
    field_name: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(40), default="")
    time_limit_amount: Mapped[float] = mapped_column(Float, default=0)
    time_limit_unit: Mapped[str] = mapped_column(String(20))
    time_limit_text: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    catalog_version: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    components: Mapped[list[ProcedureComponent]] = relationship(
        order_by="ProcedureComponent.position", cascade="all, delete-orphan"
    )
    fees: Mapped[list[ProcedureFee]] = relationship(
        order_by="ProcedureFee.position", cascade="all, delete-orphan"
    )


class ProcedureComponent(Base):
    __tablename__ = "procedure_components"
    __table_args__ = (UniqueConstraint("procedure_code", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_code: Mapped[str] = mapped_column(ForeignKey("procedures.code", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text)
    originals: Mapped[int] = mapped_column(Integer, default=0)
    certified_copies: Mapped[int] = mapped_column(Integer, default=0)
    photocopies: Mapped[int] = mapped_column(Integer, default=0)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")


class ProcedureFee(Base):
    __tablename__ = "procedure_fees"

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_code: Mapped[str] = mapped_column(ForeignKey("procedures.code", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40), default="")
    name: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20), default="le_phi")
    note: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # How ``amount`` is charged (desktop_app.domain.fees.FeeBasis): case | copy | page;
    # for page: the lower rate from a page on, and the cap per copy (0 = none).
    basis: Mapped[str] = mapped_column(String(10), default="case", server_default="case")
    later_from_page: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    later_amount: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cap_per_copy: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class FavouriteProcedure(Base):
    __tablename__ = "favourite_procedures"

    clerk_id: Mapped[int] = mapped_column(ForeignKey("clerks.id"), primary_key=True)
    procedure_code: Mapped[str] = mapped_column(
        ForeignKey("procedures.code", ondelete="CASCADE"), primary_key=True
    )


class Applicant(Base):
    """A person who owns or submits dossiers (chủ hồ sơ / người nộp)."""

    __tablename__ = "applicants"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str] = mapped_column(String(20), default="", index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(5), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(30), default="", index=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Blob(Base):
    """A content-addressed file in the blob store (blobs/ab/cdef...)."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)


class SharedBlob(Base):
    """A blob whose bytes are in the shared database (PostgreSQL mode). Written after the
    blob's last chunk: a row here means every chunk is there."""

    __tablename__ = "shared_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunks: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(DateTime)


class SharedBlobChunk(Base):
    """1 MiB of a shared blob. No foreign key: the chunks go in before the index row."""

    __tablename__ = "shared_blob_chunks"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Dossier(Base):
    __tablename__ = "dossiers"
    __table_args__ = (
        Index("ix_dossiers_received_at", "received_at"),
        Index("ix_dossiers_status", "status"),
        Index("ix_dossiers_appointment_at", "appointment_at"),
        Index("ix_dossiers_returned_at", "returned_at"),
    )

    # Integer key: SQLite's FTS5 index needs a stable content rowid.
    id: Mapped[int] = mapped_column(primary_key=True)
    # Client-chosen UUID: the idempotency key for sync.
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    # NULL for a refusal: refusing consumes no dossier code.
    code: Mapped[str | None] = mapped_column(String(60), unique=True)
    slip_number: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[int] = mapped_column(Integer)
    channel: Mapped[int] = mapped_column(Integer, default=1)
    procedure_code: Mapped[str] = mapped_column(ForeignKey("procedures.code"))
    procedure_name: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("applicants.id"))
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("applicants.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    # The appointment printed on the receipt at intake: a legal fact, never changed.
    appointment_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The deadline lateness is judged against: the receipt's appointment, moved only when
    # the law restarts the clock (a supplement received: a new receipt). An apology or an
    # extension never moves it. Both columns below follow the append-only
    # appointment_changes rows; they exist so reports need no join.
    due_at: Mapped[datetime | None] = mapped_column(
        DateTime, default=lambda ctx: ctx.get_current_parameters().get("appointment_at"))
    # The date the citizen was last given (after any supplement, apology or extension).
    current_appointment_at: Mapped[datetime | None] = mapped_column(
        DateTime, default=lambda ctx: ctx.get_current_parameters().get("appointment_at"))
    time_limit_amount: Mapped[float] = mapped_column(Float, default=0)
    time_limit_unit: Mapped[str] = mapped_column(String(20), default="")
    set_count: Mapped[int] = mapped_column(Integer, default=1)
    delivery: Mapped[str] = mapped_column(String(10), default="counter")
    delivery_address: Mapped[str] = mapped_column(Text, default="")
    fee_total: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    book_number: Mapped[str] = mapped_column(String(20), default="")
    sequence_number: Mapped[int | None] = mapped_column(Integer)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("clerks.id"))
    slip_blob: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    search_text: Mapped[str] = mapped_column(Text, default="")
    # PhienBan on the wire: +1 for every change sent to the province.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # Last processing status and time pulled from the province (change feed).
    remote_status_at: Mapped[datetime | None] = mapped_column(DateTime)
    remote_note: Mapped[str] = mapped_column(Text, default="")
    # Return of the result (trả kết quả).
    returned_at: Mapped[datetime | None] = mapped_column(DateTime)
    returned_to: Mapped[str] = mapped_column(Text, default="")
    returned_to_id: Mapped[str] = mapped_column(String(20), default="")
    return_method: Mapped[str] = mapped_column(String(10), default="")  # counter | post
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("clerks.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    owner: Mapped[Applicant] = relationship(foreign_keys=[owner_id])
    submitter: Mapped[Applicant | None] = relationship(foreign_keys=[submitter_id])
    clerk: Mapped[Clerk] = relationship(foreign_keys=[clerk_id])
    components: Mapped[list[DossierComponent]] = relationship(
        order_by="DossierComponent.position", cascade="all, delete-orphan"
    )
    appointment_changes: Mapped[list[AppointmentChange]] = relationship(
        order_by="AppointmentChange.id"
    )
    fees: Mapped[list[DossierFee]] = relationship(order_by="DossierFee.position")
    payments: Mapped[list[FeePayment]] = relationship(order_by="FeePayment.id")
    # Results digitized at this counter: the dossier document lists them upward.
    counter_results: Mapped[list[ResultDocumentRow]] = relationship(
        primaryjoin="and_(ResultDocumentRow.dossier_id == Dossier.id, "
                    "ResultDocumentRow.origin == 'counter')",
        order_by="ResultDocumentRow.id", viewonly=True)


@event.listens_for(Dossier.appointment_at, "set", active_history=True)
def _receipt_appointment_is_written_once(target: Dossier, value: Any, oldvalue: Any,
                                         initiator: Any) -> None:
    """The receipt's appointment is a legal fact: once stored, no code path may change it
    (a new date is an AppointmentChange, through desktop_app.appointments)."""
    if inspect(target).persistent and oldvalue is not NO_VALUE and value != oldvalue:
        raise ValueError(f"dossier {target.id}: appointment_at is the receipt's date and "
                         "is never changed; record an appointment change instead")


class AppointmentChange(Base):
    """One change of a dossier's appointment after intake (supplement, apology, extension,
    pause, a date set by the province). Append-only: triggers refuse UPDATE and DELETE."""

    __tablename__ = "appointment_changes"
    __table_args__ = (Index("ix_appointment_changes_dossier", "dossier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    kind: Mapped[str] = mapped_column(String(20))  # supplement | apology | extension | ...
    old_at: Mapped[datetime | None] = mapped_column(DateTime)
    new_at: Mapped[datetime] = mapped_column(DateTime)
    # True when the law restarts the clock (the new date becomes the legal deadline).
    restarts_clock: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("clerks.id"))
    decided_by: Mapped[str] = mapped_column(Text, default="")  # clerk or province official
    decided_at: Mapped[datetime] = mapped_column(DateTime)


class DossierFee(Base):
    """A fee line as assessed at receipt: the schedule's rate and what the citizen asked
    for (copies, pages), so the amount owed stays what it was even when the catalog
    changes. Written once with the dossier; triggers refuse UPDATE and DELETE."""

    __tablename__ = "dossier_fees"
    __table_args__ = (Index("ix_dossier_fees_dossier", "dossier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    fee_code: Mapped[str] = mapped_column(String(40), default="")
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="")
    basis: Mapped[str] = mapped_column(String(10), default="case")
    rate_text: Mapped[str] = mapped_column(Text, default="")  # "2.000 đồng/trang; …"
    counts: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{copies, pages}]
    quantity_text: Mapped[str] = mapped_column(Text, default="")  # "2 bản × 5 trang"
    amount: Mapped[int] = mapped_column(Integer, default=0)


class FeePayment(Base):
    """Money collected for a dossier's fees: who paid, how much, how, against which
    receipt (biên lai), collected by whom and when. Append-only (triggers refuse UPDATE
    and DELETE): a mistake is corrected by a reversing row (``reverses_id``, negative
    amount) with its reason, never by changing the row."""

    __tablename__ = "fee_payments"
    __table_args__ = (Index("ix_fee_payments_dossier", "dossier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    amount: Mapped[int] = mapped_column(Integer)  # VND; negative for a reversal
    payer_name: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(String(10), default="cash")  # PaymentMethod
    receipt_number: Mapped[str] = mapped_column(String(60), default="")  # biên lai số
    # Why the amount differs from what was owed, or why a payment is reversed.
    reason: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(10), default="intake")  # intake | return
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("fee_payments.id"))
    collected_by_id: Mapped[int | None] = mapped_column(ForeignKey("clerks.id"))
    collected_by: Mapped[str] = mapped_column(Text, default="")  # the clerk's name then
    collected_at: Mapped[datetime] = mapped_column(DateTime)


class DossierComponent(Base):
    __tablename__ = "dossier_components"
    __table_args__ = (Index("ix_dossier_components_dossier", "dossier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    component_code: Mapped[str] = mapped_column(String(40), default="")
    name: Mapped[str] = mapped_column(Text)
    originals: Mapped[int] = mapped_column(Integer, default=0)
    certified_copies: Mapped[int] = mapped_column(Integer, default=0)
    photocopies: Mapped[int] = mapped_column(Integer, default=0)
    provided: Mapped[bool] = mapped_column(Boolean, default=True)
    problem: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    files: Mapped[list[ComponentFile]] = relationship(
        order_by="ComponentFile.id", back_populates="component"
    )


class ComponentFile(Base):
    """A digitized PDF (or one numbered part of it) of a dossier component. Re-digitizing
    never deletes: the older file is marked ``superseded_at`` and stays in the blob store."""

    __tablename__ = "component_files"
    __table_args__ = (Index("ix_component_files_component", "component_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("dossier_components.id"))
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    file_name: Mapped[str] = mapped_column(String(200))
    part: Mapped[int] = mapped_column(Integer, default=1)
    parts: Mapped[int] = mapped_column(Integer, default=1)
    pages: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    dpi: Mapped[int] = mapped_column(Integer)
    colour_modes: Mapped[str] = mapped_column(String(40), default="")
    # National digitization state of the file: 1 digitized, 2 reused, 3 reused from a result.
    digitization_state: Mapped[int] = mapped_column(Integer, default=1)
    profile: Mapped[str] = mapped_column(String(40), default="")
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("clerks.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime)

    component: Mapped[DossierComponent] = relationship(back_populates="files")
    # Set when the file is an earlier digitized copy reused instead of a new scan.
    reuse: Mapped[ComponentReuse | None] = relationship(
        foreign_keys="ComponentReuse.file_id", uselist=False, lazy="selectin")


class ComponentReuse(Base):
    """Where a reused file came from (desktop_app.intake.reuse): the component file of an
    earlier dossier of the same citizen. The reused file row points at the same blob (no
    copy); ``source_code`` is what the sync document sends as MaKetQuaThayThe."""

    __tablename__ = "component_reuses"
    __table_args__ = (Index("ix_component_reuses_source", "source_file_id"),)

    file_id: Mapped[int] = mapped_column(ForeignKey("component_files.id"), primary_key=True,
                                         autoincrement=False)
    # The original file at this station (the first digitized copy, never a reuse of it).
    source_file_id: Mapped[int | None] = mapped_column(ForeignKey("component_files.id"))
    source_code: Mapped[str] = mapped_column(String(60))  # the original's dossier code
    source_kind: Mapped[str] = mapped_column(String(20), default="component")
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("clerks.id"))
    reused_at: Mapped[datetime] = mapped_column(DateTime)


class ScanProfileRow(Base):
    """A station's scan profile (overrides a built-in one of the same name). Locked
    profiles can be changed only by a technician."""

    __tablename__ = "scan_profiles"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_vi: Mapped[str] = mapped_column(String(200))
    dpi: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(10))
    duplex: Mapped[bool] = mapped_column(Boolean, default=False)
    page_size: Mapped[str] = mapped_column(String(4))
    drop_blank: Mapped[bool] = mapped_column(Boolean, default=True)
    deskew: Mapped[bool] = mapped_column(Boolean, default=True)
    crop_borders: Mapped[bool] = mapped_column(Boolean, default=True)
    jpeg_quality: Mapped[int] = mapped_column(Integer, default=85)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    paper: Mapped[str] = mapped_column(String(10), default="auto")
    ocr: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class OutboxEntry(Base):
    """Transactional outbox: written in the same transaction as the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state", "state", "next_attempt_at"),
                      Index("ix_outbox_entity", "entity_type", "entity_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30))
    # A dossier UUID, an event id or a file's SHA-256 (64 hex digits).
    entity_id: Mapped[str] = mapped_column(String(100))
    operation: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A station holds an item while sending it; an expired lease (crash) frees it again.
    # ``agency-digit@hostname#pid-start``: a host name may be a long FQDN (up to 253).
    leased_by: Mapped[str] = mapped_column(String(320), default="")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    # tus upload URL of a file being sent, so an interrupted upload resumes.
    upload_url: Mapped[str] = mapped_column(String(500), default="")
    # The gateway's answer when it refused the item for good (conflict, agency…).
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SyncState(Base):
    """Durable sync cursors and ETags (change feed position, catalog version …)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEntry(Base):
    """Append-only (triggers refuse UPDATE and DELETE) and hash-chained per counter PC
    (``local_db.audit_chain``): an entry removed, edited or back-dated breaks a link."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),
                      Index("ux_audit_chain_seq", "chain", "seq", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("clerks.id"))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(30))
    # Like the outbox: a dossier UUID, an event id or a file's SHA-256 (64 hex digits).
    entity_id: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The writing PC's install id ("legacy": entries from before chaining).
    chain: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class CalendarOverrideRow(Base):
    """Provincial calendar overrides: extra days off and make-up working days."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(4))
    note: Mapped[str] = mapped_column(Text, default="")


class SignerRow(Base):
    """Who signs a kind of document in the agency's name (Decree 30/2020 signature block:
    authority line, delegation, title, name). Agency-wide settings, shared by its PCs."""

    __tablename__ = "signers"

    agency_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # form number, "04"
    authority: Mapped[str] = mapped_column(String(120), default="")  # "TM. ỦY BAN NHÂN DÂN"
    delegation: Mapped[str] = mapped_column(String(120), default="")  # "KT. CHỦ TỊCH"
    title: Mapped[str] = mapped_column(String(120))  # "PHÓ CHỦ TỊCH"
    name: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(120), default="")


class DailyCounter(Base):
    """Per-station daily sequence. Incremented in the transaction that stores the dossier."""

    __tablename__ = "daily_counters"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class ResultDocumentRow(Base):
    """A result document the province attached to a processed dossier (pulled from the
    change feed, DanhSachGiayToKetQua). The file is fetched after the upload queue
    (``desktop_app.sync.result_fetch``): ``sha256`` of the fetched file is linked only
    once its hash and size match what the province announced."""

    __tablename__ = "result_documents"
    __table_args__ = (UniqueConstraint("dossier_id", "gateway_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    gateway_id: Mapped[str] = mapped_column(String(64))  # GiayToId
    change_seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    number: Mapped[str] = mapped_column(String(100), default="")
    component_code: Mapped[str] = mapped_column(String(60), default="")
    signer: Mapped[str] = mapped_column(String(200), default="")
    signed_on: Mapped[date | None] = mapped_column(Date)
    announced_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(120), default="application/pdf")
    download_path: Mapped[str] = mapped_column(Text)
    # waiting | fetched | refused
    state: Mapped[str] = mapped_column(String(10), default="waiting", index=True)
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime)
    refused_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # province: pulled from the change feed; counter: a paper result digitized at the
    # counter (desktop_app.intake.counter_results), by ``clerk_id``, and sent upward.
    origin: Mapped[str] = mapped_column(String(10), default="province",
                                        server_default="province")
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("clerks.id"))


class ResultHandover(Base):
    """How a result reached the citizen: paper at the counter, by post, or an electronic
    copy (saved to the citizen's own USB stick). Rows are only added: a handover is a fact
    beside the dossier's return record, which stays as it was written."""

    __tablename__ = "result_handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    method: Mapped[str] = mapped_column(String(12))  # paper | post | electronic
    # The result documents handed over this way (ids of result_documents), if any.
    documents: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("clerks.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
