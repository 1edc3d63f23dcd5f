"""Crashes are never silent. The windowed Windows build has no console (``sys.stderr`` is
None), so Python's default reporting of an exception in a Qt slot, a thread or at the top
level prints nowhere: every such exception goes to the log (redacted like every line),
Qt's own warnings go there too, and a native crash (in Qt, pdfium, a scanner driver)
leaves a faulthandler traceback in ``logs/crash.log``. The clerk sees a Vietnamese
message offering the support bundle for the helpdesk call."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QMessageLogContext, QObject, QtMsgType, Signal, qInstallMessageHandler

from desktop_app import crash_hooks
from desktop_app.crash_hooks import CRASH_LOG

__all__ = ["CRASH_LOG", "CrashReporter", "CrashSignals", "crash_dialog_text"]
_QT_LEVELS = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}


class CrashSignals(QObject):
    """Carries "something failed" to the UI thread, whichever thread it failed on."""

    failed = Signal(str)  # a short description for the technician (redacted in the log)


class CrashReporter:
    """Installs the hooks; ``signals.failed`` fires once per unexpected exception."""

    def __init__(self) -> None:
        self.signals = CrashSignals()
        self._fault_log: Path | None = None
        self._previous: tuple[object, object] | None = None

    def install(self) -> None:
        """Python's and Qt's reporting go to the log from now on."""
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook
        qInstallMessageHandler(_qt_message)

    def native_crashes_to(self, logs_dir: Path) -> None:
        """A crash below Python (Qt, pdfium, a scanner driver) leaves its traceback in
        ``logs_dir/crash.log`` (shared with the commands: ``crash_hooks``)."""
        self._fault_log = crash_hooks.native_crashes_to(logs_dir)

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous  # type: ignore[assignment]
            self._previous = None
        qInstallMessageHandler(None)
        if self._fault_log is not None:
            crash_hooks.stop_native_crash_log()
            self._fault_log = None

    def _excepthook(self, kind: type[BaseException], exc: BaseException,
                    tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            return
        self.report(kind, exc, tb, "main thread")

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "?"
        self.report(args.exc_type, args.exc_value, args.exc_traceback, f"thread {name}")

    def report(self, kind: type[BaseException], exc: BaseException,
               tb: TracebackType | None, where: str) -> None:
        crash_hooks.log_uncaught(kind, exc, tb, where)
        self.signals.failed.emit(f"{kind.__name__} ({where})")


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    where = f" [{context.category}]" if context.category not in (None, "", "default") else ""
    logging.getLogger("qt").log(_QT_LEVELS.get(kind, logging.WARNING), "%s%s", message, where)


def crash_dialog_text(what: str) -> str:
    """What the clerk reads (the technician's details are in the log)."""
    return ("Đã xảy ra lỗi không mong muốn trong phần mềm (chi tiết đã ghi vào nhật ký: "
            f"{what}). Hồ sơ đã lưu vẫn an toàn. Hãy tạo gói hỗ trợ để gửi bộ phận hỗ trợ "
            "của tỉnh; nếu màn hình hoạt động bất thường, hãy mở lại phần mềm.")

