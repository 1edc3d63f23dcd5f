"""The audit log as hash chains: each entry carries the hash of the one before it and its
own, so a deleted, inserted, edited or back-dated entry breaks a link that a walk finds.

One chain per counter PC (``audit_log.chain``, the PC's install id), so counters sharing
a PostgreSQL server never wait on each other; appends within a chain are serialised
(SQLite: the write transaction's BEGIN IMMEDIATE; PostgreSQL: an advisory transaction
lock per chain), and a unique (chain, seq) index refuses a fork whatever happens.
Entries written before chaining existed were chained by migration 0018, in id order, as
the chain ``legacy``; every other chain starts from the legacy chain's last hash, so
cutting the end of the old log also breaks the first link of each newer chain.

The encoding hashed (``canonical``) is part of the stored data: changing it would make
every existing chain look broken. Nothing here logs entry contents (they may name a
citizen's dossier); reports carry only ids, sequence numbers, chains and hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from local_db.engine import lock_key
from local_db.models import AuditEntry

FORMAT = "motcua-audit/1"
LEGACY_CHAIN = "legacy"
ZERO_HASH = "0" * 64
DEFAULT_CHAIN = "local"  # a database opened without a data directory (tools, tests)
_CACHE = "audit_chain_heads"


@dataclass(frozen=True)
class Head:
    """The last entry of a chain: what the station reports to the gateway."""

    chain: str
    seq: int
    hash: str


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain. ``kind``: ``gap`` (an entry missing or added:
    the sequence jumps), ``link`` (prev_hash is not the previous entry's hash),
    ``hash`` (the entry's content no longer matches its hash: edited or back-dated),
    ``anchor`` (the chain's first entry does not start from the legacy chain's end)."""

    chain: str
    kind: str
    entry_id: int
    seq: int
    expected: str
    found: str

    def log_line(self) -> str:
        """A precise English line for a technician's log: ids and hashes, no content."""
        return (f"audit chain {self.chain!r} broken at entry id={self.entry_id} "
                f"seq={self.seq}: {self.kind} (expected {self.expected}, found {self.found})")


@dataclass(frozen=True)
class ChainReport:
    chain: str
    entries: int
    head: Head | None
    broken: Break | None


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_at(at: datetime) -> str:
    return at.replace(tzinfo=None).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, chain: str, seq: int, at: datetime, clerk_id: int | None,
               action: str, entity_type: str, entity_id: str, detail: Any) -> str:
    """SHA-256 (hex) over the canonical JSON of the entry and its predecessor's hash."""
    body = canonical_json([FORMAT, prev_hash, chain, seq, canonical_at(at), clerk_id,
                           action, entity_type, entity_id, detail])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def session_chain(session: Session) -> str:
    """The chain this session's appends go to (set by ``Database`` on each session)."""
    return str(session.info.get("audit_chain") or DEFAULT_CHAIN)


def _locked_head(session: Session, chain: str) -> dict[str, tuple[int, str]]:
    """This transaction's view of chain heads; the first call for a chain takes the
    chain's lock (PostgreSQL) and reads its last entry."""
    txn = session.get_transaction() or session.begin()
    cached = session.info.get(_CACHE)
    if cached is None or cached[0] is not txn:
        cached = (txn, {})
        session.info[_CACHE] = cached
    heads: dict[str, tuple[int, str]] = cached[1]
    if chain not in heads:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                            {"key": lock_key(f"audit_chain:{chain}")})
        with session.no_autoflush:
            row = session.execute(
                select(AuditEntry.seq, AuditEntry.entry_hash)
                .where(AuditEntry.chain == chain)
                .order_by(AuditEntry.seq.desc()).limit(1)).first()
            if row is not None:
                heads[chain] = (int(row[0]), str(row[1]))
            else:
                heads[chain] = (0, _anchor(session))
    return heads


def _anchor(session: Session) -> str:
    """Where a new chain starts: the legacy chain's last hash (zeros when none)."""
    value = session.execute(
        select(AuditEntry.entry_hash).where(AuditEntry.chain == LEGACY_CHAIN)
        .order_by(AuditEntry.seq.desc()).limit(1)).scalar()
    return str(value) if value else ZERO_HASH


