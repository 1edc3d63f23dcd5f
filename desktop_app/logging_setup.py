"""Log files for the counter PC, one per kind of process in ``DATA_DIR/logs/``:
``motcua-gui.log`` (the counter GUI), ``motcua-sync.log`` (``motcua sync``, the scheduled
task) and ``motcua-cli.log`` (every other command), each rotated (5 × 2 MB), with personal
data and secrets redacted from every line before it is written anywhere.

One file per kind because Windows cannot rename a file another process holds open: with
one shared file, the GUI and the scheduled sync would each block the other's rotation.

Citizens' ID numbers (12-digit CCCD, 9-digit CMND), phone numbers, e-mail addresses,
whole citizen-ID QR payloads, bearer tokens, ``token=``/``password=`` values and
passwords inside database URLs never reach a log file, the console or a support bundle.
Names cannot be recognised by a pattern: code must not log them (log ids instead); the
support bundle additionally scrubs the names it finds in the database.

Call :func:`setup_logging` once at start-up (``desktop_app.cli.main`` and
``ui.app.run_gui``)."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import re
import sys
import time
from pathlib import Path

GUI, SYNC, CLI = "gui", "sync", "cli"  # the kinds of process, each with its own file
LOG_FILES = {kind: f"motcua-{kind}.log" for kind in (GUI, SYNC, CLI)}
LOG_FILE = LOG_FILES[CLI]  # the file of the default kind (a command)
LOG_GLOB = "motcua*.log*"  # every kind and backup (and motcua.log of older versions)
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 5
STALE_LOCK_S = 60  # a rotation takes milliseconds; an older lock file was left by a crash
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_MARK = "motcua_handler"  # attribute set on the handlers this module installs

# Order matters: secrets and whole QR payloads first, then the shorter patterns.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Credentials inside URLs: postgresql+psycopg://user:secret@host/db
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/@'\"]+:)[^\s@/'\"]+@"), r"\1***@"),
    # Authorization headers.
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=\-]{4,}"), r"\1\2***"),
    # key=value / "key": "value" secrets (token=, station_token: ..., password=, ...).
    (re.compile(r"""(?ix)
        \b((?:[a-z_]*token|password|passwd|pwd|secret|api[_-]?key|authorization
            |enrol(?:l)?ment_code|recovery_code)
        ["']?\s*[=:]\s*["']?)
        (?!\*\*\*|(?:bearer|basic)\s)[^\s"'&,;)}\]]+"""), r"\1***"),
    # A citizen-ID QR payload: 12 digits, then |-separated fields (old ID, name, birth
    # date, sex, address, issue date) — the whole payload goes.
    (re.compile(r"(?<![0-9A-Za-z])\d{12}\|[^\r\n'\"]*"), "[QR-CCCD]"),
    (re.compile(r"[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"), "[email]"),
    # Citizen ID numbers: 12-digit CCCD, 9-digit CMND (not inside hashes or longer runs).
    (re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])"), "[ID]"),
    # Vietnamese phone numbers: 0xx…, 84xx…, +84 xx… with optional spaces, dots, dashes.
    (re.compile(r"(?<![\w+])(?:\+84[ .\-]?|84|0)\d(?:[ .\-]?\d){7,9}(?![0-9A-Za-z])"),
     "[phone]"),
    # 9-digit CMND (not the fraction of a decimal number such as 0.123456789).
    (re.compile(r"(?<![0-9A-Za-z.])\d{9}(?![0-9A-Za-z])"), "[ID]"),
)


