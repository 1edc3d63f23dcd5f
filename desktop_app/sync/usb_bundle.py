"""Export the pending dossiers, their files and events to a bundle on a USB stick: the
last resort for a commune with no link for days.

The bundle (`sync_contract.bundle_codec`) is sealed to the province's public key, so a
lost stick reveals nothing, and signed with this counter's own key, so the gateway knows
who made it. It is written as a stream, file by file, straight into the age encryptor
and a temporary file renamed into place at the end: memory stays flat and the size is
bounded only by the stick.

Exporting marks nothing as sent: the bundle may be lost on the way. When the link comes
back, the queue is sent as usual and the gateway answers ``unchanged`` for what the bundle
already delivered, so nothing is duplicated either way."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.files import atomic_writer
from desktop_app.station import StationService
from desktop_app.sync import bundle_keys
from desktop_app.sync.national import file_hashes
from desktop_app.sync.service import SyncService
from local_db import outbox
from local_db import repositories as repo
from sync_contract import bundle_codec as codec

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


def open_blob(ctx: AppContext, sha256: str) -> BinaryIO:
    """The stored file's plaintext as a stream, decrypted chunk by chunk as it is read."""
    return ctx.blobs.open_blob(sha256)


def export_bundle(ctx: AppContext, service: SyncService, target: Path) -> ExportSummary:
    station = StationService(ctx).require()
    recipient = bundle_keys.recipient(ctx)
    if not recipient:
        raise DomainError("Quầy chưa nhận khóa công khai của tỉnh nên chưa xuất được gói USB. "
                          "Hãy kết nối mạng và đồng bộ một lần (F5), rồi xuất lại.",
                          "bundle export: no province recipient yet (never synced since "
                          "bundle keys were introduced)")
    signer = bundle_keys.signing_key(ctx, station)
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
        sizes = {sha: row.size for sha in hashes if (row := repo.get_blob(s, sha)) is not None}
    if not latest and not events and not hashes:
        raise DomainError("Không có hồ sơ nào đang chờ gửi; không cần xuất gói.",
                          "bundle export: queue empty")
    missing = hashes - sizes.keys()
    if missing:
        log.warning("bundle export: %d referenced file(s) unknown locally", len(missing))
    members = [codec.bytes_member(codec.DOSSIERS, _json(list(latest.values()))),
               codec.bytes_member(codec.EVENTS, _json(events))]
    for sha in sorted(sizes):
        members.append((codec.Member(codec.file_member_name(sha), sizes[sha], sha),
                        lambda sha=sha: open_blob(ctx, sha)))
    bundle_id = str(uuid.uuid4())
    now = ctx.clock.now()
    target = Path(target)
    if target.is_dir():
        target = target / f"motcua-{station.agency_code}-{station.station_digit}-" \
                          f"{now:%Y%m%d-%H%M}.mcb"
    size = _write(target, lambda out: codec.write_bundle(
        out, bundle_id=bundle_id, agency_code=station.agency_code,
        station_digit=station.station_digit, created_at=now.isoformat(timespec="seconds"),
        members=members, signing_key=signer, recipient=recipient))
    with ctx.db.write() as s:
        repo.add_audit(s, ctx.clock.now(), None, "bundle_exported", "bundle", bundle_id,
                       {"dossiers": len(latest), "events": len(events),
                        "files": len(sizes), "bytes": size})
    log.info("bundle %s exported: %d dossiers, %d files, %d bytes", bundle_id, len(latest),
             len(sizes), size)
    return ExportSummary(str(target), bundle_id, len(latest), len(events), len(sizes), size)


def _json(items: list[dict]) -> bytes:
    return json.dumps(items, ensure_ascii=False).encode("utf-8")


def _write(target: Path, fill: Callable[[BinaryIO], object]) -> int:
    """Write through a temporary file renamed into place: a full stick or a pulled plug
    leaves no half bundle under the final name. Returns the bundle's size."""
    try:
        with atomic_writer(target, suffix=".part") as out:
            fill(out)
            size = out.tell()
    except OSError as exc:
        if exc.errno == 28:
            raise DomainError("USB đã đầy: không đủ chỗ cho gói hồ sơ. Hãy dùng USB khác.",
                              f"{target}: disk full") from exc
        raise DomainError(f"Không ghi được gói vào {target}: {exc.strerror or exc}.",
                          f"{target}: {exc!r}") from exc
    except codec.BundleError as exc:
        raise DomainError("Một tệp của hồ sơ đã thay đổi hoặc bị hỏng trong lúc xuất gói; "
                          "gói chưa được tạo. Hãy báo kỹ thuật viên.",
                          f"bundle export: {exc}") from exc
    return size
