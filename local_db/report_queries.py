"""Read-only queries behind the tracking book (Sổ theo dõi hồ sơ) and the counter dashboard.

All periods are half-open ``[start, end)`` over naive local datetimes. Only dossiers with
a code count: a refusal consumes no code (code NULL) and is not a dossier of the book; it
is counted on its own by :func:`refused_count`.

The queries are SQLAlchemy Core/ORM expressions that run unchanged on SQLite and
PostgreSQL. Aggregation is done in SQL wherever the database can do it in one pass over
the period (which the ``received_at`` index bounds); only percentiles are computed in
Python, because SQLite has no percentile function.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from local_db.models import (
    Applicant,
    AppointmentChange,
    Clerk,
    ComponentFile,
    ComponentReuse,
    Dossier,
    DossierComponent,
    OutboxEntry,
    ResultDocumentRow,
    ResultHandover,
)

# TrangThaiHoSo codes (desktop_app.domain.dossier_status) repeated as plain ints: local_db
# does not import the application layer.
NOT_ACCEPTED, WITHDRAWN, STOPPED, RETURNED = 3, 7, 8, 10
# A dossier in one of these states can no longer become late: refused, withdrawn by the
# citizen, processing stopped (the notice is the result), or the result is returned.
CLOSED_STATUSES = (NOT_ACCEPTED, WITHDRAWN, STOPPED, RETURNED)
# The complement, spelled out so the query can use ix_dossiers_status: open dossiers are
# a small share of a store that has run for years, closed ones are nearly all of it.
OPEN_STATUSES = (1, 2, 4, 5, 6, 9)

DEFAULT_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class BookRecord:
    """One dossier as the tracking book needs it (plain values, no ORM object)."""

    id: int
    code: str
    procedure_name: str
    set_count: int
    owner_name: str
    owner_address: str
    owner_phone: str
    received_at: datetime
    appointment_at: datetime | None  # printed on the receipt
    returned_at: datetime | None
    returned_to: str
    return_method: str
    clerk_name: str
    status: int
    sequence_number: int | None
    current_appointment_at: datetime | None = None
    late: bool = False  # late_condition at the book's "now"


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """One appointment change (append-only row) as the book's note needs it."""

    dossier_id: int
    kind: str
    old_at: datetime | None
    new_at: datetime
    reason: str
    decided_at: datetime


@dataclass(frozen=True)
class ProcedureTally:
    code: str
    name: str
    received: int
    late: int


@dataclass(frozen=True)
class ReturnedDay:
    day: date
    returned: int
    on_time: int


def _in_period(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(Dossier.code.is_not(None), Dossier.received_at >= start,
                Dossier.received_at < end)


def _as_date(value: object) -> date:
    """``date(col)`` is a ``date`` on PostgreSQL and an ISO string on SQLite."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def late_condition(now: datetime) -> ColumnElement[bool]:
    """The one rule of lateness, used by the tracking book, the dashboard, the late page
    (F8), the look-up filter and the return counter: returned after the legal deadline,
    or not returned, still open and past it at ``now``.

    The deadline is ``due_at``: the receipt's appointment, moved only by a supplement (a
    new receipt). A date given by an apology or an extension never makes a late dossier
    on time."""
    return or_(
        and_(Dossier.returned_at.is_not(None), Dossier.returned_at > Dossier.due_at),
        and_(Dossier.returned_at.is_(None), Dossier.due_at < now,
             Dossier.status.not_in(CLOSED_STATUSES)),
    )


# --- tracking book ---------------------------------------------------------------------


def tracking_book_records(session: Session, start: datetime, end: datetime, now: datetime,
                          chunk: int = DEFAULT_CHUNK) -> Iterator[BookRecord]:
    """Dossiers received in ``[start, end)`` in book order, fetched ``chunk`` rows at a
    time (a server-side cursor on PostgreSQL), so a month at a million dossiers never
    sits in memory at once. The session must stay open while the iterator is used."""
    stmt = (
        select(Dossier.id, Dossier.code, Dossier.procedure_name, Dossier.set_count,
               Applicant.full_name, Applicant.address, Applicant.phone, Dossier.received_at,
               Dossier.appointment_at, Dossier.returned_at, Dossier.returned_to,
               Dossier.return_method, Clerk.full_name, Dossier.status,
               Dossier.sequence_number, Dossier.current_appointment_at,
               late_condition(now))
        .join(Applicant, Applicant.id == Dossier.owner_id)
        .outerjoin(Clerk, Clerk.id == Dossier.clerk_id)
        .where(_in_period(start, end))
        # Same order on both databases: PostgreSQL sorts NULLs last, SQLite first.
        .order_by(Dossier.received_at, Dossier.sequence_number.asc().nulls_last(),
                  Dossier.id)
        .execution_options(yield_per=chunk)
    )
    for row in session.execute(stmt):
        yield BookRecord(row[0], row[1] or "", row[2] or "", row[3] or 0, row[4] or "",
                         row[5] or "", row[6] or "", row[7], row[8], row[9], row[10] or "",
                         row[11] or "", row[12] or "", row[13], row[14], row[15],
                         bool(row[16]))


def appointment_changes(session: Session, start: datetime, end: datetime
                        ) -> dict[int, list[ChangeRecord]]:
    """The appointment changes of the dossiers received in ``[start, end)``, by dossier,
    oldest first. Few dossiers have any, so the whole period's fit in memory."""
    stmt = (
        select(AppointmentChange.dossier_id, AppointmentChange.kind, AppointmentChange.old_at,
               AppointmentChange.new_at, AppointmentChange.reason,
               AppointmentChange.decided_at)
        .join(Dossier, Dossier.id == AppointmentChange.dossier_id)
        .where(_in_period(start, end))
        .order_by(AppointmentChange.dossier_id, AppointmentChange.id))
    out: dict[int, list[ChangeRecord]] = {}
    for row in session.execute(stmt):
        out.setdefault(row[0], []).append(ChangeRecord(*row))
    return out


