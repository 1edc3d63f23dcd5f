"""Reading and checking a provisioning file (JSON, or TOML): every problem is reported at
once, in Vietnamese, with the key it is about; only a file without problems becomes a
`ProvisionPlan`. Nothing here writes anything or talks to the gateway."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy.engine import make_url

from desktop_app.domain.dossier_code import AGENCY_CODE
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import nfc
from desktop_app.printers import available_printers
from desktop_app.scanning.model import ColourMode, ScanProfile
from desktop_app.scanning.profiles import check_profile, profile_problems
from desktop_app.setup.plan import (
    KNOWN_KEYS,
    Problem,
    ProvisioningInvalid,
    ProvisionPlan,
    TechnicianSpec,
)
from desktop_app.signers import SignedKind, SignerBlock, check_block
from desktop_app.station import (
    DEFAULT_RETENTION_DAYS,
    MAX_RETENTION_DAYS,
    MIN_RETENTION_DAYS,
    AffixKind,
    StationInfo,
    check_scanner_affix,
    validate_station,
)
from desktop_app.sync.gateway_url import url_problem
from sync_contract import release_manifest, wire

MAX_UPLOAD_MB = wire.MAX_FILE_BYTES // (1024 * 1024)
PROFILE_KEYS = tuple(f.name for f in fields(ScanProfile))
TECHNICIAN_KEYS = ("username", "full_name", "password_hash")
# argon2id as the province's tool writes it now, or the older scrypt form.
_PASSWORD_HASH = re.compile(
    r"^(\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+"
    r"|scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+)$")


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
    problem in Vietnamese (the rule of `desktop_app.sync.gateway_url`)."""
    return url_problem(value, allow_http_loopback=allow_http_loopback)


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
        problems = profile_problems(item)
        for problem in problems:
            c.error(f"{where}.{problem.field}", problem.message_vi + ".")
        name = item.get("name")
        if not problems and name in names:
            c.error(f"{where}.name", f"trùng tên hồ sơ quét “{name}”.")
            continue
        if "locked" in item and item["locked"] is not True:
            c.warn(f"Hồ sơ quét “{name}”: hồ sơ quét do kỹ thuật viên cấp luôn bị khóa "
                   "(bỏ qua locked=false).")
        if problems:
            continue
        names.add(str(name))
        values = {k: item[k] for k in PROFILE_KEYS if k in item and k != "locked"}
        if "mode" in values:
            values["mode"] = ColourMode(values["mode"])
        out.append(check_profile(ScanProfile(**{**values, "locked": True})))
    return tuple(out)


SIGNER_KEYS = ("authority", "delegation", "title", "name")


def _check_signers(c: _Checker) -> tuple[tuple[SignedKind, SignerBlock], ...]:
    """{"04": {"authority": "TM. ỦY BAN NHÂN DÂN", "delegation": "KT. CHỦ TỊCH",
    "title": "PHÓ CHỦ TỊCH", "name": "…"}, "05": {…}}"""
    value = c.raw.get("signers")
    if value is None:
        return ()
    forms = ", ".join(f'"{k.value}"' for k in SignedKind)
    if not isinstance(value, Mapping):
        c.error("signers", f"phải là đối tượng theo mẫu ({forms}).")
        return ()
    out: list[tuple[SignedKind, SignerBlock]] = []
    for form, spec in value.items():
        key = f"signers.{form}"
        try:
            kind = SignedKind(str(form))
        except ValueError:
            c.error(key, f"không có mẫu này; chỉ có {forms}.")
            continue
        if not isinstance(spec, Mapping):
            c.error(key, "phải là đối tượng {authority, delegation, title, name}.")
            continue
        _unknown_keys(c, spec, SIGNER_KEYS, f"{key}.")
        texts = {k: spec.get(k, "") for k in SIGNER_KEYS}
        if not all(isinstance(v, str) for v in texts.values()):
            c.error(key, "các dòng người ký phải là chuỗi ký tự.")
            continue
        try:
            out.append((kind, check_block(SignerBlock(**texts))))
        except DomainError as exc:
            c.error(key, exc.message_vi)
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
                "phải là mã băm argon2id ($argon2id$v=19$…, tạo bằng công cụ của tỉnh); "
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


def _check_scanner_affix(c: _Checker, which: AffixKind) -> str:
    """The raw characters (control characters included: JSON and TOML write STX as
    "\u0002"); not NFC-normalised or trimmed like text meant for people."""
    key = f"scanner_{which}"
    value = c.raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        c.error(key, f"phải là chuỗi ký tự (đang là {_kind(value)}).")
        return ""
    try:
        return check_scanner_affix(value, which)
    except DomainError as exc:
        c.error(key, exc.message_vi)
        return ""


def _check_release_key(c: _Checker) -> str:
    value = c.string("release_public_key")
    if not value:
        return ""
    try:
        return release_manifest.PUBLIC_KEY_PREFIX + release_manifest.parse_public_key(value)
    except ValueError:
        c.error("release_public_key", "không phải khóa công khai Ed25519 (cần dạng ed25519: và "
                                      "64 chữ số thập lục phân, như lệnh release-key new in ra).")
        return ""


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
            backend = make_url(db_url).get_backend_name()
        except Exception:
            c.error("db_url", "địa chỉ CSDL không hợp lệ (ví dụ "
                              "postgresql+psycopg://motcua:***@192.168.1.10/motcua).")
        else:
            if backend != "postgresql":
                c.error("db_url", "chỉ dùng cho PostgreSQL trong mạng LAN; bỏ khóa này để dùng "
                                  "CSDL SQLite trên máy.")
    scanner_prefix = _check_scanner_affix(c, "prefix")
    scanner_suffix = _check_scanner_affix(c, "suffix")
    profiles = _check_profiles(c)
    technician = _check_technician(c)
    signers = _check_signers(c)
    release_key = _check_release_key(c)
    max_kbps = c.integer("update_max_kbps", 0, 8, 1_000_000) if "update_max_kbps" in raw \
        else None
    if c.problems:
        raise ProvisioningInvalid(c.problems)
    station = StationInfo(
        agency_code=agency, agency_name=agency_name, place_name=place_name,
        station_digit=digit, parent_name=parent_name, receipt_page_size=page,
        book_number=book, tracking_url=tracking, upload_limit_mb=upload,
        hot_folders=hot, gateway_url=gateway, ca_bundle="", unsynced_warn_days=warn_days,
        retention_days=retention, printer=printer, scanner_prefix=scanner_prefix,
        scanner_suffix=scanner_suffix)
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
                         signers=signers, warnings=tuple(c.warnings),
                         release_public_key=release_key, update_max_kbps=max_kbps)
