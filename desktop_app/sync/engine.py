"""One sync run: push the outbox (files the gateway lacks, then dossiers, then events),
then pull (status changes, catalog, holiday overrides, clerk accounts).

Every step is idempotent and every state change is committed before the next request,
so the process may be killed at any instruction: the next run picks up where the last
one stopped, re-sending at most the request that was in flight (the gateway answers an
identical resend as ``unchanged``)."""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.audit_chain import HeadReporter
from desktop_app.blobs import BlobMissing, BlobStoreError
from desktop_app.context import AppContext
from desktop_app.sync.client import (
    AuthFailed,
    BatchUnsupported,
    GatewayClient,
    LinkDown,
    MissingBlobs,
    NotYet,
    Refused,
    SyncError,
    encode_dossier,
)
from desktop_app.sync.dossier_batch import BATCH_MAX_BYTES, BATCH_MAX_ITEMS, BatchLimits, plan
from desktop_app.sync.fleet_report import report_to_fleet
from desktop_app.sync.link import clock_skew_seconds
from desktop_app.sync.national import file_hashes
from desktop_app.sync.pull import Puller
from desktop_app.sync.report import SyncReport
from desktop_app.sync.result_fetch import fetch_results_after_queue
from desktop_app.sync.tus_upload import DEFAULT_CHUNK, MAX_CHUNK, TusUploader, UploadCancelled
from desktop_app.sync.update_fetch import fetch_after_queue
from local_db import outbox
from local_db import repositories as repo
from local_db.models import Station
from sync_contract import wire

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 3600.0
# Short, renewed every LEASE_RENEW_S while the item is being sent (``_Heartbeat``): the
# item of a station killed or unplugged mid-send is free for another one within LEASE_S.
LEASE_S = 15.0
LEASE_RENEW_S = 5.0
# Tries before a file that no reachable disk holds is parked for a supervisor.
MISSING_BLOB_TRIES = 6


