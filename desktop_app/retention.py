"""Retention: free the disk of dossiers that are over and acknowledged by the province.

A dossier's local files (its component PDFs and the slips printed for it) are removed
from the blob store when all of these hold:

- the dossier is closed: returned (10), not accepted (3), withdrawn (7) or stopped (8);
- the province acknowledged it: it has a dossier outbox entry, and every outbox entry
  about it (the dossier's revisions, its events, its files) is ``sent``;
- it was closed more than ``retention_days`` ago. The close time is the latest of the
  return time, the last audit entry about the dossier, the last status pulled from the
  province and the last change of the row: anything that happened later restarts the
  period;
- a component file is removed only when the province acknowledged that file (a ``sent``
  file outbox entry); slips are documents the station printed and the province has the
  dossier they describe.

A blob is content-addressed and may be shared: it stays while any other dossier that is
not purgeable references it, or while any outbox entry still waits to send it. The
database rows stay (the timeline and the tracking book remain); each purged dossier gets
a ``blob_purged`` audit entry, written before the files are removed."""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_app.context import AppContext
from desktop_app.domain.dossier_status import DossierStatus
from desktop_app.station import DEFAULT_RETENTION_DAYS, StationService
from local_db import outbox
from local_db import repositories as repo
from local_db.models import AuditEntry, ComponentFile, Dossier, DossierComponent, OutboxEntry

log = logging.getLogger(__name__)

CLOSED_STATUSES = (DossierStatus.NOT_ACCEPTED, DossierStatus.WITHDRAWN,
                   DossierStatus.STOPPED, DossierStatus.RETURNED)
PURGED_ACTION = "blob_purged"
_DOCUMENT_KEYS = ("slip_sha256", "document_sha256")


@dataclass(frozen=True)
class PurgedDossier:
    dossier_id: int
    uuid: str
    reference: str  # dossier code, or the slip number of a refusal (no personal data)
    status: int
    closed_at: datetime
    blobs: tuple[str, ...]  # removed (or, in a dry run, to be removed)
    bytes: int
    kept_shared: tuple[str, ...] = ()


@dataclass
class RetentionReport:
    now: datetime
    retention_days: int
    dry_run: bool
    dossiers: list[PurgedDossier] = field(default_factory=list)
    blobs_removed: int = 0
    bytes_freed: int = 0
    kept_unsynced: int = 0  # closed and old enough, but not acknowledged by the province
    kept_recent: int = 0  # closed, but not long enough ago
    kept_shared_blobs: int = 0  # still referenced by a dossier that is not purgeable
    errors: list[str] = field(default_factory=list)

    @property
    def cutoff(self) -> datetime:
        return self.now - timedelta(days=self.retention_days)

    def to_dict(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "retention_days": self.retention_days,
                "cutoff": self.cutoff.isoformat(), "dry_run": self.dry_run,
                "dossiers": [{"reference": d.reference, "status": d.status,
                              "closed_at": d.closed_at.isoformat(), "blobs": len(d.blobs),
                              "bytes": d.bytes, "kept_shared": len(d.kept_shared)}
                             for d in self.dossiers],
                "blobs_removed": self.blobs_removed, "bytes_freed": self.bytes_freed,
                "kept_unsynced": self.kept_unsynced, "kept_recent": self.kept_recent,
                "kept_shared_blobs": self.kept_shared_blobs, "errors": self.errors}

    def text_vi(self) -> str:
        mb = self.bytes_freed / 1_048_576
        verb = "Sẽ xóa" if self.dry_run else "Đã xóa"
        lines = [f"Thời hạn lưu tệp: {self.retention_days} ngày (hồ sơ kết thúc trước "
                 f"{self.cutoff:%d/%m/%Y})."]
        if self.dossiers:
            lines.append(f"{verb} {self.blobs_removed} tệp của {len(self.dossiers)} hồ sơ, "
                         f"giải phóng {mb:.1f} MB. Thông tin hồ sơ và lịch sử xử lý vẫn giữ.")
            lines += [f"  - {d.reference}: {len(d.blobs)} tệp, {d.bytes / 1_048_576:.1f} MB"
                      for d in self.dossiers[:50]]
            if len(self.dossiers) > 50:
                lines.append(f"  … và {len(self.dossiers) - 50} hồ sơ khác")
        else:
            lines.append("Không có tệp nào đến hạn xóa.")
        if self.kept_unsynced:
            lines.append(f"Giữ lại tệp của {self.kept_unsynced} hồ sơ đã kết thúc nhưng tỉnh "
                         "chưa xác nhận nhận đủ (chưa đồng bộ xong).")
        if self.kept_shared_blobs:
            lines.append(f"Giữ lại {self.kept_shared_blobs} tệp dùng chung với hồ sơ khác chưa "
                         "đến hạn.")
        if self.dry_run:
            lines.append("Chạy thử: chưa xóa gì.")
        lines += [f"LỖI: {e}" for e in self.errors]
        return "\n".join(lines)


