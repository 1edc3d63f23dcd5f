"""Uncaught exceptions and native crashes of the headless commands reach the logs.

A scheduled ``motcua sync`` or the windowed Windows build has no console to print a
traceback to (``sys.stderr`` is None): an uncaught exception in the main thread or in a
thread is logged instead (CRITICAL, with its traceback, redacted like every line), and a
crash below Python (a DLL, a driver) leaves a ``faulthandler`` traceback in
``logs/crash.log``. The GUI installs its own hooks (``ui.crash``), which also tell the
clerk; they use :func:`native_crashes_to` for the same file."""

from __future__ import annotations

import faulthandler
import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import IO

log = logging.getLogger("motcua.crash")

CRASH_LOG = "crash.log"
# Kept open for the life of the process: faulthandler writes to the file descriptor from
# a signal handler, when nothing else can run. One per process, whoever enabled it.
_fault_file: IO[str] | None = None


def native_crashes_to(logs_dir: Path) -> Path | None:
    """Enable ``faulthandler`` into ``logs_dir/crash.log`` (appended to: every process
    kind shares it; it is written only when a process dies, never rotated). Returns the
    file, or None when it cannot be written (a warning is logged)."""
    global _fault_file
    path = logs_dir / CRASH_LOG
    if _fault_file is not None and not _fault_file.closed and _fault_file.name == str(path):
        return path
    try:
        logs_dir.mkdir(parents=True, exist_ok=True)
        opened = path.open("a", encoding="utf-8")
    except OSError as exc:
        log.warning("faulthandler not enabled: %s", exc)
        return None
    faulthandler.enable(file=opened, all_threads=True)
    if _fault_file is not None:
        _fault_file.close()
    _fault_file = opened
    return path


def stop_native_crash_log() -> None:
    global _fault_file
    if _fault_file is not None:
        faulthandler.disable()
        _fault_file.close()
        _fault_file = None


def log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None,
                 where: str) -> None:
    log.critical("unexpected %s in %s: %s\n%s", kind.__name__, where, exc,
                 "".join(traceback.format_exception(kind, exc, tb)))


def _excepthook(kind: type[BaseException], exc: BaseException,
                tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):  # Ctrl+C at a console: Python's own message
        if sys.stderr is not None:
            sys.__excepthook__(kind, exc, tb)
        return
    _ensure_a_log()
    # Not passed on to Python's hook: on a console the log's console handler has already
    # printed the line and its traceback.
    log_uncaught(kind, exc, tb, "main thread")


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    _ensure_a_log()
    log_uncaught(args.exc_type, args.exc_value, args.exc_traceback, f"thread {name}")


def _ensure_a_log() -> None:
    """An exception before logging was set up (an import failing in the frozen build)
    goes to the default data directory's command log, if that directory exists."""
    from desktop_app import logging_setup

    if logging_setup.is_set_up():
        return
    try:
        from desktop_app.paths import default_data_dir

        root = default_data_dir()
        logging_setup.setup_logging(root / "logs" if root.is_dir() else None)
    except Exception:  # the hook must not fail: Python would print to a missing stderr
        pass


def install() -> None:
    """Uncaught exceptions (main thread and threads) go to the log from now on."""
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
