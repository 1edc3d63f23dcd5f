"""Station (counter PC) settings: agency code and name, station digit, printing choices."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from desktop_app.context import AppContext
from desktop_app.domain.dossier_code import validate_agency_code, validate_station_digit
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import nfc
from local_db import repositories as repo
from local_db.models import StationSettings


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


class StationNotConfigured(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "Máy này chưa được cấu hình cơ quan và số hiệu quầy. Hãy nhờ kỹ thuật viên thiết lập.",
            "station settings missing",
        )


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
    )


def _gateway_url(raw: str) -> str:
    url = raw.strip().rstrip("/")
    if url and not url.startswith(("https://", "http://")):
        raise DomainError("Địa chỉ hệ thống một cửa của tỉnh phải bắt đầu bằng https://",
                          f"bad gateway url {url!r}")
    return url


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
    values = asdict(info)
    values["hot_folders"] = list(info.hot_folders)
    return values


class StationService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def get(self) -> StationInfo | None:
        with self.ctx.db.read() as s:
            row = repo.get_station(s)
            if row is None:
                return None
            return StationInfo(
                agency_code=row.agency_code,
                agency_name=row.agency_name,
                place_name=row.place_name,
                station_digit=row.station_digit,
                parent_name=row.parent_name,
                receipt_page_size=row.receipt_page_size,
                book_number=row.book_number,
                tracking_url=row.tracking_url,
                upload_limit_mb=row.upload_limit_mb,
                hot_folders=tuple(row.hot_folders or ()),
                gateway_url=row.gateway_url,
                ca_bundle=row.ca_bundle,
                unsynced_warn_days=row.unsynced_warn_days,
            )

    def require(self) -> StationInfo:
        info = self.get()
        if info is None:
            raise StationNotConfigured()
        return info

    def save(self, info: StationInfo, clerk_id: int | None = None) -> StationInfo:
        info = validate_station(info)
        now = self.ctx.clock.now()
        with self.ctx.db.write() as s:
            row = repo.get_station(s)
            if row is None:
                row = StationSettings(id=1, updated_at=now, **_row_values(info))
                s.add(row)
            else:
                for key, value in _row_values(info).items():
                    setattr(row, key, value)
                row.updated_at = now
            repo.add_audit(s, now, clerk_id, "station_configured", "station", "1",
                           _row_values(info))
        return info
