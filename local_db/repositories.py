"""Queries of the local store. Services call these; the UI never does."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, Select, and_, delete, func, literal, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from local_db import audit_chain
from local_db.models import (
    Applicant,
    AuditEntry,
    Blob,
    CalendarOverrideRow,
    Clerk,
    DailyCounter,
    Dossier,
    DossierComponent,
    FavouriteProcedure,
    IntakeDraftRow,
    OutboxEntry,
    Procedure,
    StationSettings,
)
from local_db.report_queries import late_condition

# --- station and clerks -------------------------------------------------------------------


def get_station(session: Session) -> StationSettings | None:
    return session.get(StationSettings, 1)


def count_clerks(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Clerk)) or 0


def clerk_by_username(session: Session, username: str) -> Clerk | None:
    return session.scalar(select(Clerk).where(func.lower(Clerk.username) == username.lower()))


def list_clerks(session: Session) -> Sequence[Clerk]:
    return session.scalars(select(Clerk).order_by(Clerk.username)).all()


# --- catalog ------------------------------------------------------------------------------


def count_procedures(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Procedure)) or 0


def procedure(session: Session, code: str) -> Procedure | None:
    return session.scalar(
        select(Procedure)
        .where(Procedure.code == code)
        .options(selectinload(Procedure.components), selectinload(Procedure.fees))
    )


def search_procedures(
    session: Session, folded_terms: Sequence[str], code_prefix: str, limit: int
) -> Sequence[Procedure]:
    """Every folded term must occur in the folded name, or the code starts with the query."""
    stmt = select(Procedure).where(Procedure.active.is_(True))
    conditions = []
    if folded_terms:
        name_match = [Procedure.name_folded.contains(t, autoescape=True) for t in folded_terms]
        conditions.append(and_(*name_match))
    if code_prefix:
        conditions.append(Procedure.code.startswith(code_prefix, autoescape=True))
    if conditions:
        stmt = stmt.where(or_(*conditions))
    return session.scalars(stmt.order_by(Procedure.field_name, Procedure.name).limit(limit)).all()


def favourite_codes(session: Session, clerk_id: int) -> set[str]:
    rows = session.scalars(
        select(FavouriteProcedure.procedure_code).where(FavouriteProcedure.clerk_id == clerk_id)
    )
    return set(rows)


def set_favourite(session: Session, clerk_id: int, code: str, on: bool) -> None:
    existing = session.get(FavouriteProcedure, (clerk_id, code))
    if on and existing is None:
        session.add(FavouriteProcedure(clerk_id=clerk_id, procedure_code=code))
    elif not on and existing is not None:
        session.delete(existing)


def calendar_overrides(session: Session) -> Sequence[CalendarOverrideRow]:
    return session.scalars(select(CalendarOverrideRow).order_by(CalendarOverrideRow.day)).all()


# --- applicants ---------------------------------------------------------------------------


def applicant_by_id_number(session: Session, id_number: str) -> Applicant | None:
    if not id_number:
        return None
    return session.scalar(
        select(Applicant).where(Applicant.id_number == id_number).order_by(Applicant.id.desc())
    )


# --- intake drafts (one row per counter PC) ------------------------------------------------


def intake_draft(session: Session, install_id: str) -> IntakeDraftRow | None:
    return session.get(IntakeDraftRow, install_id)


def put_intake_draft(session: Session, install_id: str, clerk_id: int | None, step: int,
                     payload: dict[str, Any], now: datetime) -> None:
    """Insert or replace this PC's draft. Each PC only ever writes its own row, so two
    counters sharing a PostgreSQL database never touch each other's drafts."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"clerk_id": clerk_id, "step": step, "payload": payload, "updated_at": now}
    stmt = insert(IntakeDraftRow).values(install_id=install_id, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=[IntakeDraftRow.install_id],
                                               set_=values))


def delete_intake_draft(session: Session, install_id: str) -> None:
    session.execute(delete(IntakeDraftRow).where(IntakeDraftRow.install_id == install_id))


def clerk_name(session: Session, clerk_id: int) -> str | None:
    return session.scalar(select(Clerk.full_name).where(Clerk.id == clerk_id))


# --- counters -----------------------------------------------------------------------------