def count_received(session: Session, start: datetime, end: datetime) -> int:
    return session.scalar(select(func.count(Dossier.id)).where(_in_period(start, end))) or 0


def supplement_requests_count(session: Session, start: datetime, end: datetime) -> int:
    """Supplement requests issued at the counter in the period (Phiếu yêu cầu bổ sung:
    no code, whatever happened to the dossier since)."""
    return session.scalar(
        select(func.count(Dossier.id)).where(
            Dossier.code.is_(None), Dossier.status != NOT_ACCEPTED,
            Dossier.received_at >= start, Dossier.received_at < end)) or 0


def refused_count(session: Session, start: datetime, end: datetime) -> int:
    """Refusals (Phiếu từ chối) issued in the period: no code, so not in the book."""
    return session.scalar(
        select(func.count(Dossier.id)).where(
            Dossier.code.is_(None), Dossier.status == NOT_ACCEPTED,
            Dossier.received_at >= start, Dossier.received_at < end)) or 0


# --- dashboard -------------------------------------------------------------------------


def received_per_day(session: Session, start: datetime, end: datetime) -> dict[date, int]:
    day = func.date(Dossier.received_at)
    rows = session.execute(
        select(day, func.count(Dossier.id)).where(_in_period(start, end)).group_by(day))
    return {_as_date(d): int(n) for d, n in rows}


def returned_per_day(session: Session, start: datetime, end: datetime) -> list[ReturnedDay]:
    """Results returned in ``[start, end)`` (whenever received), per day, with how many of
    them were returned by their legal deadline (the complement of :func:`late_condition`
    for a returned dossier)."""
    day = func.date(Dossier.returned_at)
    on_time = func.sum(case((Dossier.returned_at <= Dossier.due_at, 1), else_=0))
    rows = session.execute(
        select(day, func.count(Dossier.id), on_time)
        .where(Dossier.code.is_not(None), Dossier.returned_at >= start,
               Dossier.returned_at < end)
        .group_by(day))
    return sorted((ReturnedDay(_as_date(d), int(n), int(ok or 0)) for d, n, ok in rows),
                  key=lambda r: r.day)


def late_open_count(session: Session, now: datetime, received_before: datetime) -> int:
    """Dossiers received before ``received_before``, open and late at ``now`` by
    :func:`late_condition` (withdrawn/stopped/refused excluded)."""
    # The open statuses are a few hundred rows that ix_dossiers_status finds directly;
    # due_at has no index, so the planner cannot wander off to scan by date.
    return session.scalar(
        select(func.count(Dossier.id)).where(
            Dossier.status.in_(OPEN_STATUSES), Dossier.code.is_not(None),
            late_condition(now), Dossier.received_at < received_before)) or 0


def procedure_tallies(session: Session, start: datetime, end: datetime,
                      now: datetime) -> list[ProcedureTally]:
    """Received and late per procedure for the dossiers received in the period, most
    received first. A commune uses a few dozen procedures, so the list is short."""
    late = func.sum(case((late_condition(now), 1), else_=0))
    rows = session.execute(
        select(Dossier.procedure_code, func.max(Dossier.procedure_name),
               func.count(Dossier.id), late)
        .where(_in_period(start, end))
        .group_by(Dossier.procedure_code))
    tallies = [ProcedureTally(code, name or "", int(n), int(k or 0))
               for code, name, n, k in rows]
    return sorted(tallies, key=lambda t: (-t.received, t.code))


