"""Administration used by the CLI, the admin page and tests: stations, clerks, status."""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher, profiles
from sqlalchemy import select, update

from provincial_gateway import enrolment_limits
from provincial_gateway.auth import hash_token
from provincial_gateway.db import Blob, Enrolment, Station, utcnow
from provincial_gateway.dossiers import ResultFile, StatusError, list_dossiers, retrying
from provincial_gateway.dossiers import set_status as _set_status
from provincial_gateway.state import GatewayState
from provincial_gateway.tokens import new_token
from sync_contract import wire

__all__ = ["AdminError", "EnrolmentRefused", "ResultUpload", "StationRow", "StatusError",
           "add_station",
           "hash_password", "issue_enrolment_code", "list_dossiers", "list_stations",
           "redeem_enrolment_code", "revoke_station", "set_status"]

# QCVN 102:2016 agency code V1V2V3.Z1Z2.Y1Y2.MX1X2 (same rule as the station's).
AGENCY_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
MIN_PASSWORD = 8  # as desktop_app.accounts.MIN_PASSWORD
# Enrolment codes are read over the phone and typed by a technician: 15 characters from
# an alphabet without look-alikes (no 0/O, 1/I/L), about 72 bits, grouped by five.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE_LENGTH = 15
ENROLMENT_MAX_FAILURES = enrolment_limits.MAX_PER_STATION  # per calling address
DEFAULT_ENROLMENT_DAYS = 7


class AdminError(ValueError):
    """A refused admin action, with a Vietnamese message."""


def validate_agency(agency_code: str) -> str:
    agency = agency_code.strip().upper()
    if not AGENCY_CODE.match(agency):
        raise AdminError(f"Mã cơ quan “{agency}” không đúng định dạng QCVN 102:2016 "
                         "(ví dụ 000.00.12.H12).")
    return agency


def hash_password(password: str) -> str:
    """argon2id at RFC 9106's second recommended cost (t=3, 64 MiB, p=4), the format and
    cost of desktop_app.passwords (offline login: a station verifies it as is); kept here
    because the gateway shares only the wire contract with the desktop app."""
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY).hash(password)


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
        row.bundle_key = ""  # USB bundles are signed by the station's own key now
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


class EnrolmentRefused(Exception):
    """Wrong, expired, used or locked enrolment code (one answer for all: no oracle)."""


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def issue_enrolment_code(state: GatewayState, agency_code: str, station_digit: int,
                         name: str = "", valid_days: int = DEFAULT_ENROLMENT_DAYS,
                         now: datetime | None = None) -> tuple[str, datetime]:
    """A new one-time code for this agency and digit; returns (code, expires_at UTC).
    Earlier unused codes for the same station stop working."""
    agency = validate_agency(agency_code)
    if not 1 <= station_digit <= 9:
        raise AdminError(f"Số hiệu quầy phải từ 1 đến 9 (đang là {station_digit}).")
    if not 1 <= valid_days <= 90:
        raise AdminError(f"Thời hạn mã đăng ký phải từ 1 đến 90 ngày (đang là {valid_days}).")
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    code = "-".join(raw[i:i + 5] for i in range(0, _CODE_LENGTH, 5))
    issued = now or utcnow()
    expires = issued + timedelta(days=valid_days)
    with state.sessions.begin() as s:
        s.execute(update(Enrolment)
                  .where(Enrolment.agency_code == agency,
                         Enrolment.station_digit == station_digit,
                         Enrolment.used_at.is_(None))
                  .values(expires_at=issued))
        s.add(Enrolment(agency_code=agency, station_digit=station_digit, name=name.strip(),
                        code_sha256=hash_token(_normalise_code(code)), expires_at=expires,
                        created_at=issued))
    return code, expires


