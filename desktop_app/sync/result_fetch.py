"""Result documents from the province: recorded by the pull, fetched after the queue.

The change feed lists a processed dossier's result documents (DanhSachGiayToKetQua:
name, number, signer, date, SHA-256 and size of the file). The pull records them for a
dossier of this station (``store_result_documents``; one for an unknown dossier is
ignored). Then, once per sync cycle and only with nothing due in the outbox (dossiers
first, always), ``fetch_results_after_queue`` downloads the waiting files in HTTP Range
chunks, each sealed (AES-GCM) as it arrives and appended to a part file in the blob
store's private scratch directory (desktop_app.sealed_part: a citizen's result never
lies on disk in plaintext), fsynced chunk by chunk, so a cut or a restart resumes where
it stopped. A complete file whose
SHA-256 or size differs from the announced ones is refused: deleted, nothing linked, an
English log line, an audit entry, and a Vietnamese message the return counter (F7)
shows. A matching file goes into the encrypted blob store like every blob.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.blobs import BlobStoreError
from desktop_app.context import AppContext
from desktop_app.sealed_part import SealedPart, SealedPartError
from desktop_app.sync.client import GatewayClient, LinkDown, Refused, SyncError
from desktop_app.sync.update_fetch import queue_busy
from local_db import repositories as repo
from local_db.models import Dossier, ResultDocumentRow
from sync_contract import wire

log = logging.getLogger(__name__)

WAITING, FETCHED, REFUSED = "waiting", "fetched", "refused"
CHUNK = 256 * 1024
SLICE_S = 45.0  # as the update download: status pulls keep their rhythm
_SHA = re.compile(r"^[0-9a-f]{64}$")


def refused_vi(name: str) -> str:
    return (f"Tệp kết quả “{name}” tải về không khớp mã kiểm tra (SHA-256) mà cổng tỉnh "
            "công bố: máy đã từ chối, không lưu tệp này. Hãy báo cơ quan giải quyết gửi "
            "lại kết quả.")


def _signed_on(value: str) -> date | None:
    try:
        return datetime.strptime(value[:8], "%Y%m%d").date() if value else None
    except ValueError:
        return None


def store_result_documents(s: Session, dossier: Dossier, change: wire.Change,
                           now: datetime) -> int:
    """Record the change's result documents for this dossier (once each, by GiayToId);
    returns how many are new. Inside the pull's transaction."""
    added = 0
    for doc in change.DanhSachGiayToKetQua:
        sha = doc.TepSha256.lower()
        if not _SHA.match(sha) or not doc.DuongDanTepTinKetQua.startswith("/api/"):
            # Only a path on this gateway, under its API (where the token may go).
            log.warning("change %d: result document %s ignored (bad hash or path)",
                        change.seq, doc.GiayToId[:20])
            continue
        known = s.scalar(select(ResultDocumentRow).where(
            ResultDocumentRow.dossier_id == dossier.id,
            ResultDocumentRow.gateway_id == doc.GiayToId))
        if known is not None:
            continue
        s.add(ResultDocumentRow(
            dossier_id=dossier.id, gateway_id=doc.GiayToId, change_seq=change.seq,
            name=doc.TenGiayTo, number=doc.MaGiayToKetQua,
            component_code=doc.MaThanhPhanHoSo, signer=doc.NguoiKy,
            signed_on=_signed_on(doc.NgayKy), announced_sha256=sha, size=doc.KichThuoc,
            media_type=doc.LoaiTep, download_path=doc.DuongDanTepTinKetQua, state=WAITING,
            refused_reason="", created_at=now))
        added += 1
    if added:
        repo.add_audit(s, now, None, "results_listed", "dossier", dossier.uuid,
                       {"seq": change.seq, "documents": added})
    return added


@dataclass(frozen=True)
class _Job:
    id: int
    name: str
    sha256: str
    size: int
    path: str
    media_type: str
    dossier_uuid: str


@dataclass
class FetchSummary:
    fetched: int = 0
    refused: int = 0
    paused: bool = False


