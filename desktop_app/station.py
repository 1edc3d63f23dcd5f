"""Station (counter PC) settings: agency code and name, station digit, printing choices,
and the characters this PC's handheld QR scanner sends around each code."""

from __future__ import annotations

import logging
import socket
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from desktop_app.context import AppContext
from desktop_app.domain.dossier_code import validate_agency_code, validate_station_digit
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import nfc
from desktop_app.sync.gateway_url import check_gateway_url
from local_db import repositories as repo
from local_db.models import Station, StationSettings

log = logging.getLogger(__name__)

STATION_LOCK = "motcua.stations"
DEFAULT_RETENTION_DAYS = 365
MIN_RETENTION_DAYS = 30  # a finished dossier may still be contested for a while
MAX_RETENTION_DAYS = 3650
MAX_AFFIX_CHARS = 16  # stations.scanner_prefix / scanner_suffix are String(16)
# Characters found inside the codes the counter reads (ID-card QR fields and Vietnamese
# addresses, dossier codes, tracking URLs): a suffix made of them would end a scan in the
# middle of its text.
AffixKind = Literal["prefix", "suffix"]
_IN_PAYLOADS = set("|.,-/:?&=()'\"")


@dataclass(frozen=True)
class StationInfo:
    agency_code: str
    agency_name: str
    place_name: str
    station_digit: int
    parent_name: str = ""
    receipt_page_size: str = "A4"
    book_number: str = "01"
    tracking_url: str = ""
    upload_limit_mb: int = 10
    hot_folders: tuple[str, ...] = ()
    gateway_url: str = ""
    ca_bundle: str = ""
    unsynced_warn_days: int = 3
    retention_days: int = DEFAULT_RETENTION_DAYS  # agency-wide
    printer: str = ""  # this PC's receipt printer; empty: the system default
    # What this PC's handheld scanner sends before / after each code (often nothing; see
    # ui/wedge.py). Control characters are allowed (STX/ETX).
    scanner_prefix: str = ""
    scanner_suffix: str = ""


class StationNotConfigured(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "Máy này chưa được cấu hình cơ quan và số hiệu quầy. Hãy nhờ kỹ thuật viên thiết lập.",
            "station settings missing",
        )


def _check_retention(days: int) -> None:
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise DomainError(f"Số ngày giữ tệp trên máy phải từ {MIN_RETENTION_DAYS} đến "
                          f"{MAX_RETENTION_DAYS} (đang là {days}).", f"retention_days {days}")


def check_scanner_affix(value: str, which: AffixKind) -> str:
    """``value`` as a scanner prefix (``which`` = "prefix") or suffix, or DomainError saying
    in Vietnamese why it cannot be one. Enter and Tab end a scan anyway; what remains must
    not be mistaken for typing (a prefix) nor occur inside a code (a suffix)."""
    label = "Tiền tố" if which == "prefix" else "Hậu tố"
    if len(value) > MAX_AFFIX_CHARS:
        raise DomainError(f"{label} của máy quét dài tối đa {MAX_AFFIX_CHARS} ký tự.",
                          f"scanner {which} too long ({len(value)})")
    if any(ch.isspace() for ch in value):
        raise DomainError(f"{label} của máy quét không được chứa dấu cách, Tab hay Enter "
                          "(Enter và Tab đã luôn kết thúc một lần quét).",
                          f"scanner {which} has whitespace {value!r}")
    if "\x00" in value:  # PostgreSQL text cannot hold it, and no scanner needs it
        raise DomainError(f"{label} của máy quét không được chứa ký tự \\x00.",
                          f"scanner {which} has NUL")
    if which == "prefix" and value and value[0].isalnum():
        raise DomainError(f"{label} của máy quét không được bắt đầu bằng chữ hay chữ số (cán "
                          "bộ gõ phím cũng bắt đầu như vậy); hãy dùng ký hiệu như ] ~ § hoặc "
                          "ký tự điều khiển \\x02.", f"scanner prefix starts alphanumeric "
                          f"{value!r}")
    if which == "suffix" and any(ch.isalnum() or ch in _IN_PAYLOADS for ch in value):
        raise DomainError(f"{label} của máy quét không được chứa chữ, chữ số hay các dấu "
                          "| . , - / : ? & = ( ) ' \" (chúng có trong mã QR thẻ căn cước và "
                          "mã hồ sơ); hãy dùng ký hiệu như ~ # hoặc ký tự điều khiển \\x03.",
                          f"scanner suffix has payload characters {value!r}")
    return value


def scanner_affix_text(value: str) -> str:
    """How a prefix/suffix is written for people: control characters as ``\\xNN``."""
    return "".join(f"\\x{ord(ch):02X}" if ord(ch) < 32 or ord(ch) == 127
                   else "\\\\" if ch == "\\" else ch for ch in value)


