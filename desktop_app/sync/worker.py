"""The background sync worker: its own thread, never the UI's.

Each turn starts with a probe of the gateway (``GET /health``); its outcome is the
online/offline state the status bar shows, so a lost link shows at the first failed
probe, not at the first failed send. Online, it runs whenever something is queued
(``wake()``, or a new outbox row noticed by a cheap poll every ``poll_s``), when an item's
retry time comes, and every ``interval_s`` to pull status changes; in between, a turn is
a probe only. When it probes is ``probe_schedule``'s rule: offline with items waiting at
most every 3 s, offline and idle with backoff up to 5 min. The moment the link answers
again it makes every waiting item due and runs at once instead of waiting out each item's
own backoff. ``probe_now()`` (the OS's network-change signal, clerk activity) ends any
wait with a probe.

The loop never ends except by ``stop()``: a database fault (server stopped, SQLite locked
or read-only, full disk) is published in ``WorkerState.db_error`` and retried with its own
backoff (2 s up to 60 s), apart from the gateway's; any other exception is logged and
retried. Should the thread end all the same, ``ensure_alive()`` (the GUI's status timer,
the service loop) starts it again. ``last_beat`` tells others whether it still turns."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy.exc
from sqlalchemy import func, select

from desktop_app.context import DatabaseUnavailable
from desktop_app.domain.errors import DomainError
from desktop_app.sync.client import GatewayClient, LinkDown, SyncError
from desktop_app.sync.heartbeat import STALL_INTERVALS, write_heartbeat
from desktop_app.sync.probe_schedule import PROBE_MAX_S, PROBE_TIMEOUT, ProbePolicy, ProbeSchedule
from desktop_app.sync.report import SyncReport
from desktop_app.sync.service import QueueStatus, SyncService
from local_db import outbox
from local_db.models import OutboxEntry

log = logging.getLogger(__name__)

DB_RETRY_MIN_S = 2.0
DB_RETRY_MAX_S = 60.0
POLL_S = 5.0  # how often an idle worker looks for new outbox rows (one tiny query)
HEARTBEAT_EVERY_S = 10.0  # the file is rewritten at least this often, and on any change

DB_ERROR_SERVER_VI = ("Mất kết nối máy chủ dữ liệu: hồ sơ chưa gửi được lên tỉnh; "
                      "máy tự thử lại. Nếu kéo dài, hãy báo kỹ thuật viên.")
DB_ERROR_LOCAL_VI = ("Không ghi được cơ sở dữ liệu trên máy này (đang bị khóa, đầy ổ đĩa "
                     "hoặc chỉ đọc): máy tự thử lại. Nếu kéo dài, hãy báo kỹ thuật viên.")
DISK_ERROR_VI = ("Không đọc/ghi được thư mục dữ liệu trên máy này: máy tự thử lại. Nếu "
                 "kéo dài, hãy báo kỹ thuật viên.")


def _is_db_fault(exc: BaseException) -> bool:
    if isinstance(exc, sqlalchemy.exc.DBAPIError | sqlalchemy.exc.DisconnectionError
                  | DatabaseUnavailable):
        return True
    # Network errors are the gateway's business (they arrive as SyncError anyway).
    return isinstance(exc, OSError) and not isinstance(exc, ConnectionError | TimeoutError) \
        and type(exc).__module__.split(".")[0] not in ("requests", "urllib3")


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
    db_error: str = ""  # Vietnamese; empty when the database answers
    db_error_since: datetime | None = None
    last_beat: float = 0.0  # time.time() of the loop's last turn
    restarts: int = 0  # how often ensure_alive() had to start the thread again
    next_probe_s: float | None = None  # offline: the delay until the next probe


Listener = Callable[[WorkerState], None]


class SyncWorker:
    def __init__(self, service: SyncService, *, interval_s: float = 60.0,
                 listener: Listener | None = None, rng: random.Random | None = None,
                 poll_s: float = POLL_S, heartbeat: Path | None = None,
                 db_retry_min_s: float = DB_RETRY_MIN_S,
                 probe_policy: ProbePolicy | None = None) -> None:
        self.service = service
        self.interval_s = interval_s
        self.poll_s = poll_s
        self.listener = listener
        self.rng = rng or random.Random()
        self.heartbeat = heartbeat
        self.db_retry_min_s = db_retry_min_s
        self._wake = threading.Event()
        self._run_asked = threading.Event()  # the next turn runs, not only probes
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.state = WorkerState()
        self.probes = ProbeSchedule(probe_policy, self.rng)
        self._last_run = 0.0  # time.monotonic() of the last full run
        self._db_delay = db_retry_min_s
        self._last_row: int | None = None
        self._stall_logged = False
        self._hb_written: tuple[float, tuple[object, ...]] = (0.0, ())

    @property
    def stall_after_s(self) -> float:
        return STALL_INTERVALS * max(self.interval_s, self.poll_s)

    # --- control (any thread) --------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._spawn()

    def _spawn(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="motcua-sync", daemon=True)
        self._thread.start()

    def ensure_alive(self) -> bool:
        """Start the thread again if it ended without ``stop()``; warn once when it stopped
        beating. True when it had to be restarted."""
        with self._lock:
            thread = self._thread
            if thread is None or self._stop.is_set():
                return False
            if thread.is_alive():
                age = time.time() - self.state.last_beat
                if self.state.last_beat and age > self.stall_after_s:
                    if not self._stall_logged:
                        log.warning("sync worker stalled: no heartbeat for %.0f s", age)
                        self._stall_logged = True
                else:
                    self._stall_logged = False
                return False
            restarts = self.state.restarts + 1
            log.error("sync worker thread had ended; restarting it (restart #%d)", restarts)
            self.state = replace(self.state, restarts=restarts, running=False)
            self._spawn()
        self._notify()
        return True

    @property
    def alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def wake(self) -> None:
        """Something was queued, or the clerk pressed "sync now": probe and run now."""
        self._run_asked.set()
        self._wake.set()

    def probe_now(self) -> None:
        """The network changed (the OS said so) or the clerk is at work: probe at once,
        whatever the wait. Runs only if the probe finds the link back or work due."""
        self._wake.set()

    def cancel_run(self) -> None:
        self._cancel.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._cancel.set()
        self._wake.set()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        if self.heartbeat is not None:
            self._write_heartbeat("stopped")

    # --- the loop (worker thread) ----------------------------------------------------

    def _notify(self) -> None:
        if self.listener is not None:
            try:
                self.listener(self.state)
            except Exception:  # a broken listener must not kill the sync thread
                log.exception("sync listener failed")

    def _publish(self, **changes: object) -> None:
        self.state = replace(self.state, **changes)  # type: ignore[arg-type]
        self._notify()

    def _beat(self) -> None:
        """Quietly (no listener call: the GUI need not repaint every few seconds)."""
        self.state = replace(self.state, last_beat=time.time())
        if self.heartbeat is not None:
            s = self.state
            said = (s.online, s.db_error, s.queue.pending if s.queue else None, s.restarts)
            at, before = self._hb_written
            if said != before or time.monotonic() - at >= HEARTBEAT_EVERY_S:
                self._write_heartbeat("running")
                self._hb_written = (time.monotonic(), said)

    def _write_heartbeat(self, status: str) -> None:
        assert self.heartbeat is not None
        s = self.state
        write_heartbeat(self.heartbeat, {
            "state": status, "beat_at_epoch": time.time(),
            "beat_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "online": s.online, "db_error": s.db_error, "restarts": s.restarts,
            "pending": s.queue.pending if s.queue else None,
            "interval_s": self.interval_s, "stall_after_s": self.stall_after_s})

    def _queue(self) -> QueueStatus | None:
        try:
            return self.service.status()
        except Exception as exc:
            if _is_db_fault(exc):
                raise  # the loop reports and retries it
            log.exception("reading the sync queue failed")
            return None

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            if not self._stop.is_set():
                log.error("sync worker thread ended without stop()")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._beat()
            delay = self._guarded_step()
            self._sleep(delay)

    def _guarded_step(self) -> float:
        try:
            delay = self._step()
        except Exception as exc:
            if _is_db_fault(exc):
                return self._db_fault(exc)
            log.exception("sync cycle failed")
            self._publish(running=False, last_error=f"Lỗi đồng bộ: {type(exc).__name__}",
                          progress=("", 0, 0))
            return self._backoff()
        if self.state.db_error:
            log.info("database reachable again; sync resumes")
            self._publish(db_error="", db_error_since=None)
        self._db_delay = self.db_retry_min_s
        return delay

    def _backoff(self) -> float:
        delay = self._db_delay * self.rng.uniform(0.8, 1.2)
        self._db_delay = min(DB_RETRY_MAX_S, self._db_delay * 2)
        return delay

    def _db_fault(self, exc: BaseException) -> float:
        db = self.service.ctx.db
        if isinstance(exc, DatabaseUnavailable):  # the engine's words for a lost server
            message = DB_ERROR_LOCAL_VI if db.is_sqlite else DB_ERROR_SERVER_VI
            detail = exc.detail
        elif isinstance(exc, sqlalchemy.exc.SQLAlchemyError):
            message = DB_ERROR_LOCAL_VI if db.is_sqlite else DB_ERROR_SERVER_VI
            # The driver's first line (no SQL, no parameters: those may hold citizen data).
            orig = getattr(exc, "orig", None) or exc
            first = str(orig).splitlines()[0] if str(orig) else ""
            detail = f"{type(orig).__name__}: {first}"
        else:
            errno = getattr(exc, "errno", None)
            message, detail = DISK_ERROR_VI, f"{type(exc).__name__} errno={errno}"
        delay = self._backoff()
        log.warning("sync paused: %s database fault (%s); retrying in %.1f s",
                    db.url.get_backend_name(), detail[:200], delay)
        self._publish(db_error=message, running=False, progress=("", 0, 0),
                      db_error_since=self.state.db_error_since or datetime.now(UTC))
        return delay

    def _sleep(self, delay: float) -> None:
        """Wait ``delay`` s, or until woken, beating every ``poll_s`` and, when online and
        the database answers, ending early once a new outbox row appears."""
        deadline = time.monotonic() + delay
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self._wake.wait(min(left, self.poll_s)):
                break
            self._beat()
            if self._new_rows():
                self._run_asked.set()
                break
            if self._server_back():
                break
        self._wake.clear()

    def _server_back(self) -> bool:
        """During a PostgreSQL fault, a connection attempt each ``poll_s`` (refused at
        once while the server is down) ends the backoff as soon as it is up again. Not for
        SQLite: its faults are writes (a lock, a full disk) that a read cannot see end."""
        db = self.service.ctx.db
        if not self.state.db_error or db.is_sqlite:
            return False
        try:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception:
            return False
        return True

    def _new_rows(self) -> bool:
        if self.state.online is not True or self.state.db_error:
            return False
        try:
            with self.service.ctx.db.read() as s:
                top = s.scalar(select(func.max(OutboxEntry.id)))
        except Exception as exc:  # the next step reports it
            log.debug("outbox poll failed: %s", type(exc).__name__)
            return True
        last, self._last_row = self._last_row, top
        return last is not None and top is not None and top > last

    def _step(self) -> float:
        """One turn; returns how long to sleep. Database faults propagate to the loop."""
        now = self.service.ctx.clock.now()
        if not self.service.configured():
            self._publish(configured=False, online=None, queue=self._queue(), checked_at=now)
            return self.interval_s
        was_online = self.state.online
        run_asked = self._run_asked.is_set()
        self._run_asked.clear()
        try:
            client = self.service.client()
        except DatabaseUnavailable:
            raise  # a database fault: the loop backs off and retries
        except DomainError as exc:
            self._publish(configured=False, last_error=exc.message_vi)
            return self.interval_s
        try:
            try:
                client.health(timeout=PROBE_TIMEOUT)
            except SyncError as exc:
                return self._probe_failed(exc, now)
            self.probes.succeeded()
            if was_online is False:
                n = self.service.retry()
                log.info("link is back: %d queued item(s) due now", n)
            elif was_online and not run_asked and not self._run_due():
                # A probe only: nothing to send yet and the status pull not due.
                queue = self._queue()
                self._publish(online=True, configured=True, checked_at=now, queue=queue,
                              next_probe_s=None)
                return self._online_delay(queue)
            return self._full_run(client, now)
        except LinkDown as exc:
            self._publish(online=False, running=False, last_error=exc.message_vi)
            return self.probes.failed(waiting=True)
        finally:
            client.close()

    def _probe_failed(self, exc: SyncError, now: datetime) -> float:
        queue = self._queue()
        delay = self.probes.failed(waiting=bool(queue and queue.pending))
        first = self.probes.failures == 1
        self._publish(online=False, running=False, configured=True,
                      last_error=exc.message_vi, queue=queue, checked_at=now,
                      next_probe_s=delay)
        # One line when the link goes, then one a minute or so: not one per probe.
        if first or self.probes.failures % 20 == 0:
            log.info("gateway unreachable (%s), %d probe(s) failed; next probe in %.1f s",
                     exc.detail, self.probes.failures, delay)
        return delay

    def _full_run(self, client: GatewayClient, now: datetime) -> float:
        """A full engine run: push what is due, pull status changes."""
        self._cancel.clear()
        self._publish(online=True, configured=True, running=True, checked_at=now,
                      next_probe_s=None)
        with self.service.ctx.db.read() as s:
            self._last_row = s.scalar(select(func.max(OutboxEntry.id)))
        engine = self.service.engine(client)
        report = engine.run_once(
            cancelled=lambda: self._cancel.is_set() or self._stop.is_set(),
            progress=self._progress)
        self._last_run = time.monotonic()
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
            return self.probes.failed(waiting=bool(queue and queue.pending))
        return self._online_delay(queue)

    def _progress(self, what: str, done: int, total: int) -> None:
        self.state = replace(self.state, last_beat=time.time())
        self._publish(progress=(what, done, total))

    def _run_due(self) -> bool:
        """An item's retry time has come, or the status pull is due."""
        if time.monotonic() - self._last_run >= self.interval_s:
            return True
        with self.service.ctx.db.read() as s:
            due = outbox.next_due_at(s)
        return due is not None and due <= self.service.ctx.clock.now()

    def _online_delay(self, queue: QueueStatus | None) -> float:
        """Until the next run is due (the earliest item's retry time, the status pull),
        looked at again sooner while items wait (``ProbeSchedule.online``)."""
        if self.state.auth_failed:
            return PROBE_MAX_S  # the token was refused: quiet until a technician fixes it
        until_pull = self._last_run + self.interval_s - time.monotonic()
        with self.service.ctx.db.read() as s:
            due = outbox.next_due_at(s)
        wait = until_pull
        if due is not None:
            wait = min(wait, (due - self.service.ctx.clock.now()).total_seconds())
        return max(1.0, self.probes.online(bool(queue and queue.pending), wait))
