"""`motcua doctor` and the support bundle: what a technician or the province's helpdesk
needs to know about a counter PC, without reading anyone's personal data.

The doctor never changes anything: it does not create the data directory, does not
migrate the database (it opens it without Alembic and checks SQLite through a read-only
connection) and only reads the station token to say whether it exists. Slow probes (the
gateway, scanner discovery, the OCR engine) run in parallel threads with short deadlines,
so an offline PC gets its answer in a few seconds."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import logging
import os
import platform
import re
import shutil
import sqlite3
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from desktop_app import __version__
from desktop_app.clock import Clock, SystemClock
from desktop_app.logging_setup import redact
from desktop_app.paths import DataPaths, default_data_dir
from desktop_app.provisioning import (
    AUTH_PROBE_SINCE,
    DB_URL_FILE,
    clock_skew_seconds,
    gateway_health,
    redact_db_url,
)

log = logging.getLogger(__name__)

OK, WARN, FAIL = "ok", "warn", "fail"
STATUS_VI = {OK: "OK", WARN: "CẢNH BÁO", FAIL: "LỖI"}
EXIT_CODES = {OK: 0, WARN: 1, FAIL: 2}

GATEWAY_TIMEOUT = (2.0, 2.5)  # connect, read: a quick look, not a sync
PROBE_DEADLINE_S = 4.0
DEVICE_DEADLINE_S = 3.0
DISK_FAIL_BYTES = 1 << 30  # an A0 colour page alone needs ~400 MB while it is processed
DISK_WARN_BYTES = 5 << 30
SKEW_WARN_S = 120
SKEW_FAIL_S = 900

T = TypeVar("T")


@dataclass
class Check:
    id: str
    title_vi: str
    status: str
    message_vi: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def line(self) -> str:
        return f"[{STATUS_VI[self.status]:^8}] {self.title_vi}: {self.message_vi}"


@dataclass
class DoctorReport:
    generated_at: str
    data_dir: str
    checks: list[Check]
    elapsed_s: float = 0.0

    @property
    def status(self) -> str:
        states = {c.status for c in self.checks}
        return FAIL if FAIL in states else WARN if WARN in states else OK

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def check(self, check_id: str) -> Check:
        return next(c for c in self.checks if c.id == check_id)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "app_version": __version__, "generated_at": self.generated_at,
                "data_dir": self.data_dir, "status": self.status,
                "exit_code": self.exit_code, "elapsed_s": round(self.elapsed_s, 2),
                "checks": [asdict(c) for c in self.checks]}

    def text_vi(self) -> str:
        counts = {s: sum(1 for c in self.checks if c.status == s) for s in (OK, WARN, FAIL)}
        verdict = {OK: "Máy trạm sẵn sàng.",
                   WARN: "Máy trạm dùng được nhưng có điểm cần xem.",
                   FAIL: "Máy trạm có lỗi cần kỹ thuật viên xử lý."}[self.status]
        lines = [f"Kiểm tra máy trạm Một Cửa Offline {__version__} — {self.generated_at}",
                 f"Thư mục dữ liệu: {self.data_dir}", ""]
        lines += [c.line for c in self.checks]
        lines += ["", f"{verdict} ({counts[OK]} đạt, {counts[WARN]} cảnh báo, "
                      f"{counts[FAIL]} lỗi; {self.elapsed_s:.1f} giây)"]
        return "\n".join(lines)


class _Probe(Generic[T]):
    """``fn`` running in a daemon thread. A probe that hangs (a scanner driver, a keyring
    prompt, a blackholed link) is abandoned at its deadline, never waited for."""

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        self._result: T | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), name=f"doctor-{name}",
                                        daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], T]) -> None:
        try:
            self._result = fn()
        except BaseException as exc:
            self.error = exc

    def wait(self, until: float) -> tuple[bool, T | None]:
        """(finished, result) once finished or at ``until`` (time.monotonic())."""
        self._thread.join(max(0.0, until - time.monotonic()))
        if self._thread.is_alive():
            return False, None
        return True, self._result


def provisioned_db_url(root: Path) -> str:
    """``MOTCUA_DB_URL``, else the URL provisioning stored, else ""."""
    env = os.environ.get("MOTCUA_DB_URL", "").strip()
    if env:
        return env
    try:
        return (root / DB_URL_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def open_readonly_context(data_dir: Path, db_url: str | None = None,
                          clock: Clock | None = None) -> Any:
    """An AppContext on an existing database without migrating it (None when there is no
    database yet). Read-only in spirit: nothing is created or upgraded."""
    from desktop_app.blobs import BlobStore
    from desktop_app.context import AppContext
    from local_db.engine import Database
    from local_db.migrate import MigrationReport, current_revision

    paths = DataPaths(data_dir)
    url = db_url or provisioned_db_url(data_dir) or f"sqlite:///{paths.database}"
    db = Database(url)
    if db.sqlite_path is not None and not db.sqlite_path.is_file():
        db.dispose()
        return None
    revision = current_revision(db)
    return AppContext(paths, db, BlobStore(paths.blobs), clock or SystemClock(),
                      MigrationReport(revision, revision or "", None))


# --- individual checks ----------------------------------------------------------------------


def check_versions() -> Check:
    import sqlalchemy

    detail: dict[str, Any] = {
        "app": __version__, "python": platform.python_version(),
        "platform": platform.platform(terse=True), "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__}
    try:
        import PySide6
        from PySide6.QtCore import qVersion

        detail["pyside6"] = PySide6.__version__
        detail["qt"] = qVersion()
    except Exception as exc:  # the CLI still works without Qt
        detail["qt"] = f"unavailable ({type(exc).__name__})"
        return Check("versions", "Phiên bản", FAIL,
                     f"không nạp được Qt/PySide6 ({type(exc).__name__}); giao diện không chạy "
                     "được. Hãy cài lại ứng dụng.", detail)
    message = (f"ứng dụng {detail['app']}, Python {detail['python']}, Qt {detail['qt']}, "
               f"PySide6 {detail['pyside6']}, SQLite {detail['sqlite']}")
    return Check("versions", "Phiên bản", OK, message, detail)


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.1f} GB"


def _tree_size(path: Path, limit: int = 200_000) -> tuple[int, int]:
    """(bytes, files) under ``path``, stopping after ``limit`` files."""
    total = files = 0
    for root, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, name)).st_size
            files += 1
            if files >= limit:
                return total, files
    return total, files


def check_data_dir(paths: DataPaths) -> Check:
    title = "Thư mục dữ liệu"
    root = paths.root
    if not root.is_dir():
        return Check("data_dir", title, WARN, f"chưa có {root} (sẽ được tạo khi mở ứng dụng "
                     "hoặc chạy “motcua provision”).", {"path": str(root), "exists": False})
    usage = shutil.disk_usage(root)
    blob_bytes, blob_files = _tree_size(paths.blobs) if paths.blobs.is_dir() else (0, 0)
    detail: dict[str, Any] = {"path": str(root), "exists": True, "free_bytes": usage.free,
                              "total_bytes": usage.total, "blob_bytes": blob_bytes,
                              "blob_files": blob_files}
    problems: list[str] = []
    status = OK
    for sub in (root, paths.logs, paths.blobs):
        if sub.exists() and not os.access(sub, os.W_OK):
            problems.append(f"không có quyền ghi vào {sub}")
            status = FAIL
    if str(root).startswith(("\\\\", "//")):
        problems.append("thư mục dữ liệu nằm trên ổ mạng; CSDL SQLite không được đặt trên ổ "
                        "mạng (dễ hỏng dữ liệu)")
        status = FAIL
    if usage.free < DISK_FAIL_BYTES:
        problems.append(f"ổ đĩa chỉ còn {_gib(usage.free)} trống: không đủ để quét bản vẽ "
                        "khổ lớn; hãy giải phóng dung lượng (motcua retention)")
        status = FAIL
    elif usage.free < DISK_WARN_BYTES:
        problems.append(f"ổ đĩa còn {_gib(usage.free)} trống, nên dọn bớt")
        status = WARN if status == OK else status
    base = (f"{root}, còn trống {_gib(usage.free)}/{_gib(usage.total)}, tệp hồ sơ "
            f"{blob_bytes / 1_048_576:.0f} MB ({blob_files} tệp)")
    return Check("data_dir", title, status, base + ("; " + "; ".join(problems)
                                                    if problems else ""), detail)


def check_database(ctx: Any) -> Check:
    title = "Cơ sở dữ liệu"
    db = ctx.db
    started = time.monotonic()
    if db.is_sqlite:
        path = db.sqlite_path
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            try:
                rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
                size = path.stat().st_size if path else 0
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return Check("database", title, FAIL, f"không mở được CSDL SQLite {path} "
                         f"({exc}).", {"backend": "sqlite", "path": str(path)})
        detail = {"backend": "sqlite", "path": str(path), "size_bytes": size,
                  "integrity": rows[:10],
                  "elapsed_ms": int((time.monotonic() - started) * 1000)}
        if rows != ["ok"]:
            return Check("database", title, FAIL,
                         f"CSDL bị hỏng ({len(rows)} lỗi, ví dụ: {rows[0]}). Hãy dừng dùng máy "
                         "và khôi phục từ bản sao lưu trong thư mục backups.", detail)
        return Check("database", title, OK, f"SQLite {size / 1_048_576:.1f} MB, kiểm tra toàn "
                     "vẹn đạt (integrity_check).", detail)
    from sqlalchemy import text

    try:
        with db.engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
            conn.execute(text("SELECT count(*) FROM station_settings")).scalar()
    except Exception as exc:
        return Check("database", title, FAIL,
                     f"không kết nối/truy vấn được CSDL dùng chung ({type(exc).__name__}).",
                     {"backend": db.url.get_backend_name(),
                      "url": redact_db_url(str(db.url))})
    return Check("database", title, OK, f"PostgreSQL {version} dùng chung, truy vấn được.",
                 {"backend": "postgresql", "url": redact_db_url(str(db.url)),
                  "server_version": str(version)})


def check_migrations(ctx: Any) -> Check:
    from alembic.script import ScriptDirectory

    from local_db.migrate import _config, current_revision, head_revision

    title = "Phiên bản CSDL"
    head = head_revision()
    try:
        current = current_revision(ctx.db)
    except Exception as exc:
        return Check("migrations", title, FAIL, f"không đọc được phiên bản CSDL "
                     f"({type(exc).__name__}).", {"head": head})
    detail = {"current": current, "head": head}
    if current == head:
        return Check("migrations", title, OK, f"mới nhất ({head}).", detail)
    if current is None:
        return Check("migrations", title, WARN, "CSDL chưa được khởi tạo; ứng dụng sẽ tạo khi "
                     "mở.", detail)
    try:
        ScriptDirectory.from_config(_config()).get_revision(current)
    except Exception:
        return Check("migrations", title, FAIL,
                     f"CSDL ở phiên bản {current}, mới hơn ứng dụng này ({head}): hãy cài "
                     "phiên bản ứng dụng mới nhất, không dùng bản cũ với dữ liệu mới.", detail)
    return Check("migrations", title, WARN, f"CSDL ở phiên bản {current}, ứng dụng cần {head}; "
                 "sẽ tự nâng cấp (có sao lưu trước) khi mở ứng dụng.", detail)


def check_station(station: Any) -> Check:
    title = "Cấu hình quầy"
    if station is None:
        return Check("station", title, FAIL, "chưa cấu hình cơ quan và số hiệu quầy; hãy chạy "
                     "“motcua provision TỆP” hoặc mở ứng dụng để thiết lập.", {})
    detail = {"agency_code": station.agency_code, "station_digit": station.station_digit,
              "agency_name": station.agency_name, "gateway_url": station.gateway_url,
              "ca_bundle": station.ca_bundle, "upload_limit_mb": station.upload_limit_mb,
              "unsynced_warn_days": station.unsynced_warn_days,
              "hot_folders": list(station.hot_folders),
              "receipt_page_size": station.receipt_page_size,
              "retention_days": station.retention_days, "printer": station.printer}
    if station.ca_bundle and not Path(station.ca_bundle).is_file():
        return Check("station", title, FAIL, f"tệp chứng chỉ CA {station.ca_bundle} không còn; "
                     "hãy chạy lại “motcua provision”.", detail)
    return Check("station", title, OK, f"{station.agency_name} ({station.agency_code}), quầy "
                 f"số {station.station_digit}", detail)


def check_outbox(ctx: Any, warn_days: int, now: datetime) -> Check:
    from sqlalchemy import func, select

    from local_db import outbox
    from local_db.models import OutboxEntry

    title = "Hàng đợi gửi tỉnh"
    try:
        with ctx.db.read() as s:
            counts = outbox.counts(s)
            oldest = s.scalar(select(func.min(OutboxEntry.created_at)).where(
                OutboxEntry.entity_type == "dossier", OutboxEntry.state == outbox.PENDING))
            last = outbox.get_state(s, "last_success_at")
    except Exception as exc:
        return Check("outbox", title, WARN, f"chưa đọc được hàng đợi ({type(exc).__name__}); "
                     "có thể CSDL cần nâng cấp.", {})
    pending, refused = counts.get(outbox.PENDING, 0), counts.get(outbox.REFUSED, 0)
    age_days = (now - oldest).total_seconds() / 86400 if oldest else 0.0
    detail = {"pending": pending, "refused": refused, "warn_days": warn_days,
              "oldest_pending_dossier": oldest.isoformat() if oldest else None,
              "oldest_age_days": round(age_days, 1), "last_success_at": last or None}
    parts = [f"{pending} mục chờ gửi"]
    if last:
        parts.append(f"lần gửi thành công gần nhất {last.replace('T', ' ')}")
    status = OK
    if refused:
        parts.append(f"{refused} mục bị tỉnh từ chối, cần lãnh đạo xem (màn hình Đồng bộ)")
        status = WARN
    if oldest is not None:
        parts.append(f"hồ sơ chờ lâu nhất {age_days:.1f} ngày")
        if age_days >= 2 * warn_days:
            parts.append("quá lâu: hãy kiểm tra mạng hoặc xuất gói USB "
                         "(motcua sync --export-bundle)")
            status = FAIL
        elif age_days >= warn_days:
            parts.append(f"vượt ngưỡng cảnh báo {warn_days} ngày")
            status = WARN
    return Check("outbox", title, status, "; ".join(parts) + ".", detail)


@dataclass
class _GatewayResult:
    reachable: bool = False
    tls_error: bool = False
    message: str = ""
    api_version: int | None = None
    skew_s: float | None = None
    token_present: bool = False
    token_where: str = ""
    token_accepted: bool | None = None
    token_error: str = ""
    # (agency code, station digit) the gateway issued the token to, when it says.
    identity: tuple[str, int] | None = None


def _token_where(root: Path, account: str) -> str:
    from desktop_app.sync.credentials import TOKEN_ENV

    if os.environ.get(TOKEN_ENV, "").strip():
        return "biến môi trường " + TOKEN_ENV
    if (root / "secrets" / f"{account}.token").is_file():
        return "tệp chỉ tài khoản này đọc được"
    return "kho khóa của hệ điều hành"


def _probe_gateway(root: Path, station: Any, timeout: tuple[float, float]) -> _GatewayResult:
    from desktop_app.sync.client import AuthFailed, GatewayClient, SyncError
    from desktop_app.sync.credentials import TokenStore
    from desktop_app.sync.service import station_account

    out = _GatewayResult()
    account = station_account(station)
    token = TokenStore(root, account).get()
    out.token_present = bool(token)
    out.token_where = _token_where(root, account) if token else ""
    if not station.gateway_url:
        return out
    client = GatewayClient(station.gateway_url, token, station.ca_bundle, timeout=timeout)
    try:
        try:
            health = gateway_health(client, timeout)
        except SyncError as exc:
            out.tls_error = "TLS" in exc.detail
            out.message = exc.message_vi
            log.info("doctor: gateway unreachable: %s", exc.detail)
            return out
        out.reachable = True
        out.api_version = health.api_version
        out.skew_s = clock_skew_seconds(health.server_time)
        if token:
            try:
                client.changes(since=AUTH_PROBE_SINCE, limit=1)
                out.token_accepted = True
            except AuthFailed as exc:
                out.token_accepted = False
                out.token_error = exc.message_vi
            except SyncError as exc:
                out.token_error = exc.message_vi
            if out.token_accepted:
                out.identity = _token_identity(client, timeout)
    finally:
        client.close()
    return out


def _token_identity(client: Any, timeout: tuple[float, float]) -> tuple[str, int] | None:
    """Whose token this is (GET /station); None from a gateway that does not say."""
    from desktop_app.sync.client import SyncError
    from sync_contract import wire

    try:
        resp = client.request("GET", wire.STATION, timeout=timeout)
        if resp.status_code != 200:
            return None
        who = wire.StationIdentity.model_validate(resp.json())
    except (SyncError, ValueError) as exc:
        log.info("doctor: station identity not read: %s", type(exc).__name__)
        return None
    return who.agency_code.upper(), who.station_digit


def gateway_checks(station: Any, probe: _Probe[_GatewayResult] | None, until: float
                   ) -> list[Check]:
    title_gw, title_clock, title_token = "Hệ thống tỉnh", "Đồng hồ máy", "Mã xác thực quầy"
    if station is None or probe is None:
        return [Check("gateway", title_gw, WARN, "chưa cấu hình quầy.", {}),
                Check("token", title_token, WARN, "chưa cấu hình quầy.", {})]
    done, result = probe.wait(until)
    url = station.gateway_url
    if not done or result is None:
        why = (f"lỗi {type(probe.error).__name__}" if probe.error else
               "không trả lời kịp (mạng treo hoặc kho khóa không trả lời)")
        if probe.error:
            log.warning("doctor: gateway probe failed: %r", probe.error)
        return [Check("gateway", title_gw, WARN, f"{url or 'chưa cấu hình'}: {why}.",
                      {"url": url}),
                Check("token", title_token, WARN, "không kiểm tra được.", {})]
    r = result
    checks: list[Check] = []
    detail: dict[str, Any] = {"url": url, "reachable": r.reachable, "api_version": r.api_version,
                              "tls": url.startswith("https://"),
                              "ca_bundle": station.ca_bundle or "system"}
    if not url:
        checks.append(Check("gateway", title_gw, WARN, "chưa có địa chỉ hệ thống một cửa của "
                            "tỉnh; hồ sơ chỉ lưu trên máy.", detail))
    elif r.tls_error:
        checks.append(Check("gateway", title_gw, FAIL, f"{url}: không xác thực được chứng chỉ "
                            "TLS của tỉnh (sai chứng chỉ CA, đồng hồ máy sai, hoặc mạng chặn "
                            "và giả mạo trang).", detail))
    elif not r.reachable:
        checks.append(Check("gateway", title_gw, WARN, f"{url}: không kết nối được "
                            f"({r.message.rstrip('.')}). Hồ sơ vẫn lưu an toàn trên máy.", detail))
    else:
        if url.startswith("https://"):
            tls = ("kết nối mã hóa, chứng chỉ hợp lệ (CA của tỉnh)" if station.ca_bundle
                   else "kết nối mã hóa, chứng chỉ hợp lệ")
            status = OK
        else:
            tls = "KHÔNG mã hóa (http://), chỉ dùng để thử nghiệm"
            status = WARN
        checks.append(Check("gateway", title_gw, status,
                            f"{url}: kết nối được (API v{r.api_version}), {tls}.", detail))
    if r.skew_s is not None:
        skew = abs(r.skew_s)
        where = "nhanh" if r.skew_s > 0 else "chậm"
        sdetail = {"skew_s": round(r.skew_s, 1)}
        if skew > SKEW_FAIL_S:
            checks.append(Check("clock", title_clock, FAIL, f"{where} {skew / 60:.0f} phút so "
                                "với hệ thống tỉnh: giờ tiếp nhận, ngày hẹn trả in sai. Hãy "
                                "chỉnh giờ máy ngay.", sdetail))
        elif skew > SKEW_WARN_S:
            checks.append(Check("clock", title_clock, WARN, f"{where} {skew / 60:.0f} phút so "
                                "với hệ thống tỉnh; nên chỉnh giờ máy.", sdetail))
        else:
            checks.append(Check("clock", title_clock, OK, f"lệch {skew:.0f} giây so với hệ "
                                "thống tỉnh.", sdetail))
    tdetail = {"present": r.token_present, "stored_in": r.token_where,
               "accepted": r.token_accepted}
    if not r.token_present:
        checks.append(Check("token", title_token, WARN, "chưa có; quầy chưa đồng bộ được "
                            "(motcua sync --set-token hoặc motcua provision).", tdetail))
    elif r.token_accepted is False:
        checks.append(Check("token", title_token, FAIL, f"có ({r.token_where}) nhưng tỉnh "
                            f"không chấp nhận: {r.token_error}", tdetail))
    elif r.identity is not None and r.identity != (station.agency_code,
                                                   station.station_digit):
        agency, digit = r.identity
        tdetail["issued_to"] = f"{agency}/{digit}"
        checks.append(Check("token", title_token, FAIL, f"tỉnh cấp mã này cho quầy {digit} "
                            f"của {agency}, không phải quầy {station.station_digit} của "
                            f"{station.agency_code} (máy sao chép từ máy khác?). Hai máy cùng "
                            "số hiệu sẽ cấp trùng mã hồ sơ: hãy xin mã riêng và chạy lại "
                            "“motcua provision”.", tdetail))
    else:
        checked = (", tỉnh đã chấp nhận" if r.token_accepted else
                   ", chưa kiểm tra được với tỉnh")
        if r.identity is not None:
            checked += f" (đúng quầy {r.identity[1]})"
        checks.append(Check("token", title_token, OK, f"có ({r.token_where}){checked}.",
                            tdetail))
    return checks


def check_printers(configured: str) -> Check:
    title = "Máy in"
    try:
        from PySide6.QtPrintSupport import QPrinterInfo
    except Exception as exc:
        return Check("printers", title, WARN, f"không nạp được thư viện in của Qt "
                     f"({type(exc).__name__}).", {})
    names = [p.printerName() for p in QPrinterInfo.availablePrinters()]
    default = QPrinterInfo.defaultPrinterName()
    detail = {"printers": names, "default": default, "provisioned": configured}
    if not names:
        return Check("printers", title, WARN, "không thấy máy in nào; chưa in được biên nhận "
                     "(vẫn lưu được PDF).", detail)
    if configured and configured not in names:
        return Check("printers", title, WARN, f"máy in đã cấu hình “{configured}” không có; "
                     f"hiện có: {', '.join(names)}.", detail)
    chosen = configured or default or names[0]
    return Check("printers", title, OK, f"{len(names)} máy in, dùng “{chosen}”.", detail)


DRIVER_VI = {"sane": "SANE", "wia": "WIA", "twain": "TWAIN"}


def _list_scanner_drivers() -> list[dict[str, Any]]:
    """Scanner drivers usable here and their devices (hot folders are checked apart)."""
    from desktop_app.scanning.sources.registry import available_sources

    out: list[dict[str, Any]] = []
    for source in available_sources([]):
        entry: dict[str, Any] = {"source": source.name,
                                 "label": DRIVER_VI.get(source.name, source.label_vi)}
        try:
            entry["devices"] = [d.label for d in source.list_devices()]
        except Exception as exc:
            entry["error"] = getattr(exc, "message_vi", type(exc).__name__)
            entry["devices"] = []
        out.append(entry)
    return out


def check_scanners(probe: _Probe[list[dict[str, Any]]], hot_folders: list[Path],
                   until: float) -> Check:
    title = "Máy quét"
    present = [str(f) for f in hot_folders if f.is_dir()]
    missing = [str(f) for f in hot_folders if not f.is_dir()]
    detail: dict[str, Any] = {"hot_folders": present, "missing_hot_folders": missing}
    problems = [f"thư mục nhận bản quét {m} không có" for m in missing]
    done, drivers = probe.wait(until)
    if not done or drivers is None:
        why = (f"lỗi {type(probe.error).__name__}" if probe.error else
               "trình điều khiển trả lời chậm, có thể do đang dò máy quét qua mạng; thử lại "
               "trong màn hình Số hóa")
        problems.insert(0, f"chưa liệt kê được máy quét: {why}")
        drivers = []
    detail["drivers"] = drivers
    devices = [f"{d} ({s['label']})" for s in drivers for d in s["devices"]]
    devices += [f"{f} (thư mục nhận bản quét)" for f in present]
    problems += [f"{s['label']}: {s['error']}" for s in drivers if s.get("error")]
    tail = ("; " + "; ".join(problems)) if problems else ""
    if not devices:
        if drivers:
            names = ", ".join(s["label"] for s in drivers)
            return Check("scanners", title, WARN, f"có trình điều khiển {names} nhưng không "
                         f"thấy máy quét nào đang kết nối{tail}.", detail)
        if done:
            return Check("scanners", title, WARN, "không có trình điều khiển máy quét (SANE/"
                         f"WIA/TWAIN) và thư mục nhận bản quét; vẫn nhập được tệp{tail}.",
                         detail)
        return Check("scanners", title, WARN, tail.lstrip("; ") + ".", detail)
    return Check("scanners", title, WARN if problems else OK, ", ".join(devices) + tail + ".",
                 detail)


def _ocr_probe() -> tuple[bool, str, list[str]]:
    from desktop_app.scanning.ocr import find_engine, ocr_available

    engine = find_engine()
    return (ocr_available("vie"), engine.version if engine else "",
            sorted(engine.languages) if engine else [])


def check_ocr(probe: _Probe[tuple[bool, str, list[str]]], profiles_use_ocr: bool,
              until: float) -> Check:
    title = "Nhận dạng chữ (OCR)"
    done, result = probe.wait(until)
    if not done or result is None:
        return Check("ocr", title, WARN, "không kiểm tra được tesseract.", {})
    ok, version, langs = result
    detail = {"available": ok, "version": version, "languages": langs}
    if ok:
        return Check("ocr", title, OK, f"{version}, có tiếng Việt.", detail)
    why = (f"{version} thiếu gói tiếng Việt (vie)" if version else "chưa cài tesseract")
    if profiles_use_ocr:
        return Check("ocr", title, WARN, f"{why}; hồ sơ quét có bật OCR sẽ tạo PDF không có "
                     "lớp chữ.", detail)
    return Check("ocr", title, OK, f"{why} (không bắt buộc).", detail)


# --- the whole run ----------------------------------------------------------------------------


def run_doctor(data_dir: Path | None = None, db_url: str | None = None, *,
               clock: Clock | None = None,
               gateway_timeout: tuple[float, float] = GATEWAY_TIMEOUT,
               device_deadline_s: float = DEVICE_DEADLINE_S,
               probe_deadline_s: float = PROBE_DEADLINE_S) -> DoctorReport:
    """Every check, the slow ones in parallel: done in about ``probe_deadline_s`` at
    worst."""
    started = time.monotonic()
    clock = clock or SystemClock()
    paths = DataPaths(data_dir or default_data_dir())
    # Slow probes first, so they run while everything else is checked.
    scanners = _Probe(_list_scanner_drivers, "scanners")
    ocr = _Probe(_ocr_probe, "ocr")
    checks: list[Check] = [check_versions(), check_data_dir(paths)]
    station = None
    ctx = None
    db_checks: list[Check] = []
    profiles_use_ocr = False
    try:
        if paths.root.is_dir() or db_url or provisioned_db_url(paths.root):
            try:
                ctx = open_readonly_context(paths.root, db_url, clock)
            except Exception as exc:
                db_checks.append(Check("database", "Cơ sở dữ liệu", FAIL,
                                       f"không mở được CSDL ({type(exc).__name__}).",
                                       {"error": redact(str(exc))[:300]}))
        if ctx is None and not db_checks:
            db_checks.append(Check("database", "Cơ sở dữ liệu", WARN, "chưa có CSDL trên máy "
                                   "này (sẽ được tạo khi mở ứng dụng).", {}))
        if ctx is not None:
            from desktop_app.station import StationService

            with contextlib.suppress(Exception):  # a schema behind head
                station = StationService(ctx).get()
        gateway: _Probe[_GatewayResult] | None = None
        if station is not None:
            info = station
            gateway = _Probe(lambda: _probe_gateway(paths.root, info, gateway_timeout),
                             "gateway")
        if ctx is not None:
            with contextlib.suppress(Exception):
                from desktop_app.digitization import DigitizationService

                profiles_use_ocr = any(p.ocr for p in DigitizationService(ctx).profiles())
            db_checks.append(check_database(ctx))
            db_checks.append(check_migrations(ctx))
        checks += db_checks
        checks.append(check_station(station))
        if ctx is not None:
            checks.append(check_outbox(ctx, station.unsynced_warn_days if station else 3,
                                       clock.now()))
        checks.append(check_printers(station.printer if station else ""))
        from desktop_app.scanning.sources.registry import configured_hot_folders

        hot = [Path(f) for f in station.hot_folders] if station else []
        hot += [f for f in configured_hot_folders() if f not in hot]
        checks += gateway_checks(station, gateway, started + probe_deadline_s)
        checks.append(check_scanners(scanners, hot, started + device_deadline_s))
        checks.append(check_ocr(ocr, profiles_use_ocr, started + probe_deadline_s))
    finally:
        if ctx is not None:
            ctx.close()
    report = DoctorReport(clock.now().isoformat(sep=" ", timespec="seconds"), str(paths.root),
                          checks, time.monotonic() - started)
    log.info("doctor: status=%s checks=%d (%s) in %.2f s", report.status, len(checks),
             ", ".join(f"{c.id}={c.status}" for c in checks if c.status != OK) or "all ok",
             report.elapsed_s)
    return report


# --- support bundle -----------------------------------------------------------------------------


class _Scrubber:
    """Pattern redaction (``logging_setup.redact``) plus the people's names found in the
    database: a name has no pattern, so runs of words are looked up in that set."""

    MAX_WORDS = 7

    def __init__(self, names: set[str]) -> None:
        self.names = {" ".join(n.split()).casefold() for n in names if len(n.split()) >= 2}
        self.first_words = {n.split()[0] for n in self.names}

    def names_out(self, text: str) -> str:
        if not self.names:
            return text
        words = list(_WORD.finditer(text))
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(words):
            step = 1
            if words[i].group(0).casefold() in self.first_words:
                for n in range(min(self.MAX_WORDS, len(words) - i), 1, -1):
                    seq = words[i:i + n]
                    if any(a.end() == b.start() or text[a.end():b.start()].strip()
                           for a, b in itertools.pairwise(seq)):
                        continue
                    if " ".join(w.group(0) for w in seq).casefold() in self.names:
                        spans.append((seq[0].start(), seq[-1].end()))
                        step = n
                        break
            i += step
        if not spans:
            return text
        parts: list[str] = []
        last = 0
        for a, b in spans:
            parts += [text[last:a], "[name]"]
            last = b
        parts.append(text[last:])
        return "".join(parts)

    def __call__(self, text: str) -> str:
        import unicodedata

        return redact(self.names_out(unicodedata.normalize("NFC", text)))


_WORD = re.compile(r"[^\W\d_]+")


def _scrub_json(value: Any, scrub: Callable[[str], str]) -> Any:
    """``value`` with ``scrub`` applied to every string (keys included), so the result
    stays valid JSON."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(str(k)): _scrub_json(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_json(v, scrub) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub(str(value))


