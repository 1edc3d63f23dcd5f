"""Administration used by the CLI, the admin page and tests: stations, clerks, status."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass

from sqlalchemy import select

from provincial_gateway.auth import bundle_key, hash_token, new_token
from provincial_gateway.db import Station
from provincial_gateway.dossiers import StatusError, list_dossiers, set_status
from provincial_gateway.state import GatewayState

__all__ = ["AdminError", "StationRow", "StatusError", "add_station", "hash_password",
           "list_dossiers", "list_stations", "revoke_station", "set_status"]

# QCVN 102:2016 agency code V1V2V3.Z1Z2.Y1Y2.MX1X2 (same rule as the station's).
AGENCY_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class AdminError(ValueError):
    """A refused admin action, with a Vietnamese message."""


def validate_agency(agency_code: str) -> str:
    agency = agency_code.strip().upper()
    if not AGENCY_CODE.match(agency):
        raise AdminError(f"Mã cơ quan “{agency}” không đúng định dạng QCVN 102:2016 "
                         "(ví dụ 000.00.12.H12).")
    return agency


def hash_password(password: str) -> str:
    """scrypt$N$r$p$salt$digest, the format of desktop_app.passwords (offline login); kept
    here because the gateway shares only the wire contract with the desktop app."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R,
                            p=_SCRYPT_P, dklen=32)
    enc = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${enc(salt).decode()}${enc(digest).decode()}"


def add_station(state: GatewayState, agency_code: str, station_digit: int, name: str = "",
                token: str | None = None) -> tuple[str, bool]:
    """Provision a station; returns (token, created). An existing agency+digit gets a new
    token (the old one stops working at once). The token is only ever returned here."""
    agency = validate_agency(agency_code)
    if not 1 <= station_digit <= 9:
        raise AdminError(f"Số hiệu quầy phải từ 1 đến 9 (đang là {station_digit}).")
    token = token or new_token()
    if len(token) < 16:
        raise AdminError("Mã thông báo phải dài ít nhất 16 ký tự.")
    with state.sessions.begin() as s:
        row = s.scalar(select(Station).where(Station.agency_code == agency,
                                             Station.station_digit == station_digit))
        created = row is None
        if row is None:
            row = Station(agency_code=agency, station_digit=station_digit)
            s.add(row)
        row.name = name.strip() or row.name or f"Quầy {station_digit}"
        row.token_sha256 = hash_token(token)
        row.bundle_key = bundle_key(token).hex()
        row.active = True
    return token, created


def revoke_station(state: GatewayState, agency_code: str, station_digit: int) -> None:
    agency = validate_agency(agency_code)
    with state.sessions.begin() as s:
        row = s.scalar(select(Station).where(Station.agency_code == agency,
                                             Station.station_digit == station_digit))
        if row is None:
            raise AdminError(f"Không có quầy {station_digit} của cơ quan {agency}.")
        row.active = False


@dataclass(frozen=True)
class StationRow:
    agency_code: str
    station_digit: int
    name: str
    active: bool


def list_stations(state: GatewayState) -> list[StationRow]:
    with state.sessions() as s:
        rows = s.scalars(select(Station).order_by(Station.agency_code, Station.station_digit))
        return [StationRow(r.agency_code, r.station_digit, r.name, r.active) for r in rows]