def _fully_digitized(where: ColumnElement[bool]) -> Select[tuple[int]]:
    """Ids of the dossiers matching ``where`` whose every provided component has a current
    digitized file (a non-superseded ComponentFile, or the legacy single blob).

    A dossier without any provided component has nothing digitized and is not listed:
    counting it would let empty dossiers raise the share.

    Written as one join grouped by dossier rather than a NOT EXISTS per dossier: the
    schema has no index on dossier_components.dossier_id, and a correlated subquery would
    scan every component of the store once per dossier of the period (30 s for a year at
    20k dossiers); the join reads the components once."""
    current_file = exists().where(ComponentFile.component_id == DossierComponent.id,
                                  ComponentFile.superseded_at.is_(None))
    undigitized = func.sum(case(
        (and_(DossierComponent.blob_sha256.is_(None), not_(current_file)), 1), else_=0))
    return (
        select(DossierComponent.dossier_id)
        .join(Dossier, Dossier.id == DossierComponent.dossier_id)
        .where(where, DossierComponent.provided.is_(True))
        .group_by(DossierComponent.dossier_id)
        .having(undigitized == 0))


def digitized_count(session: Session, start: datetime, end: datetime) -> int:
    """Dossiers received in the period whose every provided component has a current
    digitized file (:func:`_fully_digitized`)."""
    complete = _fully_digitized(_in_period(start, end)).subquery()
    return session.scalar(select(func.count()).select_from(complete)) or 0


# --- the province's three figures (README, "Ba chỉ số của tỉnh") -----------------------


def _returned_in_period(start: datetime, end: datetime) -> ColumnElement[bool]:
    """The dossiers whose result was returned in the period: the dashboard's "returned"."""
    return and_(Dossier.code.is_not(None), Dossier.returned_at >= start,
                Dossier.returned_at < end)


def _has_result_file() -> ColumnElement[bool]:
    """The station holds a result file of the province for the dossier: a result document
    fetched and hash-checked (a waiting or refused one has no file)."""
    return exists().where(ResultDocumentRow.dossier_id == Dossier.id,
                          ResultDocumentRow.state == "fetched",
                          ResultDocumentRow.blob_sha256.is_not(None))


def electronic_results_count(session: Session, start: datetime, end: datetime) -> int:
    """Of the dossiers returned in the period, those whose result was electronic: the
    station holds the province's result file (:func:`_has_result_file`), or the result
    was handed over as an electronic copy (a ``result_handovers`` row, ``electronic``)."""
    handed_electronically = exists().where(ResultHandover.dossier_id == Dossier.id,
                                           ResultHandover.method == "electronic")
    return session.scalar(
        select(func.count(Dossier.id)).where(
            _returned_in_period(start, end),
            or_(_has_result_file(), handed_electronically))) or 0


def digitized_with_result_count(session: Session, start: datetime, end: datetime) -> int:
    """Of the dossiers returned in the period, those with every provided component
    digitized (the rule of :func:`digitized_count`) and a result file
    (:func:`_has_result_file`)."""
    complete = _fully_digitized(
        and_(_returned_in_period(start, end), _has_result_file())).subquery()
    return session.scalar(select(func.count()).select_from(complete)) or 0


def reused_count(session: Session, start: datetime, end: datetime) -> int:
    """Dossiers received in the period with at least one component file that reuses an
    earlier digitized copy (a ``component_reuses`` row), superseded since or not: the
    reuse happened."""
    # Reuses are few beside the dossiers: their dossiers are found once, not per dossier.
    reused = Dossier.id.in_(
        select(DossierComponent.dossier_id)
        .join(ComponentFile, ComponentFile.component_id == DossierComponent.id)
        .join(ComponentReuse, ComponentReuse.file_id == ComponentFile.id))
    return session.scalar(
        select(func.count(Dossier.id)).where(_in_period(start, end), reused)) or 0


def sync_lags(session: Session, start: datetime, end: datetime) -> tuple[list[float], int]:
    """For the dossiers received in the period: seconds from receipt to the first dossier
    message the province acknowledged, and how many have none acknowledged yet."""
    first_sent = (
        select(func.min(OutboxEntry.sent_at))
        .where(OutboxEntry.entity_type == "dossier", OutboxEntry.entity_id == Dossier.uuid,
               OutboxEntry.state == "sent", OutboxEntry.sent_at.is_not(None))
        .scalar_subquery())
    lags: list[float] = []
    unsynced = 0
    stmt = (select(Dossier.received_at, first_sent).where(_in_period(start, end))
            .execution_options(yield_per=DEFAULT_CHUNK))
    for received_at, sent_at in session.execute(stmt):
        if sent_at is None:
            unsynced += 1
        else:
            # A station clock set back could make it negative; a lag is never below zero.
            lags.append(max(0.0, (sent_at - received_at).total_seconds()))
    return lags, unsynced
