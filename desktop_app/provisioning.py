"""Provisioning a counter PC from one file the technician brings (JSON, or TOML).

The file is checked completely first and every problem is reported at once; only a
valid file is applied, in one go: the provincial CA bundle (copied into the data
directory, so the USB stick can leave), the station settings (with the retention period
and this PC's receipt printer), the LAN database URL, the station token
(OS keyring or a 0600 file; never printed, never logged), the technician account and
the locked scan profiles. Applying the same file again gives the same result.

The gateway is asked (short timeouts) whether the token works and, where it exposes
the station's identity, whether the token belongs to this agency code and station
digit. An unreachable gateway is a warning, not an error: communes provision offline."""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import json
import logging
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from desktop_app.domain.dossier_code import AGENCY_CODE
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import nfc
from desktop_app.scanning.model import PAGE_SIZES_MM, PAPER_SOURCES, ColourMode, ScanProfile
from desktop_app.station import (
    DEFAULT_RETENTION_DAYS,
    MIN_RETENTION_DAYS,
    StationInfo,
    validate_station,
)
from sync_contract import wire

if TYPE_CHECKING:
    from desktop_app.accounts import ClerkInfo
    from desktop_app.context import AppContext
    from desktop_app.sync.client import GatewayClient
    from sync_contract import wire

log = logging.getLogger(__name__)

CA_FILE = Path("ca") / "provincial-ca.pem"
DB_URL_FILE = Path("secrets") / "db_url"
MAX_RETENTION_DAYS = 3650
MAX_UPLOAD_MB = 512  # wire.MAX_FILE_BYTES
GATEWAY_TIMEOUT = (3.0, 5.0)  # connect, read (seconds)
CLOCK_SKEW_WARN_S = 120
# An authenticated request that returns (almost) nothing: the change feed past its end.
AUTH_PROBE_SINCE = 2**31 - 1

# A gateway older than these endpoints answers 404: provisioning then says what it could
# not check instead of failing.
ENROL_PATH = wire.ENROL
STATION_PATH = wire.STATION

KNOWN_KEYS: dict[str, str] = {
    "agency_code": "mã cơ quan (QCVN 102:2016, ví dụ 000.00.12.H12)",
    "agency_name": "tên cơ quan in trên phiếu",
    "parent_name": "tên cơ quan cấp trên",
    "place_name": "địa danh",
    "station_digit": "số hiệu quầy 1–9",
    "book_number": "số sổ theo dõi hồ sơ",
    "gateway_url": "địa chỉ hệ thống một cửa của tỉnh",
    "ca_bundle": "chứng chỉ CA của tỉnh (đường dẫn tệp PEM hoặc nội dung PEM)",
    "station_token": "mã xác thực của quầy",
    "enrolment_code": "mã đăng ký một lần để lấy mã xác thực",
    "printer": "tên máy in",
    "scan_profiles": "các hồ sơ quét (khóa bởi kỹ thuật viên)",
    "upload_limit_mb": "giới hạn dung lượng mỗi tệp gửi lên tỉnh (MB)",
    "retention_days": "số ngày giữ tệp trên máy sau khi hồ sơ kết thúc",
    "unsynced_warn_days": "số ngày hồ sơ chưa gửi được thì cảnh báo",
    "hot_folders": "thư mục nhận bản quét khổ lớn",
    "receipt_page_size": "khổ giấy biên nhận (A4 hoặc A5)",
    "tracking_url": "địa chỉ tra cứu hồ sơ in trên biên nhận",
    "db_url": "cơ sở dữ liệu PostgreSQL dùng chung trong mạng LAN",
    "technician": "tài khoản kỹ thuật viên",
}
REQUIRED_KEYS = ("agency_code", "agency_name", "place_name", "station_digit")
PROFILE_KEYS = ("name", "label_vi", "dpi", "mode", "duplex", "page_size", "drop_blank",
                "deskew", "crop_borders", "jpeg_quality", "locked", "paper", "ocr")
TECHNICIAN_KEYS = ("username", "full_name", "password_hash")
_PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")
_PASSWORD_HASH = re.compile(r"^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$")
_OTP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# --- the plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    key: str
    message_vi: str

    @property
    def text(self) -> str:
        return f"{self.key}: {self.message_vi}" if self.key else self.message_vi


@dataclass(frozen=True)
class TechnicianSpec:
    username: str
    full_name: str
    password_hash: str = field(default="", repr=False)


