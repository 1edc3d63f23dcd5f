"""The application context: data directory, database, blob store, clock and calendar.

Built once by the GUI, the CLI or a test and passed to services (no hidden singletons).
This is the composition root: services import it, it imports none of them (what an entry
point does after opening it is in `desktop_app.startup`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from desktop_app.blobs import BlobStore, blob_key
from desktop_app.clock import Clock, SystemClock
from desktop_app.data_key import DataKeyUnavailable
from desktop_app.db_encryption import existing_key, open_key
from desktop_app.domain.calendar import CalendarOverride, WorkingCalendar
from desktop_app.domain.errors import DomainError
from desktop_app.paths import DataPaths, default_data_dir, default_db_url, provisioned_db_url
from desktop_app.shared_blobs import SharedBlobStore
from local_db import repositories as repo
from local_db.engine import FULL, Database, WrongDatabaseKey
from local_db.migrate import MigrationFailed, MigrationReport, current_revision, upgrade

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    paths: DataPaths
    db: Database
    blobs: BlobStore
    clock: Clock
    migration: MigrationReport
    # A training station (desktop_app.training): its own data directory, every printed
    # document watermarked (documents.watermark.mark_document), the window bannered.
    training: bool = False
    _calendar: WorkingCalendar | None = field(default=None, repr=False)

    @property
    def calendar(self) -> WorkingCalendar:
        """Holidays from the `holidays` package plus the provincial overrides in the DB."""
        if self._calendar is None:
            with self.db.read() as s:
                overrides = [
                    CalendarOverride(day=row.day, kind=row.kind, note=row.note)  # type: ignore[arg-type]
                    for row in repo.calendar_overrides(s)
                ]
            self._calendar = WorkingCalendar(overrides)
        return self._calendar

    def invalidate_calendar(self) -> None:
        self._calendar = None

    def close(self) -> None:
        self.db.dispose()


def blob_store(paths: DataPaths, db: Database) -> BlobStore:
    """The disk store; on a shared PostgreSQL server also the bytes in the database, so
    every counter reaches every file. SQLite (one counter) keeps scans out of its file.
    The disk's files are encrypted with the blob subkey of this data directory's key
    (looked up, or made, when a blob is first read or written)."""
    return BlobStore(paths.blobs, None if db.is_sqlite else SharedBlobStore(db),
                     lambda: blob_key(paths.root, paths.blobs))


class DatabaseUnavailable(DomainError):
    """The database cannot be opened: a LAN server that is down, a disk error, or an
    upgrade that failed (and was rolled back). Nothing was changed."""


class DatabaseUnreachable(DatabaseUnavailable):
    """The commune's data server stopped answering in the middle of work (restarting,
    switched off, the LAN cut). The transaction was rolled back: nothing half-written."""


def unreachable_error(server: str, exc: OperationalError) -> DatabaseUnreachable:
    """What a clerk reads when the shared PostgreSQL server is gone; ``detail`` is the
    English line whoever catches it logs (ui.workers.failure, cli.main)."""
    cause = str(exc.orig).splitlines()[0] if exc.orig else str(exc).splitlines()[0]
    detail = (f"database server {server} unreachable: "
              f"{type(exc.orig or exc).__name__}: {cause}")
    return DatabaseUnreachable(
        f"Không kết nối được máy chủ dữ liệu của xã ({server}). Việc vừa làm chưa được "
        "ghi; dữ liệu đang nhập vẫn được giữ. Kiểm tra mạng rồi thử lại (đang tiếp nhận "
        "hồ sơ thì bấm Tiếp nhận lại).", detail)


class DatabaseNotWritable(DatabaseUnavailable):
    """The database refused to store anything: its disk is full, or it is read-only (file
    or folder permissions, a read-only medium, a standby server). The transaction was
    rolled back: nothing half-written, and what the clerk entered is still on screen."""

    def __init__(self, message_vi: str, detail: str, kind: str) -> None:
        super().__init__(message_vi, detail)
        self.kind = kind  # local_db.engine.FULL or READ_ONLY


def not_writable_error(kind: str, server: str, exc: DBAPIError) -> DatabaseNotWritable:
    """What a clerk reads when the database cannot be written (``server`` is "" for this
    PC's SQLite file); ``detail`` is the English line for the log: the driver's first
    line, no SQL, no parameters, no citizen data."""
    orig = exc.orig or exc
    cause = str(orig).splitlines()[0] if str(orig) else ""
    what = f"database server {server}" if server else "local SQLite database"
    detail = f"{what} not writable ({kind}): {type(orig).__name__}: {cause}"
    kept = ("Việc vừa làm chưa được ghi (không có gì bị ghi dở); thông tin đang nhập trên "
            "màn hình vẫn được giữ.")
    if kind == FULL:
        place = f"Ổ đĩa của máy chủ dữ liệu ({server})" if server else "Ổ đĩa của máy này"
        message = (f"{place} đã đầy nên không ghi được cơ sở dữ liệu. {kept} Hãy giải "
                   "phóng dung lượng ổ đĩa hoặc báo kỹ thuật viên.")
    else:
        place = (f"Máy chủ dữ liệu của xã ({server})" if server
                 else "Cơ sở dữ liệu trên máy này")
        message = (f"{place} đang ở chế độ chỉ đọc (không có quyền ghi) nên không ghi được. "
                   f"{kept} Hãy báo kỹ thuật viên kiểm tra "
                   + ("máy chủ dữ liệu." if server else "quyền ghi thư mục dữ liệu."))
    return DatabaseNotWritable(message, detail, kind)


# The extra that carries the PostgreSQL driver (pyproject.toml); the installers include it.
POSTGRESQL_EXTRA = "motcua-offline[postgresql]"


def _database(url: str, key: bytes | None = None) -> Database:
    try:
        return Database(url, unreachable=unreachable_error, not_writable=not_writable_error,
                        sqlite_key=key)
    except ImportError as exc:
        # SQLAlchemy imports the driver when the engine is made: psycopg is an extra, so a
        # pip install without it reaches here on a LAN server URL (exit 5, not a traceback).
        if make_url(url).get_backend_name() != "postgresql":
            raise
        raise driver_missing_error(url, exc) from exc


def driver_missing_error(url: str, exc: ImportError) -> DatabaseUnavailable:
    parsed = make_url(url)
    server = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    module = exc.name or "psycopg"
    return DatabaseUnavailable(
        f"Máy này được cấu hình dùng máy chủ dữ liệu PostgreSQL của xã ({server}) nhưng "
        f"chưa cài trình kết nối PostgreSQL (gói “{module}”). Chưa có gì bị thay đổi. Cài "
        f"thêm: pip install '{POSTGRESQL_EXTRA}' (bộ cài đặt của phần mềm đã có sẵn gói "
        "này).",
        f"PostgreSQL driver not installed ({server}): {type(exc).__name__}: {exc}")


def key_missing_error(paths: DataPaths, exc: Exception) -> DatabaseUnavailable:
    """The SQLite file is encrypted and this PC's key store has no (or another) key."""
    return DatabaseUnavailable(
        "Dữ liệu trên máy này đã được mã hóa nhưng không tìm thấy khóa giải mã (máy được "
        "cài lại, đổi tài khoản Windows hoặc chép thư mục dữ liệu từ máy khác). Kỹ thuật "
        "viên hãy chạy “motcua recover-key” và nhập mã khôi phục được cấp khi đăng ký máy.",
        f"data key unavailable for {paths.root}: {type(exc).__name__}: {exc}")


def _describe_db(db: Database) -> str:
    if db.is_sqlite:
        return f"tệp {db.sqlite_path}"
    return f"máy chủ {db.url.host or 'localhost'}:{db.url.port or 5432}"


def open_context(
    data_dir: Path | None = None,
    db_url: str | None = None,
    clock: Clock | None = None,
) -> AppContext:
    """Open (creating if needed) the data directory and database, migrating with a backup."""
    paths = DataPaths(data_dir or default_data_dir())
    paths.ensure()
    url = db_url or default_db_url(paths)
    try:
        db = _database(url, open_key(paths, url))
    except DataKeyUnavailable as exc:
        raise key_missing_error(paths, exc) from exc
    try:
        report = upgrade(db, backup_dir=paths.backups)
    except WrongDatabaseKey as exc:
        db.dispose()
        raise key_missing_error(paths, exc) from exc
    except MigrationFailed as exc:
        db.dispose()
        kept = (f" Dữ liệu đã được khôi phục nguyên trạng từ bản sao lưu {exc.backup}."
                if exc.backup else " Dữ liệu giữ nguyên như trước khi nâng cấp.")
        raise DatabaseUnavailable(
            "Không nâng cấp được dữ liệu lên phiên bản mới của ứng dụng." + kept + " Hãy chạy "
            "“motcua support-bundle” và báo kỹ thuật viên; trong lúc chờ, có thể cài lại "
            "phiên bản cũ để tiếp tục làm việc.", f"migration failed: {exc}") from exc
    except OperationalError as exc:
        db.dispose()
        where = _describe_db(db)
        hint = ("Hãy kiểm tra ổ đĩa và quyền ghi thư mục dữ liệu." if db.is_sqlite else
                "Hãy kiểm tra máy chủ CSDL trong mạng LAN đã bật và mạng LAN thông suốt.")
        raise DatabaseUnavailable(
            f"Không mở được cơ sở dữ liệu ({where}). {hint} Chưa có gì bị thay đổi; hãy thử "
            "lại khi đã khắc phục.",
            f"database unavailable ({where}): {type(exc.orig).__name__}: "
            f"{str(exc.orig).splitlines()[0] if exc.orig else exc}") from exc
    if report.upgraded:
        log.info("schema %s -> %s (backup: %s)", report.from_revision, report.to_revision,
                 report.backup)
    db.audit_chain = paths.install_id()
    return AppContext(paths, db, blob_store(paths, db), clock or SystemClock(), report)


def open_existing_context(data_dir: Path, db_url: str | None = None,
                          clock: Clock | None = None) -> AppContext | None:
    """A context on the database already there, neither created nor migrated (None when
    there is none): what the doctor, the support bundle and a provisioning check look at
    without changing anything."""
    paths = DataPaths(data_dir)
    url = db_url or provisioned_db_url(data_dir) or f"sqlite:///{paths.database}"
    try:
        db = _database(url, existing_key(paths, url))
    except DataKeyUnavailable as exc:
        raise key_missing_error(paths, exc) from exc
    if db.sqlite_path is not None and not db.sqlite_path.is_file():
        db.dispose()
        return None
    try:
        revision = current_revision(db)
    except WrongDatabaseKey as exc:
        db.dispose()
        raise key_missing_error(paths, exc) from exc
    except BaseException:
        db.dispose()
        raise
    db.audit_chain = paths.install_id(create=False) or db.audit_chain
    return AppContext(paths, db, blob_store(paths, db), clock or SystemClock(),
                      MigrationReport(revision, revision or "", None))
