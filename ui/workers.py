"""Run core calls off the UI thread (QThreadPool) and deliver results back on it."""

from __future__ import annotations

import errno
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from desktop_app.domain.errors import DomainError

log = logging.getLogger(__name__)

GENERIC_ERROR_VI = (
    "Đã xảy ra lỗi không mong muốn. Dữ liệu đã nhập vẫn còn nguyên; hãy thử lại hoặc báo "
    "kỹ thuật viên (chi tiết đã ghi vào nhật ký)."
)


def failure(exc: BaseException, kept_vi: str = "chưa có gì bị mất") -> tuple[str, str]:
    """(message for the clerk, detail for the log) of a background job that raised, and
    the log line. ``kept_vi`` says what is safe (the entered data, the pages done)."""
    if isinstance(exc, DomainError):
        log.warning("%s: %s", type(exc).__name__, exc.detail or exc.message_vi)
        return exc.message_vi, exc.detail
    if isinstance(exc, OSError):
        log.error("I/O error in background job", exc_info=exc)
        if exc.errno == errno.ENOSPC:
            return (f"Ổ đĩa đã đầy. Hãy giải phóng dung lượng rồi thử lại; {kept_vi}.",
                    repr(exc))
        kept = kept_vi[:1].upper() + kept_vi[1:]
        return f"Lỗi đọc/ghi tệp: {exc.strerror or exc}. {kept}.", repr(exc)
    log.error("background job failed: %s",
              "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return GENERIC_ERROR_VI, repr(exc)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str, str)  # Vietnamese message for the clerk, detail for the log


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self.fn = fn
        self.signals = signals

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:
            self._deliver(self.signals.failed, *failure(exc))
        else:
            self._deliver(self.signals.done, result)

    @staticmethod
    def _deliver(signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:
            # The window that asked was closed meanwhile (its runner and the signal
            # object deleted): the work is done and stored; nobody is left to tell.
            log.debug("background job finished after its window closed")


# Signal objects of detached jobs, kept until their result is delivered on the UI thread
# (so they are also deleted there), whether or not the window that asked is still open.
_DETACHED: set[_Signals] = set()


class Runner(QObject):
    """Owns the signal objects of running jobs so they live until delivered."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool.globalInstance()
        self._live: set[_Signals] = set()

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str, str], None],
    ) -> None:
        signals = _Signals()
        self._live.add(signals)

        # A result may arrive after the window that asked for it was closed: drop it.
        def finish_ok(result: Any) -> None:
            if shiboken6.isValid(self):
                self._live.discard(signals)
                on_done(result)

        def finish_err(message: str, detail: str) -> None:
            if shiboken6.isValid(self):
                self._live.discard(signals)
                on_error(message, detail)

        signals.done.connect(finish_ok)
        signals.failed.connect(finish_err)
        self.pool.start(_Job(fn, signals))

    def submit_detached(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str, str], None],
        owner: QObject | None = None,
    ) -> None:
        """``submit`` for a call that only looks around the machine and may take seconds
        (finding scanners: SANE probes USB and the network): it runs on a daemon thread of
        its own that neither ``busy``/``wait`` (so closing the window) nor quitting the app
        waits for. Its result is dropped once this runner, or ``owner``, is gone."""
        signals = _Signals()
        _DETACHED.add(signals)

        def alive() -> bool:
            return shiboken6.isValid(self) and (owner is None or shiboken6.isValid(owner))

        def finish_ok(result: Any) -> None:
            _DETACHED.discard(signals)
            if alive():
                on_done(result)

        def finish_err(message: str, detail: str) -> None:
            _DETACHED.discard(signals)
            if alive():
                on_error(message, detail)

        signals.done.connect(finish_ok)
        signals.failed.connect(finish_err)
        threading.Thread(target=_Job(fn, signals).run, name="motcua-detached",
                         daemon=True).start()

    def busy(self) -> bool:
        return bool(self._live)

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)
