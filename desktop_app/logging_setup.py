"""Log files for the counter PC: ``DATA_DIR/logs/motcua.log`` rotated (5 × 2 MB), with
personal data and secrets redacted from every line before it is written anywhere.

Citizens' ID numbers (12-digit CCCD, 9-digit CMND), phone numbers, e-mail addresses,
whole citizen-ID QR payloads, bearer tokens, ``token=``/``password=`` values and
passwords inside database URLs never reach a log file, the console or a support bundle.
Names cannot be recognised by a pattern: code must not log them (log ids instead); the
support bundle additionally scrubs the names it finds in the database.

Call :func:`setup_logging` once at start-up (``desktop_app.cli.main`` and
``ui.app.run_gui``)."""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

LOG_FILE = "motcua.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 5
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


def file_handler(logs_dir: Path) -> logging.Handler:
    logs_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        logs_dir / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8",
        delay=True)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    setattr(handler, _MARK, True)
    return handler


def setup_logging(logs_dir: Path | None, *, verbose: bool = False,
                  console: bool = True) -> Path | None:
    """Install the rotating file handler (INFO and above, DEBUG with ``verbose``) and a
    console handler (WARNING and above, DEBUG with ``verbose``), both redacting.

    Idempotent: handlers installed by an earlier call are replaced. Returns the log
    file, or None when ``logs_dir`` is None or cannot be written (console only then)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    level = logging.DEBUG if verbose else logging.INFO
    root.setLevel(level)
    path: Path | None = None
    problem = ""
    if logs_dir is not None:
        try:
            handler = file_handler(logs_dir)
        except OSError as exc:
            problem = f"cannot write logs to {logs_dir}: {type(exc).__name__}: {exc}"
        else:
            handler.setLevel(level)
            root.addHandler(handler)
            path = logs_dir / LOG_FILE
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