def parse_scanner_affix(text: str, which: AffixKind) -> str:
    """The inverse of ``scanner_affix_text`` (``\\x02`` is STX, ``\\\\`` a backslash),
    checked by ``check_scanner_affix``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if text[i + 1:i + 2] == "\\":
            out.append("\\")
            i += 2
            continue
        digits = text[i + 2:i + 4]
        if text[i + 1:i + 2].lower() != "x" or len(digits) != 2 or any(
                d not in "0123456789abcdefABCDEF" for d in digits):
            label = "Tiền tố" if which == "prefix" else "Hậu tố"
            raise DomainError(f"{label} của máy quét: viết ký tự điều khiển dạng \\x02 (hai "
                              "chữ số hệ 16), dấu \\ dạng \\\\.",
                              f"scanner {which}: bad escape in {text!r}")
        out.append(chr(int(digits, 16)))
        i += 4
    return check_scanner_affix("".join(out), which)


def validate_station(info: StationInfo) -> StationInfo:
    agency = validate_agency_code(info.agency_code)
    validate_station_digit(info.station_digit)
    if not nfc(info.agency_name):
        raise DomainError("Vui lòng nhập tên cơ quan.", "empty agency name")
    if not nfc(info.place_name):
        raise DomainError("Vui lòng nhập địa danh (dùng cho dòng “…, ngày … tháng … năm …”).",
                          "empty place name")
    if info.receipt_page_size not in ("A4", "A5"):
        raise DomainError("Khổ giấy biên nhận phải là A4 hoặc A5.", "bad page size")
    _check_retention(info.retention_days)
    return StationInfo(
        agency_code=agency,
        agency_name=nfc(info.agency_name),
        place_name=nfc(info.place_name),
        station_digit=info.station_digit,
        parent_name=nfc(info.parent_name),
        receipt_page_size=info.receipt_page_size,
        book_number=nfc(info.book_number) or "01",
        tracking_url=info.tracking_url.strip(),
        upload_limit_mb=info.upload_limit_mb,
        hot_folders=_hot_folders(info.hot_folders),
        gateway_url=_gateway_url(info.gateway_url),
        ca_bundle=info.ca_bundle.strip(),
        unsynced_warn_days=max(1, info.unsynced_warn_days),
        retention_days=info.retention_days,
        printer=nfc(info.printer)[:200],
        scanner_prefix=check_scanner_affix(info.scanner_prefix, "prefix"),
        scanner_suffix=check_scanner_affix(info.scanner_suffix, "suffix"),
    )


def _gateway_url(raw: str) -> str:
    # The one https rule (CLI, first-run wizard, provisioning and every other save).
    return check_gateway_url(raw)


def _hot_folders(folders: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for raw in folders:
        folder = raw.strip()
        if not folder:
            continue
        if not Path(folder).is_absolute():
            raise DomainError(f"Thư mục nhận bản quét “{folder}” phải là đường dẫn đầy đủ "
                              "(ví dụ D:\\Scan\\A0).", f"relative hot folder {folder!r}")
        if folder not in out:
            out.append(folder)
    return tuple(out)


def _row_values(info: StationInfo) -> dict[str, object]:
    """The agency-wide columns (the PC's own ones live in ``stations``)."""
    values = asdict(info)
    values["hot_folders"] = list(info.hot_folders)
    for own in ("printer", "scanner_prefix", "scanner_suffix"):
        del values[own]
    return values


def _station_info(row: StationSettings, seat: Station | None) -> StationInfo:
    """The agency's settings with a PC's own ones (its seat) where it has them."""
    return StationInfo(
        agency_code=row.agency_code,
        agency_name=row.agency_name,
        place_name=row.place_name,
        station_digit=seat.station_digit if seat else row.station_digit,
        parent_name=row.parent_name,
        receipt_page_size=row.receipt_page_size,
        book_number=row.book_number,
        tracking_url=row.tracking_url,
        upload_limit_mb=row.upload_limit_mb,
        hot_folders=tuple((seat.hot_folders if seat else row.hot_folders) or ()),
        gateway_url=row.gateway_url,
        ca_bundle=seat.ca_bundle if seat is not None and seat.ca_bundle else row.ca_bundle,
        unsynced_warn_days=row.unsynced_warn_days,
        retention_days=row.retention_days,
        printer=seat.printer if seat else "",
        scanner_prefix=seat.scanner_prefix if seat else "",
        scanner_suffix=seat.scanner_suffix if seat else "",
    )


class StationService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def get(self) -> StationInfo | None:
        """This PC's station: the agency's settings with this PC's digit, hot folders,
        printer and CA copy.
        None when the agency is not set up, or when other PCs share the database and this
        one has not been given its own digit yet."""
        install = self.ctx.paths.install_id()
        with self.ctx.db.read() as s:
            row = repo.get_station(s)
            if row is None:
                return None
            seat = s.get(Station, install)
            if seat is None and s.scalar(select(func.count()).select_from(Station)):
                return None  # a new counter on a shared database: it needs its own digit
            return _station_info(row, seat)

    def agency(self) -> StationInfo | None:
        """The agency-wide settings, whichever PC this is (its digit, folders and CA are
        the agency row's: the first PC's); None before the agency is set up."""
        with self.ctx.db.read() as s:
            row = repo.get_station(s)
            return _station_info(row, None) if row is not None else None

    def set_retention_and_printer(self, retention_days: int, printer: str,
                                  clerk_id: int | None = None) -> None:
        """Only these two settings, leaving the others as they are (used to import the
        file earlier versions kept them in)."""
        _check_retention(retention_days)
        now = self.ctx.clock.now()
        install = self.ctx.paths.install_id()
        with self.ctx.db.write(lock=STATION_LOCK) as s:
            row = repo.get_station(s)
            if row is None:
                raise StationNotConfigured()
            row.retention_days = retention_days
            seat = s.get(Station, install)
            if seat is None:
                if s.scalar(select(func.count()).select_from(Station)):
                    raise StationNotConfigured()
                seat = Station(install_id=install, station_digit=row.station_digit,
                               hostname=socket.gethostname()[:200],
                               hot_folders=list(row.hot_folders or ()),
                               ca_bundle=row.ca_bundle, created_at=now, last_seen_at=now)
                s.add(seat)
            seat.printer = nfc(printer)[:200]
            repo.add_audit(s, now, clerk_id, "station_configured", "station", "1",
                           {"retention_days": retention_days, "printer": seat.printer})

    def require(self) -> StationInfo:
        info = self.get()
        if info is None:
            raise StationNotConfigured()
        return info

    def save(self, info: StationInfo, clerk_id: int | None = None) -> StationInfo:
        info = validate_station(info)
        now = self.ctx.clock.now()
        install = self.ctx.paths.install_id()
        try:
            self._save(info, clerk_id, install, now)
        except IntegrityError as exc:
            # The lock below makes this rare (SQLite, or a PC of an older version racing).
            log.warning("station digit %d claim lost to another PC: %s", info.station_digit,
                        str(exc.orig).splitlines()[0] if exc.orig else exc)
            raise DomainError(
                f"Số hiệu quầy {info.station_digit} vừa được máy khác nhận; hãy chọn số khác.",
                f"station digit {info.station_digit}: {type(exc.orig).__name__}") from exc
        return info

    def _save(self, info: StationInfo, clerk_id: int | None, install: str,
              now: datetime) -> None:
        # Two new PCs claiming the same free digit at once: the second waits for the
        # first's commit, then sees the digit taken and is told so.
        with self.ctx.db.write(lock=STATION_LOCK) as s:
            taken = s.scalar(select(Station).where(Station.station_digit == info.station_digit,
                                                   Station.install_id != install))
            if taken is not None:
                raise DomainError(
                    f"Số hiệu quầy {info.station_digit} đã được máy “{taken.hostname}” dùng "
                    "trên cơ sở dữ liệu chung này. Mỗi quầy cần một số hiệu riêng (1–9) để "
                    "mã hồ sơ không trùng.", f"station digit {info.station_digit} taken by "
                    f"install {taken.install_id}")
            seat = s.get(Station, install)
            if seat is None:
                s.add(Station(install_id=install, station_digit=info.station_digit,
                              hostname=socket.gethostname()[:200],
                              hot_folders=list(info.hot_folders), printer=info.printer,
                              scanner_prefix=info.scanner_prefix,
                              scanner_suffix=info.scanner_suffix,
                              ca_bundle=info.ca_bundle, created_at=now, last_seen_at=now))
            else:
                seat.station_digit = info.station_digit
                seat.hot_folders = list(info.hot_folders)
                seat.printer = info.printer
                seat.scanner_prefix = info.scanner_prefix
                seat.scanner_suffix = info.scanner_suffix
                seat.ca_bundle = info.ca_bundle
                seat.hostname = socket.gethostname()[:200]
                seat.last_seen_at = now
            row = repo.get_station(s)
            if row is None:
                row = StationSettings(id=1, updated_at=now, **_row_values(info))
                s.add(row)
            else:
                for key, value in _row_values(info).items():
                    setattr(row, key, value)
                row.updated_at = now
            repo.add_audit(s, now, clerk_id, "station_configured", "station", "1",
                           {**_row_values(info), "printer": info.printer,
                            "scanner_prefix": info.scanner_prefix,
                            "scanner_suffix": info.scanner_suffix})
