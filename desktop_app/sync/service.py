"""Sync as the rest of the app sees it: is it configured, what is queued, run it."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime

from desktop_app.context import AppContext, DatabaseUnavailable
from desktop_app.domain.errors import DomainError
from desktop_app.processes import ProcessMark, own_mark
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.client import GatewayClient
from desktop_app.sync.clock_offset import OffsetRecorder
from desktop_app.sync.credentials import TokenStore
from desktop_app.sync.engine import SyncEngine
from desktop_app.sync.gateway_url import check_gateway_url
from local_db import outbox
from local_db import repositories as repo

log = logging.getLogger(__name__)

LAST_SUCCESS = "last_success_at"

ENTITY_VI = {"file": "Tệp", "dossier": "Hồ sơ", "event": "Sự kiện"}
STATE_VI = {"pending": "Chờ gửi", "refused": "Bị từ chối — cần lãnh đạo xem",
            "sent": "Đã gửi"}


class SyncNotConfigured(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"Quầy này chưa được cấu hình đồng bộ ({what}). Hồ sơ vẫn lưu an toàn trên máy; "
            "hãy nhờ kỹ thuật viên cấu hình.", f"sync not configured: {what}")


@dataclass(frozen=True)
class QueueStatus:
    pending: int
    refused: int
    oldest_pending: datetime | None
    last_success: datetime | None
    warn_days: int
    now: datetime

    @property
    def overdue(self) -> bool:
        """Dossiers have waited longer than the station's warning threshold."""
        return False if self.oldest_pending is None else self._age_days() >= self.warn_days

    def _age_days(self) -> float:
        assert self.oldest_pending is not None
        return (self.now - self.oldest_pending).total_seconds() / 86400


@dataclass(frozen=True)
class QueueItem:
    id: int
    kind_vi: str
    reference: str
    state: str
    state_vi: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime


def _holder_alive(holder: str) -> bool:
    """Is the process named in a lease holder ``account@host#pid-start`` (or the older
    ``account@host#pid``) still running?"""
    mark = ProcessMark.parse(holder.rpartition("#")[2]) if "#" in holder else None
    if mark is None:
        return False  # an older holder format: no process can own it any more
    if mark.pid == os.getpid():
        return False  # a previous engine of this process ended without releasing
    return mark.alive()


def station_account(station: StationInfo) -> str:
    return f"{station.agency_code}-{station.station_digit}"


class SyncService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def tokens(self, station: StationInfo | None = None) -> TokenStore:
        station = station or StationService(self.ctx).require()
        return TokenStore(self.ctx.paths.root, station_account(station))

    def set_token(self, token: str) -> str:
        return self.tokens().set(token.strip())

    def client(self) -> GatewayClient:
        station = StationService(self.ctx).require()
        if not station.gateway_url:
            raise SyncNotConfigured("thiếu địa chỉ hệ thống một cửa của tỉnh")
        url = check_gateway_url(station.gateway_url)  # a setting older than the rule
        token = self.tokens(station).get()
        if not token:
            raise SyncNotConfigured("thiếu mã xác thực của quầy")
        client = GatewayClient(url, token, station.ca_bundle)
        client.on_server_date = OffsetRecorder(self.ctx)
        return client

    def engine(self, client: GatewayClient | None = None, **kwargs: object) -> SyncEngine:
        """An engine whose leases name this process, after freeing the items that dead
        processes of this machine still held (a kill or power cut mid-send)."""
        station = StationService(self.ctx).require()
        prefix = f"{station_account(station)}@{socket.gethostname()}#"
        with self.ctx.db.write() as s:
            freed = outbox.release_dead_leases(s, prefix, _holder_alive)
        if freed:
            log.info("freed %d outbox item(s) held by processes that died", freed)
        return SyncEngine(self.ctx, client or self.client(), f"{prefix}{own_mark()}",
                          station_digit=station.station_digit,
                          **kwargs)  # type: ignore[arg-type]

    def configured(self) -> bool:
        try:
            self.client().close()
        except DatabaseUnavailable:
            raise  # not a configuration question: the database did not answer
        except DomainError:
            return False
        return True

    def status(self) -> QueueStatus:
        station = StationService(self.ctx).get()
        with self.ctx.db.read() as s:
            counts = outbox.counts(s)
            oldest = repo.oldest_pending_outbox(s)
            last = outbox.get_state(s, LAST_SUCCESS)
        return QueueStatus(counts.get(outbox.PENDING, 0), counts.get(outbox.REFUSED, 0),
                           oldest, datetime.fromisoformat(last) if last else None,
                           station.unsynced_warn_days if station else 3, self.ctx.clock.now())

    def items(self, limit: int = 1000) -> list[QueueItem]:
        with self.ctx.db.read() as s:
            rows = outbox.entries(s, limit=limit)
            codes = {}
            for e in rows:
                if e.entity_type == "dossier":
                    codes[e.entity_id] = str(e.payload.get("MaHoSo") or e.payload.get(
                        "SoPhieu") or e.entity_id)
            out = []
            for e in rows:
                if e.entity_type == "file":
                    ref = str(e.payload.get("file_name") or e.entity_id[:12])
                elif e.entity_type == "dossier":
                    ref = codes[e.entity_id]
                else:
                    ref = str(e.payload.get("MaHoSo") or e.entity_id)
                out.append(QueueItem(e.id, ENTITY_VI.get(e.entity_type, e.entity_type), ref,
                                     e.state, STATE_VI.get(e.state, e.state), e.attempts,
                                     e.last_error, e.created_at, e.next_attempt_at))
        return out

    def retry(self, entry_ids: list[int] | None = None, include_refused: bool = False) -> int:
        with self.ctx.db.write() as s:
            return outbox.retry_now(s, self.ctx.clock.now(), entry_ids, include_refused)

    def record_success(self) -> None:
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            outbox.set_state(s, LAST_SUCCESS, now.isoformat(timespec="seconds"), now)

    def held_elsewhere(self, own_holder: str = "") -> int:
        """Pending items another sender (another counter, another process) holds under a
        live lease: they are on their way, not stuck."""
        from sqlalchemy import func, select

        from local_db.models import OutboxEntry

        with self.ctx.db.read() as s:
            return int(s.scalar(select(func.count()).select_from(OutboxEntry).where(
                OutboxEntry.state == outbox.PENDING,
                OutboxEntry.lease_until > self.ctx.clock.now(),
                OutboxEntry.leased_by != own_holder)) or 0)
