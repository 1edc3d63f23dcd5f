"""Fetching a new version over the province's link, in the background, politely.

Called once per sync cycle, after the upload queue (`SyncEngine.run_once`), it:

1. asks the gateway for the newest installer of this platform (`release_manifest`), and
   goes no further for a version not newer than the running one, another platform, or a
   station provisioned without the province's release public key;
2. checks the province's Ed25519 signature over (product, version, platform, SHA-256,
   size) before a byte is downloaded, so a forged manifest costs no bandwidth;
3. downloads only while the outbox has nothing due or in flight (dossiers first, always),
   in small HTTP Range requests appended to ``updates/<name>.part``, each fsynced and
   noted in ``<name>.part.json`` before the next: a cut, a restart or a power failure
   resumes from the last noted byte. Between chunks it pauses, so the download takes at
   most ``LINK_SHARE`` of the link's measured rate (each chunk's own transfer rate) and at
   most ``update_max_kbps`` when provisioned. It stops as soon as a dossier is queued, and
   after ``slice_s`` seconds so status pulls keep their rhythm; the next cycle resumes;
4. verifies the whole file's SHA-256 and size against the signed ones. A bad signature or
   hash is refused: the file is deleted, an English log line and an audit event are
   written, and `update_store.update_status` carries the Vietnamese message for the GUI,
   doctor and the heartbeat. The same refused release is not fetched again until the
   province publishes another one (or a technician asks: `motcua update --download`).
"""

from __future__ import annotations

import enum
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version
from sqlalchemy import func, or_, select

from desktop_app import __version__
from desktop_app.context import AppContext
from desktop_app.files import fsync_dir
from desktop_app.sync.client import GatewayClient, LinkDown, Refused, SyncError
from desktop_app.sync.update_settings import max_kbps, release_public_key
from desktop_app.sync.update_store import (
    READY,
    REFUSED,
    REFUSED_VI,
    UpdateStore,
    this_platform,
)
from local_db import outbox
from local_db import repositories as repo
from local_db.models import OutboxEntry
from sync_contract import release_manifest as rm

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 64 * 1024
LINK_SHARE = 0.25
SLICE_S = 45.0


class Outcome(enum.StrEnum):
    NOT_CONFIGURED = "not_configured"  # no release public key provisioned
    UP_TO_DATE = "up_to_date"  # nothing published, or nothing newer for this platform
    IGNORED = "ignored"  # a manifest for another product or platform
    AVAILABLE = "available"  # newer and signed, not downloaded yet (check only)
    QUEUE_BUSY = "queue_busy"  # dossiers to send first: not started
    PAUSED = "paused"  # stopped part-way (queue, cancel, time slice); resumes next time
    LINK_DOWN = "link_down"  # cut mid-way; the .part resumes next time
    READY = "ready"  # downloaded and verified
    REFUSED = "refused"  # bad signature or hash: deleted and reported


@dataclass(frozen=True)
class FetchResult:
    outcome: Outcome
    version: str = ""
    fetched: int = 0  # bytes downloaded by this call
    resumed_from: int = 0
    detail: str = ""


def queue_busy(ctx: AppContext) -> bool:
    """Something in the outbox wants the link now: due, or being sent (leased). Items
    waiting out a backoff do not hold the update back for hours."""
    now = ctx.clock.now()
    with ctx.db.read() as s:
        n = s.scalar(select(func.count()).select_from(OutboxEntry).where(
            OutboxEntry.state == outbox.PENDING,
            or_(OutboxEntry.next_attempt_at <= now, OutboxEntry.lease_until > now)))
    return bool(n)


def newer(version: str, than: str) -> bool:
    try:
        return Version(version) > Version(than)
    except InvalidVersion:
        return False


