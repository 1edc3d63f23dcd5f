"""Outbox and sync-state queries.

Items are taken with a lease (an UPDATE guarded by the lease's expiry), so several
stations sharing one PostgreSQL database never send the same item at once, and an item
held by a station that crashed is free again when its lease runs out. Leases are short
and renewed while the item is being sent, so a dead station's items wait seconds. The same statement
works on SQLite, where the single writer makes it trivially safe."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from local_db.models import OutboxEntry, SyncState

PENDING = "pending"
SENT = "sent"
REFUSED = "refused"  # the gateway refused it for good (conflict …): a supervisor decides
OPEN_STATES = (PENDING, REFUSED)


def due(session: Session, entity_type: str, now: datetime, limit: int = 200
        ) -> Sequence[OutboxEntry]:
    stmt = (
        select(OutboxEntry)
        .where(OutboxEntry.entity_type == entity_type, OutboxEntry.state == PENDING,
               OutboxEntry.next_attempt_at <= now,
               or_(OutboxEntry.lease_until.is_(None), OutboxEntry.lease_until < now))
        .order_by(OutboxEntry.id)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def pending_for(session: Session, entity_type: str, entity_ids: Sequence[str]
                ) -> Sequence[OutboxEntry]:
    if not entity_ids:
        return []
    stmt = select(OutboxEntry).where(OutboxEntry.entity_type == entity_type,
                                     OutboxEntry.state == PENDING,
                                     OutboxEntry.entity_id.in_(list(entity_ids)))
    return session.scalars(stmt.order_by(OutboxEntry.id)).all()


def claim(session: Session, entry_id: int, holder: str, now: datetime, lease_s: float
          ) -> bool:
    """Take the item for ``lease_s`` seconds; False when another holder has it."""
    result = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == entry_id, OutboxEntry.state == PENDING,
               or_(OutboxEntry.lease_until.is_(None), OutboxEntry.lease_until < now,
                   OutboxEntry.leased_by == holder))
        .values(leased_by=holder, lease_until=now + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_many(session: Session, entry_ids: Sequence[int], holder: str, now: datetime,
               lease_s: float) -> set[int]:
    """`claim` for several items in one statement: the ids now held by ``holder`` (the
    others belong to another holder, or are no longer pending)."""
    if not entry_ids:
        return set()
    result = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id.in_(list(entry_ids)), OutboxEntry.state == PENDING,
               or_(OutboxEntry.lease_until.is_(None), OutboxEntry.lease_until < now,
                   OutboxEntry.leased_by == holder))
        .values(leased_by=holder, lease_until=now + timedelta(seconds=lease_s))
        .returning(OutboxEntry.id)
        .execution_options(synchronize_session=False)
    )
    return {int(entry_id) for entry_id in result.scalars()}


def renew(session: Session, entry_id: int, holder: str, now: datetime, lease_s: float
          ) -> bool:
    """Extend ``holder``'s lease while it is still sending; False when it lost the item
    (it ran out and another station took it, or the item is done)."""
    result = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == entry_id, OutboxEntry.state == PENDING,
               OutboxEntry.leased_by == holder)
        .values(lease_until=now + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_dead_leases(session: Session, prefix: str, alive: Callable[[str], bool]) -> int:
    """Free items held by processes of this machine that no longer run (killed, power
    cut), instead of waiting for their leases to run out. ``alive(holder)`` decides."""
    rows = session.execute(select(OutboxEntry.id, OutboxEntry.leased_by).where(
        OutboxEntry.leased_by.startswith(prefix, autoescape=True),
        OutboxEntry.lease_until.is_not(None))).all()
    dead = [entry_id for entry_id, holder in rows if not alive(holder)]
    if dead:
        session.execute(update(OutboxEntry).where(OutboxEntry.id.in_(dead))
                        .values(lease_until=None, leased_by="")
                        .execution_options(synchronize_session=False))
    return len(dead)


def mark_sent(session: Session, entry_id: int, now: datetime,
              response: dict[str, Any] | None = None) -> None:
    session.execute(
        update(OutboxEntry).where(OutboxEntry.id == entry_id)
        .values(state=SENT, sent_at=now, lease_until=None, leased_by="", last_error="",
                response=response or {})
        .execution_options(synchronize_session=False))


def mark_retry(session: Session, entry_id: int, now: datetime, error: str, delay_s: float,
               count_attempt: bool = True) -> None:
    values: dict[str, Any] = {"next_attempt_at": now + timedelta(seconds=delay_s),
                              "lease_until": None, "leased_by": "", "last_error": error}
    if count_attempt:
        values["attempts"] = OutboxEntry.attempts + 1
    session.execute(update(OutboxEntry).where(OutboxEntry.id == entry_id).values(**values)
                    .execution_options(synchronize_session=False))


def mark_refused(session: Session, entry_id: int, now: datetime, error: str,
                 response: dict[str, Any]) -> None:
    session.execute(
        update(OutboxEntry).where(OutboxEntry.id == entry_id)
        .values(state=REFUSED, lease_until=None, leased_by="", last_error=error,
                response=response, attempts=OutboxEntry.attempts + 1)
        .execution_options(synchronize_session=False))


def set_upload_url(session: Session, entry_id: int, url: str) -> None:
    session.execute(update(OutboxEntry).where(OutboxEntry.id == entry_id)
                    .values(upload_url=url).execution_options(synchronize_session=False))


def retry_now(session: Session, now: datetime, entry_ids: Sequence[int] | None = None,
              include_refused: bool = False) -> int:
    """Make items due now (the link came back, or a clerk pressed "retry")."""
    states = [PENDING, REFUSED] if include_refused else [PENDING]
    stmt = update(OutboxEntry).where(OutboxEntry.state.in_(states))
    if entry_ids is not None:
        stmt = stmt.where(OutboxEntry.id.in_(list(entry_ids)))
    result = session.execute(stmt.values(state=PENDING, next_attempt_at=now)
                             .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def entries(session: Session, states: Sequence[str] = OPEN_STATES, limit: int = 1000
            ) -> Sequence[OutboxEntry]:
    stmt = (select(OutboxEntry).where(OutboxEntry.state.in_(list(states)))
            .order_by(OutboxEntry.id).limit(limit))
    return session.scalars(stmt).all()


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxEntry.state, func.count())
                           .where(OutboxEntry.state != SENT)
                           .group_by(OutboxEntry.state)).all()
    return {str(state): int(n) for state, n in rows}


def next_due_at(session: Session) -> datetime | None:
    return session.scalar(select(func.min(OutboxEntry.next_attempt_at))
                          .where(OutboxEntry.state == PENDING))


def get_state(session: Session, key: str, default: str = "") -> str:
    row = session.get(SyncState, key)
    return row.value if row is not None else default


def set_state(session: Session, key: str, value: str, now: datetime) -> None:
    """Insert or update: two stations on one server storing the same key for the first
    time at once must not collide on the primary key."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    stmt = insert(SyncState).values(key=key, value=value, updated_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=[SyncState.key],
                                               set_={"value": value, "updated_at": now}))
