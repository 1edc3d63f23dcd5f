"""The keys of offline USB bundles: the province's age identity (bundles are sealed to
its recipient) and the Ed25519 public keys stations sign their bundles with."""

from __future__ import annotations

import logging
import os
import re
from typing import Protocol

import pyrage
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from provincial_gateway.config import GatewayConfig
from provincial_gateway.db import Station, StationSigningKey


class GatewayState(Protocol):
    """What these functions use of `provincial_gateway.state.GatewayState` (which calls
    `prepare` while it opens, so this module does not import it)."""

    config: GatewayConfig
    sessions: sessionmaker

log = logging.getLogger("provincial_gateway.bundles")

IDENTITY_FILE = "bundle-identity.txt"
ENV_BUNDLE_IDENTITY = "MOTCUA_GATEWAY_BUNDLE_IDENTITY"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def province_identity(config: GatewayConfig) -> str:
    """The age identity: configured, from the environment, or a file made once (0600)."""
    if config.bundle_identity:
        return config.bundle_identity.strip()
    env = os.environ.get(ENV_BUNDLE_IDENTITY, "").strip()
    if env:
        return env
    path = config.data_dir / IDENTITY_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    config.data_dir.mkdir(parents=True, exist_ok=True)
    identity = str(pyrage.x25519.Identity.generate())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(identity + "\n")
        f.flush()
        os.fsync(f.fileno())
    log.info("new USB bundle identity written to %s", path)
    return identity


def province_recipient(config: GatewayConfig) -> str:
    """The public half, handed to stations (at enrolment and key registration)."""
    return str(pyrage.x25519.Identity.from_str(province_identity(config)).to_public())


def prepare(state: GatewayState) -> None:
    """At start-up: make the identity, and blank the version-1 token-derived keys (they
    could forge or open old bundles, which are refused now)."""
    province_identity(state.config)
    with state.sessions.begin() as s:
        s.execute(update(Station).where(Station.bundle_key != "").values(bundle_key=""))


def register_key(state: GatewayState, station_id: int, public_key: str) -> bool:
    """Add a station's signing key; False when it was registered already."""
    if not _HEX64.match(public_key):
        raise ValueError("signing key is not 64 lower-case hex digits")
    try:
        with state.sessions.begin() as s:
            known = s.scalar(select(StationSigningKey.id).where(
                StationSigningKey.station_id == station_id,
                StationSigningKey.public_key == public_key))
            if known is not None:
                return False
            s.add(StationSigningKey(station_id=station_id, public_key=public_key))
    except IntegrityError:  # the same key registered at the same moment
        return False
    log.info("station %d registered a bundle signing key", station_id)
    return True


def register_for(state: GatewayState, agency_code: str, station_digit: int,
                 public_key: str) -> None:
    """The key a station sent with its enrolment code."""
    found = station_keys(state, agency_code, station_digit)
    if found is not None:
        register_key(state, found[0], public_key)


def station_keys(state: GatewayState, agency_code: str, station_digit: int
                 ) -> tuple[int, set[str]] | None:
    """(station id, its signing keys) of an active station, else None."""
    with state.sessions() as s:
        station_id = s.scalar(select(Station.id).where(
            Station.agency_code == agency_code, Station.station_digit == station_digit,
            Station.active.is_(True)))
        if station_id is None:
            return None
        keys = set(s.scalars(select(StationSigningKey.public_key).where(
            StationSigningKey.station_id == station_id)))
    return station_id, keys
