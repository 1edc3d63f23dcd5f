"""Long work with progress, streamed results and Cancel (capture, processing, assembly).

The job function runs on a pool thread and receives a ``JobControl``: it reports progress,
hands over items as they are ready (a page as soon as it is processed, so thumbnails appear
while the scanner is still feeding) and checks the cancel token. Results arrive on the UI
thread through queued signals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from desktop_app.scanning.model import CancelledError, CancelToken
from ui.workers import failure

log = logging.getLogger(__name__)


class JobControl:
    def __init__(self, signals: JobSignals, token: CancelToken) -> None:
        self._signals = signals
        self.token = token

    def progress(self, done: int, total: int, text: str = "") -> None:
        self._signals.progress.emit(done, total, text)

    def item(self, value: Any) -> None:
        self._signals.item.emit(value)

    def warn(self, message_vi: str) -> None:
        self._signals.warning.emit(message_vi)

    def check(self) -> None:
        self.token.raise_if_cancelled()


class JobSignals(QObject):
    progress = Signal(int, int, str)
    item = Signal(object)
    warning = Signal(str)
    done = Signal(object)
    cancelled = Signal()
    failed = Signal(str, str)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[JobControl], Any], signals: JobSignals,
                 token: CancelToken) -> None:
        super().__init__()
        self.fn = fn
        self.signals = signals
        self.token = token

    def run(self) -> None:
        try:
            result = self.fn(JobControl(self.signals, self.token))
        except CancelledError:
            self.signals.cancelled.emit()
        except Exception as exc:
            self.signals.failed.emit(*failure(exc, "các trang đã xong vẫn được giữ"))
        else:
            self.signals.done.emit(result)


class Job(QObject):
    """Handle of a running job: connect to its signals, call ``cancel()``."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.signals = JobSignals()
        self.token = CancelToken()
        self.running = True
        for sig in (self.signals.done, self.signals.cancelled, self.signals.failed):
            sig.connect(self._finished)

    def _finished(self, *args: object) -> None:
        self.running = False

    def cancel(self) -> None:
        self.token.cancel()


class JobRunner(QObject):
    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self.jobs: set[Job] = set()

    def start(self, fn: Callable[[JobControl], Any]) -> Job:
        job = Job(self)
        self.jobs.add(job)

        def forget(*args: object) -> None:
            if shiboken6.isValid(self):
                self.jobs.discard(job)

        for sig in (job.signals.done, job.signals.cancelled, job.signals.failed):
            sig.connect(forget)
        self.pool.start(_Runnable(fn, job.signals, job.token))
        return job

    def busy(self) -> bool:
        return any(j.running for j in self.jobs)

    def cancel_all(self) -> None:
        for job in self.jobs:
            job.cancel()
