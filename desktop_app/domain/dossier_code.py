"""Dossier code ``{agency}-{YYMMDD}-{station digit}{NNN}`` (DOMAIN.md, QCVN 102:2016)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from desktop_app.domain.errors import DomainError

# V1V2V3.Z1Z2.Y1Y2.MX1X2 — level 1 is a letter and two digits (H49 = Quảng Ninh, ...).
AGENCY_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
DOSSIER_CODE = re.compile(
    r"(?P<agency>\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2})-(?P<day>\d{6})-(?P<station>[1-9])(?P<seq>\d{3})"
)
MAX_DAILY = 999


class DossierCodeError(DomainError):
    pass


@dataclass(frozen=True)
class DossierCode:
    agency: str
    day: date
    station_digit: int
    sequence: int

    def __str__(self) -> str:
        return f"{self.agency}-{self.day:%y%m%d}-{self.station_digit}{self.sequence:03d}"


def validate_agency_code(agency: str) -> str:
    agency = agency.strip().upper()
    if not AGENCY_CODE.match(agency):
        raise DossierCodeError(
            f"Mã cơ quan “{agency}” không đúng định dạng QCVN 102:2016 (ví dụ 000.00.06.H56).",
            f"bad agency code {agency!r}",
        )
    return agency


def validate_station_digit(digit: int) -> int:
    if not 1 <= digit <= 9:
        raise DossierCodeError(
            f"Số hiệu quầy phải từ 1 đến 9 (đang là {digit}).", f"bad station digit {digit}"
        )
    return digit


def make_dossier_code(agency: str, day: date, station_digit: int, sequence: int) -> DossierCode:
    validate_agency_code(agency)
    validate_station_digit(station_digit)
    if not 1 <= sequence <= MAX_DAILY:
        raise DossierCodeError(
            f"Quầy {station_digit} đã tiếp nhận tối đa {MAX_DAILY} hồ sơ trong ngày "
            f"{day:%d/%m/%Y}; không thể cấp thêm mã hồ sơ. Hãy dùng quầy khác.",
            f"daily counter overflow station={station_digit} day={day} seq={sequence}",
        )
    return DossierCode(agency.strip().upper(), day, station_digit, sequence)


def find_dossier_code(text: str) -> DossierCode | None:
    """The first dossier code inside ``text`` (a receipt QR may hold a URL around it)."""
    m = DOSSIER_CODE.search(text.upper())
    if not m:
        return None
    raw = m.group("day")
    try:
        day = date(2000 + int(raw[:2]), int(raw[2:4]), int(raw[4:]))
    except ValueError:
        return None
    seq = int(m.group("seq"))
    if seq == 0:
        return None
    return DossierCode(m.group("agency"), day, int(m.group("station")), seq)