@dataclass(frozen=True)
class ProvisionPlan:
    source: Path
    source_sha256: str
    station: StationInfo  # ca_bundle is set to the installed copy when applied
    profiles: tuple[ScanProfile, ...] = ()
    technician: TechnicianSpec | None = None
    ca_pem: str = field(default="", repr=False)
    ca_source: str = ""  # "inline", the source path, or "" (system CAs)
    token: str = field(default="", repr=False)
    enrolment_code: str = field(default="", repr=False)
    db_url: str = field(default="", repr=False)
    warnings: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        """What will be applied, without any secret (for --dry-run and --json)."""
        s = self.station
        return {
            "agency_code": s.agency_code, "agency_name": s.agency_name,
            "parent_name": s.parent_name, "place_name": s.place_name,
            "station_digit": s.station_digit, "book_number": s.book_number,
            "gateway_url": s.gateway_url, "ca_bundle": self.ca_source,
            "station_token": "có" if self.token else "không",
            "enrolment_code": "có" if self.enrolment_code else "không",
            "printer": s.printer, "upload_limit_mb": s.upload_limit_mb,
            "retention_days": s.retention_days,
            "unsynced_warn_days": s.unsynced_warn_days, "hot_folders": list(s.hot_folders),
            "receipt_page_size": s.receipt_page_size, "tracking_url": s.tracking_url,
            "db_url": redact_db_url(self.db_url),
            "scan_profiles": [p.name for p in self.profiles],
            "technician": self.technician.username if self.technician else "",
        }


class ProvisioningInvalid(DomainError):
    def __init__(self, problems: list[Problem]) -> None:
        lines = "\n".join(f"  - {p.text}" for p in problems)
        super().__init__(f"Tệp cấu hình có {len(problems)} lỗi:\n{lines}",
                         f"provisioning file invalid: {len(problems)} problem(s): "
                         + "; ".join(p.key or "?" for p in problems))
        self.problems = problems


def redact_db_url(url: str) -> str:
    if not url:
        return ""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "***"


# --- reading and checking the file --------------------------------------------------------


