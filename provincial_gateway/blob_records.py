"""Database side of the blob store: which blobs exist and which agency may use them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from provincial_gateway.db import Blob, BlobAccess
from provincial_gateway.dossiers import held_blobs, retrying
from provincial_gateway.state import GatewayState


def record_blob(state: GatewayState, sha256: str, size: int, media_type: str,
                agency_code: str) -> None:
    """Record a verified blob and let `agency_code` use it (idempotent, race-safe)."""

    def attempt() -> None:
        with state.sessions.begin() as s:
            add_blob(s, sha256, size, media_type, agency_code)

    retrying(attempt)


def add_blob(s: Session, sha256: str, size: int, media_type: str, agency_code: str) -> None:
    """`record_blob` inside the caller's transaction (which retries on IntegrityError)."""
    if s.get(Blob, sha256) is None:
        s.add(Blob(sha256=sha256, size=size,
                   media_type=media_type or "application/octet-stream"))
        s.flush()
    if s.get(BlobAccess, (sha256, agency_code)) is None:
        s.add(BlobAccess(sha256=sha256, agency_code=agency_code))


def missing_for(state: GatewayState, agency_code: str, shas: list[str]) -> list[str]:
    with state.sessions() as s:
        held = held_blobs(s, agency_code, shas)
    missing: list[str] = []
    for sha in shas:
        if sha not in held and sha not in missing:
            missing.append(sha)
    return missing


def blob_for(state: GatewayState, sha256: str, agency_code: str) -> Blob | None:
    with state.sessions() as s:
        return s.scalar(select(Blob).join(BlobAccess).where(
            Blob.sha256 == sha256, BlobAccess.agency_code == agency_code))