def append(session: Session, entry: AuditEntry) -> AuditEntry:
    """Fill ``entry``'s chain, seq, prev_hash and entry_hash as the next link of the
    session's chain (before it is inserted), and add it to the session."""
    chain = session_chain(session)
    heads = _locked_head(session, chain)
    seq, prev = heads[chain]
    entry.at = entry.at.replace(tzinfo=None)
    # Stored as JSON: hash exactly what reading it back gives.
    entry.detail = json.loads(canonical_json(entry.detail or {}))
    entry.chain = chain
    entry.seq = seq + 1
    entry.prev_hash = prev
    entry.entry_hash = entry_hash(prev, chain, entry.seq, entry.at, entry.clerk_id,
                                  entry.action, entry.entity_type, entry.entity_id,
                                  entry.detail)
    heads[chain] = (entry.seq, entry.entry_hash)
    session.add(entry)
    return entry


def head(session: Session | Connection, chain: str) -> Head | None:
    row = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash).where(AuditEntry.chain == chain)
        .order_by(AuditEntry.seq.desc()).limit(1)).first()
    return Head(chain, int(row[0]), str(row[1])) if row is not None else None


def hash_at(session: Session | Connection, chain: str, seq: int) -> str | None:
    return session.execute(
        select(AuditEntry.entry_hash).where(AuditEntry.chain == chain,
                                            AuditEntry.seq == seq)).scalar()


def chains(conn: Session | Connection) -> list[str]:
    """Every chain in the database, the legacy one first."""
    names = [str(c) for c in conn.execute(select(AuditEntry.chain).distinct()).scalars()]
    return sorted(names, key=lambda c: (c != LEGACY_CHAIN, c))


_COLUMNS = (AuditEntry.id, AuditEntry.seq, AuditEntry.prev_hash, AuditEntry.entry_hash,
            AuditEntry.at, AuditEntry.clerk_id, AuditEntry.action, AuditEntry.entity_type,
            AuditEntry.entity_id, AuditEntry.detail)


def _rows(conn: Session | Connection, chain: str, batch: int) -> Iterator[Any]:
    """The chain in seq order, ``batch`` rows per query (keyset: each query starts
    after the last seq seen, so memory stays flat and no query grows slower)."""
    last_seq, last_id = -1, -1
    while True:
        # seq >= last: an index range (an OR of conditions is a full scan on SQLite).
        # Ordered by (seq, id) so a duplicated seq (possible only with the unique index
        # dropped) is still read, and then reported as a gap.
        rows = conn.execute(select(*_COLUMNS).where(AuditEntry.chain == chain,
                                                    AuditEntry.seq >= last_seq)
                            .order_by(AuditEntry.seq, AuditEntry.id).limit(batch + 1)).all()
        fresh = [r for r in rows if r[1] > last_seq or r[0] > last_id]
        if not fresh:
            return
        yield from fresh
        last_seq, last_id = int(fresh[-1][1]), int(fresh[-1][0])


def verify_chain(conn: Session | Connection, chain: str, *, anchor: str | None = None,
                 batch: int = 5000) -> ChainReport:
    """Walk ``chain`` and report its first broken link. ``anchor`` is the hash the
    first entry must start from (by default: zeros for the legacy chain, else the legacy
    chain's last hash)."""
    if anchor is None:
        if chain == LEGACY_CHAIN:
            anchor = ZERO_HASH
        else:
            legacy = head(conn, LEGACY_CHAIN)
            anchor = legacy.hash if legacy else ZERO_HASH
    expected_seq, prev, count, last = 1, anchor, 0, None
    for row in _rows(conn, chain, batch):
        entry_id, seq, prev_hash, stored, at, clerk_id, action, etype, eid, detail = row
        count += 1
        if seq != expected_seq:
            return ChainReport(chain, count, last,
                               Break(chain, "gap", entry_id, seq, f"seq {expected_seq}",
                                     f"seq {seq}"))
        if prev_hash != prev:
            kind = "anchor" if seq == 1 else "link"
            return ChainReport(chain, count, last,
                               Break(chain, kind, entry_id, seq, prev, str(prev_hash)))
        computed = entry_hash(prev_hash, chain, seq, at, clerk_id, action, etype, eid,
                              detail)
        if computed != stored:
            return ChainReport(chain, count, last,
                               Break(chain, "hash", entry_id, seq, computed, str(stored)))
        prev, expected_seq = stored, seq + 1
        last = Head(chain, seq, stored)
    return ChainReport(chain, count, last, None)


def verify_all(conn: Session | Connection, *, batch: int = 5000) -> list[ChainReport]:
    """Every chain of the database, each to its end or its first broken link."""
    return [verify_chain(conn, chain, batch=batch) for chain in chains(conn)]


def entry_count(conn: Session | Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(AuditEntry)).scalar() or 0)