class ResultFetcher:
    def __init__(self, ctx: AppContext, client: GatewayClient, *, chunk: int = CHUNK,
                 slice_s: float = SLICE_S, busy: Callable[[], bool] | None = None,
                 cancelled: Callable[[], bool] = lambda: False,
                 progress: Callable[[str, int, int], None] | None = None) -> None:
        self.ctx = ctx
        self.client = client
        self.chunk = chunk
        self.slice_s = slice_s
        self.busy = busy or (lambda: queue_busy(ctx))
        self.cancelled = cancelled
        self.progress = progress

    def waiting(self) -> list[_Job]:
        with self.ctx.db.read() as s:
            rows = s.execute(select(ResultDocumentRow, Dossier.uuid)
                             .join(Dossier, Dossier.id == ResultDocumentRow.dossier_id)
                             .where(ResultDocumentRow.state == WAITING)
                             .order_by(ResultDocumentRow.id)).all()
            return [_Job(r.id, r.name, r.announced_sha256, r.size, r.download_path,
                         r.media_type, uuid) for r, uuid in rows]

    def part(self, sha256: str) -> SealedPart:
        return self.ctx.blobs.sealed_part(f"result-{sha256}.part", sha256)

    def run(self) -> FetchSummary:
        summary = FetchSummary()
        started = time.monotonic()
        for job in self.waiting():
            if self.cancelled() or self.busy() or time.monotonic() - started > self.slice_s:
                summary.paused = True
                return summary
            try:
                verdict = self._fetch(job, started)
            except LinkDown as exc:
                log.info("result document %d: link lost (%s); resumes next time", job.id,
                         exc.detail)
                summary.paused = True
                return summary
            except Refused as exc:
                log.warning("result document %d: the gateway refused the download "
                            "(HTTP %d); tried again next time", job.id, exc.status)
                continue
            if verdict == FETCHED:
                summary.fetched += 1
            elif verdict == REFUSED:
                summary.refused += 1
            else:
                summary.paused = True
                return summary
        return summary

    def _fetch(self, job: _Job, started: float) -> str:
        part = self.part(job.sha256)
        offset = part.size()
        resumed = offset > 0
        if offset > job.size:
            part.unlink()
            offset, resumed = 0, False
        if resumed:
            log.info("result document %d: resuming at byte %d of %d", job.id, offset,
                     job.size)
        while offset < job.size:
            if self.cancelled() or self.busy() or time.monotonic() - started > self.slice_s:
                return WAITING
            data = self._chunk(job, offset, min(job.size, offset + self.chunk) - 1)
            part.append(data)
            offset += len(data)
            if self.progress:
                self.progress("Đang tải giấy tờ kết quả", offset, job.size)
        return self._finish(job, part, resumed)  # an empty file: the hash check decides

    def _chunk(self, job: _Job, first: int, last: int) -> bytes:
        return self.client.range_chunk(job.path, job.sha256, first, last, "result")

    def _finish(self, job: _Job, part: SealedPart, resumed: bool) -> str:
        h = hashlib.sha256()
        size = 0
        try:
            for block in part.plaintext():
                h.update(block)
                size += len(block)
        except SealedPartError as exc:  # damaged on disk: counts as a mismatch
            log.warning("result document %d: part file damaged (%s)", job.id, exc)
            size = -1
        got = h.hexdigest()
        now = self.ctx.clock.now()
        if got != job.sha256 or size != job.size:
            part.unlink()
            if resumed:
                # Bytes kept across a crash may be what went wrong: one fresh download
                # decides.
                log.warning("result document %d: resumed file does not match its hash; "
                            "downloading it again from the start", job.id)
                return WAITING
            with self.ctx.db.write() as s:
                row = s.get(ResultDocumentRow, job.id)
                if row is not None and row.state == WAITING:
                    row.state = REFUSED
                    row.refused_reason = refused_vi(job.name)
                    repo.add_audit(s, now, None, "result_refused", "dossier",
                                   job.dossier_uuid, {"document": job.id,
                                                      "announced_sha256": job.sha256,
                                                      "got_sha256": got, "size": size})
            log.warning("result document %d refused: downloaded sha256 %s (%d bytes) does "
                        "not match the announced %s (%d bytes); file deleted, nothing "
                        "linked", job.id, got[:12], size, job.sha256[:12], job.size)
            return REFUSED
        try:
            sha, stored = self.ctx.blobs.put_chunks(part.plaintext(), part.path.name)
        except (BlobStoreError, SealedPartError) as exc:
            log.error("result document %d not stored: %s", job.id, exc)
            return WAITING
        with self.ctx.db.write() as s:
            repo.ensure_blob(s, sha, stored, job.media_type, now)
            row = s.get(ResultDocumentRow, job.id)
            if row is not None:
                row.state, row.blob_sha256, row.fetched_at = FETCHED, sha, now
            repo.add_audit(s, now, None, "result_fetched", "dossier", job.dossier_uuid,
                           {"document": job.id, "sha256": sha, "size": stored})
        part.unlink()
        log.info("result document %d fetched and verified (sha256 %s, %d bytes)", job.id,
                 sha[:12], stored)
        return FETCHED


def fetch_results_after_queue(ctx: AppContext, client: GatewayClient,
                              cancelled: Callable[[], bool] = lambda: False,
                              progress: Callable[[str, int, int], None] | None = None
                              ) -> FetchSummary | None:
    """The sync cycle's one call, after the queue was pushed and the feed pulled. Never
    raises a sync error into the run (the dossiers' report stays the dossiers')."""
    try:
        return ResultFetcher(ctx, client, cancelled=cancelled, progress=progress).run()
    except SyncError as exc:
        log.info("result documents not fetched this time: %s", exc.detail)
        return None