def redeem_enrolment_code(state: GatewayState, agency_code: str, station_digit: int,
                          code: str, now: datetime | None = None,
                          source: str | None = None) -> tuple[str, StationRow]:
    """Exchange a valid code for a fresh station token (the station is created, or its
    token replaced as with add-station). `source` is the caller's address, limited by
    enrolment_limits (None: no limit, for local callers). Raises EnrolmentRefused."""
    agency = agency_code.strip().upper()
    offered = hash_token(_normalise_code(code))
    moment = now or utcnow()
    with state.sessions.begin() as s:
        if source is not None and enrolment_limits.is_blocked(s, source, agency,
                                                              station_digit, moment):
            raise EnrolmentRefused(f"{agency}/{station_digit}")  # the code is not even tried
        rows = s.scalars(
            select(Enrolment)
            .where(Enrolment.agency_code == agency, Enrolment.station_digit == station_digit,
                   Enrolment.used_at.is_(None), Enrolment.expires_at > moment)
            .with_for_update()).all()
        match = next((r for r in rows if hmac.compare_digest(r.code_sha256, offered)), None)
        if match is None:
            for r in rows:  # counted for the province to see; it locks nothing
                r.failed_attempts += 1
            if source is not None:
                enrolment_limits.record_failure(s, source, agency, station_digit,
                                                bool(rows), moment)
            refused = True
        else:
            match.used_at = moment
            name = match.name
            refused = False
    if refused:
        raise EnrolmentRefused(f"{agency}/{station_digit}")
    token, _created = add_station(state, agency, station_digit, name)
    row = next(r for r in list_stations(state)
               if r.agency_code == agency and r.station_digit == station_digit)
    return token, row


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


RESULT_MAX_BYTES = 100 * 1024 * 1024  # a scanned A0 map fits; a wrong file does not


@dataclass(frozen=True)
class ResultUpload:
    """A result document file to attach when marking a dossier processed."""

    path: Path
    name: str = ""  # default: the file name without its extension
    number: str = ""
    signer: str = ""
    signed_on: date | None = None


def _stored_result(state: GatewayState, r: ResultUpload) -> ResultFile:
    try:
        data = r.path.read_bytes()
    except OSError as exc:
        raise StatusError(f"Không đọc được tệp kết quả “{r.path}”: {exc.strerror}.") from exc
    if not data:
        raise StatusError(f"Tệp kết quả “{r.path.name}” rỗng.")
    if len(data) > RESULT_MAX_BYTES:
        raise StatusError(f"Tệp kết quả “{r.path.name}” quá lớn (tối đa 100 MB).")
    sha = hashlib.sha256(data).hexdigest()
    media_type = mimetypes.guess_type(r.path.name)[0] or "application/octet-stream"
    state.blobs.put_bytes(data, sha)

    def record() -> None:
        # No BlobAccess row: the agency's other stations do not get the file.
        with state.sessions.begin() as s:
            if s.get(Blob, sha) is None:
                s.add(Blob(sha256=sha, size=len(data), media_type=media_type))

    retrying(record)
    return ResultFile(sha256=sha, size=len(data), name=(r.name or r.path.stem).strip(),
                      number=r.number.strip(), signer=r.signer.strip(),
                      signed_on=f"{r.signed_on:%Y%m%d}000000" if r.signed_on else "",
                      media_type=media_type)


def set_status(state: GatewayState, key: str, status: int, *, note: str = "",
               actor: str = "", new_appointment: str = "",
               results: Sequence[ResultUpload] = ()) -> wire.Change:
    """The processing side moves a dossier; with status 9 it may attach result documents,
    each stored in the blob store and listed in the change feed (DanhSachGiayToKetQua)."""
    if results and status != 9:
        raise StatusError("Chỉ đính kèm giấy tờ kết quả khi chuyển hồ sơ sang trạng thái 9 "
                          "(có kết quả).")
    files = [_stored_result(state, r) for r in results]
    return _set_status(state, key, status, note=note, actor=actor,
                       new_appointment=new_appointment, results=files)
