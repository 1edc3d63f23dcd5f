"""The province's copies of a citizen's documents (contract 1.3, `citizen_documents`).

Asked from a background worker only, with a short timeout: a gateway that is down, slow
or older than the feature gives nothing, quietly, and the local index stands alone.
Province entries are offered only for kinds with no copy at this station, and only for
the ID number they were asked for. Reusing one downloads its file through the blob route
(hash and size checked) into the encrypted blob store, so the dossier links a local blob
like any reuse; its source is the province's dossier code (MaKetQuaThayThe) with no local
file to point at (``source_kind`` "province")."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from datetime import datetime

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizedFile
from desktop_app.domain.errors import DomainError
from desktop_app.intake.reuse import OnFile
from desktop_app.sync.client import GatewayClient, SyncError
from local_db import repositories as repo
from local_db.models import Blob
from sync_contract import wire

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT = (3.0, 5.0)  # connect, read: the clerk is waiting on the step
DOWNLOAD_CHUNK = 256 * 1024


class ProvinceFileUnavailable(DomainError):
    """The province's copy could not be brought to this station (link, hash)."""


def _received(value: str) -> datetime:
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return datetime.min


def province_on_file(ctx: AppContext, client: GatewayClient, id_number: str,
                     clerk: ClerkInfo, procedure_code: str,
                     local_kinds: Sequence[str] = ()) -> list[OnFile]:
    """Province entries for kinds without a local copy; [] when the gateway cannot
    answer (offline, older, refusing). An answered look-up is audited like the local one."""
    id_number = re.sub(r"\s", "", id_number)
    if not re.fullmatch(r"\d{9}|\d{12}", id_number):
        return []
    try:
        if wire.FEATURE_CITIZEN_DOCUMENTS not in client.health(LOOKUP_TIMEOUT).features:
            return []
        docs = client.citizen_documents(id_number, timeout=LOOKUP_TIMEOUT)
    except SyncError as exc:
        log.info("province documents not looked up: %s", exc.detail)
        return []
    skip = set(local_kinds)
    grouped: dict[str, list[wire.CitizenDocument]] = {}
    for d in docs:
        if d.kind and d.kind not in skip and re.fullmatch(r"[0-9a-f]{64}", d.sha256):
            items = grouped.setdefault(d.kind, [])
            if not items or items[0].ma_ho_so == d.ma_ho_so:  # one dossier per kind
                items.append(d)
    found = []
    for kind, items in grouped.items():
        files = tuple(DigitizedFile(d.sha256, d.file_name or f"{d.sha256[:12]}.pdf", n,
                                    len(items), 0, d.size, 0, (), source_code=d.ma_ho_so,
                                    source_kind="province")
                      for n, d in enumerate(items, start=1))
        first = items[0]
        found.append(OnFile(kind, first.name, first.ma_ho_so, _received(first.received_at),
                            files, where="province"))
    with ctx.db.write() as s:
        repo.add_audit(s, ctx.clock.now(), clerk.id, "citizen_documents_looked_up", "intake",
                       ctx.paths.install_id(),
                       {"procedure": procedure_code, "where": "province", "found": len(found),
                        "dossiers": sorted({o.dossier_code for o in found})})
    log.info("province documents looked up for procedure %s: %d found", procedure_code,
             len(found))
    return found


def _chunks(client: GatewayClient, f: DigitizedFile) -> Iterator[bytes]:
    resp = client.request("GET", wire.BLOB.format(sha256=f.sha256), stream=True)
    try:
        if resp.status_code != 200:
            raise client._fail(resp, "province document")
        yield from resp.iter_content(DOWNLOAD_CHUNK)
    finally:
        resp.close()


def bring_local(ctx: AppContext, client: GatewayClient, entry: OnFile) -> OnFile:
    """Download the files of a province entry not yet in the blob store (from a worker),
    each checked against the announced SHA-256 and size."""
    for f in entry.files:
        with ctx.db.read() as s:
            if s.get(Blob, f.sha256) is not None:  # already here (an earlier reuse)
                continue
        try:
            sha, size = ctx.blobs.put_chunks(_chunks(client, f), "province document")
        except SyncError as exc:
            raise ProvinceFileUnavailable(
                "Chưa tải được bản số hóa từ hệ thống tỉnh; hãy thử lại hoặc quét giấy tờ.",
                f"province document {f.sha256[:12]}: {exc.detail}") from exc
        if sha != f.sha256 or size != f.size:
            raise ProvinceFileUnavailable(
                "Bản số hóa tải từ hệ thống tỉnh không khớp mã kiểm tra; máy không dùng "
                "bản này. Hãy quét giấy tờ.",
                f"province document: got {sha[:12]} ({size} bytes), announced "
                f"{f.sha256[:12]} ({f.size} bytes)")
        with ctx.db.write() as s:
            repo.ensure_blob(s, sha, size, "application/pdf", ctx.clock.now())
        log.info("province document %s stored locally (%d bytes)", sha[:12], size)
    return entry


def province_documents(ctx: AppContext, clerk: ClerkInfo, id_number: str,
                       procedure_code: str, local_kinds: Sequence[str]) -> list[OnFile]:
    """The look-up the intake wizard runs: [] when this station has no gateway set up."""
    from desktop_app.sync.service import SyncService

    service = SyncService(ctx)
    if not service.configured():
        return []
    try:
        client = service.client()
    except DomainError as exc:
        log.info("province documents not looked up: %s", exc.detail)
        return []
    return province_on_file(ctx, client, id_number, clerk, procedure_code, local_kinds)


def fetch_province_copy(ctx: AppContext, entry: OnFile) -> OnFile:
    """Bring a province entry's files into the blob store (for the wizard's Ctrl+R)."""
    from desktop_app.sync.service import SyncService

    return bring_local(ctx, SyncService(ctx).client(), entry)
