"""Stations' audit-chain heads: each station sends its chain head (``X-Audit-Head``) on
the requests of a sync run; the gateway keeps a history of heads per station and chain
and judges each new one against it:

- ``rewound``: a seq lower than one already reported (entries cut off the end, or an
  old copy of the database put back);
- ``forked``: a seq already reported with another hash (history rewritten);
- ``rewritten``: the station's hash today at the seq of a head the gateway stored
  (``X-Audit-Anchor``) differs from the stored one (history rewritten, then grown);
- ``accepted`` otherwise.

A flagged head is stored like any other, logged, listed by ``audit-heads`` in the admin
CLI, and answered in ``X-Audit-Head-Verdict`` so the station's doctor shows it; the
request itself goes on (the dossiers are the province's either way)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from provincial_gateway.auth import CurrentStation, StationAuth
from provincial_gateway.db import AuditHead, Station
from provincial_gateway.state import GatewayState, gateway_state
from sync_contract import wire

log = logging.getLogger("provincial_gateway")

ACCEPTED, REWOUND, FORKED, REWRITTEN = "accepted", "rewound", "forked", "rewritten"
_HEAD = re.compile(r"([A-Za-z0-9-]{1,36});(\d{1,18});([0-9a-f]{64})")
_ANCHOR = re.compile(r"(\d{1,18});([0-9a-f]{64})?")


@dataclass(frozen=True)
class ReportedHead:
    chain: str
    seq: int
    hash: str
    anchor_seq: int | None = None
    anchor_hash: str = ""  # "" with an anchor_seq: the station no longer has that entry


def parse(head: str, anchor: str = "") -> ReportedHead | None:
    m = _HEAD.fullmatch(head.strip())
    if m is None:
        return None
    a = _ANCHOR.fullmatch(anchor.strip()) if anchor else None
    return ReportedHead(m[1], int(m[2]), m[3], int(a[1]) if a else None,
                        (a[2] or "") if a else "")


def _judge(s: Session, station_id: int, rep: ReportedHead) -> tuple[str, str]:
    where = (AuditHead.station_id == station_id, AuditHead.chain == rep.chain)
    top = s.scalar(select(func.max(AuditHead.seq)).where(*where))
    if top is not None and rep.seq < top:
        return REWOUND, f"seq {rep.seq} is below seq {top} reported before"
    other = s.scalar(select(AuditHead.hash).where(
        *where, AuditHead.seq == rep.seq, AuditHead.hash != rep.hash).limit(1))
    if other is not None:
        return FORKED, f"seq {rep.seq} was reported before with hash {other}"
    if rep.anchor_seq is not None:
        stored = s.scalar(select(AuditHead.hash).where(
            *where, AuditHead.seq == rep.anchor_seq).order_by(AuditHead.id).limit(1))
        if stored is not None and stored != rep.anchor_hash:
            return REWRITTEN, (f"at seq {rep.anchor_seq} the station now has "
                               f"{rep.anchor_hash or 'no entry'}, reported before {stored}")
    return ACCEPTED, ""


def record_head(state: GatewayState, station: StationAuth, rep: ReportedHead) -> str:
    """Store ``rep`` when it is new for the station's chain and return the verdict (a
    head reported again keeps the verdict it had)."""
    with state.sessions.begin() as s:
        last = s.scalars(select(AuditHead).where(
            AuditHead.station_id == station.id, AuditHead.chain == rep.chain)
            .order_by(AuditHead.id.desc()).limit(1)).first()
        if last is not None and last.seq == rep.seq and last.hash == rep.hash:
            return last.verdict
        verdict, reason = _judge(s, station.id, rep)
        s.add(AuditHead(station_id=station.id, agency_code=station.agency_code,
                        chain=rep.chain, seq=rep.seq, hash=rep.hash,
                        anchor_seq=rep.anchor_seq, anchor_hash=rep.anchor_hash,
                        verdict=verdict, reason=reason))
    if verdict != ACCEPTED:
        log.warning("audit head of station %s flagged %s: chain %s seq %d hash %s: %s",
                    station.label, verdict, rep.chain, rep.seq, rep.hash, reason)
    return verdict


def note_audit_head(request: Request, response: Response, station: CurrentStation) -> None:
    """Dependency of the dossier routes: record the head a request carries, if any."""
    value = request.headers.get(wire.AUDIT_HEAD_HEADER)
    if not value:
        return
    rep = parse(value, request.headers.get(wire.AUDIT_ANCHOR_HEADER, ""))
    if rep is None:
        log.warning("station %s sent a malformed %s header", station.label,
                    wire.AUDIT_HEAD_HEADER)
        return
    response.headers[wire.AUDIT_VERDICT_HEADER] = record_head(gateway_state(request),
                                                              station, rep)


@dataclass(frozen=True)
class HeadRow:
    agency_code: str
    station_digit: int
    chain: str
    seq: int
    hash: str
    verdict: str
    reason: str
    received_at: str


def list_heads(state: GatewayState, agency: str | None = None, flagged_only: bool = False
               ) -> list[HeadRow]:
    """The history of heads, newest first: every flagged one, or all of them."""
    stmt = (select(AuditHead, Station.station_digit)
            .join(Station, Station.id == AuditHead.station_id)
            .order_by(AuditHead.id.desc()))
    if agency:
        stmt = stmt.where(AuditHead.agency_code == agency.strip().upper())
    if flagged_only:
        stmt = stmt.where(AuditHead.verdict != ACCEPTED)
    with state.sessions() as s:
        return [HeadRow(h.agency_code, digit, h.chain, h.seq, h.hash, h.verdict, h.reason,
                        h.received_at.isoformat(sep=" ", timespec="seconds"))
                for h, digit in s.execute(stmt)]