def load_file(path: Path) -> dict[str, Any]:
    """The file's top-level table; ``ProvisioningInvalid`` when unreadable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProvisioningInvalid([Problem("", f"Không đọc được tệp {path}: "
                                           f"{exc.strerror or exc}.")]) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProvisioningInvalid([Problem("", "Tệp cấu hình phải lưu bằng mã UTF-8.")]
                                  ) from exc
    if path.suffix.lower() == ".toml":
        try:
            raw: object = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProvisioningInvalid([Problem("", f"Tệp TOML sai cú pháp: {exc}.")]) from exc
    else:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProvisioningInvalid([Problem(
                "", f"Tệp JSON sai cú pháp ở dòng {exc.lineno}, cột {exc.colno}: {exc.msg}.")]
            ) from exc
    if not isinstance(raw, dict):
        raise ProvisioningInvalid([Problem("", "Tệp cấu hình phải là một đối tượng JSON "
                                           "{ \"khóa\": giá trị, … }.")])
    return raw


def read_plan(path: Path, *, check_printer: bool = True) -> ProvisionPlan:
    """Load and check a provisioning file; raises ``ProvisioningInvalid`` listing every
    problem."""
    raw = load_file(path)
    return check_plan(raw, path, check_printer=check_printer)


class _Checker:
    def __init__(self, raw: Mapping[str, Any], base: Path) -> None:
        self.raw = raw
        self.base = base
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def error(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message))

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def string(self, key: str, default: str = "", required: bool = False) -> str:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.error(key, f"thiếu {KNOWN_KEYS[key]}.")
            return default
        if not isinstance(value, str):
            self.error(key, f"phải là chuỗi ký tự (đang là {_kind(value)}).")
            return default
        value = nfc(value)
        if required and not value:
            self.error(key, f"không được để trống ({KNOWN_KEYS[key]}).")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"phải là số nguyên từ {low} đến {high} (đang là {_kind(value)}).")
            return default
        if not low <= value <= high:
            self.error(key, f"phải từ {low} đến {high} (đang là {value}).")
            return default
        return value


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"số {value}"
    if isinstance(value, str):
        return f"chuỗi “{value[:40]}”"
    if isinstance(value, list):
        return "danh sách"
    if isinstance(value, dict):
        return "đối tượng"
    return "rỗng" if value is None else type(value).__name__


def _unknown_keys(c: _Checker, keys: object, known: tuple[str, ...] | list[str],
                  where: str) -> None:
    if not isinstance(keys, Mapping):
        return
    for key in keys:
        if not isinstance(key, str) or key.startswith(("_", "$")):
            continue  # "_comment", "$schema": notes for people
        if key in known:
            continue
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
        hint = f" Có phải ý bạn là “{close[0]}”?" if close else ""
        c.error(f"{where}{key}", f"khóa không được hỗ trợ.{hint}")


def check_url(value: str, *, allow_http_loopback: bool = True) -> str:
    """"" when ``value`` is a usable https URL (http only to this machine), else the
    problem in Vietnamese."""
    if any(ch.isspace() for ch in value):
        return "địa chỉ không được chứa dấu cách."
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http"):
        return "địa chỉ phải bắt đầu bằng https:// (ví dụ https://motcua.tinh.gov.vn)."
    host = parts.hostname or ""
    if not host:
        return "địa chỉ thiếu tên máy chủ."
    try:
        _ = parts.port
    except ValueError:
        return "cổng (port) trong địa chỉ không hợp lệ."
    if parts.scheme == "http" and not (allow_http_loopback and _loopback(host)):
        return ("phải dùng https:// — mã xác thực và dữ liệu công dân chỉ được gửi qua "
                "kết nối mã hóa (http:// chỉ dùng cho máy chủ thử nghiệm trên chính máy này).")
    if parts.query or parts.fragment:
        return "địa chỉ không được có phần ?… hoặc #…."
    return ""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_ca(c: _Checker) -> tuple[str, str]:
    """(PEM text, source description) of ``ca_bundle``."""
    value = c.raw.get("ca_bundle")
    if value is None or value == "":
        return "", ""
    if not isinstance(value, str):
        c.error("ca_bundle", "phải là đường dẫn tệp PEM hoặc nội dung PEM.")
        return "", ""
    if value.lstrip().startswith("-----BEGIN"):
        pem, source = value.strip() + "\n", "inline"
    else:
        path = Path(value.strip()).expanduser()
        if not path.is_absolute():
            path = c.base / path
        try:
            pem = path.read_text(encoding="ascii")
        except FileNotFoundError:
            c.error("ca_bundle", f"không tìm thấy tệp chứng chỉ {path}.")
            return "", ""
        except (OSError, UnicodeDecodeError) as exc:
            c.error("ca_bundle", f"không đọc được tệp chứng chỉ {path} ({exc}).")
            return "", ""
        source = str(path)
    try:
        from cryptography import x509

        certs = x509.load_pem_x509_certificates(pem.encode("ascii", "replace"))
    except ValueError:
        c.error("ca_bundle", "không phải chứng chỉ PEM hợp lệ (cần -----BEGIN CERTIFICATE-----).")
        return "", ""
    now = datetime.now(UTC)
    for cert in certs:
        subject = cert.subject.rfc4514_string()
        if cert.not_valid_after_utc < now:
            c.error("ca_bundle", f"chứng chỉ “{subject}” đã hết hạn ngày "
                                 f"{cert.not_valid_after_utc:%d/%m/%Y}.")
        elif (cert.not_valid_after_utc - now).days < 30:
            c.warn(f"Chứng chỉ CA “{subject}” sẽ hết hạn ngày "
                   f"{cert.not_valid_after_utc:%d/%m/%Y}; hãy xin tỉnh chứng chỉ mới.")
    return pem, source


def _check_profiles(c: _Checker) -> tuple[ScanProfile, ...]:
    value = c.raw.get("scan_profiles")
    if value is None:
        return ()
    if not isinstance(value, list):
        c.error("scan_profiles", "phải là danh sách các hồ sơ quét.")
        return ()
    out: list[ScanProfile] = []
    names: set[str] = set()
    for i, item in enumerate(value, 1):
        where = f"scan_profiles[{i}]"
        if not isinstance(item, Mapping):
            c.error(where, "mỗi hồ sơ quét phải là một đối tượng {name, label_vi, dpi, …}.")
            continue
        _unknown_keys(c, item, PROFILE_KEYS, f"{where}.")
        name, label = item.get("name"), item.get("label_vi")
        ok = True
        if not isinstance(name, str) or not _PROFILE_NAME.match(name):
            c.error(f"{where}.name", "tên hồ sơ quét gồm chữ thường không dấu, số, - hoặc _ "
                                     "(tối đa 40 ký tự), ví dụ “a0-ban-do”.")
            ok = False
        elif name in names:
            c.error(f"{where}.name", f"trùng tên hồ sơ quét “{name}”.")
            ok = False
        if not isinstance(label, str) or not nfc(label):
            c.error(f"{where}.label_vi", "thiếu tên hiển thị tiếng Việt của hồ sơ quét.")
            ok = False
        values: dict[str, Any] = {}
        for key in ("duplex", "drop_blank", "deskew", "crop_borders", "ocr"):
            if key in item:
                if not isinstance(item[key], bool):
                    c.error(f"{where}.{key}", "phải là true hoặc false.")
                    ok = False
                else:
                    values[key] = item[key]
        for key, low, high in (("dpi", 50, 1200), ("jpeg_quality", 10, 100)):
            if key in item:
                v = item[key]
                if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                    c.error(f"{where}.{key}", f"phải là số nguyên từ {low} đến {high}.")
                    ok = False
                else:
                    values[key] = v
        if "mode" in item:
            modes = [m.value for m in ColourMode]
            if item["mode"] not in modes:
                c.error(f"{where}.mode", f"chế độ màu phải là một trong: {', '.join(modes)}.")
                ok = False
            else:
                values["mode"] = ColourMode(item["mode"])
        if "page_size" in item:
            if item["page_size"] not in PAGE_SIZES_MM:
                c.error(f"{where}.page_size",
                        f"khổ giấy phải là một trong: {', '.join(PAGE_SIZES_MM)}.")
                ok = False
            else:
                values["page_size"] = item["page_size"]
        if "paper" in item:
            if item["paper"] not in PAPER_SOURCES:
                c.error(f"{where}.paper",
                        f"nguồn giấy phải là một trong: {', '.join(PAPER_SOURCES)}.")
                ok = False
            else:
                values["paper"] = item["paper"]
        if "locked" in item and item["locked"] is not True:
            c.warn(f"Hồ sơ quét “{name}”: hồ sơ quét do kỹ thuật viên cấp luôn bị khóa "
                   "(bỏ qua locked=false).")
        if not ok:
            continue
        assert isinstance(name, str) and isinstance(label, str)
        names.add(name)
        try:
            out.append(ScanProfile(name, nfc(label), locked=True, **values))
        except ValueError as exc:
            c.error(where, f"hồ sơ quét không hợp lệ ({exc}).")
    return tuple(out)


def _check_technician(c: _Checker) -> TechnicianSpec | None:
    value = c.raw.get("technician")
    if value is None:
        return None
    if not isinstance(value, Mapping):
        c.error("technician", "phải là đối tượng {username, full_name, password_hash}.")
        return None
    _unknown_keys(c, value, (*TECHNICIAN_KEYS, "password"), "technician.")
    username = value.get("username")
    full_name = value.get("full_name", "Kỹ thuật viên")
    pw_hash = value.get("password_hash", "")
    ok = True
    if not isinstance(username, str):
        c.error("technician.username", "thiếu tên đăng nhập.")
        ok = False
    else:
        username = username.strip().lower()
        bare = username.replace(".", "").replace("_", "")
        if not bare or not bare.isascii() or not bare.isalnum():
            c.error("technician.username", "tên đăng nhập chỉ gồm chữ không dấu, chữ số, "
                                           "dấu chấm hoặc gạch dưới.")
            ok = False
    if not isinstance(full_name, str) or not nfc(full_name):
        c.error("technician.full_name", "thiếu họ và tên.")
        ok = False
    if not isinstance(pw_hash, str) or (pw_hash and not _PASSWORD_HASH.match(pw_hash)):
        c.error("technician.password_hash",
                "phải là mã băm dạng scrypt$N$r$p$salt$digest (tạo bằng công cụ của tỉnh); "
                "bỏ trống để máy tạo mật khẩu dùng một lần.")
        ok = False
    if "password" in value:
        c.error("technician.password", "không ghi mật khẩu rõ trong tệp; dùng password_hash "
                                       "hoặc bỏ trống để máy tạo mật khẩu dùng một lần.")
        ok = False
    if not ok:
        return None
    assert isinstance(username, str) and isinstance(full_name, str)
    assert isinstance(pw_hash, str)
    return TechnicianSpec(username, nfc(full_name), pw_hash)


def _check_hot_folders(c: _Checker) -> tuple[str, ...]:
    value = c.raw.get("hot_folders")
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        c.error("hot_folders", "phải là danh sách đường dẫn thư mục.")
        return ()
    out: list[str] = []
    for folder in (v.strip() for v in value):
        if not folder:
            continue
        if not Path(folder).is_absolute():
            example = "D:\\Scan\\A0" if os.name == "nt" else "/srv/scan/a0"
            c.error("hot_folders", f"thư mục “{folder}” phải là đường dẫn đầy đủ "
                                   f"(ví dụ {example}).")
        elif not Path(folder).is_dir():
            c.warn(f"Thư mục nhận bản quét “{folder}” chưa có trên máy này; hãy tạo nó hoặc "
                   "cài phần mềm máy quét khổ lớn.")
            out.append(folder)
        else:
            out.append(folder)
    return tuple(dict.fromkeys(out))


def available_printers() -> list[str] | None:
    """Printer names Qt sees (QPrinterInfo works without a QApplication and offscreen);
    None when Qt's print support cannot load."""
    try:
        from PySide6.QtPrintSupport import QPrinterInfo
    except Exception as exc:  # missing system libraries: the check is skipped
        log.info("Qt print support unavailable: %s: %s", type(exc).__name__, exc)
        return None
    return [p.printerName() for p in QPrinterInfo.availablePrinters()]


