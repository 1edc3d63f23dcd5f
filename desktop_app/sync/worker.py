"""The background sync worker: its own thread, never the UI's.

Online, it runs whenever something is queued (``wake()``) and every ``interval_s`` to pull
status changes. Offline, it probes the gateway with exponential backoff and jitter (5 s up
to 5 min) and, the moment the link answers again, makes every waiting item due and runs
at once instead of waiting out each item's own backoff."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from desktop_app.domain.errors import DomainError
from desktop_app.sync.client import LinkDown, SyncError
from desktop_app.sync.report import SyncReport
from desktop_app.sync.service import QueueStatus, SyncService
from local_db import outbox

log = logging.getLogger(__name__)

PROBE_MIN_S = 5.0
PROBE_MAX_S = 300.0


@dataclass(frozen=True)
class WorkerState:
    online: bool | None = None  # None: not known yet (or not configured)
    configured: bool = True
    running: bool = False
    auth_failed: bool = False
    queue: QueueStatus | None = None
    last_error: str = ""
    last_report: SyncReport | None = None
    progress: tuple[str, int, int] = ("", 0, 0)
    checked_at: datetime | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)


Listener = Callable[[WorkerState], None]


class SyncWorker:
    def __init__(self, service: SyncService, *, interval_s: float = 60.0,
                 listener: Listener | None = None, rng: random.Random | None = None) -> None:
        self.service = service
        self.interval_s = interval_s
        self.listener = listener
        self.rng = rng or random.Random()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = WorkerState()
        self._probe_delay = PROBE_MIN_S

    # --- control (any thread) --------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="motcua-sync", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Something was queued, or the clerk pressed "sync now"."""
        self._wake.set()

    def cancel_run(self) -> None:
        self._cancel.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._cancel.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # --- the loop (worker thread) ----------------------------------------------------

    def _publish(self, **changes: object) -> None:
        self.state = replace(self.state, **changes)  # type: ignore[arg-type]
        if self.listener is not None:
            try:
                self.listener(self.state)
            except Exception:  # a broken listener must not kill the sync thread
                log.exception("sync listener failed")

    def _queue(self) -> QueueStatus | None:
        try:
            return self.service.status()
        except Exception:
            log.exception("reading the sync queue failed")
            return None

    def _loop(self) -> None:
        while not self._stop.is_set():
            delay = self._step()
            self._wake.wait(delay)
            self._wake.clear()

    def _step(self) -> float:
        """One cycle; returns how long to sleep."""
        now = self.service.ctx.clock.now()
        if not self.service.configured():
            self._publish(configured=False, online=None, queue=self._queue(), checked_at=now)
            return self.interval_s
        was_online = self.state.online
        try:
            client = self.service.client()
        except DomainError as exc:
            self._publish(configured=False, last_error=exc.message_vi)
            return self.interval_s
        try:
            try:
                client.health()
            except SyncError as exc:
                self._probe_delay = min(PROBE_MAX_S, self._probe_delay * 2)
                delay = self._probe_delay * self.rng.uniform(0.7, 1.3)
                self._publish(online=False, configured=True, last_error=exc.message_vi,
                              queue=self._queue(), checked_at=now)
                log.info("gateway unreachable (%s); next probe in %.0f s", exc.detail, delay)
                return delay
            self._probe_delay = PROBE_MIN_S
            if was_online is False:
                n = self.service.retry()
                log.info("link is back: %d queued item(s) due now", n)
            self._cancel.clear()
            self._publish(online=True, configured=True, running=True, checked_at=now)
            engine = self.service.engine(client)
            report = engine.run_once(
                cancelled=lambda: self._cancel.is_set() or self._stop.is_set(),
                progress=lambda what, done, total: self._publish(progress=(what, done, total)))
            queue = self._queue()
            if report.online and not report.auth_failed and queue and queue.pending == 0:
                self.service.record_success()
                queue = self._queue()
            self._publish(running=False, online=report.online,
                          auth_failed=report.auth_failed, last_report=report, queue=queue,
                          last_error=report.errors[-1] if report.errors else "",
                          errors=tuple(report.errors), progress=("", 0, 0))
            if report.auth_failed:
                # Nothing will work until a technician fixes the token: stay quiet.
                return PROBE_MAX_S
            if not report.online:
                return PROBE_MIN_S
            return self._until_next_due(queue)
        except LinkDown as exc:
            self._publish(online=False, running=False, last_error=exc.message_vi)
            return PROBE_MIN_S
        except Exception as exc:  # the worker must survive anything and try again later
            log.exception("sync cycle failed")
            self._publish(running=False, last_error=f"Lỗi đồng bộ: {type(exc).__name__}")
            return self.interval_s
        finally:
            client.close()

    def _until_next_due(self, queue: QueueStatus | None) -> float:
        with self.service.ctx.db.read() as s:
            due = outbox.next_due_at(s)
        if due is None:
            return self.interval_s
        wait = (due - self.service.ctx.clock.now()).total_seconds()
        return max(1.0, min(self.interval_s, wait))