@dataclass
class _Closed:
    id: int
    uuid: str
    reference: str
    status: int
    closed_at: datetime
    slip: str | None


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class RetentionService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def retention_days(self) -> int:
        station = StationService(self.ctx).get()
        return station.retention_days if station else DEFAULT_RETENTION_DAYS

    def run(self, *, dry_run: bool = False, retention_days: int | None = None,
            clerk_id: int | None = None) -> RetentionReport:
        days = retention_days if retention_days is not None else self.retention_days()
        now = self.ctx.clock.now()
        report = RetentionReport(now, days, dry_run)
        with self.ctx.db.read() as s:
            plan = self._plan(s, report)
        if not dry_run and plan:
            self._purge(plan, report, clerk_id)
        log.info("retention%s: %d dossier(s), %d blob(s), %d bytes%s; kept: %d unsynced, "
                 "%d recent, %d shared blob(s)", " (dry run)" if dry_run else "",
                 len(report.dossiers), report.blobs_removed, report.bytes_freed,
                 " freed" if not dry_run else "", report.kept_unsynced, report.kept_recent,
                 report.kept_shared_blobs)
        return report

    # --- deciding ----------------------------------------------------------------------

    def _closed_dossiers(self, s: Session, cutoff: datetime, report: RetentionReport
                         ) -> list[_Closed]:
        rows = s.execute(select(Dossier.id, Dossier.uuid, Dossier.code, Dossier.slip_number,
                                Dossier.status, Dossier.returned_at, Dossier.remote_status_at,
                                Dossier.updated_at, Dossier.slip_blob)
                         .where(Dossier.status.in_([int(x) for x in CLOSED_STATUSES]))
                         # A stable report: PostgreSQL returns an updated row later.
                         .order_by(Dossier.id)).all()
        last_audit: dict[str, datetime] = {}
        for chunk in _chunks([r.uuid for r in rows]):
            for uuid, at in s.execute(
                    select(AuditEntry.entity_id, func.max(AuditEntry.at))
                    .where(AuditEntry.entity_type == "dossier",
                           AuditEntry.entity_id.in_(chunk),
                           AuditEntry.action != PURGED_ACTION)
                    .group_by(AuditEntry.entity_id)):
                last_audit[uuid] = at
        out: list[_Closed] = []
        for r in rows:
            times = [t for t in (r.returned_at, r.remote_status_at, r.updated_at,
                                 last_audit.get(r.uuid)) if t is not None]
            closed_at = max(times)
            if closed_at > cutoff:
                report.kept_recent += 1
                continue
            out.append(_Closed(r.id, r.uuid, r.code or r.slip_number, r.status, closed_at,
                               r.slip_blob))
        return out

    def _plan(self, s: Session, report: RetentionReport
              ) -> list[tuple[_Closed, list[str], list[str]]]:
        """[(dossier, blobs to remove, shared blobs kept)] for the purgeable dossiers."""
        closed = self._closed_dossiers(s, report.cutoff, report)
        # What the province has acknowledged, and what still waits.
        sent_dossiers = set(s.scalars(select(OutboxEntry.entity_id).distinct().where(
            OutboxEntry.entity_type == "dossier", OutboxEntry.state == outbox.SENT)))
        sent_files = set(s.scalars(select(OutboxEntry.entity_id).distinct().where(
            OutboxEntry.entity_type == "file", OutboxEntry.state == outbox.SENT)))
        waiting_dossiers: set[str] = set()
        waiting_blobs: set[str] = set()
        for etype, eid, payload in s.execute(
                select(OutboxEntry.entity_type, OutboxEntry.entity_id, OutboxEntry.payload)
                .where(OutboxEntry.state != outbox.SENT)):
            payload = payload or {}
            if etype == "dossier":
                waiting_dossiers.add(eid)
            elif etype == "event":
                waiting_dossiers.add(str(payload.get("ClientId", "")))
            elif etype == "file":
                waiting_blobs.add(eid)
                waiting_dossiers.add(str(payload.get("dossier", "")))
        purgeable: list[_Closed] = []
        for d in closed:
            if d.uuid in sent_dossiers and d.uuid not in waiting_dossiers:
                purgeable.append(d)
            else:
                report.kept_unsynced += 1
        if not purgeable:
            return []
        ids = {d.id for d in purgeable}

        # Every blob reference of every dossier: component files, the legacy single
        # component blob, slips.
        refs: dict[str, set[int]] = defaultdict(set)
        files_of: dict[int, set[str]] = defaultdict(set)
        for sha, dossier_id in s.execute(
                select(ComponentFile.blob_sha256, DossierComponent.dossier_id)
                .join(DossierComponent, ComponentFile.component_id == DossierComponent.id)):
            refs[sha].add(dossier_id)
            files_of[dossier_id].add(sha)
        for sha, dossier_id in s.execute(
                select(DossierComponent.blob_sha256, DossierComponent.dossier_id)
                .where(DossierComponent.blob_sha256.is_not(None))):
            refs[sha].add(dossier_id)
            files_of[dossier_id].add(sha)
        for sha, dossier_id in s.execute(select(Dossier.slip_blob, Dossier.id)
                                         .where(Dossier.slip_blob.is_not(None))):
            refs[sha].add(dossier_id)
        # Documents printed later (return, withdrawal, apology slips) are named in the
        # dossier's audit entries.
        documents: dict[int, set[str]] = defaultdict(set)
        by_uuid = {d.uuid: d.id for d in purgeable}
        for chunk in _chunks(list(by_uuid)):
            for uuid, detail in s.execute(
                    select(AuditEntry.entity_id, AuditEntry.detail)
                    .where(AuditEntry.entity_type == "dossier",
                           AuditEntry.entity_id.in_(chunk))):
                for key in _DOCUMENT_KEYS:
                    sha = (detail or {}).get(key)
                    if isinstance(sha, str) and len(sha) == 64:
                        documents[by_uuid[uuid]].add(sha)

        plan: list[tuple[_Closed, list[str], list[str]]] = []
        counted_shared: set[str] = set()
        for d in purgeable:
            mine = set(files_of.get(d.id, ()))
            docs = set(documents.get(d.id, ()))
            if d.slip:
                docs.add(d.slip)
            remove: list[str] = []
            shared: list[str] = []
            for sha in sorted(mine | docs):
                others = refs.get(sha, set()) - ids
                if others or sha in waiting_blobs:
                    shared.append(sha)
                    if sha not in counted_shared:
                        counted_shared.add(sha)
                        report.kept_shared_blobs += 1
                    continue
                if sha in mine and sha not in docs and sha not in sent_files:
                    continue  # a component file the province never acknowledged
                if self.ctx.blobs.path_for(sha).exists():
                    remove.append(sha)
            if remove:
                plan.append((d, remove, shared))
        # The same blob in two purgeable dossiers is removed (and counted) once.
        seen: set[str] = set()
        for d, remove, shared in plan:
            size = 0
            for sha in remove:
                if sha in seen:
                    continue
                seen.add(sha)
                try:
                    size += self.ctx.blobs.path_for(sha).stat().st_size
                except OSError:
                    continue
                report.blobs_removed += 1
            report.bytes_freed += size
            report.dossiers.append(PurgedDossier(d.id, d.uuid, d.reference, d.status,
                                                 d.closed_at, tuple(remove), size,
                                                 tuple(shared)))
        return plan

    # --- removing ------------------------------------------------------------------------

    def _purge(self, plan: list[tuple[_Closed, list[str], list[str]]],
               report: RetentionReport, clerk_id: int | None) -> None:
        now = report.now
        sizes = {p.dossier_id: p.bytes for p in report.dossiers}
        with self.ctx.db.write() as s:
            for d, remove, shared in plan:
                repo.add_audit(s, now, clerk_id, PURGED_ACTION, "dossier", d.uuid, {
                    "blobs": remove, "bytes": sizes.get(d.id, 0), "kept_shared": shared,
                    "retention_days": report.retention_days,
                    "closed_at": d.closed_at.isoformat()})
        # The shared server's copy goes too, or a counter would fetch it back.
        self.ctx.blobs.remove_shared(sorted({sha for _, remove, _ in plan for sha in remove}))
        removed: set[str] = set()
        for _, remove, _ in plan:
            for sha in remove:
                if sha in removed:
                    continue
                path = self.ctx.blobs.path_for(sha)
                size = 0
                try:
                    size = path.stat().st_size
                    path.unlink()
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    report.errors.append(f"Không xóa được tệp {sha[:12]}… ({exc.strerror}).")
                    report.blobs_removed -= 1
                    report.bytes_freed -= size
                    log.error("retention: cannot remove blob %s: %s", sha, exc)
                    continue
                removed.add(sha)
                with contextlib.suppress(OSError):
                    path.parent.rmdir()  # only when empty
