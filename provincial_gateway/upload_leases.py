"""Who is writing a tus upload right now: a lease row in the database, shared by every
replica of the gateway (never a lock in one process's memory).

A PATCH, a DELETE, finishing an upload and the expiry sweep each take the upload's lease
first and give it back when done. A lease runs out after `LEASE_TTL` unless renewed, so a
replica that froze or lost power does not hold an upload for ever; one whose process is
gone on *this* machine is taken over at once (a restart after a kill need not wait).

The lease makes replicas take turns; it is not what keeps the bytes right. That is the
offset compare-and-set in `tus` (a segment is recorded only if the upload's offset is
still where the PATCH began), so even a replica that lost its lease while frozen can
only fail its own PATCH, never damage another's. Replicas' clocks must agree to well
within the TTL (NTP)."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import timedelta

import psutil
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from provincial_gateway.db import UploadLease, utcnow
from provincial_gateway.state import GatewayState

log = logging.getLogger("provincial_gateway.tus")

LEASE_TTL = timedelta(seconds=30)
RENEW_EVERY_S = 10.0
_HOST = socket.gethostname()[:40] or "host"


def _process_started_ms(pid: int) -> int:
    return int(psutil.Process(pid).create_time() * 1000)


_OWN_PID = os.getpid()
_OWN_START = _process_started_ms(_OWN_PID)


def new_holder() -> str:
    """This request's name for its lease: machine, process (pid and start) and a nonce."""
    pid = os.getpid()
    started = _OWN_START if pid == _OWN_PID else _process_started_ms(pid)
    return f"{_HOST}/{pid}/{started}/{secrets.token_hex(6)}"


_OWN_PID = os.getpid()


def _gone_here(holder: str) -> bool:
    """A holder on this machine whose process has exited (or whose pid was reused)."""
    parts = holder.split("/")
    if len(parts) != 4 or parts[0] != _HOST or not parts[1].isdigit() \
            or not parts[2].isdigit():
        return False
    try:
        started = _process_started_ms(int(parts[1]))
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return True
    return abs(started - int(parts[2])) > 1000


def try_take(state: GatewayState, upload_id: str, holder: str) -> bool:
    """Take (or renew) the lease; False when another live holder has it."""
    now = utcnow()
    until = now + LEASE_TTL
    dialect = state.engine.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # One statement in the usual case: a new row, or this holder's / a lapsed one replaced.
    take = insert(UploadLease).values(upload_id=upload_id, holder=holder, held_until=until)
    take = take.on_conflict_do_update(
        index_elements=[UploadLease.upload_id],
        set_={"holder": holder, "held_until": until},
        where=or_(UploadLease.holder == holder, UploadLease.held_until < now),
    ).returning(UploadLease.holder)  # a row back when taken (psycopg's rowcount is -1)
    try:
        with state.sessions.begin() as s:
            if s.connection().execute(take).first() is not None:
                return True
            current = s.scalar(select(UploadLease.holder)
                               .where(UploadLease.upload_id == upload_id))
            if current is None or not _gone_here(current):
                return False  # held; or released this instant (the caller tries again)
            taken = s.execute(update(UploadLease).where(
                UploadLease.upload_id == upload_id, UploadLease.holder == current)
                .values(holder=holder, held_until=until)).rowcount
            if taken:
                log.info("upload %s: lease of a process that is gone taken over", upload_id)
            return bool(taken)
    except IntegrityError:
        return False  # another replica inserted the lease first


def renew(state: GatewayState, upload_id: str, holder: str) -> bool:
    """Extend a lease this holder has; False when it was lost (ran out and was taken)."""
    with state.sessions.begin() as s:
        return bool(s.execute(update(UploadLease).where(
            UploadLease.upload_id == upload_id, UploadLease.holder == holder)
            .values(held_until=utcnow() + LEASE_TTL)).rowcount)


def release(state: GatewayState, upload_id: str, holder: str) -> None:
    with state.sessions.begin() as s:
        s.execute(delete(UploadLease).where(UploadLease.upload_id == upload_id,
                                            UploadLease.holder == holder))


def is_held(state: GatewayState, upload_id: str) -> bool:
    """Does a live holder (not run out) have this upload?"""
    with state.sessions() as s:
        until = s.scalar(select(UploadLease.held_until)
                         .where(UploadLease.upload_id == upload_id))
    return until is not None and until >= utcnow()


def forget_stale(state: GatewayState, older_than: timedelta = timedelta(days=1)) -> int:
    """Rows of leases that ran out long ago (their holders crashed before releasing)."""
    with state.sessions.begin() as s:
        return s.execute(delete(UploadLease).where(
            UploadLease.held_until < utcnow() - older_than)).rowcount