def check_plan(raw: Mapping[str, Any], source: Path, *, check_printer: bool = True
               ) -> ProvisionPlan:
    c = _Checker(raw, source.parent)
    _unknown_keys(c, raw, list(KNOWN_KEYS), "")
    agency = c.string("agency_code", required=True).upper()
    if agency and not AGENCY_CODE.match(agency):
        c.error("agency_code", f"mã cơ quan “{agency}” không đúng định dạng QCVN 102:2016 "
                               "(ví dụ 000.00.12.H12).")
    agency_name = c.string("agency_name", required=True)
    place_name = c.string("place_name", required=True)
    parent_name = c.string("parent_name")
    if "station_digit" not in raw:
        c.error("station_digit", "thiếu số hiệu quầy (1–9, mỗi quầy của cơ quan một số khác "
                                 "nhau).")
        digit = 1
    else:
        digit = c.integer("station_digit", 1, 1, 9)
    book = c.string("book_number", "01") or "01"
    gateway = c.string("gateway_url").rstrip("/")
    if gateway and (problem := check_url(gateway)):
        c.error("gateway_url", problem)
    tracking = c.string("tracking_url")
    if tracking and (problem := check_url(tracking, allow_http_loopback=False)):
        c.error("tracking_url", problem)
    page = c.string("receipt_page_size", "A4").upper() or "A4"
    if page not in ("A4", "A5"):
        c.error("receipt_page_size", f"khổ giấy biên nhận phải là A4 hoặc A5 (đang là {page}).")
    upload = c.integer("upload_limit_mb", 10, 1, MAX_UPLOAD_MB)
    warn_days = c.integer("unsynced_warn_days", 3, 1, 90)
    retention = c.integer("retention_days", DEFAULT_RETENTION_DAYS, MIN_RETENTION_DAYS,
                          MAX_RETENTION_DAYS)
    hot = _check_hot_folders(c)
    pem, ca_source = _check_ca(c)
    if pem and gateway.startswith("http://"):
        c.warn("Có chứng chỉ CA nhưng địa chỉ tỉnh dùng http://; chứng chỉ chỉ dùng với https://.")
    token = c.string("station_token")
    enrol = c.string("enrolment_code")
    if token and enrol:
        c.error("station_token", "chỉ ghi một trong hai: station_token hoặc enrolment_code.")
    if token and (len(token) < 16 or any(ch.isspace() for ch in token)):
        c.error("station_token", "mã xác thực không hợp lệ (quá ngắn hoặc có dấu cách); hãy "
                                 "chép lại nguyên văn mã tỉnh cấp.")
    if (token or enrol) and not gateway:
        c.error("gateway_url", "có mã xác thực nhưng thiếu địa chỉ hệ thống tỉnh.")
    if gateway and not (token or enrol):
        c.warn("Chưa có mã xác thực của quầy (station_token): quầy chưa đồng bộ được cho đến "
               "khi kỹ thuật viên nhập mã (motcua sync --set-token).")
    if not gateway:
        c.warn("Chưa có địa chỉ hệ thống một cửa của tỉnh (gateway_url): hồ sơ chỉ lưu trên "
               "máy này.")
    printer = c.string("printer")
    if printer and check_printer:
        names = available_printers()
        if names is not None and printer not in names:
            seen = ", ".join(names) if names else "không có máy in nào"
            c.warn(f"Máy in “{printer}” chưa có trên máy này (hiện có: {seen}); biên nhận sẽ "
                   "in ra máy in mặc định cho đến khi cài đúng máy in.")
    db_url = c.string("db_url")
    if db_url:
        try:
            from sqlalchemy.engine import make_url

            backend = make_url(db_url).get_backend_name()
        except Exception:
            c.error("db_url", "địa chỉ CSDL không hợp lệ (ví dụ "
                              "postgresql+psycopg://motcua:***@192.168.1.10/motcua).")
        else:
            if backend != "postgresql":
                c.error("db_url", "chỉ dùng cho PostgreSQL trong mạng LAN; bỏ khóa này để dùng "
                                  "CSDL SQLite trên máy.")
    profiles = _check_profiles(c)
    technician = _check_technician(c)
    if c.problems:
        raise ProvisioningInvalid(c.problems)
    station = StationInfo(
        agency_code=agency, agency_name=agency_name, place_name=place_name,
        station_digit=digit, parent_name=parent_name, receipt_page_size=page,
        book_number=book, tracking_url=tracking, upload_limit_mb=upload,
        hot_folders=hot, gateway_url=gateway, ca_bundle="", unsynced_warn_days=warn_days,
        retention_days=retention, printer=printer)
    try:
        station = validate_station(station)
    except DomainError as exc:  # a rule the checks above missed: still reported cleanly
        raise ProvisioningInvalid([Problem("", exc.message_vi)]) from exc
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False,
                                       default=str).encode()).hexdigest()
    return ProvisionPlan(source=source, source_sha256=digest, station=station,
                         profiles=profiles,
                         technician=technician, ca_pem=pem, ca_source=ca_source,
                         token=token, enrolment_code=enrol, db_url=db_url,
                         warnings=tuple(c.warnings))