def redact(text: str) -> str:
    """``text`` with ID numbers, phone numbers, e-mails and secrets replaced."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) and exception text redacted.

    Attach it to handlers: a filter on a logger does not see records propagated from
    its children."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Size rotation that survives another process holding the same file.

    Two processes of one kind can run at once (two commands; a manual ``motcua sync``
    during the scheduled one). On Windows the rename fails while the other one has the
    file open (PermissionError): rather than give up logging, this handler reopens the
    current file, keeps appending to it and tries again once it has grown by another
    tenth of ``maxBytes`` (the file exceeds its size meanwhile; nothing is lost). This was
    chosen over one file per process id: fixed names a technician can find, nothing to
    prune. On POSIX the rename succeeds and the other process would go on writing into
    the renamed backup: each emit therefore checks that the path is still its file and
    reopens it if not (as ``WatchedFileHandler`` does). A lock file makes two processes
    crossing the size limit at once rotate once, not shift the backups twice."""

    _retry_at = 0  # stream size from which a postponed rotation is tried again

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        self._follow_path()
        if self.stream is not None and self._retry_at:
            self.stream.seek(0, os.SEEK_END)
            if self.stream.tell() < self._retry_at:
                return False
        return bool(super().shouldRollover(record))

    def doRollover(self) -> None:
        """Under a lock file (one rotation at a time per log, whichever process), move the
        full file aside first: if that fails, no backup has been touched (shifting them
        first, as the standard handler does, would lose one per failed try)."""
        measured = os.fstat(self.stream.fileno()) if self.stream is not None else None
        if self.stream is not None:
            self.stream.close()
            self.stream = None  # type: ignore[assignment]
        lock = f"{self.baseFilename}.lock"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:  # another process is rotating it right now
            self._drop_stale(lock)
            self._postpone(None)
            return
        except OSError as exc:
            self._postpone(exc)
            return
        try:
            there = os.stat(self.baseFilename)
            if measured is not None and (there.st_dev, there.st_ino) != (
                    measured.st_dev, measured.st_ino):
                pass  # another process rotated it since we measured: nothing to do
            else:
                aside = f"{self.baseFilename}.{os.getpid()}.rotating"
                os.replace(self.baseFilename, aside)
                for i in range(self.backupCount - 1, 0, -1):
                    older = f"{self.baseFilename}.{i}"
                    if os.path.exists(older):
                        self._replace(older, f"{self.baseFilename}.{i + 1}")
                self._replace(aside, f"{self.baseFilename}.1")
        except FileNotFoundError:  # rotated away and not written to again yet
            pass
        except OSError as exc:  # PermissionError on Windows: another process has it open
            self._postpone(exc)
            return
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.remove(lock)
        self._retry_at = 0
        self.stream = self._open()

    @staticmethod
    def _drop_stale(lock: str) -> None:
        """A lock left by a process killed while rotating would stop rotation for good."""
        with contextlib.suppress(OSError):
            if time.time() - os.stat(lock).st_mtime > STALE_LOCK_S:
                os.remove(lock)

    def _replace(self, source: str, target: str) -> None:
        # A backup held open by a reader stays where it is: overwritten next time.
        with contextlib.suppress(OSError):
            os.replace(source, target)

    def _postpone(self, exc: OSError | None) -> None:
        self.stream = self._open()
        self.stream.seek(0, os.SEEK_END)
        first = not self._retry_at
        self._retry_at = self.stream.tell() + max(self.maxBytes // 10, 1)
        # One line per streak, written directly (emit() would re-enter this handler).
        if first and exc is not None:
            note = logging.makeLogRecord({
                "name": __name__, "levelno": logging.WARNING, "levelname": "WARNING",
                # The error's text names the path: a Windows user name may be a person's.
                "msg": "log rotation postponed (another process holds the file?): "
                       f"{type(exc).__name__} errno {exc.errno}"})
            self.stream.write(self.format(note) + self.terminator)

    def _open(self):  # type: ignore[no-untyped-def]
        # The logs folder may have been deleted under a running process (a technician
        # cleaning up, a training reset): make it again rather than lose every line.
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def _follow_path(self) -> None:
        """Reopen the file at the path if another process rotated ours away (or it was
        deleted)."""
        if self.stream is None:
            return
        try:
            ours = os.fstat(self.stream.fileno())
            there = os.stat(self.baseFilename)
        except FileNotFoundError:
            there = None
        except (OSError, ValueError):  # ValueError: a stream closed under us
            return
        if there is None or (there.st_dev, there.st_ino) != (ours.st_dev, ours.st_ino):
            self.stream.close()
            # None until the next record opens it (delay=True): never a closed stream
            self.stream = None  # type: ignore[assignment]
            self.stream = self._open()
            self._retry_at = 0


def file_handler(logs_dir: Path, kind: str = CLI) -> logging.Handler:
    logs_dir.mkdir(parents=True, exist_ok=True)
    handler = SharedRotatingFileHandler(
        logs_dir / LOG_FILES[kind], maxBytes=MAX_BYTES, backupCount=BACKUPS,
        encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    setattr(handler, _MARK, True)
    return handler


def is_set_up() -> bool:
    """Whether :func:`setup_logging` has installed its handlers in this process."""
    return any(getattr(h, _MARK, False) for h in logging.getLogger().handlers)


def remove_handlers() -> None:
    """Take away the handlers :func:`setup_logging` installed (closing their files)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        with contextlib.suppress(OSError, ValueError):  # its file already gone or closed
            old.close()


def setup_logging(logs_dir: Path | None, *, kind: str = CLI, verbose: bool = False,
                  console: bool = True) -> Path | None:
    """Install the rotating file handler of this ``kind`` of process (INFO and above,
    DEBUG with ``verbose``) and a console handler (WARNING and above, DEBUG with
    ``verbose``; none when there is no ``sys.stderr``, as in the windowed build), both
    redacting.

    Idempotent: handlers installed by an earlier call are replaced. Returns the log
    file, or None when ``logs_dir`` is None or cannot be written (console only then)."""
    root = logging.getLogger()
    remove_handlers()
    level = logging.DEBUG if verbose else logging.INFO
    root.setLevel(level)
    path: Path | None = None
    problem = ""
    if logs_dir is not None:
        try:
            handler = file_handler(logs_dir, kind)
        except OSError as exc:
            problem = f"cannot write logs to {logs_dir}: {type(exc).__name__}: {exc}"
        else:
            handler.setLevel(level)
            root.addHandler(handler)
            path = logs_dir / LOG_FILES[kind]
    if console and sys.stderr is not None:  # a windowed Windows build has no console
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(logging.DEBUG if verbose else logging.WARNING)
        stream.setFormatter(logging.Formatter(FORMAT))
        stream.addFilter(RedactingFilter())
        setattr(stream, _MARK, True)
        root.addHandler(stream)
    logging.captureWarnings(True)
    if problem:
        logging.getLogger(__name__).warning("%s; logging to the console only", problem)
    return path
