"""Export the pending dossiers, their files and events to an encrypted bundle on a USB
stick: the last resort for a commune with no link for days.

Exporting marks nothing as sent: the bundle may be lost on the way. When the link comes
back, the queue is sent as usual and the gateway answers ``unchanged`` for what the bundle
already delivered, so nothing is duplicated either way."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.files import write_atomically
from desktop_app.station import StationService
from desktop_app.sync.national import file_hashes
from desktop_app.sync.service import SyncService
from local_db import outbox
from local_db import repositories as repo
from sync_contract.bundle_codec import BundleContents, bundle_key, seal_bundle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportSummary:
    path: str
    bundle_id: str
    dossiers: int
    events: int
    files: int
    bytes: int

    @property
    def text_vi(self) -> str:
        return (f"Đã xuất {self.dossiers} hồ sơ, {self.files} tệp, {self.events} sự kiện "
                f"vào {self.path} ({self.bytes / 1024 / 1024:.1f} MB, đã mã hóa). Mang gói "
                "này đến máy có mạng và chạy: motcua sync --import-bundle TỆP")


def export_bundle(ctx: AppContext, service: SyncService, target: Path) -> ExportSummary:
    station = StationService(ctx).require()
    token = service.tokens(station).get()
    if not token:
        raise DomainError("Chưa có mã xác thực của quầy nên không mã hóa được gói. Hãy nhờ "
                          "kỹ thuật viên cấu hình.", "bundle export without a station token")
    latest: dict[str, dict] = {}
    events: list[dict] = []
    hashes: set[str] = set()
    with ctx.db.read() as s:
        for e in outbox.entries(s, states=(outbox.PENDING,), limit=100_000):
            if e.entity_type == "dossier":
                doc = dict(e.payload)
                old = latest.get(e.entity_id)
                if old is None or int(doc.get("PhienBan", 1)) >= int(old.get("PhienBan", 1)):
                    latest[e.entity_id] = doc
            elif e.entity_type == "event":
                events.append(dict(e.payload))
            elif e.entity_type == "file":
                hashes.add(e.entity_id)
        for doc in latest.values():
            hashes.update(file_hashes(doc))
        known = {sha for sha in hashes if repo.get_blob(s, sha) is not None}
    if not latest and not events and not hashes:
        raise DomainError("Không có hồ sơ nào đang chờ gửi; không cần xuất gói.",
                          "bundle export: queue empty")
    missing = hashes - known
    if missing:
        log.warning("bundle export: %d referenced file(s) unknown locally", len(missing))
    bundle_id = str(uuid.uuid4())
    contents = BundleContents(station.agency_code, station.station_digit, bundle_id,
                              ctx.clock.now().isoformat(timespec="seconds"),
                              dossiers=list(latest.values()), events=events,
                              files={sha: ctx.blobs.read_bytes(sha) for sha in sorted(known)})
    data = seal_bundle(contents, bundle_key(token))
    target = Path(target)
    if target.is_dir():
        target = target / f"motcua-{station.agency_code}-{station.station_digit}-" \
                          f"{ctx.clock.now():%Y%m%d-%H%M}.mcb"
    _write_atomically(target, data)
    now = ctx.clock.now()
    with ctx.db.write() as s:
        repo.add_audit(s, now, None, "bundle_exported", "bundle", bundle_id,
                       {"dossiers": len(latest), "events": len(events),
                        "files": len(known), "bytes": len(data)})
    log.info("bundle %s exported: %d dossiers, %d files, %d bytes", bundle_id, len(latest),
             len(known), len(data))
    return ExportSummary(str(target), bundle_id, len(latest), len(events), len(known),
                         len(data))


def _write_atomically(target: Path, data: bytes) -> None:
    try:
        write_atomically(target, data)
    except OSError as exc:
        if exc.errno == 28:
            raise DomainError("USB đã đầy: không đủ chỗ cho gói hồ sơ. Hãy dùng USB khác.",
                              f"{target}: disk full") from exc
        raise DomainError(f"Không ghi được gói vào {target}: {exc.strerror or exc}.",
                          f"{target}: {exc!r}") from exc