# --- asking the gateway ---------------------------------------------------------------------


@dataclass
class GatewayProbe:
    checked: bool = False
    reachable: bool = False
    token_ok: bool | None = None
    identity_checked: bool = False
    clock_skew_s: float | None = None
    token: str = field(default="", repr=False)  # from an enrolment code
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def gateway_health(client: GatewayClient, timeout: tuple[float, float] = GATEWAY_TIMEOUT
                   ) -> wire.Health:
    """``GatewayClient.health`` with a short timeout (its own read timeout is 20 s)."""
    from sync_contract import wire

    resp = client.request("GET", wire.HEALTH, timeout=timeout)
    if resp.status_code != 200:
        raise client._fail(resp, "health")
    return client._model(wire.Health, resp, "health")


def clock_skew_seconds(server_time: str, now: datetime | None = None) -> float | None:
    """Local clock minus the gateway's (positive: this PC is ahead)."""
    try:
        remote = datetime.fromisoformat(server_time)
    except ValueError:
        return None
    if remote.tzinfo is None:
        return None
    return ((now or datetime.now(UTC)) - remote).total_seconds()


def probe_gateway(plan: ProvisionPlan, ca_file: str = "",
                  timeout: tuple[float, float] = GATEWAY_TIMEOUT, *,
                  enrol: bool = True) -> GatewayProbe:
    """Health, token and (when the gateway exposes it) the token's station identity.
    An enrolment code is single-use: it is exchanged only with ``enrol`` (not in a dry
    run), and the caller must keep ``probe.token``."""
    from desktop_app.sync.client import AuthFailed, GatewayClient, SyncError

    probe = GatewayProbe()
    station = plan.station
    if not station.gateway_url:
        return probe
    probe.checked = True
    client = GatewayClient(station.gateway_url, plan.token, ca_file, timeout=timeout)
    try:
        try:
            health = gateway_health(client, timeout)
        except SyncError as exc:
            tls = "TLS" in exc.detail
            probe.warnings.append(
                ("Không xác thực được chứng chỉ của hệ thống tỉnh (kiểm tra chứng chỉ CA và "
                 "đồng hồ máy)" if tls else "Không kết nối được hệ thống một cửa của tỉnh")
                + f" ({station.gateway_url}). Cấu hình vẫn dùng được; quầy sẽ đồng bộ khi "
                  "có mạng. Chạy “motcua doctor” để kiểm tra lại.")
            log.info("provisioning: gateway not reachable: %s", exc.detail)
            return probe
        probe.reachable = True
        probe.clock_skew_s = clock_skew_seconds(health.server_time)
        if probe.clock_skew_s is not None and abs(probe.clock_skew_s) > CLOCK_SKEW_WARN_S:
            probe.warnings.append(
                f"Đồng hồ máy này lệch {abs(probe.clock_skew_s) / 60:.0f} phút so với hệ "
                "thống tỉnh; hãy chỉnh giờ (giờ tiếp nhận và ngày hẹn in trên phiếu dùng "
                "đồng hồ máy).")
        token = plan.token
        if not token and plan.enrolment_code:
            if not enrol:
                probe.notes.append("Mã đăng ký chỉ dùng được một lần nên chưa đổi khi chạy "
                                   "thử; sẽ đổi lấy mã xác thực khi áp dụng.")
                return probe
            token = _enrol(client, plan, probe, timeout)
            if not token:
                return probe
            probe.token = token
            client.session.headers["Authorization"] = f"Bearer {token}"
        if not token:
            return probe
        try:
            client.changes(since=AUTH_PROBE_SINCE, limit=1)
        except AuthFailed as exc:
            probe.token_ok = False
            probe.errors.append("station_token: hệ thống tỉnh không chấp nhận mã xác thực này "
                                "(sai mã hoặc đã bị thu hồi); hãy xin tỉnh cấp lại.")
            log.warning("provisioning: token refused: %s", exc.detail)
            return probe
        except SyncError as exc:
            probe.warnings.append("Hệ thống tỉnh chưa kiểm tra được mã xác thực "
                                  f"({exc.message_vi}); sẽ kiểm tra khi đồng bộ.")
            log.warning("provisioning: token check failed: %s", exc.detail)
            return probe
        probe.token_ok = True
        _check_identity(client, station, probe, timeout)
    finally:
        client.close()
    return probe


