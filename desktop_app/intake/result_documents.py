"""The province's result documents at the return counter (F7): what the station holds of
them, their bytes for the viewer and the printer, and how a result was handed over.

A handover is a fact added beside the dossier's return record (``result_handovers``,
append-only): paper at the counter, by post, or an electronic copy saved to the
citizen's own USB stick."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from local_db import repositories as repo
from local_db.models import Dossier, ResultDocumentRow, ResultHandover

log = logging.getLogger(__name__)

PAPER, POST, ELECTRONIC = "paper", "post", "electronic"
HANDOVER_METHODS = (PAPER, POST, ELECTRONIC)
HANDOVER_VI = {PAPER: "Bản giấy tại quầy", POST: "Gửi qua bưu chính",
               ELECTRONIC: "Bản điện tử (lưu vào USB của công dân)"}


class ResultDocumentError(DomainError):
    pass


@dataclass(frozen=True)
class ResultDocView:
    id: int
    name: str
    number: str
    signed_on: date | None
    signer: str
    state: str  # waiting | fetched | refused
    blob_sha256: str | None
    media_type: str
    refused_reason: str
    origin: str = "province"  # or "counter": a paper result digitized at this counter

    @property
    def state_vi(self) -> str:
        if self.origin == "counter":
            return "Số hóa tại quầy"
        if self.state == "fetched":
            return "Đã tải về"
        if self.state == "refused":
            return "Bị từ chối (sai mã kiểm tra)"
        return "Đang chờ tải về"

    @property
    def file_suffix(self) -> str:
        return ".pdf" if self.media_type == "application/pdf" else ""


def documents_of(s: Session, dossier_id: int) -> tuple[ResultDocView, ...]:
    rows = s.scalars(select(ResultDocumentRow).where(ResultDocumentRow.dossier_id == dossier_id)
                     .order_by(ResultDocumentRow.id))
    return tuple(ResultDocView(r.id, r.name, r.number, r.signed_on, r.signer, r.state,
                               r.blob_sha256, r.media_type, r.refused_reason, r.origin)
                 for r in rows)


def add_handover(s: Session, d: Dossier, method: str, clerk: ClerkInfo, now: datetime,
                 note: str = "", documents: list[int] | None = None) -> ResultHandover:
    """Record how the result was handed over (inside the caller's transaction)."""
    if method not in HANDOVER_METHODS:
        raise ResultDocumentError("Hình thức trao kết quả không hợp lệ.",
                                  f"handover method {method!r}")
    if documents is None:
        documents = [r.id for r in documents_of(s, d.id) if r.state == "fetched"]
    row = ResultHandover(dossier_id=d.id, method=method, documents=documents, note=note,
                         clerk_id=clerk.id, at=now)
    s.add(row)
    return row


class ResultDocuments:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def _fetched(self, s: Session, document_id: int) -> ResultDocumentRow:
        row = s.get(ResultDocumentRow, document_id)
        if row is None or row.state != "fetched" or not row.blob_sha256:
            raise ResultDocumentError("Giấy tờ kết quả này chưa được tải về máy.",
                                      f"result document {document_id} not fetched")
        return row

    def content(self, document_id: int) -> bytes:
        """The decrypted file, for the viewer and the printer."""
        with self.ctx.db.read() as s:
            sha = self._fetched(s, document_id).blob_sha256
        assert sha is not None
        return self.ctx.blobs.read_bytes(sha)

    def save_copy(self, document_id: int, dest: Path, clerk: ClerkInfo) -> None:
        """An electronic copy for the citizen (their USB stick): written, fsynced, and the
        handover recorded."""
        with self.ctx.db.read() as s:
            row = self._fetched(s, document_id)
            sha, dossier_id = row.blob_sha256, row.dossier_id
        assert sha is not None
        data = self.ctx.blobs.read_bytes(sha)
        try:
            with dest.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise ResultDocumentError(
                f"Không ghi được tệp vào “{dest.parent}”: kiểm tra USB còn cắm và còn chỗ "
                "trống.", f"result copy write failed: {exc.strerror}") from exc
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            d = repo.dossier_by_id(s, dossier_id)
            assert d is not None
            add_handover(s, d, ELECTRONIC, clerk, now, note="usb", documents=[document_id])
            repo.add_audit(s, now, clerk.id, "result_copy_saved", "dossier", d.uuid,
                           {"document": document_id, "sha256": sha})
        log.info("result document %d: electronic copy saved by clerk %s", document_id,
                 clerk.id)
