"""Station tokens (stored as SHA-256 only), the bearer dependency, the admin check."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from provincial_gateway.db import Station
from provincial_gateway.errors import WireError
from provincial_gateway.state import GatewayState, gateway_state
from sync_contract import wire

ADMIN_COOKIE = "gw_admin"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StationAuth:
    id: int
    agency_code: str
    station_digit: int
    name: str

    @property
    def label(self) -> str:
        return f"{self.agency_code}/{self.station_digit}"


bearer = HTTPBearer(auto_error=False, scheme_name="StationToken",
                    description="Mã thông báo (token) của máy trạm, cấp bằng `add-station`.")


def unauthorized() -> WireError:
    return WireError(401, wire.E_AUTH,
                     "Mã thông báo của máy trạm không hợp lệ hoặc đã bị thu hồi. "
                     "Hãy liên hệ kỹ thuật viên.",
                     headers={"WWW-Authenticate": "Bearer"})


def lookup_station(state: GatewayState, token: str) -> StationAuth | None:
    """The active station holding `token`, or None."""
    if not token:
        return None
    with state.sessions() as s:
        row = s.scalar(select(Station).where(Station.token_sha256 == hash_token(token)))
        if row is None or not row.active:
            return None
        return StationAuth(row.id, row.agency_code, row.station_digit, row.name)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer …` header, else ""."""
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def current_station(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StationAuth:
    # request_guard checked the token already for requests with a body (before reading
    # it); its answer is for this very request, so it is not looked up twice.
    checked = getattr(request.state, "station", None)
    if isinstance(checked, StationAuth):
        return checked
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise unauthorized()
    station = lookup_station(gateway_state(request), creds.credentials)
    if station is None:
        raise unauthorized()
    request.state.station = station
    return station


CurrentStation = Annotated[StationAuth, Depends(current_station)]


def is_admin(request: Request) -> bool:
    """Admin token as a bearer token (CLI), HTTP basic password (browser) or cookie.

    Not as a query parameter: URLs end up in access logs."""
    expected = gateway_state(request).admin_token.encode()
    offered: list[str] = []
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        offered.append(value.strip())
    elif scheme.lower() == "basic":
        with contextlib.suppress(ValueError):  # UnicodeDecodeError is a ValueError
            offered.append(base64.b64decode(value.strip()).decode().partition(":")[2])
    cookie = request.cookies.get(ADMIN_COOKIE)
    if cookie:
        offered.append(cookie)
    return any(hmac.compare_digest(o.encode(), expected) for o in offered if o)