def probe_plan(plan: ProvisionPlan, *, enrol: bool = True) -> GatewayProbe:
    """``probe_gateway`` with the plan's CA (inline or read from its file) in a temporary
    file, so nothing is written to the data directory before the plan is applied."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="motcua-provision-") as tmp:
        ca_file = ""
        if plan.ca_pem:
            ca_file = str(Path(tmp) / "ca.pem")
            Path(ca_file).write_text(plan.ca_pem, encoding="ascii")
        return probe_gateway(plan, ca_file, enrol=enrol)


def _enrol(client: GatewayClient, plan: ProvisionPlan, probe: GatewayProbe,
           timeout: tuple[float, float]) -> str:
    from desktop_app.sync.client import SyncError

    body = {"agency_code": plan.station.agency_code,
            "station_digit": plan.station.station_digit,
            "enrolment_code": plan.enrolment_code}
    try:
        resp = client.request("POST", ENROL_PATH, json=body, timeout=timeout)
    except SyncError as exc:
        probe.warnings.append("Chưa đổi được mã đăng ký lấy mã xác thực (mất kết nối); hãy "
                              "chạy lại lệnh provision khi có mạng.")
        log.warning("provisioning: enrolment failed: %s", exc.detail)
        return ""
    if resp.status_code == 404:
        probe.warnings.append("Hệ thống tỉnh chưa hỗ trợ mã đăng ký (enrolment_code); hãy xin "
                              "tỉnh mã xác thực của quầy (station_token). Quầy chưa đồng bộ "
                              "được.")
        log.warning("provisioning: gateway has no enrolment endpoint (%s)", ENROL_PATH)
        return ""
    if resp.status_code in (200, 201):
        try:
            token = wire.EnrolResponse.model_validate(resp.json()).token
        except ValueError:  # pydantic's ValidationError is a ValueError
            token = ""
        if token:
            log.info("provisioning: enrolment code exchanged for a station token")
            return token
    probe.errors.append(f"enrolment_code: hệ thống tỉnh từ chối mã đăng ký (HTTP "
                        f"{resp.status_code}); mã sai, hết hạn hoặc đã dùng.")
    return ""


def _check_identity(client: GatewayClient, station: StationInfo, probe: GatewayProbe,
                    timeout: tuple[float, float]) -> None:
    """Whether the token belongs to this agency code and station digit, when the gateway
    says whose token it is."""
    from desktop_app.sync.client import SyncError

    try:
        resp = client.request("GET", STATION_PATH, timeout=timeout)
    except SyncError as exc:
        log.info("provisioning: station identity not checked: %s", exc.detail)
        return
    if resp.status_code != 200 or not resp.headers.get("Content-Type", "").startswith(
            "application/json"):
        probe.notes.append("Hệ thống tỉnh không cho biết mã xác thực thuộc quầy nào; chưa "
                           "kiểm tra được số hiệu quầy có trùng với máy khác không.")
        log.info("provisioning: gateway exposes no station identity (HTTP %s at %s)",
                 resp.status_code, STATION_PATH)
        return
    try:
        identity = wire.StationIdentity.model_validate(resp.json())
    except ValueError:
        log.warning("provisioning: unexpected station identity body")
        return
    agency, digit = identity.agency_code.upper(), identity.station_digit
    probe.identity_checked = True
    if (agency, digit) != (station.agency_code, station.station_digit):
        probe.errors.append(
            f"station_digit: mã xác thực này tỉnh cấp cho quầy {digit} của cơ quan {agency}, "
            f"không phải quầy {station.station_digit} của {station.agency_code}. Mỗi máy cần "
            "số hiệu quầy và mã xác thực riêng; hai máy cùng số hiệu sẽ cấp trùng mã hồ sơ.")


# --- what is already on this machine -----------------------------------------------------------


def check_existing(ctx: AppContext, plan: ProvisionPlan, force: bool = False
                   ) -> tuple[list[str], list[str]]:
    """(errors, warnings) from the settings and dossier codes already in the database."""
    from sqlalchemy import select

    from desktop_app.station import StationService
    from local_db.models import DailyCounter

    errors: list[str] = []
    warnings: list[str] = []
    station = plan.station
    shared = not ctx.db.is_sqlite
    try:
        current = StationService(ctx).get()
        with ctx.db.read() as s:
            series = set(s.scalars(select(DailyCounter.series).distinct()))
    except Exception as exc:  # a schema behind head: nothing to compare with
        log.info("provisioning: existing settings unreadable: %s", type(exc).__name__)
        return errors, warnings
    if plan.technician is not None:
        from local_db import repositories as repo

        with ctx.db.read() as s:
            row = repo.clerk_by_username(s, plan.technician.username)
            role = row.role if row is not None else None
        if role is not None and role != "technician":
            errors.append(f"technician.username: tên đăng nhập “{plan.technician.username}” "
                          "đã là tài khoản của một cán bộ (không phải kỹ thuật viên); hãy chọn "
                          "tên khác.")
    used = sorted({int(name.rsplit("-", 1)[1]) for name in series
                   if re.fullmatch(r"dossier-[1-9]", name)})
    if shared:
        # Several counters on one database: each PC has its own row (its digit); the
        # agency's settings are shared by all of them.
        from local_db import repositories as repo
        from local_db.models import Station

        install = ctx.paths.install_id(create=False)
        with ctx.db.read() as s:
            taken = s.scalar(select(Station.hostname).where(
                Station.station_digit == station.station_digit, Station.install_id != install))
            agency = repo.get_station(s)
            agency_code = agency.agency_code if agency is not None else None
        if taken is not None:
            errors.append(f"station_digit: số hiệu quầy {station.station_digit} đã được máy "
                          f"“{taken}” dùng trên CSDL chung này; mỗi quầy cần một số "
                          "hiệu riêng (1–9) để mã hồ sơ không trùng.")
        if agency_code is not None and agency_code != station.agency_code:
            message = (f"CSDL dùng chung này thuộc cơ quan {agency_code}; ghi đè sẽ đổi cơ quan "
                       f"của mọi quầy dùng chung sang {station.agency_code}.")
            if force:
                warnings.append(message + " (đã ghi đè theo --force)")
            else:
                errors.append("agency_code: " + message + " Dùng --force nếu thật sự muốn.")
    elif current is not None and (current.agency_code, current.station_digit) != (
            station.agency_code, station.station_digit):
        who = f"quầy {current.station_digit} của cơ quan {current.agency_code}"
        warnings.append(f"Máy này trước đây là {who}; các hồ sơ đã tiếp nhận giữ nguyên "
                        "mã cũ.")
    elif not shared:
        others = [d for d in used if d != station.station_digit]
        if others and current is None:
            warnings.append("CSDL trên máy này đã có hồ sơ cấp mã từ quầy "
                            f"{', '.join(map(str, others))}: có thể là bản sao dữ liệu của máy "
                            "khác. Hãy kiểm tra để không hai máy cùng một số hiệu quầy.")
    return errors, warnings


# --- applying ---------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    station: StationInfo
    ca_path: str = ""
    db_url_path: str = ""
    token_stored: str = ""  # "keyring", the file path, or "" (no token)
    technician: str = ""
    technician_action: str = ""  # created | updated | kept
    one_time_password: str = field(default="", repr=False)
    profiles: list[str] = field(default_factory=list)


def one_time_password() -> str:
    raw = "".join(secrets.choice(_OTP_ALPHABET) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def apply_plan(ctx: AppContext, plan: ProvisionPlan, token: str = "") -> ApplyResult:
    """Write everything the plan holds. ``token`` overrides the plan's (enrolment)."""
    from desktop_app.accounts import ClerkInfo, Role
    from desktop_app.digitization import DigitizationService
    from desktop_app.station import StationService
    from desktop_app.sync.service import SyncService
    from local_db import repositories as repo

    root: Path = ctx.paths.root
    station = plan.station
    result = ApplyResult(station)
    if plan.ca_pem:
        ca_path = root / CA_FILE
        _write_atomic(ca_path, plan.ca_pem)
        station = replace(station, ca_bundle=str(ca_path))
        result.ca_path = str(ca_path)
    result.station = StationService(ctx).save(station)
    if plan.db_url:
        path = root / DB_URL_FILE
        _write_atomic(path, plan.db_url + "\n", mode=0o600)
        result.db_url_path = str(path)
    token = token or plan.token
    if token:
        result.token_stored = SyncService(ctx).set_token(token)

    by: ClerkInfo | None = None
    if plan.technician is not None:
        by, result.technician_action, result.one_time_password = _technician(ctx,
                                                                            plan.technician)
        result.technician = by.username
    if plan.profiles:
        # Saved as a technician; the audit names the technician account when there is one.
        who = by or ClerkInfo(None, "provision", "Cấu hình từ tệp",  # type: ignore[arg-type]
                              Role.TECHNICIAN)
        service = DigitizationService(ctx)
        for profile in plan.profiles:
            service.save_profile(profile, who)
            result.profiles.append(profile.name)
    now = ctx.clock.now()
    with ctx.db.write() as s:
        repo.add_audit(s, now, by.id if by else None, "station_provisioned", "station", "1", {
            "file": plan.source.name, "file_sha256": plan.source_sha256,
            "token": "keyring" if result.token_stored == "keyring"
            else ("file" if result.token_stored else "none"),
            "ca_bundle": bool(plan.ca_pem), "db_url": bool(plan.db_url),
            "profiles": result.profiles, "technician": result.technician,
            "retention_days": station.retention_days, "printer": station.printer})
    log.info("station provisioned: agency=%s digit=%d profiles=%d technician=%s token=%s "
             "ca=%s", result.station.agency_code, result.station.station_digit,
             len(result.profiles), result.technician_action or "none",
             "keyring" if result.token_stored == "keyring"
             else ("file" if result.token_stored else "none"), bool(plan.ca_pem))
    return result


