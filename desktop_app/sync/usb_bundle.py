"""Export the pending dossiers, their files and events to a bundle on a USB stick: the
last resort for a commune with no link for days.

The bundle (`sync_contract.bundle_codec`) is sealed to the province's public key, so a
lost stick reveals nothing, and signed with this counter's own key, so the gateway knows
who made it. It is written as a stream, file by file, straight into the age encryptor
and a temporary file renamed into place at the end: memory stays flat. A queue larger
than one bundle may hold (`wire.BUNDLE_PART_BYTES`, under FAT32's 4 GiB file limit) is
split into parts, each dossier in the same part as its files and events, so any part
imported alone is complete; the parts can be imported in any order.

Exporting marks nothing as sent: the bundle may be lost on the way. When the link comes
back, the queue is sent as usual and the gateway answers ``unchanged`` for what the bundle
already delivered, so nothing is duplicated either way."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
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
from sync_contract import wire

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportSummary:
    path: str  # the first (or only) part
    bundle_id: str
    dossiers: int
    events: int
    files: int
    bytes: int
    paths: tuple[str, ...] = ()  # every part, in order
    bundle_ids: tuple[str, ...] = ()

    @property
    def text_vi(self) -> str:
        size = f"{self.bytes / 1024 / 1024:.1f} MB, đã mã hóa"
        if len(self.paths) > 1:
            where = (f"{len(self.paths)} tệp trong {Path(self.path).parent} ({size}; gói "
                     "lớn được chia để vừa USB định dạng FAT32)")
            run = "motcua sync --import-bundle TỆP… (từng tệp hoặc cả các tệp)"
        else:
            where = f"{self.path} ({size})"
            run = "motcua sync --import-bundle TỆP"
        return (f"Đã xuất {self.dossiers} hồ sơ, {self.files} tệp, {self.events} sự kiện "
                f"vào {where}. Mang gói này đến máy có mạng và chạy: {run}")


@dataclass
class _Part:
    """What one bundle file will carry."""

    docs: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    hashes: set[str] = field(default_factory=set)
    bytes: int = 0
    json_bytes: int = 0


def open_blob(ctx: AppContext, sha256: str) -> BinaryIO:
    """The stored file's plaintext as a stream, decrypted chunk by chunk as it is read."""
    return ctx.blobs.open_blob(sha256)


def plan_parts(docs: list[dict], events: list[dict], sizes: dict[str, int],
               part_bytes: int = wire.BUNDLE_PART_BYTES,
               part_json_bytes: int = wire.BUNDLE_PART_JSON_BYTES) -> list[_Part]:
    """Dossiers with their files and events, packed in queue order into parts of at most
    ``part_bytes`` (files and lists) and ``part_json_bytes`` (lists). A dossier larger
    than a part gets one of its own (the gateway will say if it is too large); a file two
    parts need travels in both. Files and events of no pending dossier fill the last."""
    by_client: dict[str, list[dict]] = {}
    loose: list[dict] = []
    client_ids = {str(d.get("ClientId", "")) for d in docs}
    for ev in events:
        cid = str(ev.get("ClientId", ""))
        (by_client.setdefault(cid, []) if cid in client_ids else loose).append(ev)
    parts = [_Part()]

    def place(new_docs: list[dict], new_events: list[dict], hashes: set[str]) -> None:
        part = parts[-1]
        text = sum(len(_json([x])) for x in (*new_docs, *new_events))
        extra = text + sum(sizes[h] for h in hashes - part.hashes)
        if (part.docs or part.events or part.hashes) and (
                part.bytes + extra > part_bytes or part.json_bytes + text > part_json_bytes):
            part = _Part()
            parts.append(part)
            extra = text + sum(sizes[h] for h in hashes)
        part.docs += new_docs
        part.events += new_events
        part.hashes |= hashes
        part.bytes += extra
        part.json_bytes += text

    placed: set[str] = set()
    for doc in docs:
        hashes = set(file_hashes(doc)) & sizes.keys()
        placed |= hashes
        place([doc], by_client.get(str(doc.get("ClientId", "")), []), hashes)
    for sha in sorted(sizes.keys() - placed):
        place([], [], {sha})
    if loose:
        place([], loose, set())
    return parts


def export_bundle(ctx: AppContext, service: SyncService, target: Path,
                  part_bytes: int = wire.BUNDLE_PART_BYTES) -> ExportSummary:
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
    parts = plan_parts(list(latest.values()), events, sizes, part_bytes)
    now = ctx.clock.now()
    target = Path(target)
    if target.is_dir():
        target = target / f"motcua-{station.agency_code}-{station.station_digit}-" \
                          f"{now:%Y%m%d-%H%M}.mcb"
    paths: list[str] = []
    ids: list[str] = []
    total = 0
    for i, part in enumerate(parts, 1):
        members = [codec.bytes_member(codec.DOSSIERS, _json(part.docs)),
                   codec.bytes_member(codec.EVENTS, _json(part.events))]
        for sha in sorted(part.hashes):
            members.append((codec.Member(codec.file_member_name(sha), sizes[sha], sha),
                            lambda sha=sha: open_blob(ctx, sha)))
        bundle_id = str(uuid.uuid4())
        path = target if len(parts) == 1 else target.with_name(
            f"{target.stem}-{i}of{len(parts)}{target.suffix}")
        size = _write(path, lambda out, members=members, bundle_id=bundle_id:
                      codec.write_bundle(
                          out, bundle_id=bundle_id, agency_code=station.agency_code,
                          station_digit=station.station_digit,
                          created_at=now.isoformat(timespec="seconds"), members=members,
                          signing_key=signer, recipient=recipient))
        with ctx.db.write() as s:
            repo.add_audit(s, ctx.clock.now(), None, "bundle_exported", "bundle", bundle_id,
                           {"dossiers": len(part.docs), "events": len(part.events),
                            "files": len(part.hashes), "bytes": size, "part": i,
                            "parts": len(parts)})
        log.info("bundle %s exported (part %d of %d): %d dossiers, %d files, %d bytes",
                 bundle_id, i, len(parts), len(part.docs), len(part.hashes), size)
        paths.append(str(path))
        ids.append(bundle_id)
        total += size
    return ExportSummary(paths[0], ids[0], len(latest), len(events), len(sizes), total,
                         tuple(paths), tuple(ids))


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