class UpdateFetcher:
    def __init__(self, ctx: AppContext, client: GatewayClient, *,
                 running_version: str = __version__, platform: str | None = None,
                 chunk: int = DEFAULT_CHUNK, share: float = LINK_SHARE,
                 max_rate_kbps: int | None = None, slice_s: float = SLICE_S,
                 busy: Callable[[], bool] | None = None,
                 cancelled: Callable[[], bool] = lambda: False,
                 progress: Callable[[str, int, int], None] | None = None) -> None:
        self.ctx = ctx
        self.client = client
        self.running = running_version
        self.platform = platform or this_platform()
        self.chunk = chunk
        self.share = share
        self.max_rate_kbps = max_rate_kbps if max_rate_kbps is not None else max_kbps(ctx)
        self.slice_s = slice_s
        self.busy = busy or (lambda: queue_busy(ctx))
        self.cancelled = cancelled
        self.progress = progress
        self.store = UpdateStore(ctx.paths.root)

    # --- the manifest --------------------------------------------------------------------

    def latest(self) -> rm.UpdateManifest | None:
        try:
            fetched = self.client.fetch(f"{rm.UPDATES_LATEST}?platform={self.platform}",
                                        rm.UpdateManifest)
        except Refused as exc:
            if exc.status == 404 and exc.body.get("code") == rm.E_NO_UPDATE:
                return None
            raise
        manifest = fetched.body
        assert isinstance(manifest, rm.UpdateManifest)
        if not manifest.download_path.startswith("/api/"):
            # Only a path on this gateway, under its API (where the token may go).
            raise LinkDown("Câu trả lời của hệ thống tỉnh không đúng định dạng; sẽ thử lại.",
                           f"update manifest: unexpected download path "
                           f"{manifest.download_path[:60]!r}")
        return manifest

    def check(self) -> tuple[Outcome, rm.UpdateManifest | None]:
        """What the gateway offers this PC (no download)."""
        key = release_public_key(self.ctx)
        if not key:
            return Outcome.NOT_CONFIGURED, None
        manifest = self.latest()
        if manifest is None:
            self._installed_cleanup()
            return Outcome.UP_TO_DATE, None
        if manifest.product != rm.PRODUCT or manifest.platform != self.platform:
            log.info("update manifest for %s/%s ignored (this PC takes %s)", manifest.product,
                     manifest.platform, self.platform)
            return Outcome.IGNORED, manifest
        if not newer(manifest.version, self.running):
            self._installed_cleanup()
            return Outcome.UP_TO_DATE, manifest
        same = {"version": manifest.version, "sha256": manifest.sha256}
        ready, refused = self.store.ready(), self.store.refused()
        if _matches(ready, same) and self.store.installer(manifest.version,
                                                          manifest.platform).is_file():
            return Outcome.READY, manifest
        if _matches(refused, {**same, "signature": manifest.signature}):
            return Outcome.REFUSED, manifest  # told once already; not fetched again
        if not rm.verify(key, manifest):
            self._refuse(manifest, "signature")
            return Outcome.REFUSED, manifest
        return Outcome.AVAILABLE, manifest

    # --- the run -------------------------------------------------------------------------

    def run(self, *, force: bool = False) -> FetchResult:
        """One polite slice of work. ``force`` (a technician's command): start even with
        dossiers queued, and try a refused release again."""
        if force:
            self.store.record(REFUSED, None)
        outcome, manifest = self.check()
        if outcome != Outcome.AVAILABLE or manifest is None:
            return FetchResult(outcome, manifest.version if manifest else "")
        if not force and self.busy():
            return FetchResult(Outcome.QUEUE_BUSY, manifest.version)
        return self._download(manifest, force)

    def _release(self, m: rm.UpdateManifest) -> dict[str, object]:
        return {"version": m.version, "platform": m.platform, "sha256": m.sha256,
                "size": m.size}

    def _download(self, m: rm.UpdateManifest, force: bool) -> FetchResult:
        part = self.store.part(m.version, m.platform)
        self.store.dir.mkdir(parents=True, exist_ok=True)
        release = self._release(m)
        offset = self.store.resume_offset(part, release)
        if offset == 0:
            # Parts of other releases are of no use any more (a verified installer stays
            # until this one is verified).
            for other in self.store.dir.glob("*.part"):
                if other != part:
                    self.store.drop_part(other)
            self.store.note_offset(part, release, 0)
            part.touch()
        start, started = offset, time.monotonic()
        if start:
            log.info("update %s: resuming the download at byte %d of %d", m.version, start,
                     m.size)
        else:
            log.info("update %s: download starts (%d bytes)", m.version, m.size)
        try:
            while offset < m.size:
                if self.cancelled() or (not force and self.busy()):
                    log.info("update %s: download paused at byte %d (dossiers to send)",
                             m.version, offset)
                    return FetchResult(Outcome.PAUSED, m.version, offset - start, start)
                if time.monotonic() - started > self.slice_s:
                    return FetchResult(Outcome.PAUSED, m.version, offset - start, start)
                t0 = time.monotonic()
                data = self._chunk(m, offset, min(m.size, offset + self.chunk) - 1)
                took = time.monotonic() - t0
                with part.open("r+b") as f:
                    f.seek(offset)
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                offset += len(data)
                self.store.note_offset(part, release, offset)
                if self.progress:
                    self.progress("Đang tải bản cập nhật", offset, m.size)
                self._pause(len(data), took)
        except LinkDown as exc:
            log.info("update %s: link lost at byte %d (%s); resumes next time", m.version,
                     offset, exc.detail)
            return FetchResult(Outcome.LINK_DOWN, m.version, offset - start, start, exc.detail)
        return self._verify(m, part, offset - start, start)

    def _chunk(self, m: rm.UpdateManifest, first: int, last: int) -> bytes:
        return self.client.range_chunk(m.download_path, m.sha256, first, last, "update",
                                       total=m.size)

    def _pause(self, nbytes: int, took: float) -> None:
        """Keep to ``share`` of the rate this chunk just measured, and to the cap."""
        wait = took * (1 / self.share - 1) if 0 < self.share < 1 else 0.0
        if self.max_rate_kbps:
            wait = max(wait, nbytes * 8 / (self.max_rate_kbps * 1000) - took)
        deadline = time.monotonic() + wait
        while not self.cancelled():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.25))

    # --- the verdict ---------------------------------------------------------------------

    def _verify(self, m: rm.UpdateManifest, part: Path, fetched: int,
                start: int) -> FetchResult:
        h = hashlib.sha256()
        size = 0
        with part.open("rb") as f:
            while block := f.read(1024 * 1024):
                h.update(block)
                size += len(block)
        sha = h.hexdigest()
        key = release_public_key(self.ctx)
        if sha != m.sha256 or size != m.size or not rm.verify(key, m, sha, size):
            self._refuse(m, "hash", got=sha)
            return FetchResult(Outcome.REFUSED, m.version, fetched, start, "hash")
        final = self.store.installer(m.version, m.platform)
        part.replace(final)
        self.store.part_info(part).unlink(missing_ok=True)
        fsync_dir(final.parent)
        self.store.drop_all(keep=final)  # an older verified installer is superseded
        now = self.ctx.clock.now()
        self.store.record(READY, {**self._release(m), "signature": m.signature,
                                  "path": str(final), "at": now.isoformat(timespec="seconds")})
        if not newer(str(self.store.refused().get("version", "")), m.version):
            self.store.record(REFUSED, None)  # a good release at least as new replaces it
        with self.ctx.db.write() as s:
            repo.add_audit(s, now, None, "update_verified", "update", m.version,
                           {"platform": m.platform, "sha256": m.sha256, "size": m.size})
        log.info("update %s (%s) downloaded and verified: signature and sha256 %s match",
                 m.version, m.platform, m.sha256[:12])
        return FetchResult(Outcome.READY, m.version, fetched, start)

    def _refuse(self, m: rm.UpdateManifest, reason: str, got: str = "") -> None:
        """Delete whatever was fetched of it (an earlier verified installer stays), and say
        so everywhere once."""
        self.store.drop_release(m.version, m.platform)
        now = self.ctx.clock.now()
        self.store.record(REFUSED, {**self._release(m), "signature": m.signature,
                                    "reason": reason, "at": now.isoformat(timespec="seconds")})
        with self.ctx.db.write() as s:
            repo.add_audit(s, now, None, "update_refused", "update", m.version,
                           {"platform": m.platform, "sha256": m.sha256, "reason": reason,
                            **({"got_sha256": got} if got else {})})
        if reason == "signature":
            log.warning("update %s (%s) refused: its signature does not verify with the "
                        "provisioned release key; nothing kept", m.version, m.platform)
        else:
            log.warning("update %s (%s) refused: downloaded file sha256 %s does not match "
                        "the signed %s; file deleted", m.version, m.platform, got[:12],
                        m.sha256[:12])
        log.debug("refusal shown as: %s", REFUSED_VI.get(reason, reason))

    def _installed_cleanup(self) -> None:
        """The version downloaded earlier is now the running one (or older): its files go."""
        version = str(self.store.ready().get("version", ""))
        if version and not newer(version, self.running):
            self.store.drop_all()
            self.store.record(READY, None)
            with self.ctx.db.write() as s:
                repo.add_audit(s, self.ctx.clock.now(), None, "update_installed", "update",
                               version, {"running": self.running})
            log.info("update %s is installed (running %s); its installer removed", version,
                     self.running)


def _matches(record: dict[str, object], wanted: dict[str, object]) -> bool:
    return bool(record) and all(record.get(k) == v for k, v in wanted.items())


def fetch_after_queue(ctx: AppContext, client: GatewayClient,
                      cancelled: Callable[[], bool] = lambda: False,
                      progress: Callable[[str, int, int], None] | None = None
                      ) -> FetchResult | None:
    """The sync cycle's one call, after the queue was pushed: a slice of the update
    download when the station has a release key and nothing is queued. Never raises a
    sync error into the run (the dossiers' report stays the dossiers')."""
    if not release_public_key(ctx):
        return None
    try:
        return UpdateFetcher(ctx, client, cancelled=cancelled, progress=progress).run()
    except SyncError as exc:
        log.info("update check skipped: %s", exc.detail)
        return FetchResult(Outcome.LINK_DOWN, detail=exc.detail)