def _technician(ctx: AppContext, spec: TechnicianSpec) -> tuple[ClerkInfo, str, str]:
    from desktop_app.accounts import ClerkInfo, Role
    from desktop_app.passwords import hash_password
    from local_db import repositories as repo
    from local_db.models import Clerk

    now = ctx.clock.now()
    password = ""
    with ctx.db.write() as s:
        row = repo.clerk_by_username(s, spec.username)
        if row is None:
            if not spec.password_hash:
                password = one_time_password()
            row = Clerk(username=spec.username, full_name=spec.full_name,
                        role=Role.TECHNICIAN.value,
                        password_hash=spec.password_hash or hash_password(password),
                        active=True, must_change_password=bool(password), created_at=now)
            s.add(row)
            s.flush()
            action = "created"
        elif spec.password_hash:
            row.password_hash = spec.password_hash
            row.full_name, row.role, row.active = spec.full_name, Role.TECHNICIAN.value, True
            action = "updated"
        else:
            row.full_name, row.role, row.active = spec.full_name, Role.TECHNICIAN.value, True
            action = "kept"  # its password stays: re-provisioning does not lock anyone out
        repo.add_audit(s, now, None, f"technician_{action}", "clerk", str(row.id),
                       {"username": spec.username, "one_time_password": bool(password)})
        info = ClerkInfo(row.id, row.username, row.full_name, Role.TECHNICIAN)
    return info, action, password