def _scrubber(ctx: Any) -> _Scrubber:
    from sqlalchemy import select

    from desktop_app.domain.text import nfc
    from local_db.models import Applicant, Clerk

    names: set[str] = set()
    with contextlib.suppress(Exception), ctx.db.read() as s:
        names.update(nfc(n) for n in s.scalars(select(Applicant.full_name)))
        names.update(nfc(n) for n in s.scalars(select(Clerk.full_name)))
    return _Scrubber(names)


def _schema_and_counts(ctx: Any) -> dict[str, Any]:
    from sqlalchemy import inspect, text

    engine = ctx.db.engine
    out: dict[str, Any] = {"backend": engine.dialect.name, "tables": {}}
    insp = inspect(engine)
    with engine.connect() as conn:
        for table in sorted(insp.get_table_names()):
            info: dict[str, Any] = {
                "columns": [{"name": c["name"], "type": str(c["type"]),
                             "nullable": bool(c.get("nullable", True))}
                            for c in insp.get_columns(table)],
                "indexes": [{"name": i["name"], "columns": i["column_names"],
                             "unique": bool(i.get("unique"))} for i in insp.get_indexes(table)],
            }
            try:
                quoted = engine.dialect.identifier_preparer.quote(table)
                info["rows"] = int(conn.execute(text(f"SELECT count(*) FROM {quoted}")).scalar()
                                   or 0)
            except Exception as exc:
                info["rows"] = None
                info["count_error"] = type(exc).__name__
            out["tables"][table] = info
        if engine.dialect.name == "sqlite":
            out["sql"] = [r[0] for r in conn.execute(text(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"))]
    return out


def _outbox_summary(ctx: Any) -> dict[str, Any]:
    from sqlalchemy import func, select

    from local_db.models import OutboxEntry

    with ctx.db.read() as s:
        by_state = [{"entity_type": t, "state": st, "count": int(n),
                     "max_attempts": int(a or 0),
                     "oldest": o.isoformat() if o else None}
                    for t, st, n, a, o in s.execute(
                        select(OutboxEntry.entity_type, OutboxEntry.state, func.count(),
                               func.max(OutboxEntry.attempts), func.min(OutboxEntry.created_at))
                        .group_by(OutboxEntry.entity_type, OutboxEntry.state))]
        errors = [{"error": (e or "")[:300], "state": st, "count": int(n)}
                  for e, st, n in s.execute(
                      select(OutboxEntry.last_error, OutboxEntry.state, func.count())
                      .where(OutboxEntry.last_error != "")
                      .group_by(OutboxEntry.last_error, OutboxEntry.state)
                      .order_by(func.count().desc()).limit(50))]
        leases = int(s.scalar(select(func.count()).select_from(OutboxEntry)
                              .where(OutboxEntry.lease_until.is_not(None))) or 0)
    return {"by_state": by_state, "errors": errors, "leased": leases}


def _config_without_secrets(ctx: Any, root: Path) -> dict[str, Any]:
    from desktop_app.station import StationService

    out: dict[str, Any] = {"station": None}
    with contextlib.suppress(Exception):
        station = StationService(ctx).get()
        if station is not None:
            out["station"] = {**asdict(station), "hot_folders": list(station.hot_folders)}
    out["database_url"] = redact_db_url(str(ctx.db.url)) if not ctx.db.is_sqlite else "sqlite"
    out["environment"] = {k: ("***" if "TOKEN" in k or "URL" in k else v)
                          for k, v in os.environ.items() if k.startswith("MOTCUA_")}
    return out


def support_bundle(out: Path, data_dir: Path | None = None, db_url: str | None = None,
                   *, clock: Clock | None = None, doctor: DoctorReport | None = None,
                   gateway_timeout: tuple[float, float] = GATEWAY_TIMEOUT) -> Path:
    """Write the helpdesk's zip; returns its path. Personal data never goes in: the zip
    holds counts, the schema, redacted logs and the configuration without secrets."""
    clock = clock or SystemClock()
    paths = DataPaths(data_dir or default_data_dir())
    report = doctor or run_doctor(paths.root, db_url, clock=clock,
                                  gateway_timeout=gateway_timeout)
    texts: dict[str, str] = {}  # scrubbed as text
    docs: dict[str, Any] = {}  # JSON documents: every string in them is scrubbed
    ctx = None
    scrub: Callable[[str], str] = redact
    try:
        with contextlib.suppress(Exception):
            ctx = open_readonly_context(paths.root, db_url, clock)
        if ctx is not None:
            scrub = _scrubber(ctx)
            sections: list[tuple[str, Callable[[], Any]]] = [
                ("config.json", lambda: _config_without_secrets(ctx, paths.root)),
                ("database/schema.json", lambda: _schema_and_counts(ctx)),
                ("outbox.json", lambda: _outbox_summary(ctx))]
            for name, make in sections:
                try:
                    docs[name] = make()
                except Exception as exc:
                    docs[name] = {"error": type(exc).__name__}
                    log.warning("support bundle: %s failed: %s", name, type(exc).__name__)
        docs["doctor.json"] = report.to_dict()
        docs["versions.json"] = report.check("versions").detail
        texts["doctor.txt"] = report.text_vi()
        if paths.logs.is_dir():
            for log_file in sorted(paths.logs.glob("motcua.log*")):
                with contextlib.suppress(OSError):
                    texts[f"logs/{log_file.name}"] = log_file.read_text(encoding="utf-8",
                                                                        errors="replace")
    finally:
        if ctx is not None:
            ctx.close()
    texts["README.txt"] = (
        "Gói hỗ trợ của Một Cửa Offline cho bộ phận hỗ trợ của tỉnh.\n"
        "Không chứa dữ liệu cá nhân, tệp hồ sơ, mã xác thực hay mật khẩu: chỉ có kết quả "
        "kiểm tra máy (doctor), cấu hình đã bỏ thông tin bí mật, cấu trúc CSDL và số dòng, "
        "tóm tắt hàng đợi gửi tỉnh, nhật ký đã che số định danh, số điện thoại, thư điện tử "
        "và họ tên.\n"
        f"Tạo lúc {clock.now():%d/%m/%Y %H:%M} trên máy {platform.node() or '?'}.\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, doc in docs.items():
            zf.writestr(f"motcua-support/{name}", json.dumps(
                _scrub_json(doc, scrub), ensure_ascii=False, indent=2, default=str))
        for name, text in texts.items():
            zf.writestr(f"motcua-support/{name}", scrub(text))
    os.replace(tmp, out)
    log.info("support bundle written: %s (%d files, %d bytes)", out, len(docs) + len(texts),
             out.stat().st_size)
    return out


def bundle_texts(path: Path) -> dict[str, str]:
    """Every file of a support bundle as text (for tests and the helpdesk's tools)."""
    with zipfile.ZipFile(path) as zf:
        return {n: io.TextIOWrapper(zf.open(n), encoding="utf-8").read() for n in zf.namelist()}


def default_bundle_name(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"motcua-ho-tro-{now:%Y%m%d-%H%M%S}.zip"