def backoff_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential with ±50 % jitter, so a hundred stations coming back online after an
    outage do not hit the gateway in step."""
    r = (rng or random).uniform(0.5, 1.5)
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** min(attempts, 12))) * r


Cancelled = Callable[[], bool]
Progress = Callable[[str, int, int], None]  # (what, done, total)
Queued = tuple[int, str, int, dict]  # outbox id, dossier UUID, attempts, document


class SyncEngine:
    def __init__(self, ctx: AppContext, client: GatewayClient, holder: str, *,
                 chunk_size: int = DEFAULT_CHUNK, max_chunk_size: int | None = MAX_CHUNK,
                 rng: random.Random | None = None, station_digit: int | None = None,
                 batch_items: int = BATCH_MAX_ITEMS, batch_bytes: int = BATCH_MAX_BYTES
                 ) -> None:
        self.ctx = ctx
        # This PC's digit: the gateway takes a dossier only from the station whose digit
        # its code carries, so the dossiers of other counters sharing this database are
        # left to them.
        self.station_digit = station_digit
        self.client = client
        self.holder = holder
        self.uploader = TusUploader(client, chunk_size, max_chunk_size)
        self.rng = rng or random.Random()
        self.puller = Puller(ctx, client)
        self.audit_head = HeadReporter(ctx.db, client.session)
        # Dossier batches (contract 1.1): this station's own limits; the run's, within
        # what the gateway announces, are set from /health (None: one PUT per dossier).
        self.batch_items, self.batch_bytes = batch_items, batch_bytes
        self.batch_limits: BatchLimits | None = None

    def now(self) -> datetime:
        return self.ctx.clock.now()

    # --- the run -------------------------------------------------------------------------

    def run_once(self, cancelled: Cancelled = lambda: False, progress: Progress | None = None,
                 pull: bool = True) -> SyncReport:
        started = time.monotonic()
        report = SyncReport()
        try:
            health = self.client.health()
            report.online = True
            report.server_time = health.server_time
            report.clock_skew_s = clock_skew_seconds(health.server_time, self.now())
            self.batch_limits = BatchLimits.announced(health, self.batch_items,
                                                      self.batch_bytes)
            self.audit_head.before_run()  # this PC's audit-chain head rides every request
            self.push_files(report, cancelled, progress)
            self.push_dossiers(report, cancelled, progress)
            self.push_events(report, cancelled)
            self.ctx.blobs.share_disk(cancelled)  # once per PC, after an upgrade
            if pull and not cancelled():
                self.puller.pull(report)
                # Only now, with the queue pushed: a slice of a new version's download.
                fetch_after_queue(self.ctx, self.client, cancelled, progress)
                # The province's result documents, also only with the queue pushed.
                fetch_results_after_queue(self.ctx, self.client, cancelled, progress)
            self.audit_head.after_run(self.now())
            if not cancelled():
                report_to_fleet(self.ctx, self.client, health)  # never raises
        except AuthFailed as exc:
            report.auth_failed = True
            report.errors.append(exc.message_vi)
            log.error("sync stopped: %s", exc.detail)
        except LinkDown as exc:
            report.errors.append(exc.message_vi)
            log.info("sync: link down: %s", exc.detail)
        except UploadCancelled:
            log.info("sync cancelled")
        report.seconds = time.monotonic() - started
        log.info("sync run: %d files (%d already there), %d dossiers, %d events, %d refused, "
                 "%d retry later, %d changes pulled, %.1f s", report.files_uploaded,
                 report.files_already_there, report.dossiers_sent, report.events_sent,
                 report.refused, report.retry_later, report.changes_pulled, report.seconds)
        return report

    # --- item outcomes -------------------------------------------------------------------

    @contextmanager
    def _writing(self, session: Session | None) -> Iterator[Session]:
        """``session`` when the caller writes several outcomes in one transaction (the
        items of a batch), else a transaction of its own."""
        if session is not None:
            yield session
            return
        with self.ctx.db.write() as s:
            yield s

    def _retry(self, entry_id: int, attempts: int, exc: SyncError, report: SyncReport,
               soon: bool = False, session: Session | None = None) -> None:
        delay = 5.0 if soon else backoff_delay(attempts, self.rng)
        with self._writing(session) as s:
            outbox.mark_retry(s, entry_id, self.now(), exc.message_vi, delay,
                              count_attempt=not soon)
        report.retry_later += 1

    def _refuse(self, entry_id: int, entity_type: str, entity_id: str, exc: Refused,
                report: SyncReport, session: Session | None = None) -> None:
        now = self.now()
        with self._writing(session) as s:
            outbox.mark_refused(s, entry_id, now, exc.message_vi,
                                {"status": exc.status, **exc.body})
            repo.add_audit(s, now, None, "sync_refused", entity_type, entity_id,
                           {"status": exc.status, "code": exc.body.get("code", ""),
                            "outbox": entry_id})
        report.refused += 1
        report.errors.append(exc.message_vi)
        log.warning("outbox %d refused: %s", entry_id, exc.detail)

    def _release(self, entry_id: int, message_vi: str) -> None:
        """The link went away mid-item: free it for the next run without counting an
        attempt against it (nothing is wrong with the item itself)."""
        with self.ctx.db.write() as s:
            outbox.mark_retry(s, entry_id, self.now(), message_vi,
                              backoff_delay(0, self.rng), count_attempt=False)

    def _claim(self, entry_id: int, lease_s: float = LEASE_S) -> bool:
        with self.ctx.db.write() as s:
            return outbox.claim(s, entry_id, self.holder, self.now(), lease_s)

    @contextmanager
    def _held(self, *entry_ids: int) -> Iterator[None]:
        """Keep renewing the leases of ``entry_ids`` while the body sends them."""
        beat = _Heartbeat(self, entry_ids)
        beat.start()
        try:
            yield
        finally:
            beat.stop()

    # --- files ---------------------------------------------------------------------------

    def push_files(self, report: SyncReport, cancelled: Cancelled,
                   progress: Progress | None) -> None:
        with self.ctx.db.read() as s:
            items = [(e.id, e.entity_id, e.attempts, e.upload_url, dict(e.payload))
                     for e in outbox.due(s, "file", self.now(), limit=1000)]
        if not items:
            return
        hashes = sorted({sha for _, sha, _, _, _ in items})
        # Files received here before the shared store existed: let the other counters'
        # sync reach them too.
        self.ctx.blobs.share_local(hashes)
        missing = self.client.missing_blobs(hashes)
        with self.ctx.db.write() as s:
            for entry_id, sha, _, _, _ in items:
                if sha not in missing:
                    outbox.mark_sent(s, entry_id, self.now(), {"result": "already_there"})
                    report.files_already_there += 1
        # One upload per file even when several entries (dossiers) share it.
        groups: dict[str, list[tuple[int, int, str, dict]]] = {}
        for entry_id, sha, attempts, url, payload in items:
            if sha in missing:
                groups.setdefault(sha, []).append((entry_id, attempts, url, payload))
        total = len(groups)
        for n, (sha, group) in enumerate(groups.items(), 1):
            if cancelled():
                raise UploadCancelled("Đã dừng.", "cancelled")
            entry_id, attempts, _, payload = group[0]
            url = next((u for _, _, u, _ in group if u), "")
            if not self._claim(entry_id):
                continue  # another station or process is sending this file
            try:
                source = self.ctx.blobs.open_blob(sha)
            except BlobStoreError as exc:
                self._blob_unavailable(entry_id, attempts, sha, exc, report)
                continue

            def remember(new_url: str, entry_id: int = entry_id) -> None:
                with self.ctx.db.write() as s:
                    outbox.set_upload_url(s, entry_id, new_url)

            def moved(offset: int, size: int, n: int = n) -> None:
                if progress:
                    progress(f"Đang gửi tệp {n}/{total}", offset, size)

            try:
                with source, self._held(entry_id):
                    result = self.uploader.upload(
                        source, sha, filename=str(payload.get("file_name", "")), url=url,
                        on_url=remember, progress=moved, cancelled=cancelled)
            except BlobStoreError as exc:  # a chunk of this disk's copy is damaged
                self._blob_unavailable(entry_id, attempts, sha, exc, report)
                continue
            except Refused as exc:
                # The whole file did not match its hash on arrival: start afresh next time.
                with self.ctx.db.write() as s:
                    for other, _, _, _ in group:
                        outbox.set_upload_url(s, other, "")
                self._retry(entry_id, attempts, exc, report)
                continue
            except (LinkDown, AuthFailed, UploadCancelled):
                self._release(entry_id, "Mất kết nối khi đang gửi tệp.")
                raise
            except SyncError as exc:
                self._retry(entry_id, attempts, exc, report)
                continue
            report.bytes_sent += result.sent_bytes
            with self.ctx.db.write() as s:
                for other, _, _, _ in group:
                    outbox.mark_sent(s, other, self.now(),
                                     {"result": "uploaded" if other == entry_id
                                      else "same_blob", "resumed_from": result.resumed_from})
            report.files_uploaded += 1

    def _blob_unavailable(self, entry_id: int, attempts: int, sha: str, exc: BlobStoreError,
                          report: SyncReport) -> None:
        """The file is on no disk this station reaches. With a shared server the counter
        that received it may still share it (a file from before the shared store): try
        again later, and park the item for a supervisor only after several tries. A
        corrupt copy, or a single counter, is parked at once."""
        shared = self.ctx.blobs.shared is not None
        if shared and isinstance(exc, BlobMissing) and attempts + 1 < MISSING_BLOB_TRIES:
            log.warning("outbox %d: %s; retrying later (try %d of %d)", entry_id, exc.detail,
                        attempts + 1, MISSING_BLOB_TRIES)
            self._retry(entry_id, attempts, SyncError(
                "Tệp của hồ sơ chưa có trong kho chung trên máy chủ; sẽ gửi khi máy đã nhận "
                "hồ sơ này chạy đồng bộ.", exc.detail), report)
            return
        if isinstance(exc, BlobMissing):
            message = ("Tệp của hồ sơ không còn trên máy này" +
                       (" và không có trong kho chung trên máy chủ" if shared else "") +
                       "; hãy báo kỹ thuật viên.")
            code = "blob_missing"
        else:
            message = exc.message_vi
            code = "blob_unreadable"
        self._refuse(entry_id, "file", sha, Refused(message, exc.detail, 0, {"code": code}),
                     report)

    # --- dossiers ------------------------------------------------------------------------

    def push_dossiers(self, report: SyncReport, cancelled: Cancelled,
                      progress: Progress | None) -> None:
        while True:
            with self.ctx.db.read() as s:
                items = [(e.id, e.entity_id, e.attempts, dict(e.payload))
                         for e in outbox.due(s, "dossier", self.now(), limit=200)]
            if not items:
                return
            self._send_dossiers(items, report, cancelled, progress)
            if len(items) < 200:
                return

    def _send_dossiers(self, items: list[Queued], report: SyncReport,
                       cancelled: Cancelled, progress: Progress | None) -> None:
        # Only the newest revision of a dossier needs to travel; older entries are covered.
        best: dict[str, tuple[int, int]] = {}
        for entry_id, uuid, _, doc in items:
            key = (_revision(doc), entry_id)
            if uuid not in best or key > best[uuid]:
                best[uuid] = key
        newest = {uuid: key[1] for uuid, key in best.items()}
        others = self._other_counters()
        ready: list[Queued] = []
        for entry_id, uuid, attempts, doc in items:
            if cancelled():
                raise UploadCancelled("Đã dừng.", "cancelled")
            if newest[uuid] != entry_id:
                with self.ctx.db.write() as s:
                    outbox.mark_sent(s, entry_id, self.now(),
                                     {"result": "superseded", "by": newest[uuid]})
                continue
            if owner_digit(doc) in others:
                continue  # that counter sends it, under its own token
            hashes = file_hashes(doc)
            with self.ctx.db.read() as s:
                waiting = outbox.pending_for(s, "file", hashes)
            if waiting:
                # Its files go first; not a failure, so no attempt is counted.
                self._retry(entry_id, attempts,
                            SyncError("Đang chờ gửi xong tệp của hồ sơ.", "files pending"),
                            report, soon=True)
                continue
            doc.setdefault("PhienBan", 1)
            ready.append((entry_id, uuid, attempts, doc))
        done = len(items) - len(ready)

        def moved(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress("Đang gửi hồ sơ", done, len(items))

        if self.batch_limits is not None:
            ready = self._send_batches(ready, self.batch_limits, report, cancelled, moved)
        for item in ready:
            if cancelled():
                raise UploadCancelled("Đã dừng.", "cancelled")
            self._send_one(item, report)
            moved(1)

    def _send_one(self, item: Queued, report: SyncReport) -> None:
        entry_id, doc = item[0], item[3]
        if not self._claim(entry_id):
            return
        try:
            with self._held(entry_id):
                result: wire.DossierAck | SyncError = self.client.put_dossier(doc)
        except (LinkDown, AuthFailed):
            self._release(entry_id, "Mất kết nối.")
            raise
        except SyncError as exc:
            result = exc
        self._dossier_outcome(item, result, report)

    def _send_batches(self, ready: list[Queued], limits: BatchLimits, report: SyncReport,
                      cancelled: Cancelled, moved: Callable[[int], None]) -> list[Queued]:
        """Send ``ready`` in batches; returns what must still go one PUT each (a document
        too large for any batch, or all the rest once the gateway refuses batches)."""
        encoded = [encode_dossier(doc) for _, _, _, doc in ready]
        alone = [i for i, body in enumerate(encoded) if not limits.fits_alone(len(body))]
        batchable = sorted(set(range(len(ready))) - set(alone))
        groups = [[batchable[k] for k in group]
                  for group in plan([len(encoded[i]) for i in batchable], limits)]
        for g, group in enumerate(groups):
            if cancelled():
                raise UploadCancelled("Đã dừng.", "cancelled")
            with self.ctx.db.write() as s:
                claimed = outbox.claim_many(s, [ready[i][0] for i in group], self.holder,
                                            self.now(), LEASE_S)
            members = [i for i in group if ready[i][0] in claimed]  # only what we hold
            if not members:
                continue
            ids = [ready[i][0] for i in members]
            try:
                with self._held(*ids):
                    results = self.client.put_dossiers(
                        [(ready[i][1], encoded[i]) for i in members])
            except BatchUnsupported as exc:
                log.warning("dossier batches not taken (%s): one PUT per dossier", exc.detail)
                self.batch_limits = None
                rest = [i for later in groups[g:] for i in later]
                return [ready[i] for i in sorted(rest + alone)]
            except (LinkDown, AuthFailed):
                for entry_id in ids:
                    self._release(entry_id, "Mất kết nối.")
                raise
            except SyncError as exc:  # the gateway is busy: every item backs off
                with self.ctx.db.write() as s:
                    for i in members:
                        self._retry(ready[i][0], ready[i][2], exc, report, session=s)
                continue
            with self.ctx.db.write() as s:  # one commit for the batch's outcomes
                for i, result in zip(members, results, strict=True):
                    self._dossier_outcome(ready[i], result, report, s)
            moved(len(members))
        return [ready[i] for i in alone]

    def _dossier_outcome(self, item: Queued, result: wire.DossierAck | SyncError,
                         report: SyncReport, session: Session | None = None) -> None:
        """One dossier's answer onto its outbox entry, the same for a PUT and for an
        item of a batch (whose outcomes share ``session``)."""
        entry_id, uuid, attempts, _ = item
        if isinstance(result, MissingBlobs):
            self._requeue_files(result.missing, uuid, session)
            self._retry(entry_id, attempts, result, report, soon=True, session=session)
            return
        if isinstance(result, Refused):
            self._refuse(entry_id, "dossier", uuid, result, report, session)
            return
        if isinstance(result, SyncError):
            self._retry(entry_id, attempts, result, report, session=session)
            return
        ack = result
        now = self.now()
        warnings = [str(w) for w in ack.warnings]
        if warnings:
            log.warning("dossier %s stored by the gateway with warning(s): %s", uuid,
                        ", ".join(warnings))
        with self._writing(session) as s:
            outbox.mark_sent(s, entry_id, now, {"result": ack.result,
                                                "revision": ack.PhienBan,
                                                **({"warnings": warnings} if warnings
                                                   else {})})
            repo.add_audit(s, now, None, "dossier_synced", "dossier", uuid,
                           {"revision": ack.PhienBan, "result": ack.result,
                            "code": ack.MaHoSo,
                            **({"warnings": warnings} if warnings else {})})
        report.dossiers_sent += 1

    def _other_counters(self) -> set[int]:
        """Digits of the other counter PCs on this database (none on a PC of its own)."""
        if self.station_digit is None:
            return set()
        with self.ctx.db.read() as s:
            digits = set(s.scalars(select(Station.station_digit)))
        return digits - {self.station_digit}

    def _requeue_files(self, missing: list[str], dossier_uuid: str,
                       session: Session | None = None) -> None:
        """The gateway lost or never got some files (e.g. restored from a backup): put
        them back in the queue, once."""
        now = self.now()
        with self._writing(session) as s:
            have = {e.entity_id for e in outbox.pending_for(s, "file", missing)}
            for sha in missing:
                if sha not in have and repo.get_blob(s, sha) is not None:
                    repo.add_outbox(s, "file", sha, "upload",
                                    {"dossier": dossier_uuid, "requeued": True}, now)
        log.info("dossier %s: %d file(s) requeued at the gateway's request", dossier_uuid,
                 len(missing))

    # --- events --------------------------------------------------------------------------

    def push_events(self, report: SyncReport, cancelled: Cancelled) -> None:
        with self.ctx.db.read() as s:
            items = [(e.id, e.entity_id, e.attempts, dict(e.payload))
                     for e in outbox.due(s, "event", self.now(), limit=500)]
        for entry_id, event_id, attempts, body in items:
            if cancelled():
                raise UploadCancelled("Đã dừng.", "cancelled")
            with self.ctx.db.read() as s:
                before = outbox.pending_for(s, "dossier", [str(body.get("ClientId", ""))])
            if before:
                self._retry(entry_id, attempts, SyncError("Chờ gửi hồ sơ trước.", "wait"),
                            report, soon=True)
                continue
            if not self._claim(entry_id):
                continue
            try:
                with self._held(entry_id):
                    self.client.post_event(body)
            except NotYet as exc:
                self._retry(entry_id, attempts, exc, report)
                continue
            except Refused as exc:
                self._refuse(entry_id, "event", event_id, exc, report)
                continue
            except (LinkDown, AuthFailed):
                self._release(entry_id, "Mất kết nối.")
                raise
            except SyncError as exc:
                self._retry(entry_id, attempts, exc, report)
                continue
            with self.ctx.db.write() as s:
                outbox.mark_sent(s, entry_id, self.now(), {"result": "ok"})
            report.events_sent += 1


class _Heartbeat:
    """A small timer thread renewing one item's lease while a request or an upload is
    in flight; it dies with the process, and with it the lease, within LEASE_S."""

    def __init__(self, engine: SyncEngine, entry_ids: tuple[int, ...]) -> None:
        self.engine, self.entry_ids = engine, entry_ids
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"lease-{entry_ids[0]}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        e = self.engine
        held = list(self.entry_ids)
        while held and not self._stop.wait(LEASE_RENEW_S):
            try:
                with e.ctx.db.write() as s:
                    lost = [i for i in held if not outbox.renew(s, i, e.holder, e.now(),
                                                                 LEASE_S)]
            except Exception:  # the database is away: the request itself will tell
                log.warning("outbox %s: lease not renewed (database unreachable)",
                            _ids(held), exc_info=True)
                continue
            if lost:
                log.warning("outbox %s: lease lost while sending; the gateway's idempotence "
                            "covers a second send", _ids(lost))
                held = [i for i in held if i not in lost]


def _ids(entry_ids: list[int]) -> str:
    return str(entry_ids[0]) if len(entry_ids) == 1 else f"{entry_ids[0]}…{entry_ids[-1]}"


_OWN_NUMBER = re.compile(r"-\d{6}-([1-9])\d{3}$")


def owner_digit(doc: dict) -> int | None:
    """The station digit a dossier's code (or, for a refusal, its slip number
    ``TC-{YYMMDD}-{digit}{NNN}``) carries; None when it carries none."""
    for key in ("MaHoSo", "SoPhieu"):
        m = _OWN_NUMBER.search(str(doc.get(key) or ""))
        if m:
            return int(m.group(1))
    return None


def _revision(doc: dict) -> int:
    try:
        return int(doc.get("PhienBan", 1))
    except (TypeError, ValueError):
        return 1