def next_counter(session: Session, series: str, day: date) -> int:
    """Atomically take the next value of a daily series inside the caller's transaction.

    An upsert with RETURNING holds the row's write lock until commit, so two clerks can
    never take the same value, and a rolled-back transaction gives its value back unused
    (nothing was printed with it)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(DailyCounter).values(series=series, day=day, last_value=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DailyCounter.series, DailyCounter.day],
        set_={"last_value": DailyCounter.last_value + 1},
    ).returning(DailyCounter.last_value)
    value = session.execute(stmt).scalar_one()
    return int(value)


def peek_counter(session: Session, series: str, day: date) -> int:
    row = session.get(DailyCounter, (series, day))
    return row.last_value if row else 0


# --- blobs, outbox, audit -------------------------------------------------------------------


def ensure_blob(session: Session, sha256: str, size: int, media_type: str, now: datetime) -> Blob:
    blob = session.get(Blob, sha256)
    if blob is None:
        blob = Blob(sha256=sha256, size=size, media_type=media_type, created_at=now)
        session.add(blob)
    return blob


def get_blob(session: Session, sha256: str) -> Blob | None:
    return session.get(Blob, sha256)


def dossier_by_uuid(session: Session, uuid: str) -> Dossier | None:
    return session.scalar(select(Dossier).where(Dossier.uuid == uuid))


def add_outbox(
    session: Session,
    entity_type: str,
    entity_id: str,
    operation: str,
    payload: dict[str, Any],
    now: datetime,
) -> OutboxEntry:
    entry = OutboxEntry(
        entity_type=entity_type,
        entity_id=entity_id,
        operation=operation,
        payload=payload,
        state="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(entry)
    return entry


def pending_outbox_count(session: Session) -> int:
    stmt = select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state != "sent")
    return session.scalar(stmt) or 0


def oldest_pending_outbox(session: Session) -> datetime | None:
    stmt = select(func.min(OutboxEntry.created_at)).where(OutboxEntry.state != "sent")
    return session.scalar(stmt)


def outbox_for(session: Session, entity_type: str, entity_id: str) -> Sequence[OutboxEntry]:
    stmt = (
        select(OutboxEntry)
        .where(OutboxEntry.entity_type == entity_type, OutboxEntry.entity_id == entity_id)
        .order_by(OutboxEntry.id)
    )
    return session.scalars(stmt).all()


def sync_states(session: Session, entity_ids: Sequence[str]) -> dict[str, str]:
    """Per dossier UUID, the least advanced state of its outbox entries."""
    if not entity_ids:
        return {}
    rank = {"failed": 0, "pending": 1, "sending": 2, "sent": 3}
    out: dict[str, str] = {}
    stmt = select(OutboxEntry.entity_id, OutboxEntry.state).where(
        OutboxEntry.entity_type == "dossier", OutboxEntry.entity_id.in_(list(entity_ids))
    )
    for entity_id, state in session.execute(stmt):
        if entity_id not in out or rank.get(state, 0) < rank.get(out[entity_id], 0):
            out[entity_id] = state
    return out


def add_audit(
    session: Session,
    now: datetime,
    clerk_id: int | None,
    action: str,
    entity_type: str,
    entity_id: str,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        clerk_id=clerk_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        detail=detail or {},
    )
    return audit_chain.append(session, entry)


def audit_for(session: Session, entity_type: str, entity_id: str) -> Sequence[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return session.scalars(stmt).all()


# --- dossiers -----------------------------------------------------------------------------

_DOSSIER_LOADS = (
    selectinload(Dossier.owner),
    selectinload(Dossier.submitter),
    selectinload(Dossier.clerk),
)


def dossier_by_id(session: Session, dossier_id: int, *, for_update: bool = False
                  ) -> Dossier | None:
    """``for_update``: lock the row until the transaction ends (PostgreSQL; SQLite's write
    transaction holds the whole database already), so two counters acting on one dossier
    at once act one after the other, the second on what the first recorded."""
    stmt = (select(Dossier)
            .where(Dossier.id == dossier_id)
            .options(*_DOSSIER_LOADS,
                     selectinload(Dossier.components).selectinload(DossierComponent.files)))
    if for_update:
        stmt = stmt.with_for_update(of=Dossier)
    return session.scalar(stmt)


def dossier_by_code(session: Session, code: str) -> Dossier | None:
    return session.scalar(select(Dossier).where(Dossier.code == code).options(*_DOSSIER_LOADS))


def recent_dossiers(session: Session, limit: int) -> Sequence[Dossier]:
    stmt = select(Dossier).options(*_DOSSIER_LOADS).order_by(Dossier.id.desc()).limit(limit)
    return session.scalars(stmt).all()


_FTS_TOKEN = re.compile(r"[0-9a-z]+")


def procedures_with_dossiers(session: Session) -> list[tuple[str, str]]:
    stmt = (select(Dossier.procedure_code, func.min(Dossier.procedure_name))
            .group_by(Dossier.procedure_code).order_by(func.min(Dossier.procedure_name)))
    return [(str(code), str(name)) for code, name in session.execute(stmt)]


def dossier_filters(*, status: int | None = None, procedure_code: str = "",
                    received_from: datetime | None = None,
                    received_before: datetime | None = None, clerk_id: int | None = None,
                    late: bool | None = None, now: datetime | None = None) -> list[Any]:
    """WHERE clauses for the look-up filters. ``late``: True = returned after, or still
    open past, the appointment; False = on time so far."""
    where: list[Any] = []
    if status is not None:
        where.append(Dossier.status == status)
    if procedure_code:
        where.append(Dossier.procedure_code == procedure_code)
    if received_from is not None:
        where.append(Dossier.received_at >= received_from)
    if received_before is not None:
        where.append(Dossier.received_at < received_before)
    if clerk_id is not None:
        where.append(Dossier.clerk_id == clerk_id)
    if late is not None:
        assert now is not None
        # The reports' rule; due_at NULL (no appointment) is neither late nor on time.
        is_late = and_(Dossier.due_at.is_not(None), late_condition(now))
        where.append(is_late if late else ~is_late)
    return where


def search_dossiers(session: Session, folded_query: str, limit: int,
                    where: Sequence[Any] = ()) -> Sequence[Dossier]:
    """Newest first. Every word of the (already diacritics-folded) query must match the
    start of a word of the dossier's search text: "nguyen van an", "0912", "h56 231027";
    a word with punctuation inside matches as a phrase ("000.00.12.h12-2310")."""
    tokens = _FTS_TOKEN.findall(folded_query)
    if not tokens:
        stmt = select(Dossier).options(*_DOSSIER_LOADS).where(*where)
        return session.scalars(stmt.order_by(Dossier.id.desc()).limit(limit)).all()
    if session.get_bind().dialect.name == "sqlite" and where:
        phrases = (_FTS_TOKEN.findall(chunk) for chunk in folded_query.split())
        match = " AND ".join(f'"{" ".join(p)}"*' for p in phrases if p)
        # Filters and the text match in one query, so the limit applies after both.
        matched = text("SELECT rowid FROM dossier_fts WHERE dossier_fts MATCH :m"
                       ).bindparams(m=match).columns(rowid=Integer).subquery()
        stmt = (select(Dossier).options(*_DOSSIER_LOADS)
                .join(matched, matched.c.rowid == Dossier.id).where(*where)
                .order_by(Dossier.id.desc()).limit(limit))
        return session.scalars(stmt).all()
    if session.get_bind().dialect.name == "sqlite":
        # A word typed with punctuation inside ("000.00.12.H12-2611") is one phrase whose
        # last token is a prefix: far more selective than ANDing "000"*, "00"*, "12"* ….
        phrases = (_FTS_TOKEN.findall(chunk) for chunk in folded_query.split())
        match = " AND ".join(f'"{" ".join(p)}"*' for p in phrases if p)
        ids_stmt = text(
            "SELECT rowid FROM dossier_fts WHERE dossier_fts MATCH :m ORDER BY rowid DESC LIMIT :n"
        )
        ids = [row[0] for row in session.execute(ids_stmt, {"m": match, "n": limit})]
        if not ids:
            return []
        rows = session.scalars(select(Dossier).where(Dossier.id.in_(ids)).options(*_DOSSIER_LOADS))
        return sorted(rows, key=lambda d: d.id, reverse=True)
    # PostgreSQL: the same semantics as the FTS5 phrase-prefix match above, on the search
    # text reduced to its tokens (" 000 00 12 h12 231027 1001 nguyen …"): each typed word
    # is a phrase of whole tokens whose last one is a prefix.
    token_text = literal(" ") + func.regexp_replace(Dossier.search_text, "[^0-9a-z]+", " ", "g")
    stmt: Select[tuple[Dossier]] = select(Dossier).options(*_DOSSIER_LOADS).where(*where)
    for chunk in folded_query.split():
        phrase = " ".join(_FTS_TOKEN.findall(chunk))
        if phrase:
            stmt = stmt.where(token_text.contains(" " + phrase, autoescape=True))
    return session.scalars(stmt.order_by(Dossier.id.desc()).limit(limit)).all()


def count_due_between(session: Session, start: datetime, end: datetime) -> int:
    stmt = (
        select(func.count())
        .select_from(Dossier)
        .where(Dossier.appointment_at >= start, Dossier.appointment_at < end)
    )
    return session.scalar(stmt) or 0


def delete_all_calendar_overrides(session: Session) -> None:
    session.execute(delete(CalendarOverrideRow))
