"""The doctor's checks, each a `Check` from plain inputs: this PC (versions, data
directory, printers, scanners, OCR) and its database (integrity, schema, station, queue).
Slow probes (scanner discovery, OCR engine, the link) run in `doctor` under a deadline;
their checks take the `Answer` they gave in time."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy
from sqlalchemy import func, select, text

from desktop_app import __version__, audit_chain
from desktop_app.context import AppContext
from desktop_app.paths import DataPaths
from desktop_app.printers import available_printers, default_printer
from desktop_app.scanning.ocr import find_engine, ocr_available
from desktop_app.scanning.sources.hotfolder import CLAIM_SUBDIR, pending_claims
from desktop_app.scanning.sources.registry import available_sources
from desktop_app.setup.doctor_report import FAIL, OK, WARN, Check
from desktop_app.signers import SignerService
from desktop_app.station import StationInfo
from desktop_app.sync.client import Timeout
from desktop_app.sync.clock_offset import duration_vi, last_offset
from desktop_app.sync.credentials import TOKEN_ENV, TokenStore
from desktop_app.sync.gateway_url import url_problem
from desktop_app.sync.link import SKEW_FAIL_S, SKEW_WARN_S, LinkCheck, check_link
from desktop_app.sync.service import station_account
from local_db import outbox
from local_db.engine import (
    FULL,
    WrongDatabaseKey,
    connect_sqlite,
    redacted_url,
    sqlcipher_module,
    write_fault,
)
from local_db.migrate import current_revision, head_revision, is_known_revision
from local_db.models import OutboxEntry

DISK_FAIL_BYTES = 1 << 30  # an A0 colour page alone needs ~400 MB while it is processed
DISK_WARN_BYTES = 5 << 30
# A station holds a claim in a shared hot folder for seconds; one left this long is from
# a counter that stopped and has not come back to finish it.
STALE_CLAIM_S = 15 * 60

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Answer(Generic[T]):
    """What a slow probe gave by its deadline: ``finished`` False when it did not answer
    in time (it is abandoned, never waited for)."""

    finished: bool
    value: T | None = None
    error: BaseException | None = None


def check_versions() -> Check:
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


def check_database(ctx: AppContext) -> Check:
    title = "Cơ sở dữ liệu"
    db = ctx.db
    started = time.monotonic()
    if db.is_sqlite:
        path = db.sqlite_path
        try:
            conn = connect_sqlite(path, db.sqlite_key, read_only=True, timeout=5)
            try:
                rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
                size = path.stat().st_size if path else 0
            finally:
                conn.close()
        except (sqlite3.Error, WrongDatabaseKey, sqlcipher_module().Error) as exc:
            return Check("database", title, FAIL, f"không mở được CSDL SQLite {path} "
                         f"({exc}).", {"backend": "sqlite", "path": str(path)})
        encrypted = db.sqlite_key is not None
        detail = {"backend": "sqlite", "path": str(path), "size_bytes": size,
                  "encrypted": encrypted,
                  "integrity": rows[:10],
                  "elapsed_ms": int((time.monotonic() - started) * 1000)}
        if rows != ["ok"]:
            return Check("database", title, FAIL,
                         f"CSDL bị hỏng ({len(rows)} lỗi, ví dụ: {rows[0]}). Hãy dừng dùng máy "
                         "và khôi phục từ bản sao lưu trong thư mục backups.", detail)
        cipher = "mã hóa SQLCipher" if encrypted else "CHƯA mã hóa"
        return Check("database", title, OK, f"SQLite {size / 1_048_576:.1f} MB ({cipher}), "
                     "kiểm tra toàn vẹn đạt (integrity_check).", detail)
    try:
        with db.engine.connect() as server:
            version = server.execute(text("SHOW server_version")).scalar()
            server.execute(text("SELECT count(*) FROM station_settings")).scalar()
    except Exception as exc:
        return Check("database", title, FAIL,
                     f"không kết nối/truy vấn được CSDL dùng chung ({type(exc).__name__}).",
                     {"backend": db.url.get_backend_name(),
                      "url": redacted_url(str(db.url))})
    return Check("database", title, OK, f"PostgreSQL {version} dùng chung, truy vấn được.",
                 {"backend": "postgresql", "url": redacted_url(str(db.url)),
                  "server_version": str(version)})


def check_writable(ctx: AppContext) -> Check:
    """Can the database store anything? One row written in a transaction that is always
    rolled back (nothing is kept), plus the file and folder permissions of a SQLite file:
    a read-only database opens and reads fine, and fails only at the first Receive."""
    title = "Ghi cơ sở dữ liệu"
    db = ctx.db
    detail: dict[str, Any] = {"backend": db.url.get_backend_name()}
    problems: list[str] = []
    path = db.sqlite_path
    if path is not None:
        for what, target in (("tệp CSDL", path), ("thư mục chứa CSDL", path.parent)):
            writable = os.access(target, os.W_OK)
            detail[f"{'file' if target == path else 'dir'}_writable"] = writable
            if not writable:
                problems.append(f"không có quyền ghi {what} {target}")
    try:
        with db.engine.connect() as conn:
            if db.is_postgresql:
                detail["query_only"] = conn.exec_driver_sql(
                    "SHOW transaction_read_only").scalar() == "on"
            else:
                detail["query_only"] = bool(conn.exec_driver_sql(
                    "PRAGMA query_only").scalar())
            conn.execute(text("INSERT INTO sync_state (key, value, updated_at) "
                              "VALUES (:k, '', :t)"),
                         {"k": f"doctor-write-probe-{os.getpid()}", "t": datetime.now()})
            conn.rollback()  # a probe: never kept
        detail["write_probe"] = "ok"
    except sqlalchemy.exc.DBAPIError as exc:
        kind = write_fault(exc)
        detail["write_probe"] = kind or type(exc.orig or exc).__name__
        log.warning("doctor: database write probe failed: %s: %s",
                    type(exc.orig or exc).__name__,
                    str(exc.orig or exc).splitlines()[0] if str(exc.orig or exc) else "")
        if kind is None:  # not a question of room or permission (a schema not made yet…)
            return Check("database_writable", title, WARN, "chưa thử ghi được "
                         f"({type(exc.orig or exc).__name__}).", detail)
        problems.append("ổ đĩa đã đầy" if kind == FULL else "CSDL đang ở chế độ chỉ đọc")
    if problems:
        return Check("database_writable", title, FAIL,
                     "không ghi được: " + "; ".join(problems) + ". Quầy không tiếp nhận "
                     "được hồ sơ mới; hãy cấp quyền ghi hoặc giải phóng ổ đĩa.", detail)
    return Check("database_writable", title, OK, "ghi được (thử ghi rồi hủy, không thay đổi "
                 "dữ liệu).", detail)


def check_migrations(ctx: AppContext) -> Check:
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
    if not is_known_revision(current):
        return Check("migrations", title, FAIL,
                     f"CSDL ở phiên bản {current}, mới hơn ứng dụng này ({head}): hãy cài "
                     "phiên bản ứng dụng mới nhất, không dùng bản cũ với dữ liệu mới.", detail)
    return Check("migrations", title, WARN, f"CSDL ở phiên bản {current}, ứng dụng cần {head}; "
                 "sẽ tự nâng cấp (có sao lưu trước) khi mở ứng dụng.", detail)


def check_audit_chain(ctx: AppContext) -> Check:
    """Walk every audit chain; name the first broken link (ids and seq, no content)."""
    title = "Nhật ký kiểm tra (chuỗi băm)"
    try:
        v = audit_chain.verify(ctx.db)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        return Check("audit_chain", title, WARN, f"chưa kiểm tra được ({type(exc).__name__}); "
                     "có thể CSDL cần nâng cấp.", {})
    detail: dict[str, Any] = {
        "entries": v.entries, "elapsed_ms": int(v.elapsed_s * 1000),
        "chains": [{"chain": r.chain, "entries": r.entries,
                    "head_seq": r.head.seq if r.head else 0,
                    "head_hash": r.head.hash if r.head else ""} for r in v.reports]}
    if v.ack is not None:
        detail["gateway_ack"] = {"chain": v.ack.chain, "seq": v.ack.seq,
                                 "hash": v.ack.hash, "verdict": v.ack.verdict}
    problems = [audit_chain.break_vi(b) for b in v.broken]
    detail["broken"] = [{"chain": b.chain, "kind": b.kind, "entry_id": b.entry_id,
                         "seq": b.seq, "expected": b.expected, "found": b.found}
                        for b in v.broken]
    if v.ack_problem_vi:
        problems.append(v.ack_problem_vi)
        detail["gateway_problem"] = v.ack_problem
    if problems:
        return Check("audit_chain", title, FAIL, "nhật ký kiểm tra đã bị can thiệp: "
                     + "; ".join(problems) + ". Không sửa gì trên máy; hãy báo ngay kỹ "
                     "thuật viên và gửi gói hỗ trợ (motcua support-bundle).", detail)
    synced = (f"; khớp với đầu chuỗi tỉnh đã nhận (số {v.ack.seq})"
              if v.ack is not None and v.ack.chain == ctx.db.audit_chain else "")
    return Check("audit_chain", title, OK, f"nguyên vẹn: {v.entries} mục trong "
                 f"{len(v.reports)} chuỗi, kiểm tra trong {v.elapsed_s:.1f} giây{synced}.",
                 detail)


def check_station(station: StationInfo | None) -> Check:
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


def check_signers(ctx: AppContext, station: StationInfo) -> Check:
    """Mẫu 04/05 are signed for the agency: a form without its signer prints the generic
    block marked "chưa cấu hình người ký"."""
    title = "Người ký thay mặt cơ quan"
    signatures = SignerService(ctx, station.agency_code).all()
    detail = {kind.value: sig.configured for kind, sig in signatures.items()}
    missing = [kind for kind, sig in signatures.items() if not sig.configured]
    if missing:
        forms = "; ".join(kind.label_vi for kind in missing)
        return Check("signers", title, WARN, f"chưa cấu hình người ký cho {forms}: phiếu sẽ in "
                     "khối ký chung kèm dòng “(chưa cấu hình người ký)”. Cấu hình trong F9 → "
                     "Người ký hoặc khóa “signers” của tệp cấu hình.", detail)
    return Check("signers", title, OK, "đã cấu hình cho Mẫu "
                 + ", ".join(kind.value for kind in signatures), detail)


def check_outbox(ctx: AppContext, warn_days: int, now: datetime) -> Check:
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


def check_printers(configured: str) -> Check:
    title = "Máy in"
    names = available_printers()
    if names is None:
        return Check("printers", title, WARN, "không nạp được thư viện in của Qt.", {})
    default = default_printer()
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


def list_scanner_drivers() -> list[dict[str, Any]]:
    """Scanner drivers usable here and their devices (hot folders are checked apart)."""
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


def check_scanners(answer: Answer[list[dict[str, Any]]], hot_folders: list[Path]) -> Check:
    title = "Máy quét"
    present = [str(f) for f in hot_folders if f.is_dir()]
    missing = [str(f) for f in hot_folders if not f.is_dir()]
    detail: dict[str, Any] = {"hot_folders": present, "missing_hot_folders": missing}
    problems = [f"thư mục nhận bản quét {m} không có" for m in missing]
    problems += _stale_claims(hot_folders, detail)
    done, drivers = answer.finished, answer.value
    if not done or drivers is None:
        why = (f"lỗi {type(answer.error).__name__}" if answer.error else
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


def _stale_claims(hot_folders: list[Path], detail: dict[str, Any]) -> list[str]:
    """Scans a counter claimed in a shared hot folder and never finished: only that
    counter takes them back (at its next start), so a technician has to know."""
    now, problems, pending = time.time(), [], {}
    for folder in hot_folders:
        claims = pending_claims(folder)
        if claims:
            pending[str(folder)] = {station: n for station, (n, _) in claims.items()}
        for station, (count, changed) in sorted(claims.items()):
            if now - changed >= STALE_CLAIM_S:
                problems.append(f"{count} bản quét trong {folder} đã được máy {station} nhận "
                                f"nhưng chưa xử lý xong (xem {CLAIM_SUBDIR}/{station}); nếu "
                                "máy đó không dùng nữa, hãy chuyển các tệp về lại thư mục")
    detail["pending_claims"] = pending
    return problems


def ocr_status() -> tuple[bool, str, list[str]]:
    """(Vietnamese OCR usable, tesseract's version, its languages)."""
    engine = find_engine()
    return (ocr_available("vie"), engine.version if engine else "",
            sorted(engine.languages) if engine else [])


def check_ocr(answer: Answer[tuple[bool, str, list[str]]], profiles_use_ocr: bool) -> Check:
    title = "Nhận dạng chữ (OCR)"
    result = answer.value
    if not answer.finished or result is None:
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


# --- the link to the province ---------------------------------------------------------------

TOKEN_WHERE_VI = {"env": "biến môi trường " + TOKEN_ENV,
                  "file": "tệp chỉ tài khoản này đọc được",
                  "keyring": "kho khóa của hệ điều hành"}


@dataclass(frozen=True)
class LinkLook:
    token_where: str  # TokenStore.lookup's answer: "" when this PC holds no token
    link: LinkCheck | None  # None: no gateway configured


def look_at_link(root: Path, station: StationInfo, timeout: Timeout) -> LinkLook:
    """The token this PC holds (without showing it) and what the gateway says of it."""
    token, where = TokenStore(root, station_account(station)).lookup()
    if not station.gateway_url:
        return LinkLook(where, None)
    return LinkLook(where, check_link(station.gateway_url, token, station.ca_bundle,
                                      timeout=timeout))


def gateway_checks(station: StationInfo | None, answer: Answer[LinkLook] | None
                   ) -> list[Check]:
    title_gw, title_clock, title_token = "Hệ thống tỉnh", "Đồng hồ máy", "Mã xác thực quầy"
    if station is None or answer is None:
        return [Check("gateway", title_gw, WARN, "chưa cấu hình quầy.", {}),
                Check("token", title_token, WARN, "chưa cấu hình quầy.", {})]
    url = station.gateway_url
    if not answer.finished or answer.value is None:
        why = (f"lỗi {type(answer.error).__name__}" if answer.error else
               "không trả lời kịp (mạng treo hoặc kho khóa không trả lời)")
        if answer.error:
            log.warning("doctor: gateway probe failed: %r", answer.error)
        return [Check("gateway", title_gw, WARN, f"{url or 'chưa cấu hình'}: {why}.",
                      {"url": url}),
                Check("token", title_token, WARN, "không kiểm tra được.", {})]
    look = answer.value
    r = look.link or LinkCheck(url)
    checks: list[Check] = []
    detail: dict[str, Any] = {"url": url, "reachable": r.reachable, "api_version": r.api_version,
                              "tls": url.startswith("https://"),
                              "ca_bundle": station.ca_bundle or "system"}
    if not url:
        checks.append(Check("gateway", title_gw, WARN, "chưa có địa chỉ hệ thống một cửa của "
                            "tỉnh; hồ sơ chỉ lưu trên máy.", detail))
    elif problem := url_problem(url):  # stored before the https rule: nothing is sent
        checks.append(Check("gateway", title_gw, FAIL, f"{url}: {problem} Hãy đặt lại địa "
                            "chỉ https:// (motcua sync --set-gateway).", detail))
    elif r.tls_error:
        checks.append(Check("gateway", title_gw, FAIL, f"{url}: không xác thực được chứng chỉ "
                            "TLS của tỉnh (sai chứng chỉ CA, đồng hồ máy sai, hoặc mạng chặn "
                            "và giả mạo trang).", detail))
    elif not r.reachable:
        checks.append(Check("gateway", title_gw, WARN, f"{url}: không kết nối được "
                            f"({r.error_vi.rstrip('.')}). Hồ sơ vẫn lưu an toàn trên máy.", detail))
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
        ahead = "nhanh" if r.skew_s > 0 else "chậm"
        sdetail = {"skew_s": round(r.skew_s, 1)}
        if skew > SKEW_FAIL_S:
            checks.append(Check("clock", title_clock, FAIL, f"{ahead} {skew / 60:.0f} phút so "
                                "với hệ thống tỉnh: giờ tiếp nhận, ngày hẹn trả in sai. Hãy "
                                "chỉnh giờ máy ngay.", sdetail))
        elif r.clock_off:
            checks.append(Check("clock", title_clock, WARN, f"{ahead} {skew / 60:.0f} phút so "
                                "với hệ thống tỉnh; nên chỉnh giờ máy.", sdetail))
        else:
            checks.append(Check("clock", title_clock, OK, f"lệch {skew:.0f} giây so với hệ "
                                "thống tỉnh.", sdetail))
    where = TOKEN_WHERE_VI.get(look.token_where, "")
    tdetail = {"present": bool(look.token_where), "stored_in": where,
               "accepted": r.token_accepted}
    if not look.token_where:
        checks.append(Check("token", title_token, WARN, "chưa có; quầy chưa đồng bộ được "
                            "(motcua sync --set-token hoặc motcua provision).", tdetail))
    elif r.token_accepted is False:
        checks.append(Check("token", title_token, FAIL, f"có ({where}) nhưng tỉnh "
                            f"không chấp nhận: {r.token_error_vi}", tdetail))
    elif r.issued_to is not None and not r.token_is_for(station.agency_code,
                                                        station.station_digit):
        agency, digit = r.issued_to
        tdetail["issued_to"] = f"{agency}/{digit}"
        checks.append(Check("token", title_token, FAIL, f"tỉnh cấp mã này cho quầy {digit} "
                            f"của {agency}, không phải quầy {station.station_digit} của "
                            f"{station.agency_code} (máy sao chép từ máy khác?). Hai máy cùng "
                            "số hiệu sẽ cấp trùng mã hồ sơ: hãy xin mã riêng và chạy lại "
                            "“motcua provision”.", tdetail))
    else:
        checked = (", tỉnh đã chấp nhận" if r.token_accepted else
                   ", chưa kiểm tra được với tỉnh")
        if r.issued_to is not None:
            checked += f" (đúng quầy {r.issued_to[1]})"
        checks.append(Check("token", title_token, OK, f"có ({where}){checked}.",
                            tdetail))
    return checks


def check_known_clock(ctx: AppContext) -> Check | None:
    """This PC's clock against the gateway's the last time sync reached it: what the
    doctor says of the clock when the gateway does not answer now. None when never."""
    try:
        known = last_offset(ctx)
    except sqlalchemy.exc.SQLAlchemyError:
        return None  # a schema behind head or a database fault: other checks say so
    if known is None:
        return None
    skew = abs(known.offset_s)
    ahead = "nhanh" if known.offset_s > 0 else "chậm"
    when = f"lần đo gần nhất lúc {known.measured_at:%H:%M ngày %d/%m/%Y}"
    detail = {"skew_s": round(known.offset_s, 1),
              "measured_at": known.measured_at.isoformat(timespec="seconds"),
              "source": "last sync"}
    if skew > SKEW_FAIL_S:
        return Check("clock", "Đồng hồ máy", FAIL, f"{ahead} {duration_vi(skew)} so với hệ "
                     f"thống tỉnh ({when}): giờ tiếp nhận, ngày hẹn trả in sai. Hãy chỉnh "
                     "giờ máy ngay.", detail)
    if skew > SKEW_WARN_S:
        return Check("clock", "Đồng hồ máy", WARN, f"{ahead} {duration_vi(skew)} so với hệ "
                     f"thống tỉnh ({when}); nên chỉnh giờ máy.", detail)
    return Check("clock", "Đồng hồ máy", OK, f"lệch {skew:.0f} giây so với hệ thống tỉnh "
                 f"({when}).", detail)


def check_sync_service(root: Path) -> Check:
    """The background `motcua sync`: running, stalled (no heartbeat for a few intervals),
    stopped abnormally, or not used on this PC."""
    from desktop_app.sync.heartbeat import read_heartbeat

    view = read_heartbeat(root)
    return Check("sync_service", "Dịch vụ đồng bộ nền", WARN if view.level == "warn" else OK,
                 view.message_vi, view.data)
